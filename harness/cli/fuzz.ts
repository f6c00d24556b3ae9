/**
 * `ssh-harness fuzz --target T [--user NAME --password PW --identity FILE] [--runs N | --time SECONDS]
 *   [--seed S] [--shard K/N] [--corpus DIR] [--report DIR] [--concurrency N] [--liveness-grace SECONDS] [--pcap] [--keylog] [--json]` (README "Commands",
 * issues 8 and 9). Property-based, state-aware fuzzing (harness/fuzz): prints progress (one updating line on a TTY, a
 * line every 10 s otherwise), writes each shrunk finding to `<corpus>/<target>/<id>.json` with its replay command,
 * and a report (JSON + Markdown, coverage of message types × states) to `<report>/fuzz-<target>-<time>/`. With
 * `--pcap` / `--keylog`, the run that confirms each finding (its minimal case on a fresh connection) is recorded into
 * that directory's `traces/` as `<id>.pcap` + `<id>.jsonl` / `<id>.keylog`: tens of thousands of cases a minute are not
 * worth a trace each, the reproducer is.
 * Exit codes: 0 = nothing found, 1 = findings (must-level), 2 = usage error, unreachable or unusable target.
 */
import type { Command } from 'commander';
import { join } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { runCampaign, parseShard, type CampaignOptions, type CampaignProgress, type CampaignResult, type FindingRecord, type SeedCase } from '../fuzz/campaign.js';
import { loadSeeds } from '../fuzz/replay.js';
import { scenarioSeeds } from '../fuzz/scenario-seeds.js';
import { writeReport, reportJson } from '../fuzz/report.js';
import { resolveTarget, TargetError, selfTargetNames } from '../fuzz/targets.js';
import { startArbFrom } from '../fuzz/arb/steps.js';
import { PHASES, type Phase } from '../fuzz/steps.js';
import { describeStep } from '../fuzz/steps.js';
import { watchPeer } from '../fuzz/peer-watch.js';
import { backoffLine, ConnectionGovernor } from '../fuzz/backoff.js';
import type { FuzzMode } from '../fuzz/model.js';
import { expandTaskTemplate, shardFromEnv, TaskEnvError } from '../campaign/task-env.js';
import { openShardRun, priorSeed, waitForTcpTarget, type ShardRun } from '../campaign/shard-run.js';
import { ShardStateError } from '../campaign/shard-state.js';
import { registerMerge } from './fuzz-merge.js';
import type { CoverageSummary } from '../fuzz/greybox/session.js';
import { runCoverageCampaign } from '../fuzz/greybox/fleet.js';
import { onFirstSignal } from '../targets/cleanup.js';

interface FuzzCliOptions {
  readonly target?: string;
  readonly targetName?: string;
  readonly out?: string;
  readonly findingsExitCode?: string;
  readonly waitTarget?: string;
  readonly user?: string;
  readonly password?: string;
  readonly identity?: string;
  readonly runs?: string;
  readonly time?: string;
  readonly seed?: string;
  readonly shard?: string;
  readonly corpus: string;
  readonly report: string;
  readonly concurrency?: string;
  readonly maxSteps?: string;
  readonly start?: string;
  readonly shrinkTime?: string;
  readonly stopOnFinding?: boolean;
  readonly seeds?: string;
  readonly mode?: string;
  readonly json?: boolean;
  readonly pcap?: boolean;
  readonly keylog?: boolean;
  readonly livenessGrace?: string;
  readonly compareBlackbox?: boolean;
}

