/**
 * Fuzz targets over TCP: any peer harness/targets can start (host sshd, OpenSSH containers, dropbear, …) or a
 * running server (`tcp://host:port`). Our FuzzClient runs on a socket through the transport Driver; the
 * target watches the peer process for the process-level oracles: death of the daemon, crash lines in its log,
 * RSS and FD growth (local daemons), and liveness of a fresh normal login.
 */
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import { parsePrivateKey } from '../../../impl/keys/index.js';
import type { AlgorithmPreferences } from '../../../impl/transport/types.js';
import { Driver } from '../../../impl/transport/driver.js';
import type { RunningTarget } from '../../targets/types.js';
import { FuzzClient, type FuzzCredentials } from '../client.js';
import { CaseRun } from '../executor.js';
import { ForwardDialer } from '../forward.js';
import type { FuzzTarget, Link, PeerHealth, PeerResources, TraceTap } from '../link.js';
import { profilesFor } from '../arb/profiles.js';
import { TargetError, type TargetCredentials } from '../targets.js';
import { peerResources } from './proc.js';
import { probe } from '../../targets/banner.js';
import { isInstrumented } from '../../targets/instrumented.js';
import { LogCursor, parseSanitizerReport, sanitizerFinding } from '../greybox/sanitizer.js';

const CONNECT_TIMEOUT_MS = 5000;

export class SocketLink implements Link {
  readonly client: FuzzClient;
  private readonly driver: Driver;
  private waiter: (() => void) | undefined;
  private ended = false;

  readonly forwards: ForwardDialer;

  /** `peerHost`: where the peer's forward listeners are (its own address). */
  constructor(client: FuzzClient, readonly socket: net.Socket, tap?: TraceTap, peerHost = '127.0.0.1') {
    this.client = client;
    this.forwards = new ForwardDialer(peerHost);
    const t0 = Date.now();
    this.driver = new Driver(client.engine, socket, (e) => { client.onEvent(e); this.wake(); }, tap ? {
      onBytes: (d, b, t) => tap.onBytes(d === 'out' ? 'c2s' : 's2c', b, t - t0),
      onClose: (t) => tap.onClose(t - t0),
    } : {});
    // after the driver has fed each chunk to the engine (listeners run in order): replies without events (UNIMPLEMENTED)
    socket.on('data', () => this.wake());
    socket.on('close', () => { this.ended = true; this.wake(); });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    const w = this.waiter;
    if (w) { this.waiter = undefined; w(); }
  }

  now(): number { return Date.now(); }

  async settle(until: () => boolean, budgetMs: number): Promise<void> {
    this.driver.flush();
    const deadline = Date.now() + budgetMs;
    while (!until() && !this.ended && this.client.alive) {
      const left = deadline - Date.now();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => { this.waiter = undefined; resolve(); }, left);
        this.waiter = () => { clearTimeout(timer); resolve(); };
      });
      this.driver.flush();
    }
  }

  close(): void {
    if (!this.socket.destroyed) this.socket.destroy();
    this.driver.stop();
    this.forwards.close(this.client.socketPaths);
  }
}

