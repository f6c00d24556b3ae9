/**
 * What a user's fresh process pays before any work: importing the library (vs requiring ssh2), the `ssh-harness`
 * command's start (`--help`), and `exec`'s start to the first byte of output (vs OpenSSH's `ssh`). Each figure is one
 * fresh `node` (or `ssh`) process; contenders run in turn and the ratio is the median of the per-round ratios, like the
 * throughput rows, so both see the same minute of a machine whose speed drifts.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../targets/state.js';

const root = packageRoot();

/** The child prints the milliseconds its import took, measured around the import itself. */
const IMPORT_OURS = "const t0 = performance.now(); await import('ssh-harness'); process.stdout.write(String(performance.now() - t0));";
const REQUIRE_SSH2 = "const t0 = performance.now(); require('ssh2'); process.stdout.write(String(performance.now() - t0));";

function child(cmd: string, args: readonly string[], cwd = root): Promise<{ stdout: string; firstByteMs: number; totalMs: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let firstByteMs = Number.NaN;
    let stdout = '';
    const c = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    c.stdout.on('data', (b: Buffer) => { if (Number.isNaN(firstByteMs)) firstByteMs = performance.now() - t0; stdout += b.toString(); });
    c.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    const timer = setTimeout(() => c.kill('SIGKILL'), 60_000);
    c.on('error', reject);
    c.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr.slice(0, 400)}`));
      else resolve({ stdout, firstByteMs, totalMs: performance.now() - t0 });
    });
  });
}

export interface StartupFigure {
  readonly name: string;
  readonly ours: number;
  readonly baseline?: number;
  readonly baselineName?: string;
  readonly ratio?: number;
  readonly target?: string;
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** Runs `a` and `b` in turn `rounds` times; medians of each and of the per-round ratios a/b. */
async function alternate(rounds: number, a: () => Promise<number>, b?: () => Promise<number>): Promise<{ a: number; b?: number; ratio?: number }> {
  const as: number[] = [], bs: number[] = [], ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const x = await a();
    as.push(x);
    if (b) { const y = await b(); bs.push(y); ratios.push(x / y); }
  }
  return b ? { a: median(as), b: median(bs), ratio: median(ratios) } : { a: median(as) };
}

/** Library import and CLI start (no peer needed). */
export async function startupFigures(rounds = 11): Promise<StartupFigure[]> {
  const imp = await alternate(rounds,
    async () => Number((await child(process.execPath, ['--input-type=module', '-e', IMPORT_OURS])).stdout),
    async () => Number((await child(process.execPath, ['-e', REQUIRE_SSH2])).stdout));
  const help = await alternate(rounds, async () => (await child(process.execPath, [join(root, 'bin', 'ssh-harness.js'), '--help'])).totalMs);
  return [
    { name: "import 'ssh-harness' in a fresh process (ms, lower is better)", ours: imp.a, baseline: imp.b!, baselineName: "require('ssh2')", ratio: imp.ratio!, target: '≤1× ssh2' },
    { name: '`ssh-harness --help`, process start to exit (ms)', ours: help.a, target: '≤150 ms' },
  ];
}

export interface SshdLogin { readonly host: string; readonly port: number; readonly user: string; readonly keyPath: string }

/** `ssh-harness exec … -- echo x` vs OpenSSH `ssh … echo x` against the same sshd: process start to first stdout byte. */
export async function execFirstByte(sshd: SshdLogin, rounds = 7): Promise<StartupFigure> {
  const ours = async () => (await child(process.execPath, [join(root, 'bin', 'ssh-harness.js'), 'exec', `ssh://${sshd.user}@${sshd.host}:${sshd.port}`,
    '--identity', sshd.keyPath, '--known-hosts', '/dev/null', '--accept-new', '--', 'echo', 'x'])).firstByteMs;
  const openssh = async () => (await child('ssh', ['-i', sshd.keyPath, '-p', String(sshd.port), '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no',
    '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', `${sshd.user}@${sshd.host}`, 'echo', 'x'])).firstByteMs;
  const r = await alternate(rounds, ours, openssh);
  return { name: '`exec -- echo x` to sshd: start to first byte (ms)', ours: r.a, baseline: r.b!, baselineName: 'OpenSSH ssh', ratio: r.ratio!, target: '≤300 ms' };
}
