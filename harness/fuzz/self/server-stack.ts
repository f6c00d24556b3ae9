/**
 * Our reference server as one sans-I/O object: transport Engine + AuthServer (RFC 4252) + Connection
 * (RFC 4254) + a tiny deterministic session handler (echo/cat/exit). The same routing as impl/Transport.ts,
 * without sockets or wall-clock timers, so the fuzzer can run thousands of cases per second in-process and
 * see everything that escapes: a non-SSHError thrown by any layer is recorded as an escaped exception (the
 * engine turns it into a PROTOCOL_ERROR disconnect, which would otherwise hide the bug).
 *
 * Deliberately broken variants (finding-power checks) hook in through `ServerVariant`: they wrap this stack,
 * never the engine.
 */
import { AuthServer } from '../../../impl/auth/server.js';
import { AuthResult, type ServerAuthPolicy } from '../../../impl/auth/types.js';
import { Connection, OpenFailure } from '../../../impl/connection/connection.js';
import type { PrivateKey, PublicKey } from '../../../impl/crypto/types.js';
import { DisconnectReason, SSHError } from '../../../impl/errors.js';
import { decodeChannelRequestData, encodeChannelRequestData, encodeMessage } from '../../../impl/messages/index.js';
import { Engine } from '../../../impl/transport/engine.js';
import type { EngineEvent, EngineOptions } from '../../../impl/transport/types.js';

export interface SelfCredentials {
  readonly user: string;
  readonly password: string;
  /** Public key blobs the server accepts for `user` (RFC 4252 §7). */
  readonly authorizedKeys: readonly Uint8Array[];
}

/** What a broken variant may make the server do instead of its reference behaviour. */
export type VariantAction =
  /** The server process dies: no more bytes, no DISCONNECT, the socket drops. */
  | 'crash'
  /** The server stops reading and writing, with the socket left open. */
  | 'hang'
  /** The server answers the current USERAUTH_REQUEST with SSH_MSG_USERAUTH_SUCCESS. */
  | 'grant'
  /** The server reads this userauth/connection message (50–127) and does nothing with it: no reply, no error. */
  | 'swallow';

export interface ServerVariant {
  readonly name: string;
  readonly description: string;
  /** Sees every inbound payload (after decryption) before the stack acts on it. */
  inspect(payload: Uint8Array, stack: { readonly credentials: SelfCredentials; readonly authenticated: boolean }): VariantAction | undefined;
}

export interface ServerStackOptions {
  readonly hostKeys: readonly PrivateKey[];
  readonly credentials: SelfCredentials;
  readonly engine?: Omit<EngineOptions, 'role' | 'hostKeys' | 'onPacket'>;
  readonly variant?: ServerVariant;
  /** Auth failures before NO_MORE_AUTH_METHODS_AVAILABLE (AuthServer default 10). */
  readonly maxAuthAttempts?: number;
  /**
   * The engine resumes a snapshot taken after this user logged in (engine.resume): the userauth and
   * connection layers start in that state too (ssh-userauth accepted, success sent, no channels).
   */
  readonly authenticated?: { readonly user: string; readonly method: string };
}

/** Per-channel state of the built-in commands: `cat` echoes until EOF, bounded by the window we re-open. */
interface SessionState { mode: 'idle' | 'cat' | 'done'; pending: Uint8Array[]; pendingBytes: number }

const MAX_ECHO_BUFFER = 256 * 1024;

export class ServerStack {
  readonly engine: Engine;
  readonly credentials: SelfCredentials;
  private auth: AuthServer | undefined;
  private conn: Connection | undefined;
  private user: string | undefined;
  private readonly sessions = new Map<number, SessionState>();
  private readonly variant: ServerVariant | undefined;
  private now = 0;
  /** Non-SSHError exceptions that escaped a layer: always a bug in our implementation. */
  readonly escaped: { readonly where: string; readonly error: string }[] = [];
  crashed = false;
  hung = false;
  /** Set when we sent USERAUTH_SUCCESS, with the method that got it. */
  authenticatedBy: string | undefined;

