/**
 * Bulk-transfer measurements: a client uploads N bytes into `cat > /dev/null` (or our built-in `discard`) over one or
 * more session channels, and we time from exec to the channel close. The same byte count and chunk size are used for
 * every client so the ratios compare like with like.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import { insecureAcceptAnyHostKey, Transport, type TransportTrace } from '../../impl/Transport.js';

export const MiB = 1 << 20;
const CHUNK = Buffer.alloc(256 * 1024, 0x5a);

export interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
}

export interface Algorithms {
  readonly cipher: string;
  readonly mac?: string;
}

/** Writes `total` bytes with backpressure, ends the stream, waits for the remote side to close it. */
async function upload(ch: Duplex, total: number): Promise<void> {
  const closed = new Promise<void>((resolve, reject) => {
    ch.once('close', () => resolve());
    ch.once('error', reject);
  });
  ch.resume(); // drain whatever the command prints
  let sent = 0;
  await new Promise<void>((resolve, reject) => {
    const pump = (): void => {
      while (sent < total) {
        const n = Math.min(CHUNK.length, total - sent);
        sent += n;
        if (!ch.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) { ch.once('drain', pump); return; }
      }
      ch.end();
      resolve();
    };
    ch.once('error', reject);
    pump();
  });
  await closed;
}

/** MB/s of our client uploading `total` bytes spread over `channels` concurrent sessions. */
export async function oursUpload(ep: Endpoint, alg: Algorithms, total: number, channels = 1, command = 'cat > /dev/null', trace?: TransportTrace): Promise<number> {
  const t = new Transport([ep.host, ep.port], { verifyHostKey: insecureAcceptAnyHostKey, algorithms: { cipher: [alg.cipher], ...(alg.mac ? { mac: [alg.mac] } : {}) }, ...(trace ? { trace } : {}) });
  try {
    await t.connect({ username: ep.user, password: ep.password });
    const chans = await Promise.all(Array.from({ length: channels }, async () => {
      const ch = await t.openSession();
      await ch.exec(command);
      return ch;
    }));
    const t0 = performance.now();
    await Promise.all(chans.map((ch) => upload(ch, Math.floor(total / channels))));
    return total / MiB / ((performance.now() - t0) / 1000);
  } finally {
    await t.close().catch(() => undefined);
  }
}

/** Reads a channel's stdout to the end; resolves with the byte count once the channel closes. */
function drain(ch: Duplex): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let n = 0;
    ch.on('data', (d: Uint8Array) => { n += d.length; });
    ch.once('error', reject);
    ch.once('close', () => resolve(n));
    ch.end();
  });
}

/** MB/s of our client receiving `total` bytes that the server's `head -c` writes (the download direction). */
export async function oursDownload(ep: Endpoint, alg: Algorithms, total: number): Promise<number> {
  const t = new Transport([ep.host, ep.port], { verifyHostKey: insecureAcceptAnyHostKey, algorithms: { cipher: [alg.cipher], ...(alg.mac ? { mac: [alg.mac] } : {}) } });
  try {
    await t.connect({ username: ep.user, password: ep.password });
    const ch = await t.openSession();
    const t0 = performance.now();
    await ch.exec(`head -c ${total} /dev/zero`);
    const got = await drain(ch);
    if (got !== total) throw new Error(`download: got ${got} of ${total} bytes`);
    return total / MiB / ((performance.now() - t0) / 1000);
  } finally {
    await t.close().catch(() => undefined);
  }
}

/** The same download with the `ssh2` npm client. */
export async function ssh2Download(ep: Endpoint, alg: Algorithms, total: number): Promise<number> {
  const c = new ssh2.Client();
  try {
    await new Promise<void>((resolve, reject) => {
      c.once('ready', () => resolve());
      c.once('error', reject);
      c.connect({
        host: ep.host, port: ep.port, username: ep.user, password: ep.password, readyTimeout: 20_000,
        algorithms: { cipher: [alg.cipher as ssh2.CipherAlgorithm], ...(alg.mac ? { hmac: [alg.mac as ssh2.MacAlgorithm] } : {}) },
      });
    });
    const t0 = performance.now();
    const ch = await new Promise<ssh2.ClientChannel>((resolve, reject) => { c.exec(`head -c ${total} /dev/zero`, (err, s) => (err ? reject(err) : resolve(s))); });
    const got = await drain(ch);
    if (got !== total) throw new Error(`download: got ${got} of ${total} bytes`);
    return total / MiB / ((performance.now() - t0) / 1000);
  } finally {
    c.end();
  }
}

