/**
 * `ssh-harness run --target T [--suite NAME|PATH ...] [--report DIR] [--junit FILE] [--pcap] [--keylog] [--grep RE]`
 * (the command-line contract in README.md): runs conformance checks and writes JUnit XML, JSON, Markdown and HTML into reports/<run-id>/.
 * Exit 0 = every check passed or was not applicable (or failed as documented in scenarios/KNOWN.md),
 * 1 = failures (or an inconclusive MUST check), 2 = usage or setup error (bad scenario file, target unreachable).
 */
import { Option, type Command } from 'commander';
import { join, resolve } from 'node:path';
import { createProgress } from '../report/progress.js';
import { writeReports } from '../report/write.js';
import { ScenarioFileError } from '../scenario/schema.js';
import { expandClientChecks, newRunId, runConformance, SetupError } from '../scenario/session.js';
import { selectChecks } from '../scenario/suite.js';
import { citations } from '../report/format.js';
import { findingPower } from '../scenario/finding-power.js';
import type { Check } from '../scenario/types.js';
import { VARIANTS } from '../scenario/variants.js';
import { setTimeScale } from '../scenario/expect.js';

interface RunFlags {
  target: string;
  suite?: string[];
  report?: string;
  junit?: string;
  pcap?: boolean;
  keylog?: boolean;
  grep?: string;
  user?: string;
  password?: string;
  identity?: string;
  clientTarget?: string[];
  seed?: string;
  concurrency?: string;
  timeout?: string;
  json?: boolean;
  list?: boolean;
  quiet?: boolean;
  score?: boolean;
  timeScale?: string;
}

class UsageError extends Error {}

function int(v: string | undefined, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name}: expected an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return n;
}

