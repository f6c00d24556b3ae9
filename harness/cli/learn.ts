/**
 * `ssh-harness learn --target T [--alphabet handshake|auth|connection|FILE] [--time S] [--parallel N] [--out DIR]`
 * learns the peer's Mealy machine (harness/learn) and writes the model (JSON, DOT, SVG) with an HTML/Markdown/
 * JUnit report and a witness file per violated property.
 * `ssh-harness learn diff A.json B.json` prints the shortest input words on which two models differ.
 * `ssh-harness learn replay WITNESS.json [--target T]` runs a witness again and compares with the model.
 * `ssh-harness learn table DIR` rewrites the table of the models in DIR/README.md.
 * Exit codes: 0 = learned, every property holds (diff: same behaviour; replay: the peer no longer answers as the
 * witness shows), 1 = a property is violated / the models differ / the witness reproduces / learning was
 * incomplete, 2 = usage or setup error.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AlphabetError, loadAlphabet } from '../learn/alphabet.js';
import { differences } from '../learn/diff.js';
import { learn } from '../learn/learn.js';
import { ModelFileError, readModelFile, toMealy } from '../learn/model-file.js';
import { type WitnessEntry, writeLearnReport } from '../learn/report.js';
import { SshMapper } from '../learn/ssh/mapper.js';
import { modelFiles, updateTable } from '../learn/table.js';
import { resolveTarget } from '../fuzz/targets.js';

export interface LearnCliOptions {
  readonly target?: string;
  readonly alphabet: string;
  readonly time: string;
  readonly parallel?: string;
  readonly seed: string;
  readonly depth: string;
  readonly walks: string;
  readonly wait?: string;
  readonly probe: boolean;
  readonly out?: string;
  readonly user?: string;
  readonly password?: string;
  readonly identity?: string;
  readonly json?: boolean;
}

const int = (v: string | undefined, name: string, min: number, max: number): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return n;
};

class UsageError extends Error {}

export function register(program: Command): void {
  const cmd = program
    .command('learn')
    .description('learn the peer\'s protocol state machine (Mealy machine) by active automata learning, check properties on it')
    .option('--target <target>', 'self, sshd, openssh[:bookworm|:trixie], dropbear, tinyssh, paramiko, asyncssh, ssh2, any registered server peer, or tcp://HOST:PORT')
    .option('--alphabet <name|file>', 'handshake, auth, connection, or an alphabet JSON file', 'handshake')
    .option('--time <seconds>', 'wall-clock budget; past it the last hypothesis is reported as incomplete', '600')
    .option('--parallel <n>', 'connections at once (default: up to 8, within the peer\'s bound)')
    .option('--seed <n>', 'seed of the random walks', '1')
    .option('--depth <k>', 'extra states the Wp-method tests for', '1')
    .option('--walks <n>', 'random walks per equivalence query after the Wp suite', '300')
    .option('--wait <ms>', 'fixed quiet time T instead of the calibrated one')
    .option('--no-probe', 'never end a wait with the UNIMPLEMENTED probe')
    .option('--out <dir>', 'where the model and report go (default reports/learn-<target>-<alphabet>-<time>)')
    .option('--user <name>', 'user name the target accepts (tcp://)')
    .option('--password <pw>', 'password of that user')
    .option('--identity <file>', 'OpenSSH private key the target accepts')
    .option('--json', 'print the model file as JSON')
    .action(async (opts: LearnCliOptions) => { process.exitCode = await runLearn(opts); });

  cmd.command('diff')
    .description('print the shortest input words on which two learned models differ')
    .argument('<a>', 'model JSON')
    .argument('<b>', 'model JSON')
    .option('--max <n>', 'differences to print', '10')
    .option('--json', 'print as JSON')
    .action((a: string, b: string, o: { max: string; json?: boolean }) => { process.exitCode = runDiff(a, b, o); });

  cmd.command('table')
    .description('rewrite the table of learned models in DIR/README.md (between its learn-table markers)')
    .argument('<dir>', 'directory of model JSON files (e.g. docs/models)')
    .option('--json', 'print the models\' summary rows as JSON')
    .action((dir: string, o: { json?: boolean }) => {
      try {
        const n = updateTable(dir);
        process.stdout.write(o.json ? JSON.stringify(modelFiles(dir).map((m) => ({ target: m.target, implementation: m.implementation, alphabet: m.alphabet.name, states: m.states, complete: m.complete, stats: m.stats, violated: m.properties.filter((p) => p.status === 'fail').map((p) => p.id) })), null, 1) + '\n' : `${n} models in ${join(dir, 'README.md')}\n`);
        process.exitCode = 0;
      }
      catch (e) { process.stderr.write(`ssh-harness learn table: ${(e as Error).message}\n`); process.exitCode = 2; }
    });

  cmd.command('replay')
    .description('run a property witness (or any input word of a model) against the peer again')
    .argument('<witness>', 'a *.witness-*.json file written by learn')
    .option('--target <target>', 'target (default: the one the witness was learned from)')
    .option('--json', 'print as JSON')
    .action(async (file: string, o: { target?: string; json?: boolean }) => { process.exitCode = await runReplay(file, o); });
}

export async function runLearn(opts: LearnCliOptions): Promise<number> {
  if (!opts.target) { process.stderr.write('ssh-harness learn: --target is required\n'); return 2; }
  let alphabet;
  let timeS: number, parallel: number | undefined, seed: number, depth: number, walks: number, waitMs: number | undefined;
  try {
    alphabet = loadAlphabet(opts.alphabet);
    timeS = int(opts.time, 'time', 1, 86_400)!;
    parallel = int(opts.parallel, 'parallel', 1, 64);
    seed = int(opts.seed, 'seed', 0, 2 ** 31)!;
    depth = int(opts.depth, 'depth', 0, 4)!;
    walks = int(opts.walks, 'walks', 0, 1_000_000)!;
    waitMs = int(opts.wait, 'wait', 1, 60_000);
  } catch (e) {
    if (e instanceof UsageError || e instanceof AlphabetError) { process.stderr.write(`ssh-harness learn: ${e.message}\n`); return 2; }
    throw e;
  }
  const tty = process.stderr.isTTY;
  let lastLine = 0;
  const progress = (p: { phase: string; states: number; queries: number; elapsedMs: number }): void => {
    const line = `learn ${opts.target} ${alphabet.name}: ${p.phase}, ${p.states} states, ${p.queries} resets, ${(p.elapsedMs / 1000).toFixed(0)} s / ${timeS} s`;
    if (tty) process.stderr.write(`\r${line}\x1b[K`);
    else if (p.elapsedMs - lastLine >= 10_000) { lastLine = p.elapsedMs; process.stderr.write(line + '\n'); }
  };
  let resolved;
  try {
    resolved = await resolveTarget(opts.target, { ...(opts.user ? { user: opts.user } : {}), ...(opts.password !== undefined ? { password: opts.password } : {}), ...(opts.identity ? { identity: opts.identity } : {}) });
  } catch (e) {
    // an unknown or unusable target (TargetError, a peer that does not start) is a setup error
    process.stderr.write(`ssh-harness learn: ${(e as Error).message}\n`);
    return 2;
  }
  let outcome;
  try {
    outcome = await learn({
      target: opts.target, resolved, alphabet, timeS, seed, extraStates: depth, randomWalks: walks, noProbe: !opts.probe,
      ...(parallel !== undefined ? { parallel } : {}), ...(waitMs !== undefined ? { waitMs } : {}),
      onProgress: progress,
    });
  } catch (e) {
    if (tty) process.stderr.write('\n');
    if ((e as Error).name === 'ResetError') { process.stderr.write(`ssh-harness learn: ${(e as Error).message}\n`); return 2; }
    throw e;
  } finally {
    await resolved.close();
  }
  if (tty) process.stderr.write('\n');
  const f = outcome.file;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = opts.out ?? join('reports', `learn-${f.target.replace(/[^\w.-]+/g, '_')}-${alphabet.name}-${stamp}`);
  const files = writeLearnReport(f, outcome.model, dir, outcome.divergences);
  const violated = f.properties.filter((p) => p.status === 'fail');
  if (opts.json) process.stdout.write(JSON.stringify({ ...f, files }, null, 1) + '\n');
  else {
    const s = f.stats;
    process.stdout.write(`${f.target} (${f.implementation}), alphabet ${alphabet.name}: ${f.states} states, ${s['queries']} queries, ${s['resets']} resets, ${(Number(s['timeMs']) / 1000).toFixed(1)} s, ${s['queriesPerSecond']} resets/s${f.complete ? '' : ' — INCOMPLETE'}\n`);
    if (outcome.nondeterminism) process.stdout.write(`non-determinism: ${outcome.nondeterminism.word.join(' ')} → ${outcome.nondeterminism.answers.map((a) => `${a.count}× ${a.outputs.join(' ')}`).join(' | ')}\n`);
    for (const p of f.properties) process.stdout.write(`  ${p.status.padEnd(4)} ${p.id}: ${p.title} (${p.spec})${p.witness ? `\n         witness: ${p.witness.inputs.join(' ')}\n         outputs: ${p.witness.outputs.join(' ')}` : p.why && p.status === 'n/a' ? ` — ${p.why}` : ''}\n`);
    process.stdout.write(`model: ${files.json}, ${files.dot}${files.svg ? `, ${files.svg}` : ' (no SVG: install graphviz)'}; report: ${files.html}\n`);
  }
  return violated.length > 0 || !f.complete ? 1 : 0;
}

export function runDiff(a: string, b: string, o: { max: string; json?: boolean }): number {
  let fa, fb, max;
  try {
    fa = readModelFile(a); fb = readModelFile(b);
    max = int(o.max, 'max', 1, 10_000)!;
  } catch (e) {
    if (e instanceof ModelFileError || e instanceof UsageError) { process.stderr.write(`ssh-harness learn diff: ${e.message}\n`); return 2; }
    throw e;
  }
  const d = differences(toMealy(fa), toMealy(fb), max);
  if (o.json) process.stdout.write(JSON.stringify({ a: { target: fa.target, implementation: fa.implementation, states: fa.states }, b: { target: fb.target, implementation: fb.implementation, states: fb.states }, ...d }, null, 1) + '\n');
  else {
    process.stdout.write(`A: ${fa.target} (${fa.implementation}), ${fa.alphabet.name}, ${fa.states} states\nB: ${fb.target} (${fb.implementation}), ${fb.alphabet.name}, ${fb.states} states\n`);
    if (d.onlyA.length || d.onlyB.length) process.stdout.write(`compared over the ${d.common.length} common inputs (only A: ${d.onlyA.join(', ') || '-'}; only B: ${d.onlyB.join(', ') || '-'})\n`);
    if (d.diffs.length === 0) process.stdout.write('same behaviour on every input word\n');
    for (const x of d.diffs) {
      const k = x.inputs.length - 1;
      process.stdout.write(`\n${x.inputs.join(' ')}\n  A: ${x.a[k]}\n  B: ${x.b[k]}\n`);
    }
  }
  return d.diffs.length ? 1 : 0;
}

export async function runReplay(file: string, o: { target?: string; json?: boolean }): Promise<number> {
  let w: WitnessEntry;
  try {
    w = JSON.parse(readFileSync(file, 'utf8')) as WitnessEntry;
    if (w?.kind !== 'learn-witness' || !Array.isArray(w.inputs) || !Array.isArray(w.outputs) || typeof w.alphabet !== 'string') throw new Error('not a learn witness file (kind "learn-witness")');
  } catch (e) {
    process.stderr.write(`ssh-harness learn replay: ${file}: ${(e as Error).message}\n`);
    return 2;
  }
  let alphabet;
  try { alphabet = loadAlphabet(w.alphabet); } catch (e) { process.stderr.write(`ssh-harness learn replay: ${(e as Error).message}\n`); return 2; }
  let target;
  try { target = await resolveTarget(o.target ?? w.target); } catch (e) { process.stderr.write(`ssh-harness learn replay: ${(e as Error).message}\n`); return 2; }
  try {
    const mapper = new SshMapper(target, { alphabet, parallel: 1 });
    await mapper.calibrate(1);
    const got = await mapper.runWord(w.inputs);
    const same = got.join('\u0000') === w.outputs.join('\u0000');
    if (o.json) process.stdout.write(JSON.stringify({ property: w.property, inputs: w.inputs, expected: w.outputs, got, same }, null, 1) + '\n');
    else {
      process.stdout.write(`${w.property} (${w.spec}) on ${o.target ?? w.target}:\n`);
      w.inputs.forEach((x, i) => process.stdout.write(`  ${x.padEnd(22)} ${got[i]}${got[i] !== w.outputs[i] ? `   (model: ${w.outputs[i]})` : ''}\n`));
      process.stdout.write(same ? 'the peer answered as the model predicts: the violation reproduces\n' : 'the peer answered differently from the model\n');
    }
    return same ? 1 : 0;
  } catch (e) {
    process.stderr.write(`ssh-harness learn replay: ${(e as Error).message}\n`);
    return 2;
  } finally {
    await target.close();
  }
}
