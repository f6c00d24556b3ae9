/**
 * A peer that is a local process: spawned in its own process group (so the per-connection children that
 * sshd/dropbear fork end with it), its output kept in a bounded buffer, readiness awaited against a
 * deadline, and stop() idempotent with SIGTERM then SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { probe, type ProbeResult } from './banner.js';
import { PeerError, isPeerError } from './errors.js';
import { looksLikeAddressInUse } from './ports.js';
import { track } from './cleanup.js';

const LOG_LIMIT = 4 << 20; // logs() returns at most the last 4 MiB: DEBUG3 sshd logs grow fast
const STOP_GRACE_MS = 3000;

/**
 * The peer writes straight into a file, not a pipe: a pipe needs our event loop to drain it, and a caller
 * that blocks (execFileSync of a client against the peer) would otherwise deadlock a chatty DEBUG3 sshd.
 */
export class LogFile {
  private frozen: string | undefined;
  constructor(readonly path: string) {}
  toString(): string {
    if (this.frozen !== undefined) return this.frozen;
    let fd: number | undefined;
    try {
      fd = openSync(this.path, 'r');
      const size = fstatSync(fd).size;
      const len = Math.min(size, LOG_LIMIT);
      const buf = Buffer.alloc(len);
      readSync(fd, buf, 0, len, size - len);
      return buf.toString('utf8');
    } catch {
      return '';
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
  /** Keeps the final text in memory so the file (in a temp dir) can go. */
  freeze(): void {
    this.frozen = this.toString();
  }
}

export interface SpawnPeerOptions {
  readonly label: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Where the peer's stdout+stderr go; a temp dir of the caller, removed by the caller after stop(). */
  readonly logPath: string;
  readonly timeoutMs: number;
  /** Ready when this appears in the output; the match is returned (e.g. a port the peer chose). */
  readonly readyPattern?: RegExp;
  /** Ready when a banner can be read from this address (for peers that log nothing on listen). */
  readonly probeAddress?: { host: string; port: number };
  /** Name of the package/command that provides `command`, for the error when it is missing. */
  readonly fix: string;
}

export interface PeerProcess {
  readonly pid: number;
  readonly log: LogFile;
  readonly readyMatch?: RegExpExecArray;
  readonly probe?: ProbeResult;
  stop(): Promise<void>;
  exited(): boolean;
}

export async function spawnPeer(o: SpawnPeerOptions): Promise<PeerProcess> {
  const log = new LogFile(o.logPath);
  const fd = openSync(o.logPath, 'a', 0o600);
  let child: ChildProcess;
  try {
    child = spawn(o.command, [...o.args], { cwd: o.cwd, env: o.env ?? process.env, stdio: ['ignore', fd, fd], detached: true });
  } catch (e) {
    throw new PeerError('missing-binary', `${o.label}: cannot run ${o.command} (${(e as Error).message}); ${o.fix}`);
  } finally {
    closeSync(fd);
  }
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  let exitInfo: string | undefined;
  const exited = new Promise<void>((resolve) => child.once('exit', (code, sig) => { exitInfo = sig ? `signal ${sig}` : `exit ${code}`; resolve(); }));

  const firstEvent = await Promise.race([spawnError, new Promise<undefined>((r) => child.once('spawn', () => r(undefined)))]);
  if (firstEvent) {
    const missing = (firstEvent as NodeJS.ErrnoException).code === 'ENOENT';
    throw new PeerError('missing-binary', `${o.label}: ${missing ? `${o.command} not found` : firstEvent.message}; ${o.fix}`);
  }
  const pid = child.pid!;
  let stopping: Promise<void> | undefined;
  const signalGroup = (sig: NodeJS.Signals): void => {
    try { process.kill(-pid, sig); } catch { try { child.kill(sig); } catch { /* gone */ } }
  };
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (exitInfo === undefined) {
        signalGroup('SIGTERM');
        const timer = setTimeout(() => signalGroup('SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
      // per-connection children may outlive the leader; the group is ours, end it
      signalGroup('SIGKILL');
      log.freeze();
      untrack();
    })();
    return stopping;
  };
  const untrack = track({ kind: 'process', label: o.label, pid }, stop);

  try {
    const ready = await waitReady(o, log, () => exitInfo, exited);
    return { pid, log, ...ready, stop, exited: () => exitInfo !== undefined };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function waitReady(o: SpawnPeerOptions, log: LogFile, exitInfo: () => string | undefined, exited: Promise<void>): Promise<{ readyMatch?: RegExpExecArray; probe?: ProbeResult }> {
  const deadline = Date.now() + o.timeoutMs;
  let lastProbeError = '';
  // bounded: each turn waits >= 50 ms until the deadline
  while (Date.now() < deadline) {
    const gone = exitInfo();
    if (gone !== undefined) {
      const text = log.toString();
      if (looksLikeAddressInUse(text)) throw new PeerError('port-in-use', `${o.label}: its port is already in use`, text);
      throw new PeerError('startup-failed', `${o.label}: exited during startup (${gone})`, text);
    }
    if (o.readyPattern) {
      const m = o.readyPattern.exec(log.toString());
      if (m) {
        const p = o.probeAddress ? await probe(o.probeAddress.host, o.probeAddress.port, { timeoutMs: 3000 }).catch(() => undefined) : undefined;
        return p ? { readyMatch: m, probe: p } : { readyMatch: m };
      }
    } else if (o.probeAddress) {
      try {
        return { probe: await probe(o.probeAddress.host, o.probeAddress.port, { timeoutMs: Math.max(200, Math.min(2000, deadline - Date.now())) }) };
      } catch (e) {
        lastProbeError = (e as Error).message;
      }
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 50))]);
  }
  throw new PeerError('startup-timeout', `${o.label}: not ready within ${o.timeoutMs} ms${lastProbeError ? ` (last probe: ${lastProbeError})` : ''}; raise startupTimeoutMs or check the log`, log.toString());
}

/**
 * Peers that bind a port we chose can lose it to another process in the bind-0-then-pass window; on
 * "address in use" pick a new port and try again (3 attempts). A fixed port is tried once.
 */
export async function startWithPortRetry<T>(fixedPort: number | undefined, pick: () => Promise<number>, start: (port: number) => Promise<T>): Promise<T> {
  const attempts = fixedPort === undefined ? 3 : 1;
  for (let i = 1; ; i++) {
    const port = fixedPort ?? (await pick());
    try {
      return await start(port);
    } catch (e) {
      if (!(isPeerError(e, 'port-in-use')) || i >= attempts) {
        if (isPeerError(e, 'port-in-use') && fixedPort !== undefined) {
          throw new PeerError('port-in-use', `port ${fixedPort} is already in use; choose another port or omit it to get a free one`, e.peerLog);
        }
        throw e;
      }
    }
  }
}