function connectSocket(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    s.setNoDelay(true);
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`connect to ${host}:${port} timed out`)); }, CONNECT_TIMEOUT_MS);
    s.once('connect', () => { clearTimeout(timer); resolve(s); });
    s.once('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

/** Lines of a peer log that mean a process crashed rather than refused bad input. */
const CRASH_PATTERNS = /AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|Segmentation fault|SIGSEGV|SIGABRT|SIGBUS|killed by signal|terminated by signal|core dumped|stack smashing|double free|assertion .*failed|Assertion .* failed/i;

export function crashLines(log: string): string[] {
  return log.split('\n').filter((l) => CRASH_PATTERNS.test(l)).slice(0, 20);
}

/**
 * The peer's log text not returned before, for the crash oracle. A log file is read from where the last call
 * stopped (each byte once, in chunks of at most 1 MiB); logs() is only the last 4 MiB, and slicing it by length
 * went blind for good once a chatty peer's log passed that. A container's log has no file here and is sliced.
 */
export function logReader(running: Pick<RunningTarget, 'logs' | 'logPath'>): () => string {
  if (running.logPath) {
    const cursor = new LogCursor(running.logPath, true);
    return () => cursor.next();
  }
  let seen = 0;
  return () => {
    const log = running.logs();
    const fresh = log.length >= seen ? log.slice(seen) : log;
    seen = log.length;
    return fresh;
  };
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

export async function networkTarget(name: string, creds: TargetCredentials): Promise<FuzzTarget> {
  const { getTarget, PeerError } = await import('../../targets/index.js');
  let running: RunningTarget;
  try {
    // registers the loopback reference server (`self`, `self-serve`, `self:<scenario variant>`)
    if (name.startsWith('self')) await import('../../targets/self.js');
    const credentials = creds.user ? { user: creds.user, ...(creds.password !== undefined ? { password: creds.password } : {}), ...(creds.identity ? { privateKeyPath: creds.identity } : {}) } : undefined;
    const t = await getTarget(name === 'self-tcp' ? 'self' : name, credentials);
    // OpenSSH at DEBUG3 writes kilobytes per connection: INFO still logs fatal errors and crashes, and is fast
    running = await t.start(/^(sshd|openssh)/.test(name) ? { extraConfig: ['LogLevel INFO'] } : {});
  } catch (e) {
    if (e instanceof PeerError) throw new TargetError(e.message);
    throw e;
  }
  const c = running.credentials;
  const user = creds.user ?? c.user;
  const password = creds.password ?? c.password;
  const keyPath = creds.identity ?? c.privateKeyPath;
  let privateKey;
  if (keyPath) {
    try {
      privateKey = parsePrivateKey(readFileSync(keyPath)).toPrivateKey();
    } catch (e) {
      await running.stop();
      throw new TargetError(`cannot use identity ${JSON.stringify(keyPath)}: ${(e as Error).message}`);
    }
  }
  const credentials: FuzzCredentials = { user, ...(password !== undefined ? { password } : {}), ...(privateKey ? { privateKey } : {}) };
  let offer;
  let algorithmOffer;
  try {
    const kx = (await probe(running.host, running.port, { readKexInit: true, timeoutMs: 5000 })).kexInit;
    if (kx) offer = { kex: kx.kex, cipher: kx.cipherC2S, mac: kx.macC2S };
    if (kx) algorithmOffer = { kex: kx.kex, hostKey: kx.hostKey, cipher: kx.cipherC2S, mac: kx.macC2S, compression: kx.compC2S };
  } catch { /* keep every profile */ }
  const newLog = logReader(running);
  const instrumented = isInstrumented(running) ? running : undefined;
  const sanitizerLog = instrumented ? new LogCursor(instrumented.logPath) : undefined;
  // `self-tcp` runs our Transport server inside this process: an exception or rejection nobody handles there
  // is the server crashing (it would end a real `ssh-harness serve`); record it instead of dying with it
  const inProcessCrashes: string[] = [];
  const onCrash = (e: unknown): void => { inProcessCrashes.push(`unhandled in the in-process server: ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e)}`); };
  const inProcess = name === 'self-tcp';
  if (inProcess) { process.on('unhandledRejection', onCrash); process.on('uncaughtException', onCrash); }
  const connect = async (algorithms?: AlgorithmPreferences, tap?: TraceTap): Promise<Link> => {
    const socket = await connectSocket(running.host, running.port);
    const client = new FuzzClient(credentials, { ...(algorithms ? { algorithms } : {}), ...(tap ? { onKeys: (k) => tap.onKeys(k) } : {}) });
    const link = new SocketLink(client, socket, tap, running.host);
    return link;
  };
  const target: FuzzTarget = {
    name: name.replace(/^tcp:\/\//, 'tcp-').replace(/[^\w.-]+/g, '_'),
    version: running.version ?? running.banner ?? 'unknown',
    kind: 'network',
    credentials,
    dictionary: {
      users: [user, 'root', 'nobody'],
      passwords: password !== undefined ? [password] : ['password'],
      keyBlobs: [...(privateKey ? [privateKey.publicKey.blob] : []), ...running.hostKeys.map((k) => k.blob)],
      // the server's own listener, as the server sees it (forwards to it connect)
      ports: [running.port],
    },
    allowsNone: false,
    // loopback round trips are sub-millisecond; these bound how long a silent peer may take
    budgets: { stepMs: 150, probeMs: 2000 },
    profiles: profilesFor(offer),
    ...(algorithmOffer ? { algorithmOffer } : {}),
    // dropbear's MAX_UNAUTH_PER_IP is 5 (options.h), closing connections included
    concurrency: /dropbear/.test(name) ? 3 : inProcess ? 1 : 16,
    // each instrumented Dropbear is its own process with its own per-IP limit; on 2 cores, 60 s grey-box runs of
    // the inline-flag, no-re-exec build: 121 cases/s at 4 instances, 125 at 6, 138 and 147 at 8, 130 at 10
    // (harness/fuzz/README.md, Grey-box)
    ...(instrumented && /dropbear/.test(name) ? { fleet: 8 } : {}),
    // a publickey login costs the server one signature check; a password one a crypt(3) hash (yescrypt: ~50 ms)
    preferredAuth: privateKey ? 'publickey' : 'password',
    connect,
    async health(): Promise<PeerHealth> {
      if (inProcess) return { crashLines: inProcessCrashes.splice(0) };
      const fresh = newLog();
      const dead = running.pid !== undefined && !alive(running.pid) ? `peer process ${running.pid} is gone` : undefined;
      // an instrumented server's sanitizer reports are the sanitizer oracle's (with the case that caused them)
      return { ...(dead ? { dead } : {}), crashLines: crashLines(fresh).filter((l) => !instrumented || !/Sanitizer|runtime error:/.test(l)) };
    },
    // in-process, a crash does not drop the connection: every case asks (attribution needs one case at a time)
    healthEachCase: inProcess,
    async liveness(): Promise<string | undefined> {
      let link: Link | undefined;
      try {
        link = await connect();
        // a generous bound: this login competes with the campaign's own connections for the peer's CPU
        const run = new CaseRun(link, { ...target, budgets: { stepMs: 1000, probeMs: 10_000 } });
        if (await run.reach('authenticated')) return undefined;
        const c = link.client;
        // servers speak first (RFC 4253 §4.2): no identification line means a connection limit turned us away (backoff.ts)
        if (c.engine.peerVersion === undefined) return `refused before the version exchange (${(link as SocketLink).socket.bytesRead === 0 ? 'no byte from the peer' : 'no identification line'}${c.closed ? `; ${c.closed.error.message}` : ''})`;
        const where = !c.kexDone ? 'key exchange' : !c.serviceAccepted ? 'service request' : 'authentication';
        return `stopped at the ${where}${c.closed ? `: ${c.closed.error.message}` : ' (no answer)'}`;
      } catch (e) {
        return `cannot connect: ${(e as Error).message}`;
      } finally {
        link?.close();
      }
    },
    logTail: () => running.logs().split('\n').slice(-30).join('\n'),
    ...(instrumented && sanitizerLog ? {
      coverageMapPath: instrumented.coverageMapPath,
      coverageBinary: instrumented.binaryPath,
      sanitizerReport: () => {
        const r = parseSanitizerReport(sanitizerLog.next());
        return r ? sanitizerFinding(r) : undefined;
      },
    } : {}),
    resources(): PeerResources | undefined {
      return running.pid !== undefined ? peerResources(running.pid) : undefined;
    },
    close: async () => {
      if (inProcess) { process.off('unhandledRejection', onCrash); process.off('uncaughtException', onCrash); }
      await running.stop();
    },
  };
  return target;
}
