/**
 * Client-direction checks: our reference server, deviating on purpose, for one connection from a client peer
 * (OpenSSH `ssh`, paramiko, ...). Every payload is recorded as evidence; what the client sent is in the inbox
 * for expectations; the client's own outcome (exit status, output) comes from the peer runner.
 */
import * as net from 'node:net';
import { Readable } from 'node:stream';
import { Transport, type TransportOptions } from '../../impl/Transport.js';
import { withDangerousEngineOptions } from '../../impl/testing.js';
import { AuthResult } from '../../impl/auth/types.js';
import type { Channel } from '../../impl/connection/channel.js';
import { OpenFailure } from '../../impl/connection/connection.js';
import type { ServerPolicy } from '../../impl/connection/policy.js';
import { generateHostKey } from '../../impl/crypto/hostkey/index.js';
import type { PrivateKey } from '../../impl/crypto/types.js';
import { DisconnectError, type SSHError } from '../../impl/errors.js';
import type { EngineTesting } from '../../impl/transport/testing.js';
import { runBuiltin, type CommandIO } from '../cli/builtin-commands.js';
import { getClientPeer } from '../targets/registry.js';
import { testCredentials } from '../targets/test-user.js';
import { fingerprintOf } from '../targets/host-keys.js';
import type { AlgorithmLists, ClientResult, Credentials } from '../targets/types.js';
import type { ConnTrace } from './client-conn.js';
import type { ConnectionRecorder } from './evidence.js';
import { Expectations, TIME_SCALE } from './expect.js';
import { InfraError } from './verdict.js';

let keysMemo: PrivateKey[] | undefined;
/** Made once per process (RSA generation is slow); ed25519 first, which every client takes. */
function serverHostKeys(): PrivateKey[] {
  return (keysMemo ??= [generateHostKey('ssh-ed25519'), generateHostKey('ecdsa-sha2-nistp256'), generateHostKey('ssh-rsa', { rsaBits: 2048 })]);
}

export interface ServeOptions {
  /** Deviations on the server's engine, installed before its first KEXINIT. */
  readonly deviations?: (t: EngineTesting) => void;
  readonly transport?: Omit<TransportOptions, 'hostKeys' | 'trace'>;
  /** Extra policy (banner, ...) over the default: the test account by password or key, built-in commands. */
  readonly policy?: Partial<ServerPolicy>;
}

export class ServerSide extends Expectations {
  /** What the client announced (RFC 4253 §4.2), once read. */
  clientVersion: string | undefined;
  transport: Transport | undefined;
  private closedP: Promise<void>;
  private resolveClosed!: () => void;
  private readonly authWaiters: (() => void)[] = [];
  authenticated = false;

  private constructor(rec: ConnectionRecorder, private readonly server: net.Server, readonly port: number, readonly hostKeys: readonly PrivateKey[]) {
    super(rec);
    this.closedP = new Promise((r) => { this.resolveClosed = r; });
  }

  static async start(rec: ConnectionRecorder, credentials: Credentials, o: ServeOptions = {}, trace?: ConnTrace): Promise<ServerSide> {
    const keys = serverHostKeys();
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', () => resolve()); });
    const side = new ServerSide(rec, server, (server.address() as net.AddressInfo).port, keys);
    server.once('connection', (sock) => side.accept(sock, credentials, o, trace));
    return side;
  }

  private accept(sock: net.Socket, credentials: Credentials, o: ServeOptions, trace?: ConnTrace): void {
    this.server.close();
    this.server.on('connection', (s: net.Socket) => s.destroy()); // one client per check
    sock.on('error', () => undefined);
    const t = new Transport(sock, withDangerousEngineOptions({
      ...o.transport,
      hostKeys: this.hostKeys,
      trace: {
        onPacket: (p) => this.rec.packet(p.direction, p.seq, p.payload, p.deviation),
        ...(trace ? { onBytes: (d: 'in' | 'out', b: Uint8Array, t: number) => trace.bytes(d, b, t), onClose: (t: number) => trace.close(t) } : {}),
        ...(trace?.keys ? { onKeys: trace.keys } : {}),
      },
    }, o.deviations ? { deviations: o.deviations } : {}));
    this.transport = t;
    t.on('version', (v: string) => { this.clientVersion = v; this.rec.note(`client identification: ${JSON.stringify(v)}`); });
    t.on('close', (e: SSHError | undefined) => {
      const msgs = this.rec.inbox.messages;
      const last = msgs[msgs.length - 1];
      if (last?.name === 'SSH_MSG_DISCONNECT') this.rec.close({ kind: 'disconnect', reason: Number(last.fields?.['reason']), description: String(last.fields?.['description'] ?? ''), t: last.t });
      else if (e instanceof DisconnectError && e.byPeer) this.rec.close({ kind: 'eof', t: this.rec.evidence.now() });
      else this.rec.close({ kind: 'local', message: `our server disconnected: ${e?.message ?? 'closed by close()'}`, t: this.rec.evidence.now() });
      this.resolveClosed();
    });
    t.on('authenticated', () => { this.authenticated = true; for (const w of this.authWaiters.splice(0)) w(); });
    t.startServer(this.policy(credentials, o.policy)).then(async () => {
      for (let ch = await t.accept(); ch; ch = await t.accept()) if (ch.kind === 'session') serveChannel(ch);
    }, (e: unknown) => this.rec.note(`handshake ended: ${e instanceof Error ? e.message : String(e)}`));
  }