  constructor(readonly options: ServerStackOptions) {
    this.credentials = options.credentials;
    this.variant = options.variant;
    this.engine = new Engine({
      ...options.engine,
      role: 'server',
      hostKeys: options.hostKeys,
      onPacket: this.variant ? (p) => { if (p.direction === 'in') this.inspectInbound(p.payload); } : undefined,
    });
    const a = options.authenticated;
    if (a) {
      this.auth = new AuthServer(this.engine, this.policy(), { maxAttempts: options.maxAuthAttempts ?? 10, authenticated: { user: a.user, service: 'ssh-connection' } });
      this.user = a.user;
      this.authenticatedBy = a.method;
      this.conn = new Connection(this.engine);
    }
  }

  get authenticated(): boolean { return this.user !== undefined; }
  get channelCount(): number { return this.conn?.channelCount ?? 0; }
  /** Echo bytes held for the client across all channels (bounded by MAX_ECHO_BUFFER per channel). */
  get bufferedEcho(): number { let n = 0; for (const s of this.sessions.values()) n += s.pendingBytes; return n; }

  private inspectInbound(payload: Uint8Array): void {
    if (this.crashed || this.hung) return;
    const a = this.variant!.inspect(payload, this);
    if (a === 'crash') this.crashed = true;
    else if (a === 'hang') this.hung = true;
    else if (a === 'grant') this.pendingGrant = true;
    else if (a === 'swallow' && payload[0]! >= 50 && payload[0]! <= 127) this.swallowed++;
  }
  private pendingGrant = false;
  /** Inbound service-layer payloads still to be dropped unhandled ('swallow'), in arrival order. */
  private swallowed = 0;

  start(now: number): void {
    this.now = now;
    this.engine.start(now);
  }

  /** Bytes from the client. A crashed or hung server ignores them. */
  receive(bytes: Uint8Array, now: number): void {
    if (this.crashed || this.hung) return;
    this.now = now;
    this.engine.receive(bytes, now);
    this.drain();
  }

  connectionLost(now: number): void {
    if (this.crashed) return;
    this.engine.connectionLost(now);
    this.drain();
  }

  /** Next bytes for the client; none once crashed or hung. */
  pollTransmit(): Uint8Array | undefined {
    if (this.crashed || this.hung) { while (this.engine.pollTransmit()); return undefined; }
    return this.engine.pollTransmit();
  }

  pollTimeout(): number | undefined {
    if (this.crashed || this.hung) return undefined;
    const t = [this.engine.pollTimeout(), this.auth?.pollTimeout()].filter((x): x is number => x !== undefined);
    return t.length ? Math.min(...t) : undefined;
  }

  handleTimeout(now: number): void {
    if (this.crashed || this.hung) return;
    this.now = now;
    this.engine.handleTimeout(now);
    if (this.auth && !this.engine.isClosed) this.guard('auth.handleTimeout', () => { this.auth!.handleTimeout(now); this.drainAuth(); });
    this.drain();
  }

  /** Handles every pending engine event (bounded: each event is handled once). */
  private drain(): void {
    for (let e = this.engine.pollEvent(); e; e = this.engine.pollEvent()) {
      if (this.crashed || this.hung) return;
      this.onEvent(e);
    }
  }

  private onEvent(e: EngineEvent): void {
    switch (e.type) {
      case 'serviceRequest':
        // RFC 4253 §10: the only service before authentication is ssh-userauth
        if (e.service === 'ssh-userauth' && !this.auth) {
          this.engine.acceptService(e.service);
          this.auth = new AuthServer(this.engine, this.policy(), { maxAttempts: this.options.maxAuthAttempts ?? 10 });
        } else {
          this.engine.disconnect(DisconnectReason.SERVICE_NOT_AVAILABLE, `service ${JSON.stringify(e.service)} not available`);
        }
        return;
      case 'payload':
        this.guard('payload', () => this.onPayload(e.payload, e.seq));
        return;
      default:
        return;
    }
  }