/** The same measurement with the `ssh2` npm client. */
export async function ssh2Upload(ep: Endpoint, alg: Algorithms, total: number, channels = 1, command = 'cat > /dev/null'): Promise<number> {
  const c = new ssh2.Client();
  try {
    await new Promise<void>((resolve, reject) => {
      c.once('ready', () => resolve());
      c.once('error', reject);
      c.connect({
        host: ep.host, port: ep.port, username: ep.user, password: ep.password, readyTimeout: 20_000,
        algorithms: { cipher: [alg.cipher as ssh2.CipherAlgorithm], ...(alg.mac ? { hmac: [alg.mac as ssh2.MacAlgorithm] } : {}) },
      });
    });
    const chans = await Promise.all(Array.from({ length: channels }, () => new Promise<ssh2.ClientChannel>((resolve, reject) => {
      c.exec(command, (err, s) => (err ? reject(err) : resolve(s)));
    })));
    const t0 = performance.now();
    await Promise.all(chans.map((ch) => upload(ch, Math.floor(total / channels))));
    return total / MiB / ((performance.now() - t0) / 1000);
  } finally {
    c.end();
  }
}

/** Sequential connect + password auth + close, per second. */
export async function oursHandshakes(ep: Endpoint, n: number, kex?: string): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const t = new Transport([ep.host, ep.port], { verifyHostKey: insecureAcceptAnyHostKey, ...(kex ? { algorithms: { kex: [kex] } } : {}) });
    await t.connect({ username: ep.user, password: ep.password });
    await t.close();
  }
  return n / ((performance.now() - t0) / 1000);
}

export async function ssh2Handshakes(ep: Endpoint, n: number, kex?: string): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const c = new ssh2.Client();
    await new Promise<void>((resolve, reject) => {
      c.once('ready', () => resolve());
      c.once('error', reject);
      c.connect({ host: ep.host, port: ep.port, username: ep.user, password: ep.password, ...(kex ? { algorithms: { kex: [kex as ssh2.KexAlgorithm] } } : {}) });
    });
    await new Promise<void>((resolve) => { c.once('close', () => resolve()); c.end(); });
  }
  return n / ((performance.now() - t0) / 1000);
}

/**
 * The same upload with OpenSSH's own `ssh` client: one master connection (ControlMaster) and `channels`
 * multiplexed sessions on it, each fed `total / channels` bytes by `head -c … /dev/zero` (issue 5's "vs OpenSSH").
 * Public-key auth with the target's test key. Bounded: every process is killed after `timeoutMs`.
 */
export async function opensshUpload(ep: Endpoint & { readonly keyPath: string }, alg: Algorithms, total: number, channels = 1, command = 'cat > /dev/null', timeoutMs = 120_000): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-mux-'));
  const ctl = join(dir, 'ctl');
  const common = ['-S', ctl, '-p', String(ep.port), '-i', ep.keyPath, '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes',
    '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR',
    '-c', alg.cipher, ...(alg.mac ? ['-m', alg.mac] : []), `${ep.user}@${ep.host}`];
  const master = spawn('ssh', ['-M', '-N', '-o', 'ControlPersist=no', ...common], { stdio: ['ignore', 'ignore', 'pipe'] });
  let masterErr = '';
  master.stderr!.on('data', (d) => { masterErr += d; });
  const deadline = Date.now() + timeoutMs;
  try {
    // the master is ready once `ssh -O check` answers on its control socket
    for (;;) {
      if (master.exitCode !== null) throw new Error(`ssh master exited ${master.exitCode}: ${masterErr.trim()}`);
      if (spawnSync('ssh', ['-S', ctl, '-O', 'check', 'x'], { stdio: 'ignore', timeout: 5_000 }).status === 0) break;
      if (Date.now() > deadline) throw new Error('ssh master not ready in time');
      await new Promise((r) => setTimeout(r, 50));
    }
    const each = Math.floor(total / channels);
    const t0 = performance.now();
    await Promise.all(Array.from({ length: channels }, () => new Promise<void>((resolve, reject) => {
      const quoted = common.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
      const p = spawn('sh', ['-c', `head -c ${each} /dev/zero | ssh ${quoted} '${command}'`], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr!.on('data', (d) => { err += d; });
      const timer = setTimeout(() => p.kill('SIGKILL'), Math.max(1, deadline - Date.now()));
      p.on('close', (code) => { clearTimeout(timer); code === 0 ? resolve() : reject(new Error(`ssh session exited ${code}: ${err.trim()}`)); });
    })));
    return total / MiB / ((performance.now() - t0) / 1000);
  } finally {
    spawnSync('ssh', ['-S', ctl, '-O', 'exit', 'x'], { stdio: 'ignore', timeout: 5_000 });
    if (master.exitCode === null) master.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}
