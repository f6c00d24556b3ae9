/**
 * `ssh-harness campaign …`: campaigns beyond one process, on an existing orchestrator (harness/campaign, deploy/).
 *
 * - `campaign image` builds (or finds) the harness's own container image, keyed by a hash of what goes in;
 * - `campaign swarm` runs N fuzz shards as a Docker Swarm replicated job, each against its own target container,
 *   on a shared volume, then merges them;
 * - `campaign task` runs one item of a fanned-out list (a survey: one peer per task) in an orchestrated task.
 *
 * Exit codes: 0 done and nothing found, 1 findings, 2 usage or setup error.
 */
import type { Command } from 'commander';
import { join } from 'node:path';
import { ensureHarnessImage } from '../campaign/image.js';
import { mergeJson } from '../campaign/merge-report.js';
import { benchShards, runSwarmCampaign } from '../campaign/swarm-run.js';
import { parseItems, runTask } from '../campaign/task.js';
import { TaskEnvError } from '../campaign/task-env.js';
import { readFileSync } from 'node:fs';
import { isPeerError } from '../targets/errors.js';

interface Io { say: (s: string) => void; warn: (s: string) => void }

function io(cmd: Command): Io {
  const out = cmd.configureOutput();
  return {
    say: (s) => (out.writeOut ?? ((x: string) => process.stdout.write(x)))(s),
    warn: (s) => (out.writeErr ?? ((x: string) => process.stderr.write(x)))(s),
  };
}

const mib = (b: number): string => `${(b / (1 << 20)).toFixed(0)} MiB`;

