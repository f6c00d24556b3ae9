/**
 * `ssh-harness replay FILE --target T [--pcap DIR] [--keylog FILE] [--no-trace] [--json]` (issues 8
 * and 9): runs one corpus entry (a fuzz finding, or a `trace import` entry) against a target on a fresh connection,
 * with the same oracles, and writes the connection's trace: pcap and decoded JSONL to DIR (default
 * reports/replay-<id>; `--trace DIR` is the older name), the SSH keylog to FILE (default DIR/<id>.keylog).
 * `--no-trace` records nothing unless `--keylog` names a file. A `.yaml` FILE is a reproducer written as a scenario
 * (corpora/<peer>/*.yaml): its checks run against the target (exit 1 when one fails: the finding reproduces).
 * Exit codes: 0 = no finding (the case passes: a fixed bug stays fixed), 1 = a finding (the entry's, or
 * another), 2 = usage error, corrupted corpus file, unreachable target.
 */
import type { Command } from 'commander';
import { join } from 'node:path';
import { CorpusFormatError } from '../fuzz/corpus.js';
import { loadReplayInput, replay } from '../fuzz/replay.js';
import { describeStep } from '../fuzz/steps.js';
import { resolveTarget, TargetError } from '../fuzz/targets.js';
import { toJson } from '../fuzz/value.js';

interface ReplayCliOptions {
  readonly target: string;
  readonly user?: string;
  readonly password?: string;
  readonly identity?: string;
  /** commander's `--no-trace` sets it to false */
  readonly trace?: string | false;
  /** where the pcap and JSONL go (issue 9's name for `--trace DIR`) */
  readonly pcap?: string;
  readonly keylog?: string;
  readonly json?: boolean;
}

export function register(program: Command): void {
  program
    .command('replay')
    .description('replay one fuzz corpus entry (or an imported trace) against a target and write its trace')
    .argument('<file>', 'corpus entry (corpora/<target>/<id>.json), a `trace import` .corpus.json, or a scenario reproducer (corpora/<peer>/*.yaml)')
    .requiredOption('--target <target>', 'self, self:<variant>, self-tcp, sshd, openssh[:suite], dropbear, …, or tcp://HOST:PORT')
    .option('--user <name>', 'user name the target accepts')
    .option('--password <pw>', 'password of that user')
    .option('--identity <file>', 'OpenSSH private key the target accepts')
    .option('--pcap <dir>', 'where the pcap and decoded JSONL go (default reports/replay-<id>)')
    .option('--keylog <file>', 'write the SSH keylog (Wireshark format) to FILE (default: next to the pcap)')
    .option('--trace <dir>', 'the older name of --pcap')
    .option('--no-trace', 'write no pcap or JSONL (and no keylog unless --keylog names a file)')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: ReplayCliOptions, cmd: Command) => {
      const out = cmd.configureOutput();
      const say = (s: string): void => (out.writeOut ?? ((x: string) => process.stdout.write(x)))(s);
      const warn = (s: string): void => (out.writeErr ?? ((x: string) => process.stderr.write(x)))(s);
      process.exitCode = await runReplay(file, opts, say, warn);
    });
}

/**
 * A reproducer written as a scenario file (corpora/<peer>/*.yaml: findings of the conformance suite that the fuzz
 * oracles do not express, e.g. a malformed KEXINIT from the peer): its checks run against the target on fresh
 * connections. Exit 1 when a check fails (the finding reproduces), 0 when all pass, 2 on setup errors.
 */