export function register(program: Command): void {
  const fuzz = program
    .command('fuzz')
    .description('state-aware property-based fuzzing of an SSH server: findings are shrunk into a replayable corpus')
    .option('--target <target>', `(required) self (in-process), ${selfTargetNames().slice(1).join(', ')}, self-tcp, sshd, openssh[:bookworm|:trixie], dropbear, …, or tcp://HOST:PORT; with a shard, {k} {n} {i} and {k+OFFSET} are filled in (e.g. tcp://127.0.0.1:{k+2200})`)
    .option('--target-name <name>', 'name the peer in the corpus and reports (e.g. openssh-bookworm for tcp:// targets that differ per shard)')
    .option('--user <name>', 'user name the target accepts (tcp:// targets; local peers use the harness test account)')
    .option('--password <pw>', 'password of that user')
    .option('--identity <file>', 'OpenSSH private key the target accepts for that user')
    .option('--runs <n>', 'stop after N cases (of this shard)')
    .option('--time <seconds>', 'stop after this many seconds')
    .option('--seed <s>', 'campaign seed (a 32-bit integer; default: random, printed)')
    .option('--shard <K/N|auto>', 'run shard K of N (disjoint cases: case i goes to shard i mod N + 1); auto: from the orchestrator\'s environment (SSH_HARNESS_SHARD, or SSH_HARNESS_SHARDS with JOB_COMPLETION_INDEX or a Swarm task slot)')
    .option('--out <dir>', 'shard output on a shared volume: <dir>/shard-K-of-N/ gets the corpus, a checkpoint and the report, all written atomically; a restarted shard resumes from its checkpoint')
    .option('--findings-exit-code <n>', 'exit code when must-level findings are found (default 1; orchestrated shards use 0 so a finding is not a failed task)')
    .option('--wait-target <seconds>', 'wait up to this long for a tcp:// target to answer (a target container starting beside the shard)')
    .option('--corpus <dir>', 'corpus root; findings go to <dir>/<target>/<id>.json', 'corpora')
    .option('--report <dir>', 'where the campaign report directory goes', 'reports')
    .option('--concurrency <n>', 'connections at once (network targets; default per target: 16, dropbear 3)')
    .option('--max-steps <n>', 'longest step sequence per case (default 4; 3 over the network)')
    .option('--start <phases>', `comma-separated start phases (${PHASES.join(', ')}); default all, weighted deep`)
    .option('--shrink-time <seconds>', 'shrinking budget per finding (default 30)')
    .option('--stop-on-finding', 'end the campaign at the first finding')
    .option('--mode <mode>', 'mixed (default: everything, anywhere), deep (valid post-auth framing, fuzzed contents), greybox (coverage feedback: the default for instrumented targets) or blackbox (no feedback; an instrumented target\'s coverage is still measured)')
    .option('--compare-blackbox', 'instrumented targets: run a black-box campaign of the same --time first, then the grey-box one; the report plots both')
    .option('--seeds <dir>', 'run every case under DIR first: corpus entries (earlier findings as regressions, `trace import` entries) and the server checks of scenario YAML files (e.g. --seeds scenarios)')
    .option('--pcap', 'record the confirming run of every finding: pcap + decoded JSONL in the report directory')
    .option('--keylog', 'record that run\'s SSH keylog too (Wireshark format), next to its pcap')
    .option('--liveness-grace <seconds>', 'network targets: how long the peer may refuse every connection (connection limits such as Dropbear\'s per-address limit, OpenSSH MaxStartups/PerSourcePenalties: the campaign backs off and lowers its parallelism meanwhile) before liveness fails and the campaign ends (default 60)')
    .option('--json', 'print the report JSON on stdout (progress goes to stderr)')
    .action(async (opts: FuzzCliOptions, cmd: Command) => {
      const out = cmd.configureOutput();
      const say = (s: string): void => (out.writeOut ?? ((x: string) => process.stdout.write(x)))(s);
      const warn = (s: string): void => (out.writeErr ?? ((x: string) => process.stderr.write(x)))(s);
      process.exitCode = await runFuzz(opts, say, warn);
    });
  // `fuzz merge --out` is merge's own option, not the campaign's (main.ts enables the same on the program)
  fuzz.enablePositionalOptions();
  registerMerge(fuzz);
}

