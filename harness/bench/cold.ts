/**
 * The cold CPU row (issue 22, speed): for each cipher, our library and ssh2 each upload the same bytes into OpenSSH's
 * `cat > /dev/null` from a fresh process of their own (cold-client.ts), alternating ours, ssh2, ours, ssh2, …; the
 * figure is the client process's CPU (user + sys) per GiB, and the ratio ssh2 / ours (how many times less CPU we use),
 * the median of the per-round ratios so that the drift of a shared machine cancels out. sshd + cat move only
 * ~300–650 MB/s, which both clients reach: wall time cannot tell them apart, CPU can.
 *
 * Each round also uploads a quarter of the bytes, so the figure splits into what a process pays once (node's start,
 * the import, the handshake, the JIT warming up: the CPU a short transfer is made of) and what each further GiB
 * costs once warm (the difference between the two sizes). The second is where the shared floor shows: the kernel's
 * loopback TCP send and OpenSSL's cipher, the same work for both clients.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../targets/state.js';
import type { ColdArgs, ColdResult } from './cold-client.js';
import type { Algorithms, Endpoint } from './throughput.js';

const root = packageRoot();

export const COLD_CIPHERS: readonly Algorithms[] = [
  { cipher: 'aes128-gcm@openssh.com' },
  { cipher: 'chacha20-poly1305@openssh.com' },
  { cipher: 'aes128-ctr', mac: 'hmac-sha2-256-etm@openssh.com' },
];

export interface ColdRow {
  readonly group: 'cold' | 'cold-split';
  readonly name: string;
  /** CPU seconds per GiB (median). */
  readonly ours: number;
  readonly baseline: number;
  readonly baselineName: 'ssh2';
  /** ours / ssh2, median of the per-round ratios (below 1: we use less CPU). */
  readonly ratio: number;
  readonly unit: 'CPU-s/GiB' | 'CPU-s';
  readonly target?: string;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** The compiled child: plain node, no TypeScript loader in either contender's CPU. */
function childScript(): string {
  const p = join(root, 'dist', 'harness', 'bench', 'cold-client.js');
  if (!existsSync(p)) throw new Error(`${p} missing: run \`npm run build\` (npm run bench does)`);
  return p;
}

/** One fresh process; bounded at 10 minutes. */
export function runCold(a: ColdArgs, timeoutMs = 600_000): Promise<ColdResult> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [childScript(), JSON.stringify(a)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    c.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    const timer = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.on('error', reject);
    c.on('close', (code) => {
      clearTimeout(timer);
      try {
        if (code !== 0) throw new Error(`cold ${a.client} ${a.cipher} exited ${code}: ${err.slice(0, 400)}`);
        resolve(JSON.parse(out.trim().split('\n').pop()!) as ColdResult);
      } catch (e) {
        reject(e as Error);
      }
    });
  });
}

export async function coldCpuRows(ep: Endpoint, o: { bytes: number; reps: number; log?: (l: string) => void; ciphers?: readonly Algorithms[] }): Promise<ColdRow[]> {
  const gib = o.bytes / 2 ** 30;
  const rows: ColdRow[] = [];
  for (const alg of o.ciphers ?? COLD_CIPHERS) {
    const args = { ...ep, cipher: alg.cipher, ...(alg.mac ? { mac: alg.mac } : {}), bytes: o.bytes };
    const small = { ...args, bytes: Math.max(1, Math.round(o.bytes / 4)) };
    const ours: number[] = [];
    const theirs: number[] = [];
    const split = { ours: { once: [] as number[], perGiB: [] as number[] }, ssh2: { once: [] as number[], perGiB: [] as number[] } };
    const name = `${alg.cipher}${alg.mac ? `+${alg.mac}` : ''}`;
    for (let r = 0; r < o.reps; r++) {
      const a = await runCold({ ...args, client: 'ours' });
      const b = await runCold({ ...args, client: 'ssh2' });
      const a4 = await runCold({ ...small, client: 'ours' });
      const b4 = await runCold({ ...small, client: 'ssh2' });
      ours.push(a.cpuSeconds / gib);
      theirs.push(b.cpuSeconds / gib);
      for (const [who, big, quarter] of [['ours', a, a4], ['ssh2', b, b4]] as const) {
        const perGiB = (big.cpuSeconds - quarter.cpuSeconds) / ((args.bytes - small.bytes) / 2 ** 30);
        split[who].perGiB.push(perGiB);
        split[who].once.push(big.cpuSeconds - perGiB * gib);
      }
      const said = (x: ColdResult): string => `${x.cpuSeconds.toFixed(2)} s CPU (${x.setupCpuSeconds.toFixed(2)} before the first write; upload ${x.uploadSeconds.toFixed(2)} s)`;
      o.log?.(`cold         ${name} round ${r + 1}: ours ${said(a)}, ssh2 ${said(b)}, ssh2/ours ${(b.cpuSeconds / a.cpuSeconds).toFixed(2)}×; a quarter of it: ours ${a4.cpuSeconds.toFixed(2)} s, ssh2 ${b4.cpuSeconds.toFixed(2)} s`);
    }
    rows.push({
      group: 'cold', name: `client CPU, fresh process, ${Math.round(o.bytes / 2 ** 20)} MiB upload ${name} (lower is better)`,
      ours: median(ours), baseline: median(theirs), baselineName: 'ssh2', ratio: median(ours.map((x, i) => x / theirs[i]!)), unit: 'CPU-s/GiB', target: '≤0.77× ssh2 (1.3× less CPU)',
    });
    const ratioOf = (k: 'once' | 'perGiB'): number => median(split.ours[k].map((x, i) => x / split.ssh2[k][i]!));
    rows.push({
      group: 'cold-split', name: `  of which once per process (start, import, handshake, JIT warm-up) ${name}`,
      ours: median(split.ours.once), baseline: median(split.ssh2.once), baselineName: 'ssh2', ratio: ratioOf('once'), unit: 'CPU-s',
    });
    rows.push({
      group: 'cold-split', name: `  of which each further GiB, warm (${Math.round(o.bytes / 2 ** 20)} MiB − ${Math.round(small.bytes / 2 ** 20)} MiB) ${name}`,
      ours: median(split.ours.perGiB), baseline: median(split.ssh2.perGiB), baselineName: 'ssh2', ratio: ratioOf('perGiB'), unit: 'CPU-s/GiB',
    });
  }
  return rows;
}