export function register(program: Command): void {
  const campaign = program
    .command('campaign')
    .description('sharded fuzzing and fanned-out surveys on an orchestrator (Docker Swarm, Kubernetes): image, swarm, task')
    .enablePositionalOptions();

  campaign
    .command('image')
    .description('build (or find) the harness container image local/ssh-harness:<hash> (debootstrap + docker import, project compiled inside)')
    .option('--packages <list>', 'extra Debian packages in the image, comma-separated (e.g. peers for survey tasks)')
    .option('--force', 'rebuild even when the image for these inputs exists')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { packages?: string; force?: boolean; json?: boolean }, cmd: Command) => {
      const { say, warn } = io(cmd);
      const packages = opts.packages?.split(',').map((p) => p.trim()).filter(Boolean) ?? [];
      const bad = packages.filter((p) => !/^[a-z0-9][a-z0-9+.-]*$/.test(p));
      if (bad.length) { warn(`ssh-harness campaign image: not Debian package names: ${bad.map((b) => JSON.stringify(b)).join(', ')}\n`); process.exitCode = 2; return; }
      try {
        const r = await ensureHarnessImage({ packages, force: opts.force === true, progress: (l) => (opts.json ? warn : say)(`${l}\n`) });
        if (opts.json) say(JSON.stringify(r, null, 2) + '\n');
        else say(`${r.image} ${r.built ? `built in ${(r.buildMs / 1000).toFixed(1)} s${r.baseBuilt ? ' (base too)' : ''}` : 'present'}, ${mib(r.sizeBytes)}, node ${r.nodeVersion}\n`);
        process.exitCode = 0;
      } catch (e) {
        warn(`ssh-harness campaign image: ${isPeerError(e) ? e.message : (e as Error).message}\n`);
        process.exitCode = 2;
      }
    });

  campaign
    .command('swarm')
    .description('run N fuzz shards as a Docker Swarm replicated job (one target container each, a shared volume), then merge them')
    .requiredOption('--replicas <n>', 'number of shards')
    .requiredOption('--target <target>', 'self, self:<variant>, openssh:bookworm, openssh:trixie (a target container per shard) or tcp://HOST:PORT')
    .option('--runs <n>', 'cases per shard')
    .option('--time <seconds>', 'seconds per shard')
    .option('--seed <s>', 'campaign seed (default: random)')
    .option('--mode <mode>', 'mixed or deep')
    .option('--name <name>', 'prefix of the swarm objects created', 'ssh-harness-fuzz')
    .option('--report <dir>', 'where the merged report goes (default reports/swarm-<name>-<time>)')
    .option('--cpus-per-shard <c>', 'CPU limit of each shard task and each target task')
    .option('--volume <name>', 'use this (shared, e.g. NFS-backed) volume instead of a local one created for the run')
    .option('--keep-volume', 'keep the volume the run created')
    .option('--kill-after <seconds>', 'kill shard 1 (SIGKILL) this long after its first checkpoint, to check the orchestrator restarts it and nothing is lost')
    .option('--timeout <seconds>', 'give up after this long', '1800')
    .option('--json', 'print the merged report as JSON')
    .argument('[fuzzArgs...]', 'more fuzz options, after --')
    .action(async (extra: string[], opts: Record<string, string | boolean | undefined>, cmd: Command) => {
      const { say, warn } = io(cmd);
      const num = (k: string, min: number, max: number): number | undefined => {
        const v = opts[k];
        if (v === undefined) return undefined;
        const n = Number(v);
        if (!Number.isFinite(n) || n < min || n > max) throw new RangeError(`--${k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} expects ${min}..${max}, got ${JSON.stringify(v)}`);
        return n;
      };
      let replicas, cpus, killAfter, timeout;
      try {
        replicas = num('replicas', 1, 1000)!;
        if (!Number.isInteger(replicas)) throw new RangeError('--replicas expects an integer');
        cpus = num('cpusPerShard', 0.01, 256);
        killAfter = num('killAfter', 0, 86_400);
        timeout = num('timeout', 10, 7 * 86_400)!;
        if (opts['runs'] === undefined && opts['time'] === undefined) throw new RangeError('give --runs N and/or --time SECONDS (a campaign is always bounded)');
      } catch (e) {
        warn(`ssh-harness campaign swarm: ${(e as Error).message}\n`);
        process.exitCode = 2;
        return;
      }
      const fuzzArgs = [
        ...(['runs', 'time', 'seed', 'mode'] as const).flatMap((k) => (opts[k] !== undefined ? [`--${k}`, String(opts[k])] : [])),
        ...extra,
      ];
      const name = String(opts['name']);
      const reportDir = typeof opts['report'] === 'string' ? opts['report'] : join('reports', `swarm-${name}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
      const log = opts['json'] ? warn : say;
      try {
        const r = await runSwarmCampaign({
          replicas, target: String(opts['target']), fuzzArgs, name, reportDir, timeoutMs: timeout * 1000,
          ...(cpus !== undefined ? { cpusPerShard: cpus } : {}), ...(killAfter !== undefined ? { killAfterMs: killAfter * 1000 } : {}),
          ...(typeof opts['volume'] === 'string' ? { volume: opts['volume'] } : {}), ...(opts['keepVolume'] ? { keepVolume: true } : {}),
          progress: (l) => log(`${l}\n`),
        });
        for (const p of r.cleanupProblems) warn(`cleanup: ${p}\n`);
        const m = r.merge!;
        if (opts['json']) say(JSON.stringify({ ok: r.ok, why: r.why ?? null, killed: r.killed ?? null, ...mergeJson(m, r.files!.corpusFiles) }, null, 2) + '\n');
        else {
          const t = m.totals;
          say(`${r.ok ? 'done' : `FAILED: ${r.why}`}: ${m.shards.length} shards, ${t.cases} cases${t.casesPerSecond !== undefined ? `, ${t.casesPerSecond.toFixed(0)} cases/s over ${(t.wallMs! / 1000).toFixed(1)} s` : ''}, ${m.findings.length} distinct findings, ${m.shards.reduce((n, x) => n + x.restarts, 0)} restart(s)\n`);
          if (r.killed) {
            const kept = r.killed.entriesBefore.filter((e) => m.entries.some((x) => x.file.endsWith(`/shard-1-of-${replicas}/corpus/${e}`)));
            say(`killed shard 1 at ${(r.killed.atMs / 1000).toFixed(1)} s: ${r.killed.entriesBefore.length} corpus entries written before the kill, ${kept.length} of them in the merge\n`);
          }
          say(`report: ${r.files!.markdown}\n`);
        }
        process.exitCode = !r.ok || m.problems.length ? 2 : m.findings.some((f) => f.severity === 'must') ? 1 : 0;
      } catch (e) {
        warn(`ssh-harness campaign swarm: ${isPeerError(e) ? e.message : (e as Error).message}\n`);
        process.exitCode = 2;
      }
    });

  campaign
    .command('bench')
    .description('shard scaling: the same Swarm campaign with 1 and with 2 shards, alternated; prints cases/s and the ratio')
    .option('--target <target>', 'fuzz target of every shard', 'self')
    .option('--time <seconds>', 'seconds per campaign', '30')
    .option('--rounds <n>', 'pairs of campaigns (the ratio is their median)', '3')
    .option('--cpus-per-shard <c>', 'CPU limit of each shard (and target) task')
    .option('--report <dir>', 'where the rounds\' reports go', join('reports', 'campaign-bench'))
    .option('--json', 'print the rounds as JSON')
    .action(async (opts: { target: string; time: string; rounds: string; cpusPerShard?: string; report: string; json?: boolean }, cmd: Command) => {
      const { say, warn } = io(cmd);
      const seconds = Number(opts.time);
      const rounds = Number(opts.rounds);
      const cpus = opts.cpusPerShard !== undefined ? Number(opts.cpusPerShard) : undefined;
      if (!Number.isInteger(seconds) || seconds < 5 || seconds > 3600 || !Number.isInteger(rounds) || rounds < 1 || rounds > 20 || (cpus !== undefined && !(cpus > 0))) {
        warn('ssh-harness campaign bench: --time 5..3600, --rounds 1..20, --cpus-per-shard > 0\n');
        process.exitCode = 2;
        return;
      }
      try {
        const r = await benchShards({ target: opts.target, seconds, rounds, reportDir: opts.report, ...(cpus !== undefined ? { cpusPerShard: cpus } : {}), progress: (l) => (opts.json ? warn : say)(`${l}\n`) });
        if (opts.json) say(JSON.stringify(r, null, 2) + '\n');
        else say(`2 shards / 1 shard, cases/s: ${r.ratios.map((x) => x.toFixed(2)).join(', ')} (median ${r.median.toFixed(2)}×)\n`);
        process.exitCode = 0;
      } catch (e) {
        warn(`ssh-harness campaign bench: ${isPeerError(e) ? e.message : (e as Error).message}\n`);
        process.exitCode = 2;
      }
    });

  campaign
    .command('task')
    .description('run the item of this orchestrated task (e.g. one peer of a survey): the command after -- with {item} {k} {n} {i} {out} filled in, its output published atomically under --out')
    .option('--items <list>', 'comma-separated items, one per task')
    .option('--items-file <file>', 'items, one per line')
    .requiredOption('--out <dir>', 'shared directory; the task publishes <dir>/task-K-<item>/')
    .option('--timeout <seconds>', 'bound on the command (default 3600)', '3600')
    .option('--json', 'print the task record (item, command, exit code, times, where it was published) as JSON')
    .argument('<command...>', 'the ssh-harness command, after --, e.g. -- run --target {item} --report {out}')
    .action(async (command: string[], opts: { items?: string; itemsFile?: string; out: string; timeout: string; json?: boolean }, cmd: Command) => {
      const { say, warn } = io(cmd);
      let items: string[];
      const timeout = Number(opts.timeout);
      try {
        if ((opts.items === undefined) === (opts.itemsFile === undefined)) throw new TaskEnvError('give exactly one of --items LIST and --items-file FILE');
        if (!Number.isInteger(timeout) || timeout < 1 || timeout > 7 * 86_400) throw new TaskEnvError(`--timeout expects 1..${7 * 86_400} seconds`);
        items = parseItems(opts.items ?? readFileSync(opts.itemsFile!, 'utf8'));
      } catch (e) {
        warn(`ssh-harness campaign task: ${(e as Error).message}\n`);
        process.exitCode = 2;
        return;
      }
      try {
        const r = await runTask({ items, out: opts.out, command, timeoutMs: timeout * 1000, log: (l) => (opts.json ? warn : say)(`${l}\n`), ...(opts.json ? { output: 'stderr' as const } : {}) });
        if (opts.json) say(JSON.stringify({ ...r.record, dir: r.dir, ran: r.ran, published: r.published }, null, 2) + '\n');
        else say(`task ${r.record.task} ${r.item}: exit ${r.record.exitCode ?? r.record.signal}, ${r.published ? 'published' : 'not a result, kept aside in'} ${r.dir}\n`);
        // 0 and 1 are results (passed / failures found): the task did its job. 2 or a signal: let the orchestrator retry
        process.exitCode = r.published ? 0 : 2;
      } catch (e) {
        warn(`ssh-harness campaign task: ${(e as Error).message}\n`);
        process.exitCode = 2;
      }
    });
}