function intOption(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v.trim())) throw new RangeError(`${name} expects an integer, got ${JSON.stringify(v)}`);
  const n = Number(v);
  if (n < min || n > max) throw new RangeError(`${name} expects ${min}..${max}, got ${n}`);
  return n;
}

export async function runFuzz(opts: FuzzCliOptions, say: (s: string) => void, warn: (s: string) => void): Promise<number> {
  let runs, time, seed, concurrency, maxSteps, shrinkTime, shard, starts: Phase[] | undefined, findingsExit, waitTarget, graceSeconds;
  let targetSpec = opts.target;
  try {
    if (targetSpec === undefined) throw new RangeError('--target is required (see --help)');
    runs = intOption('--runs', opts.runs, 1, Number.MAX_SAFE_INTEGER);
    time = intOption('--time', opts.time, 1, 7 * 24 * 3600);
    seed = intOption('--seed', opts.seed, -(2 ** 31), 2 ** 32 - 1);
    concurrency = intOption('--concurrency', opts.concurrency, 1, 256);
    maxSteps = intOption('--max-steps', opts.maxSteps, 1, 64);
    shrinkTime = intOption('--shrink-time', opts.shrinkTime, 0, 3600);
    shard = opts.shard === 'auto' ? shardFromEnv() : opts.shard !== undefined ? parseShard(opts.shard) : undefined;
    if (shard) targetSpec = expandTaskTemplate(targetSpec, shard);
    findingsExit = intOption('--findings-exit-code', opts.findingsExitCode, 0, 125) ?? 1;
    waitTarget = intOption('--wait-target', opts.waitTarget, 1, 3600);
    graceSeconds = intOption('--liveness-grace', opts.livenessGrace, 1, 24 * 3600) ?? 60;
    // a restarted shard keeps the seed its first attempt chose
    if (seed === undefined && opts.out !== undefined) seed = priorSeed(opts.out, shard ?? { k: 1, n: 1 });
    seed ??= (Math.random() * 2 ** 31) | 0;
    if (opts.targetName !== undefined && !/^[\w.-]{1,64}$/.test(opts.targetName)) throw new RangeError(`--target-name expects letters, digits, '.', '_' or '-' (1..64), got ${JSON.stringify(opts.targetName)}`);
    if (opts.start !== undefined) {
      starts = opts.start.split(',').map((s) => s.trim()) as Phase[];
      const bad = starts.filter((s) => !PHASES.includes(s));
      if (bad.length || starts.length === 0) throw new RangeError(`--start: unknown phase ${bad.map((b) => JSON.stringify(b)).join(', ')}; choose from ${PHASES.join(', ')}`);
    }
    if (runs === undefined && time === undefined) throw new RangeError('give --runs N and/or --time SECONDS (a campaign is always bounded)');
    if (opts.mode !== undefined && !['mixed', 'deep', 'greybox', 'blackbox'].includes(opts.mode)) throw new RangeError(`--mode expects mixed, deep, greybox or blackbox, got ${JSON.stringify(opts.mode)}`);
    if (opts.compareBlackbox && time === undefined) throw new RangeError('--compare-blackbox needs --time (both halves get the same time budget)');
  } catch (e) {
    warn(`ssh-harness fuzz: ${(e as Error).message}${e instanceof TaskEnvError ? ' (--shard auto)' : ''}\n`);
    return 2;
  }
  const log = opts.json ? warn : say;
  if (waitTarget !== undefined && targetSpec.startsWith('tcp://')) {
    const why = await waitForTcpTarget(targetSpec, waitTarget * 1000);
    if (why) { warn(`ssh-harness fuzz: ${why}\n`); return 2; }
  }
  let seeds: SeedCase[] | undefined;
  if (opts.seeds !== undefined) {
    if (!existsSync(opts.seeds) || !statSync(opts.seeds).isDirectory()) { warn(`ssh-harness fuzz: --seeds ${JSON.stringify(opts.seeds)} does not exist or is not a directory\n`); return 2; }
    const l = loadSeeds(opts.seeds);
    seeds = l.seeds;
    for (const s of l.skipped) warn(`ssh-harness fuzz: seed skipped: ${s}\n`);
  }
  let target;
  const creds = { ...(opts.user ? { user: opts.user } : {}), ...(opts.password !== undefined ? { password: opts.password } : {}), ...(opts.identity ? { identity: opts.identity } : {}) };
  try {
    target = await resolveTarget(targetSpec, creds);
  } catch (e) {
    warn(`ssh-harness fuzz: ${e instanceof TargetError ? e.message : `cannot start target ${JSON.stringify(targetSpec)}: ${(e as Error).message}`}\n`);
    return 2;
  }
  if (opts.targetName) target = { ...target, name: opts.targetName };
  const coverageMode = opts.mode === 'greybox' || (target.coverageMapPath && opts.mode !== 'blackbox') ? 'greybox' : opts.mode === 'blackbox' && target.coverageMapPath ? 'blackbox' : undefined;
  if ((coverageMode === 'greybox' || opts.compareBlackbox) && !target.coverageMapPath) {
    await target.close();
    warn(`ssh-harness fuzz: ${opts.compareBlackbox ? '--compare-blackbox' : '--mode greybox'} needs an instrumented target (dropbear:instrumented, openssh:instrumented)\n`);
    return 2;
  }
  let shardRun: ShardRun | undefined;
  if (opts.out !== undefined) {
    try {
      shardRun = openShardRun({
        out: opts.out, shard: shard ?? { k: 1, n: 1 }, target: target.name, targetVersion: target.version, seed,
        plan: { runs: runs ?? null, time: time ?? null, mode: opts.mode ?? 'mixed', maxSteps: maxSteps ?? null, start: opts.start ?? null },
        ...(time !== undefined ? { timeSeconds: time } : {}),
      });
    } catch (e) {
      await target.close();
      if (!(e instanceof ShardStateError)) throw e;
      warn(`ssh-harness fuzz: ${e.message}\n`);
      return 2;
    }
    const done = shardRun.finishedBefore;
    if (done) {
      await target.close();
      const must = done.findings.filter((f) => f.severity === 'must').length;
      log(`shard ${done.shard} finished before (${done.finished!.at}, stopped by ${done.finished!.stoppedBy}): ${done.totals.cases} cases, ${done.findings.length} findings; report in ${shardRun.dir}\n`);
      return must > 0 ? findingsExit : 0;
    }
    if (shardRun.attempt > 1) log(`resuming shard ${shard ? `${shard.k}/${shard.n}` : '1/1'} (attempt ${shardRun.attempt}) at batch ${shardRun.firstBatch}, ${shardRun.known.length} findings known\n`);
  }
  if (opts.seeds !== undefined && seeds) {
    // scenario files (YAML) in the seeds directory: the conformance suite's server checks as cases
    const sc = scenarioSeeds(opts.seeds, target.credentials);
    if (sc.seeds.length + sc.skipped.length > 0) {
      const why = new Map<string, number>();
      for (const s of sc.skipped) { const w = s.slice(s.indexOf(': ') + 2); why.set(w, (why.get(w) ?? 0) + 1); }
      log(`seeds: ${seeds.length} corpus entries, ${sc.seeds.length} scenario checks${sc.skipped.length ? ` (${sc.skipped.length} checks are not cases: ${[...why].map(([w, n]) => `${n}× ${w}`).join('; ')})` : ''}\n`);
    }
    seeds = [...seeds, ...sc.seeds];
  }
  const tty = !opts.json && process.stdout.isTTY === true;
  const parallel = concurrency ?? target.concurrency ?? 8;
  // network peers defend themselves with connection limits: back off from refusals instead of ending (backoff.ts)
  const governor = target.kind === 'network' ? new ConnectionGovernor({ parallelism: parallel, graceMs: graceSeconds * 1000 }) : undefined;
  let lastLine = 0;
  const progress = (p: CampaignProgress): void => {
    const limits = governor ? backoffLine(governor.stats()) : '';
    const line = `${p.cases} cases, ${p.casesPerSecond.toFixed(0)}/s, ${p.findings} findings, ${p.coverage ? `${p.coverage.edges} edges, ${p.coverage.queue} queued, ` : ''}states: ${p.states.join(' ')}${p.unreached ? `, ${p.unreached} unreached` : ''}${limits ? `; ${limits}` : ''}`;
    if (tty) { say(`\r\x1b[K${line}`); return; }
    if (performance.now() - lastLine >= 10_000) { lastLine = performance.now(); log(`${line}\n`); }
  };
  const onFinding = (f: FindingRecord): void => {
    log(`${tty ? '\r\x1b[K' : ''}finding [${f.finding.oracle}] ${f.finding.message}\n  start ${f.start}: ${f.steps.map(describeStep).join(' → ') || '(no steps)'}\n${f.file ? `  saved ${f.file}\n  replay: npx ssh-harness replay ${f.file} --target ${targetSpec}\n` : ''}${f.traceFiles?.length ? `  trace: ${f.traceFiles.join(', ')}\n` : ''}`);
  };
  // named at the start: the findings' traces go into it while the campaign runs
  const dir = shardRun?.dir ?? join(opts.report, `fuzz-${target.name}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const campaignTime = shardRun ? shardRun.timeSeconds : time;
  log(`fuzzing ${target.name} (${target.version})${target.name !== targetSpec ? ` at ${targetSpec}` : ''} seed ${seed}${shard ? ` shard ${shard.k}/${shard.n}` : ''}${runs !== undefined ? `, ${runs} runs` : ''}${time !== undefined ? `, ${time} s` : ''}\n`);
  const watch = watchPeer(target, { ...(governor ? { governor } : {}), graceMs: graceSeconds * 1000 });
  // the first Ctrl-C (or SIGTERM) ends the campaign and still writes its report; a second one quits at once
  const interrupt = new AbortController();
  let interruptedBy: NodeJS.Signals | undefined;
  const unlisten = onFirstSignal((sig) => {
    interruptedBy = sig;
    log(`${tty ? '\r\x1b[K' : ''}${sig}: finishing the cases in flight, then the report (again to quit at once)\n`);
    interrupt.abort();
  });
  let result;
  let blackboxHalf: CampaignResult | undefined;
  const coverage: CoverageSummary[] = [];
  const queueDir = join(shardRun?.corpusDir ?? opts.corpus, target.name, 'queue');
  const another = async () => ({ ...(await resolveTarget(targetSpec, creds)), name: target.name });
  try {
    if (opts.compareBlackbox) {
      // the black-box half: same seed, seeds and time, one instance at the target's usual concurrency; coverage only measured
      log(`black-box half (${time} s, coverage measured only)\n`);
      const b = await runCoverageCampaign({
        mode: 'blackbox', parallel, another, campaign: {
          // with --out, the shard's corpus (the black-box half's findings wrote into the repository's corpora/)
          target, seed, timeSeconds: time!, corpusDir: shardRun?.corpusDir ?? opts.corpus, ...(shard ? { shard } : {}),
          ...(maxSteps !== undefined ? { arb: { maxSteps } } : {}), onProgress: progress, onFinding, ...(seeds ? { seeds } : {}),
          replayCommand: (file) => `npx ssh-harness replay ${file} --target ${targetSpec}`, afterCase: watch.afterCase, signal: interrupt.signal,
        },
      });
      coverage.push(b.coverage);
      blackboxHalf = b.result;
      log(`${tty ? '\n' : ''}black-box: ${b.coverage.edges} edges in ${b.coverage.cases} cases${interrupt.signal.aborted ? '' : `; grey-box half (${time} s)`}\n`);
    }
    const campaignOptions: CampaignOptions = {
      target, seed, ...(runs !== undefined ? { runs } : {}), ...(campaignTime !== undefined ? { timeSeconds: campaignTime } : {}), ...(shard ? { shard } : {}),
      ...(governor ? { governor } : {}), corpusDir: shardRun?.corpusDir ?? opts.corpus,
      ...(shardRun ? { firstBatch: shardRun.firstBatch, known: shardRun.known, onBatchDone: shardRun.onBatchDone } : {}), ...(shrinkTime !== undefined ? { shrinkTimeMs: shrinkTime * 1000 } : {}),
      arb: { ...(maxSteps !== undefined ? { maxSteps } : {}), ...(starts ? { start: startArbFrom(starts) } : {}), ...(opts.mode === 'mixed' || opts.mode === 'deep' ? { mode: opts.mode as FuzzMode } : {}) },
      onProgress: progress, onFinding, stopOnFinding: opts.stopOnFinding === true, ...(seeds ? { seeds } : {}),
      replayCommand: (file) => `npx ssh-harness replay ${file} --target ${targetSpec}`,
      afterCase: watch.afterCase, signal: interrupt.signal,
      ...(opts.pcap || opts.keylog ? { traceFindings: { dir: join(dir, 'traces'), pcap: opts.pcap === true, keylog: opts.keylog === true } } : {}),
    };
    if (blackboxHalf && interrupt.signal.aborted) {
      result = blackboxHalf; // interrupted in the black-box half: no grey-box half to compare with
    } else if (coverageMode) {
      // grey-box: one case at a time per server instance (the counters read after a case are that case's), a fleet
      // of the target's fleet size (default: as many instances as black-box would open connections; fleet.ts)
      const c = await runCoverageCampaign({ mode: coverageMode, parallel: coverageMode === 'greybox' ? concurrency ?? target.fleet ?? parallel : parallel, another, queueDir, campaign: campaignOptions });
      result = c.result;
      coverage.push(c.coverage);
    } else {
      result = await runCampaign({ ...campaignOptions, concurrency: parallel });
    }
  } finally {
    unlisten();
    await watch.stop();
    await target.close();
  }
  if (tty) say('\n');
  const peerFindings = watch.findings();
  const notes = watch.notes();
  let files: string[];
  if (shardRun) ({ files, total: result } = shardRun.finish(result, notes, peerFindings, coverage));
  else files = writeReport(dir, result, notes, peerFindings, coverage);
  for (const f of peerFindings) log(`peer finding [${f.oracle}] ${f.message}\n`);
  const must = result.findings.filter((f) => f.finding.severity === 'must').length + peerFindings.filter((f) => f.severity === 'must').length;
  if (opts.json) say(JSON.stringify(reportJson(result, { notes, peerFindings, reportFiles: files, ...(coverage.length ? { greybox: coverage } : {}) }), null, 2) + '\n');
  else {
    say(`${result.cases} cases in ${(result.elapsedMs / 1000).toFixed(1)} s (${result.casesPerSecond.toFixed(0)}/s), ${result.findings.length} findings (${must} must-level)${peerFindings.length ? `, ${peerFindings.length} peer-level` : ''}\n`);
    if (result.backoff?.refusals) say(`connection limits: ${backoffLine(result.backoff)}\n`);
    for (const c of coverage) say(`${c.mode}: ${c.edges} edges of ${c.guards} in ${c.cases} cases (${(c.cases / Math.max(c.seconds, 1e-9)).toFixed(0)}/s), ${c.queue} queue entries\n`);
    say(`report: ${files[1]}${files[2] ? ` (${files[2]})` : ''}\n`);
  }
  // an interrupted campaign is not a clean pass: 128 + the signal, as the shell reports it (SIGINT 130, SIGTERM 143);
  // findings still say so first
  return must > 0 ? findingsExit : result.stoppedBy === 'interrupted' ? 128 + (interruptedBy === 'SIGTERM' ? 15 : interruptedBy === 'SIGHUP' ? 1 : 2) : 0;
}