  private onPayload(payload: Uint8Array, seq: number): void {
    const id = payload[0]!;
    if (this.swallowed > 0 && id >= 50 && id <= 127) { this.swallowed--; return; }
    if (this.pendingGrant) {
      this.pendingGrant = false;
      if (id === 50 && !this.user) {
        this.user = this.credentials.user;
        this.authenticatedBy = 'variant';
        this.engine.sendPayload(encodeMessage({ type: 'SSH_MSG_USERAUTH_SUCCESS' }));
        this.conn = new Connection(this.engine);
        return;
      }
    }
    let known = false;
    if (id >= 50 && id <= 79) {
      if (!this.auth) throw new SSHError('PROTOCOL', `userauth message ${id} before ssh-userauth was accepted`);
      known = this.auth.handlePayload(payload, this.now);
      this.drainAuth();
    } else if (id >= 80 && id <= 127) {
      // RFC 4252 §6 / RFC 4254 §1: the connection protocol runs only after authentication
      if (!this.conn) throw new SSHError('PROTOCOL', `connection protocol message ${id} before authentication`);
      known = this.conn.handlePayload(payload);
      this.drainConnection();
    }
    // RFC 4253 §11.4
    if (!known) this.engine.sendMessage({ type: 'SSH_MSG_UNIMPLEMENTED', seq });
  }