  private policy(creds: Credentials, extra: Partial<ServerPolicy> = {}): ServerPolicy {
    const userKeyLine = creds.publicKeyLine?.split(/\s+/)[1];
    return {
      allowedAuths: () => ['publickey', 'password', 'keyboard-interactive'],
      checkAuthPassword: (u, pw) => (u === creds.user && pw === creds.password ? AuthResult.SUCCESSFUL : AuthResult.FAILED),
      checkAuthKeyboardInteractive: () => ({ prompts: [{ prompt: 'Password: ', echo: false }] }),
      checkAuthKeyboardInteractiveResponse: (u, r) => (u === creds.user && r[0] === creds.password ? AuthResult.SUCCESSFUL : AuthResult.FAILED),
      checkAuthPublicKey: (u, key) => (u === creds.user && userKeyLine !== undefined && Buffer.from(key.blob).toString('base64') === userKeyLine ? AuthResult.SUCCESSFUL : AuthResult.FAILED),
      checkChannelRequest: (kind) => (kind === 'session' ? true : OpenFailure.UNKNOWN_CHANNEL_TYPE),
      checkChannelExecRequest: () => true,
      checkChannelShellRequest: () => true,
      checkChannelPtyRequest: () => true,
      checkChannelEnvRequest: () => true,
      ...extra,
    };
  }

  /** Resolves once the client authenticated (or after `ms`). */
  whenAuthenticated(ms = 10_000): Promise<boolean> {
    if (this.authenticated) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.authWaiters.push(() => { clearTimeout(timer); resolve(true); });
    });
  }

  /** Resolves when the connection has ended, or after `ms`. */
  async waitClosed(ms = 5000): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([this.closedP.then(() => true), new Promise<boolean>((res) => { timer = setTimeout(() => res(false), ms); })]);
    clearTimeout(timer);
    return r;
  }

  close(): void {
    this.rec.inbox.abandon();
    this.server.close();
    void this.transport?.close(50).catch(() => undefined);
  }
}

/**
 * The built-in commands (`echo`, `cat`, `exit N`, `discard`, `yes N`) on a session channel, plus `after-eof CMD`:
 * read the client's input to its end first, then run CMD. Client checks use it so that every client has sent
 * its EOF before the command finishes (script clients race their own input thread at exit otherwise).
 */
function serveChannel(ch: Channel): void {
  const io: CommandIO = { stdin: ch, stdout: ch, stderr: ch.stderr };
  const finish = (code: number): void => { void ch.exit(code); };
  ch.on('exec', (command: string) => {
    const m = /^after-eof (.*)$/.exec(command);
    if (!m) { runBuiltin(command, io).then(finish, () => finish(1)); return; }
    ch.on('data', () => undefined);
    ch.once('end', () => { runBuiltin(m[1]!, { ...io, stdin: emptyReadable() }).then(finish, () => finish(1)); });
  });
}

function emptyReadable(): Readable {
  return Readable.from([]);
}

export interface ClientRun {
  readonly command: string;
  readonly stdin?: string | Uint8Array;
  readonly algorithms?: AlgorithmLists;
  readonly timeoutMs?: number;
  /** Authenticate with the test account's key instead of its password. */
  readonly publickey?: boolean;
}

/** Runs the client peer against `side`; a missing peer is an InfraError (setup, not a verdict). */
export async function runClientPeer(peerName: string, side: ServerSide, r: ClientRun): Promise<ClientResult> {
  const creds = await testCredentials();
  let peer;
  try {
    peer = await getClientPeer(peerName);
  } catch (e) {
    throw new InfraError(`client peer ${peerName}: ${(e as Error).message}`);
  }
  side.note(`running ${peerName}: ${JSON.stringify(r.command)}`);
  try {
    const res = await peer.run({
      host: '127.0.0.1', port: side.port, user: creds.user,
      ...(r.publickey ? { identity: creds.privateKeyPath } : { password: creds.password }),
      command: r.command,
      ...(r.stdin !== undefined ? { stdin: r.stdin } : {}),
      ...(r.algorithms ? { algorithms: r.algorithms } : {}),
      hostKeyFingerprints: side.hostKeys.map((k) => fingerprintOf(k.publicKey.blob)),
      timeoutMs: Math.round((r.timeoutMs ?? 15_000) * TIME_SCALE), // stretched by --time-scale like every wait of a check
    });
    side.note(`${peerName} exited ${res.exitCode}${res.timedOut ? ' (timed out)' : ''}; stdout ${JSON.stringify(res.stdout.slice(0, 120))}; stderr ${JSON.stringify(res.stderr.slice(0, 300))}`);
    // the peer's own wrapper fell over (not the SSH implementation): retry rather than judge
    if (res.exitCode === null && !res.timedOut && /Fatal Python error/.test(res.stderr)) throw new InfraError(`${peerName} wrapper crashed: ${res.stderr.split('\n')[0]}`);
    return res;
  } catch (e) {
    if (e instanceof InfraError) throw e;
    throw new InfraError(`client peer ${peerName}: ${(e as Error).message}`);
  }
}