async function run(f: RunFlags): Promise<number> {
  let grep: RegExp | undefined;
  try {
    grep = f.grep ? new RegExp(f.grep) : undefined;
  } catch (e) {
    throw new UsageError(`--grep: ${(e as Error).message}`);
  }
  const concurrency = int(f.concurrency, 'concurrency', 1, 64);
  if (f.timeScale !== undefined) {
    const k = Number(f.timeScale);
    if (!Number.isFinite(k) || k < 1 || k > 10) throw new UsageError(`--time-scale: expected a number in [1, 10], got ${JSON.stringify(f.timeScale)}`);
    setTimeScale(k);
  }
  const timeoutMs = int(f.timeout, 'timeout', 100, 600_000);
  const clientTargets = f.clientTarget ?? [];
  const checks = await selectChecks({ suites: f.suite ?? ['all'], ...(grep ? { grep } : {}), roles: clientTargets.length ? ['server', 'client'] : ['server'] });
  if (f.list) {
    for (const c of checks) process.stdout.write(`${c.id}\t${c.level}\t${c.role}\t${c.area}\t${c.spec.map((s) => `${s.rfc} §${s.section}`).join('; ')}\t${c.title}\n`);
    process.stderr.write(`${checks.length} checks\n`);
    return 0;
  }
  if (checks.length === 0) throw new UsageError('no checks selected (check --suite and --grep)');
  if (f.score) return score(checks.filter((c) => c.role === 'server'), f, concurrency);
  const runId = newRunId(f.target);
  const dir = resolve(f.report ?? join('reports', runId));
  const credentials = f.user ? { user: f.user, ...(f.password !== undefined ? { password: f.password } : {}), ...(f.identity ? { privateKeyPath: f.identity } : {}) } : undefined;
  const tty = process.stderr.isTTY === true && !f.json;
  const planned = expandClientChecks(checks, clientTargets).length;
  const progress = createProgress(planned, { tty, stream: process.stderr, ...(f.quiet ? { quiet: true } : {}) });
  process.stderr.write(`ssh-harness run: ${planned} checks against ${f.target}${clientTargets.length ? ` and ${clientTargets.join(', ')}` : ''}\n`);
  let summary;
  try {
    summary = await runConformance({
      target: f.target, checks, runId, suites: f.suite ?? ['all'], clientTargets,
      ...(credentials ? { credentials } : {}),
      ...(f.seed ? { seed: f.seed } : {}),
      ...(concurrency !== undefined ? { concurrency } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      ...(f.pcap || f.keylog ? { traceDir: dir, pcap: !!f.pcap, keylog: !!f.keylog } : {}),
      onResult: (r) => progress.result(r),
    });
  } finally {
    progress.stop();
  }
  const files = writeReports(summary, dir, { ...(f.junit ? { junit: resolve(f.junit) } : {}), logs: summary.logs });
  const { logs: _logs, ...plain } = summary;
  if (f.json) {
    process.stdout.write(JSON.stringify({ ...plain, reports: files }) + '\n');
  } else {
    const c = summary.counts;
    const failed = summary.results.filter((r) => r.verdict === 'fail');
    for (const r of failed) process.stdout.write(`FAIL ${r.level} ${r.id}${r.known ? ' (known)' : ''}: ${r.reason} [${citations(r)}]\n`);
    process.stdout.write(`${c.total} checks: ${c.pass} passed, ${c.fail} failed, ${c.inconclusive} inconclusive, ${c['not-applicable']} not applicable`
      + ` (MUST: ${summary.byLevel.MUST.pass}/${summary.byLevel.MUST.total} passed) in ${(summary.durationMs / 1000).toFixed(1)} s; seed ${summary.seed}\n`);
    process.stdout.write(`reports: ${files.html}\n         ${files.junit}\n         ${files.markdown}\n         ${files.json}\n`);
  }
  return summary.exitCode;
}

/** --score: the suite against `self` and every broken variant; exit 0 only if all are caught and self passes every MUST. */
async function score(checks: Check[], f: RunFlags, concurrency: number | undefined): Promise<number> {
  if (f.target !== 'self') throw new UsageError('--score runs against self and its variants: use --target self');
  process.stderr.write(`ssh-harness run --score: ${checks.length} checks against self and ${VARIANTS.length} broken variants\n`);
  const fp = await findingPower(checks, {
    ...(f.seed ? { seed: f.seed } : {}), ...(concurrency !== undefined ? { concurrency } : {}),
    onVariant: (v) => { if (!f.json) process.stderr.write(`  ${v.caught ? 'caught' : 'MISSED'} self:${v.variant} (${v.flaggedBy.length} checks, ${(v.durationMs / 1000).toFixed(1)} s)\n`); },
  });
  if (f.json) process.stdout.write(JSON.stringify(fp) + '\n');
  else {
    for (const v of fp.variants) process.stdout.write(`${v.caught ? 'caught' : 'MISSED'}  self:${v.variant.padEnd(26)} ${v.description}\n        flagged by ${v.flaggedBy.slice(0, 4).join(', ')}${v.flaggedBy.length > 4 ? ` and ${v.flaggedBy.length - 4} more` : ''}\n`);
    process.stdout.write(`finding power: ${fp.caught}/${fp.total} variants caught; reference server: ${fp.reference.mustFailures.length ? `MUST failures ${fp.reference.mustFailures.join(', ')}` : 'every MUST check passed'}\n`);
  }
  return fp.caught === fp.total && fp.reference.mustFailures.length === 0 ? 0 : 1;
}

export function register(program: Command): void {
  program
    .command('run')
    .description('run conformance checks against a server target (and client peers); reports into reports/<run-id>/')
    .requiredOption('--target <name>', 'self, self-serve, sshd, openssh, openssh:bookworm, openssh:trixie, dropbear, ..., or tcp://host:port')
    .option('--suite <name|path...>', 'smoke, transport, auth, connection, robustness, security, client, all (default), or scenario files/directories')
    .option('--report <dir>', 'report directory (default reports/<run-id>)')
    .option('--junit <file>', 'also write the JUnit XML here')
    .option('--pcap', 'record a pcap and a decoded JSONL per check')
    .option('--keylog', 'record an SSH keylog per check')
    .option('--grep <regexp>', 'only checks whose id or title matches')
    .option('--user <name>', 'tcp:// targets: user name')
    .option('--password <pw>', 'tcp:// targets: password')
    .option('--identity <file>', 'tcp:// targets: private key file (OpenSSH format)')
    .option('--client-target <name...>', 'client peers for client-direction checks (openssh-client, paramiko-client, ...)')
    .option('--seed <hex>', 'replay a run: the seed printed by an earlier run')
    .option('--concurrency <n>', 'checks in flight at once (default 6)')
    .option('--timeout <ms>', 'per-check time limit (default 20000)')
    .option('--time-scale <k>', 'stretch the checks\' default waits by k (1-10) on a busy machine')
    .option('--json', 'print the run summary as JSON on stdout')
    .addOption(new Option('--list', 'list the selected checks and exit'))
    .option('--quiet', 'no progress output')
    .option('--score', 'finding power: run against self and every deliberately broken variant (self:<variant>) and report which are caught')
    .action(async (f: RunFlags) => {
      try {
        process.exitCode = await run(f);
      } catch (e) {
        if (e instanceof ScenarioFileError || e instanceof SetupError || e instanceof UsageError) {
          process.stderr.write(`ssh-harness run: ${e.message}\n`);
          process.exitCode = 2;
          return;
        }
        throw e;
      }
    });
}