  /** Runs a layer call; an SSHError ends the connection with its reason, anything else is also recorded. */
  private guard(where: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (!(err instanceof SSHError)) this.escaped.push({ where, error: err instanceof Error ? `${err.name}: ${err.message}\n${err.stack ?? ''}` : String(err) });
      const e = err instanceof SSHError ? err : new SSHError('PROTOCOL', `internal error: ${String(err)}`);
      if (!this.engine.isClosed) this.engine.disconnect(e.reason, e.message.slice(0, 200));
    }
  }

  private drainAuth(): void {
    const a = this.auth!;
    for (let e = a.pollEvent(); e; e = a.pollEvent()) {
      if (e.type === 'success' && !this.user) {
        this.user = e.user;
        this.authenticatedBy = e.method;
        this.conn = new Connection(this.engine);
      } else if (e.type === 'policyError') {
        this.escaped.push({ where: `policy ${e.method}`, error: String(e.error) });
      }
    }
  }

  private policy(): ServerAuthPolicy {
    const c = this.credentials;
    const keyOk = (k: PublicKey): boolean => c.authorizedKeys.some((b) => Buffer.compare(Buffer.from(b), Buffer.from(k.blob)) === 0);
    return {
      allowedAuths: () => ['publickey', 'password', 'keyboard-interactive'],
      checkAuthPassword: (user, pw) => (user === c.user && pw === c.password ? AuthResult.SUCCESSFUL : AuthResult.FAILED),
      checkAuthPublicKey: (user, key) => (user === c.user && keyOk(key) ? AuthResult.SUCCESSFUL : AuthResult.FAILED),
      checkAuthKeyboardInteractive: () => ({ prompts: [{ prompt: 'Password: ', echo: false }] }),
      checkAuthKeyboardInteractiveResponse: (user, r) => (user === c.user && r.length === 1 && r[0] === c.password ? AuthResult.SUCCESSFUL : AuthResult.FAILED),
    };
  }

  // ───────────────────────────── connection layer ─────────────────────────────

  private drainConnection(): void {
    const conn = this.conn!;
    for (let e = conn.pollEvent(); e; e = conn.pollEvent()) {
      switch (e.type) {
        case 'channelOpen':
          if (e.channelType === 'session') {
            conn.acceptOpen(e.id);
            this.sessions.set(e.id, { mode: 'idle', pending: [], pendingBytes: 0 });
          } else {
            conn.rejectOpen(e.id, e.channelType === 'direct-tcpip' ? OpenFailure.ADMINISTRATIVELY_PROHIBITED : OpenFailure.UNKNOWN_CHANNEL_TYPE, 'refused');
          }
          break;
        case 'request':
          this.onChannelRequest(e.id, e.token, e.requestType, e.wantReply, e.data);
          break;
        case 'data': {
          const s = this.sessions.get(e.id);
          if (s?.mode === 'cat' && e.extended === undefined) {
            if (s.pendingBytes + e.data.length > MAX_ECHO_BUFFER) throw new SSHError('LIMIT', 'echo buffer overflow');
            s.pending.push(e.data.slice());
            s.pendingBytes += e.data.length;
            this.pumpEcho(e.id, s);
          } else {
            conn.consume(e.id, e.data.length); // discarded
          }
          break;
        }
        case 'windowAvailable': {
          const s = this.sessions.get(e.id);
          if (s) this.pumpEcho(e.id, s);
          break;
        }
        case 'eof': {
          const s = this.sessions.get(e.id);
          if (s?.mode === 'cat') this.finish(e.id, s, 0);
          break;
        }
        case 'closed':
          this.sessions.delete(e.id);
          break;
        case 'globalRequest':
          // keepalive@openssh.com and everything else: REQUEST_FAILURE (RFC 4254 §4), like OpenSSH
          if (e.wantReply) conn.replyGlobalRequest(e.token, false);
          break;
        default:
          break;
      }
    }
  }

  private onChannelRequest(id: number, token: number, type: string, wantReply: boolean, data: Uint8Array): void {
    const conn = this.conn!;
    const s = this.sessions.get(id);
    let ok = false;
    let run: (() => void) | undefined;
    try {
      const d = decodeChannelRequestData(type, data);
      if (s && s.mode === 'idle') {
        if (d.kind === 'exec') { ok = true; run = () => this.exec(id, s, d.command); }
        else if (d.kind === 'shell') { ok = true; run = () => { s.mode = 'cat'; }; }
      }
      if (s && (d.kind === 'pty-req' || d.kind === 'env' || d.kind === 'window-change' || d.kind === 'signal')) ok = true;
    } catch (e) {
      if (!(e instanceof SSHError)) throw e;
      ok = false; // malformed request data: refuse, keep the connection (RFC 4254 §5.4)
    }
    if (wantReply) conn.replyRequest(id, token, ok);
    run?.();
  }

  /** The built-in command set of `ssh-harness serve` without --allow-exec (the command-line contract in README.md), minus the bulk ones. */
  private exec(id: number, s: SessionState, command: string): void {
    const [cmd, ...args] = command.split(' ');
    if (cmd === 'cat') { s.mode = 'cat'; return; }
    if (cmd === 'echo') { this.write(id, `${args.join(' ')}\n`); return this.finish(id, s, 0); }
    if (cmd === 'exit') return this.finish(id, s, Number(args[0]) >>> 0 & 0xff);
    this.write(id, `${cmd ?? ''}: command not found\n`, 1);
    this.finish(id, s, 127);
  }

  private write(id: number, text: string, extended?: number): void {
    this.conn!.sendData(id, Buffer.from(text), extended);
  }

  private pumpEcho(id: number, s: SessionState): void {
    const conn = this.conn!;
    while (s.pending.length > 0) {
      const head = s.pending[0]!;
      const n = conn.writable(id) > 0 ? conn.sendData(id, head) : 0;
      if (n === 0) return;
      conn.consume(id, n);
      s.pendingBytes -= n;
      if (n === head.length) s.pending.shift(); else s.pending[0] = head.subarray(n);
    }
  }

  private finish(id: number, s: SessionState, status: number): void {
    const conn = this.conn!;
    s.mode = 'done';
    if (!conn.info(id)?.open) return;
    conn.sendRequest(id, 'exit-status', false, encodeChannelRequestData({ kind: 'exit-status', status }));
    conn.sendEof(id);
    conn.close(id);
  }
}