async function replayScenario(file: string, opts: ReplayCliOptions, say: (s: string) => void, warn: (s: string) => void): Promise<number> {
  const { selectChecks } = await import('../scenario/suite.js');
  const { runConformance, SetupError } = await import('../scenario/session.js');
  const { ScenarioFileError } = await import('../scenario/schema.js');
  try {
    const checks = await selectChecks({ suites: [file], roles: ['server'] });
    if (!checks.length) { warn(`ssh-harness replay: ${file} holds no server check\n`); return 2; }
    const credentials = opts.user ? { user: opts.user, ...(opts.password !== undefined ? { password: opts.password } : {}), ...(opts.identity ? { privateKeyPath: opts.identity } : {}) } : undefined;
    const s = await runConformance({ target: opts.target, checks, ...(credentials ? { credentials } : {}) });
    const failed = s.results.filter((r) => r.verdict === 'fail' || (r.verdict === 'inconclusive' && r.level === 'MUST'));
    if (opts.json) say(JSON.stringify({ file, target: opts.target, targetVersion: s.targetVersion, results: s.results.map((r) => ({ id: r.id, verdict: r.verdict, reason: r.reason })), reproduced: failed.length > 0 }, null, 2) + '\n');
    else {
      say(`replaying ${file} on ${opts.target} (${s.targetVersion ?? 'unknown version'}): ${s.results.length} check${s.results.length === 1 ? '' : 's'}\n`);
      for (const r of s.results) say(`  ${r.verdict.toUpperCase()} ${r.level} ${r.id}: ${r.reason}\n`);
      say(failed.length ? 'finding reproduced\n' : 'no finding: every check passed or did not apply\n');
    }
    return failed.length ? 1 : 0;
  } catch (e) {
    if (e instanceof ScenarioFileError || e instanceof SetupError) { warn(`ssh-harness replay: ${e.message}\n`); return 2; }
    throw e;
  }
}

export async function runReplay(file: string, opts: ReplayCliOptions, say: (s: string) => void, warn: (s: string) => void): Promise<number> {
  if (/\.ya?ml$/i.test(file)) return replayScenario(file, opts, say, warn);
  if (opts.pcap !== undefined && (opts.trace === false || (opts.trace !== undefined && opts.trace !== opts.pcap))) {
    warn(`ssh-harness replay: --pcap ${JSON.stringify(opts.pcap)} contradicts ${opts.trace === false ? '--no-trace' : `--trace ${JSON.stringify(opts.trace)}`}\n`);
    return 2;
  }
  let input;
  try {
    input = loadReplayInput(file);
  } catch (e) {
    warn(`ssh-harness replay: ${e instanceof CorpusFormatError ? e.message : `${file}: ${(e as Error).message}`}\n`);
    return 2;
  }
  let target;
  try {
    target = await resolveTarget(opts.target, { ...(opts.user ? { user: opts.user } : {}), ...(opts.password !== undefined ? { password: opts.password } : {}), ...(opts.identity ? { identity: opts.identity } : {}) });
  } catch (e) {
    warn(`ssh-harness replay: ${e instanceof TargetError ? e.message : `cannot start target ${JSON.stringify(opts.target)}: ${(e as Error).message}`}\n`);
    return 2;
  }
  const traceDir = opts.trace === false ? undefined : (opts.pcap ?? opts.trace ?? join('reports', `replay-${input.id}`));
  const keylogPath = opts.keylog ?? (traceDir ? join(traceDir, `${input.id}.keylog`) : undefined);
  let r;
  try {
    r = await replay(input, target, { ...(traceDir ? { dir: traceDir } : {}), ...(keylogPath ? { keylogPath } : {}) });
  } catch (e) {
    warn(`ssh-harness replay: ${(e as Error).message}\n`);
    return 2;
  } finally {
    await target.close();
  }
  if (opts.json) {
    say(JSON.stringify(toJson({ id: input.id, target: target.name, start: input.start, steps: input.steps.length, expected: input.expected, finding: r.finding, reproduced: r.reproduced, files: r.files }), null, 2) + '\n');
  } else {
    say(`replaying ${input.id} on ${target.name} (${target.version}): start ${input.start}, ${input.steps.length} steps\n`);
    for (const s of input.steps) say(`  ${describeStep(s)}\n`);
    if (r.finding) say(`finding [${r.finding.oracle}] ${r.finding.message}${input.expected ? (r.reproduced ? ' (reproduced)' : ` (the entry expected [${input.expected.oracle}])`) : ''}\n`);
    else say(`no finding${input.expected ? `: the entry's [${input.expected.oracle}] did not reproduce` : ''}\n`);
    if (r.files.length) say(`trace: ${r.files.join(', ')}\n`);
  }
  return r.finding ? 1 : 0;
}
