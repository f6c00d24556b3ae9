/**
 * One cold upload in a fresh process, measured the way a library user meets it (issue 22's speed row): import the
 * client library by its package name, connect with its public API, open a session, `exec('cat > /dev/null')`, write
 * `bytes` zeros from memory in 64 KiB writes with backpressure, end, wait for the channel to close, and print this
 * process's own CPU (user + sys, every thread, from the start of node) as one JSON line. Nothing is warmed up: the
 * JIT, the addon load, the key exchange and the first buffers are part of what is measured, as for a user.
 *
 * Run by main.ts (`bench --only cold`) as `node dist/harness/bench/cold-client.js '<json>'` — compiled, so no
 * TypeScript loader adds CPU to either contender. Args: { client: 'ours' | 'ssh2', host, port, user, password,
 * cipher, mac?, bytes }. SSH_HARNESS_BENCH_ENTRY (a path to another build's dist/index.js) measures that build instead, to
 * compare a change against the one before it the same way.
 */
import { fileURLToPath } from 'node:url';

export interface ColdArgs {
  readonly client: 'ours' | 'ssh2';
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly cipher: string;
  readonly mac?: string;
  readonly bytes: number;
}

export interface ColdResult {
  /** user + sys CPU of the whole process, seconds. */
  readonly cpuSeconds: number;
  /** Of which before the first write: node's start, the import, connect, auth, session, exec. */
  readonly setupCpuSeconds: number;
  /** Wall time of the upload alone (exec to channel close), seconds. */
  readonly uploadSeconds: number;
}

let setupCpu = 0;
const cpuNow = (): number => { const c = process.cpuUsage(); return (c.user + c.system) / 1e6; };

/** The write size a user's `fs.createReadStream`/`pipe` produces: 64 KiB. */
const WRITE = 64 * 1024;

interface Writable {
  write(b: Uint8Array): boolean;
  end(): unknown;
  once(ev: string, f: (...a: unknown[]) => void): unknown;
  resume(): unknown;
}

/** Writes `total` zeros in 64 KiB writes, waiting for 'drain' when asked; resolves once the channel has closed. */
function upload(ch: Writable, total: number): Promise<void> {
  const chunk = Buffer.alloc(WRITE);
  return new Promise<void>((resolve, reject) => {
    ch.once('close', () => resolve());
    ch.once('error', (e) => reject(e as Error));
    ch.resume(); // whatever the command prints
    let sent = 0;
    const pump = (): void => {
      while (sent < total) {
        const n = Math.min(WRITE, total - sent);
        sent += n;
        if (!ch.write(n === WRITE ? chunk : chunk.subarray(0, n))) { ch.once('drain', pump); return; }
      }
      ch.end();
    };
    pump();
  });
}

async function ours(a: ColdArgs): Promise<number> {
  const { Transport, insecureAcceptAnyHostKey } = await import(process.env['SSH_HARNESS_BENCH_ENTRY'] ?? 'ssh-harness') as typeof import('ssh-harness');
  const t = new Transport([a.host, a.port], { verifyHostKey: insecureAcceptAnyHostKey, algorithms: { cipher: [a.cipher], ...(a.mac ? { mac: [a.mac] } : {}) } });
  try {
    await t.connect({ username: a.user, password: a.password });
    const ch = await t.openSession();
    await ch.exec('cat > /dev/null');
    setupCpu = cpuNow();
    const t0 = performance.now();
    await upload(ch, a.bytes);
    return (performance.now() - t0) / 1000;
  } finally {
    await t.close().catch(() => undefined);
  }
}

async function ssh2(a: ColdArgs): Promise<number> {
  const { default: lib } = await import('ssh2');
  const c = new lib.Client();
  try {
    await new Promise<void>((resolve, reject) => {
      c.once('ready', () => resolve());
      c.once('error', reject);
      c.connect({
        host: a.host, port: a.port, username: a.user, password: a.password, readyTimeout: 20_000,
        algorithms: { cipher: [a.cipher as never], ...(a.mac ? { hmac: [a.mac as never] } : {}) },
      });
    });
    const ch = await new Promise<Writable>((resolve, reject) => { c.exec('cat > /dev/null', (err, s) => (err ? reject(err) : resolve(s))); });
    setupCpu = cpuNow();
    const t0 = performance.now();
    await upload(ch, a.bytes);
    return (performance.now() - t0) / 1000;
  } finally {
    c.end();
  }
}

export async function coldUpload(a: ColdArgs): Promise<ColdResult> {
  const uploadSeconds = a.client === 'ours' ? await ours(a) : await ssh2(a);
  // since the process started: node's own start-up and the import included
  return { cpuSeconds: cpuNow(), setupCpuSeconds: setupCpu, uploadSeconds };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const r = await coldUpload(JSON.parse(process.argv[2] ?? '{}') as ColdArgs);
  process.stdout.write(`${JSON.stringify(r)}\n`);
  process.exit(0); // a lingering socket or timer must not add to the next run
}
