/**
 * Our client, deviating on purpose, over a real socket to the server under test (server-direction checks):
 * the reference Engine + Driver, every payload recorded as evidence, and the protocol steps above the
 * transport (service request, user authentication, channels) done message by message, so a check can stop
 * or deviate anywhere and see exactly what the server answered.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { publicKeySignedData } from '../../impl/auth/signed-data.js';
import type { PrivateKey } from '../../impl/crypto/types.js';
import { DisconnectError } from '../../impl/errors.js';
import { parsePrivateKey } from '../../impl/keys/index.js';
import { encodeMessage, type MessageInput } from '../../impl/messages/index.js';
import { Driver } from '../../impl/transport/driver.js';
import { Engine } from '../../impl/transport/engine.js';
import type { EngineTesting } from '../../impl/transport/testing.js';
import type { AlgorithmPreferences, EngineEvent, KexSecrets, NegotiatedAlgorithms } from '../../impl/transport/types.js';
import type { ConnectionRecorder } from './evidence.js';
import { DEFAULT_WITHIN_MS, Expectations, TIME_SCALE } from './expect.js';
import type { TargetInfo, Verdict } from './types.js';
import { InfraError } from './verdict.js';

export interface ClientConnectOptions {
  readonly algorithms?: AlgorithmPreferences;
  /** Offer kex-strict-c-v00@openssh.com (default true). */
  readonly strictKex?: boolean;
  /** Offer ext-info-c (default true). */
  readonly extInfo?: boolean;
  readonly softwareVersion?: string;
  readonly comments?: string;
  /** Hooks installed before our first KEXINIT goes out (e.g. a KEXINIT override). */
  readonly deviations?: (t: EngineTesting) => void;
  readonly connectTimeoutMs?: number;
}

/** Trace taps a connection feeds when the run records pcap/JSONL/keylog. */
export interface ConnTrace {
  bytes(dir: 'in' | 'out', bytes: Uint8Array, timeMs: number): void;
  packet(dir: 'in' | 'out', seq: number, payload: Uint8Array, deviation?: string): void;
  keys?(k: KexSecrets): void;
  close(timeMs: number): void;
}

/**
 * The message number our liveness probe uses: unassigned in the transport-generic range 1–19 (RFC 4250 §4.1.2),
 * so every phase after the key exchange answers it with SSH_MSG_UNIMPLEMENTED. (OpenSSH disconnects on the
 * local-extension range 192–255 instead, so that range cannot serve as a probe.)
 */
export const PING_ID = 19;
/** Peers answer an unknown message within milliseconds; waiting longer only slows the silent ones down. */
export const PING_WITHIN_MS_BASE = 1500;
/** The ping's wait, stretched by the run's time scale (expect.ts setTimeScale). */
export function pingWithin(): number {
  return Math.round(PING_WITHIN_MS_BASE * TIME_SCALE);
}
/** How long an authentication with valid credentials may take to be answered. */
export const AUTH_WITHIN_MS_BASE = 10_000;

/** The channel number we announce, deliberately not 0 so that an echoed wrong number shows. */
export const OUR_CHANNEL = 7;

export interface OpenChannel {
  readonly local: number;
  readonly remote: number;
  readonly remoteWindow: number;
  readonly remoteMaxPacket: number;
}

export interface ChannelOpenOptions {
  readonly window?: number;
  readonly maxPacket?: number;
  readonly local?: number;
  readonly else?: Verdict;
}

async function openSocket(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    const timer = setTimeout(() => { s.destroy(); reject(new InfraError(`connect to ${host}:${port} timed out after ${timeoutMs} ms`)); }, timeoutMs);
    s.once('connect', () => { clearTimeout(timer); s.removeAllListeners('error'); s.setNoDelay(true); resolve(s); });
    s.once('error', (e) => { clearTimeout(timer); reject(new InfraError(`connect to ${host}:${port} failed: ${e.message}`)); });
  });
}

export class ClientConn extends Expectations {
  readonly engine: Engine;
  readonly driver: Driver;
  readonly events: EngineEvent[] = [];
  /** Sequence number of the last packet we put on the wire. */
  lastSentSeq = -1;
  private kexWaiters: ((e: EngineEvent | undefined) => void)[] = [];
  private userKey: PrivateKey | undefined;

  private constructor(rec: ConnectionRecorder, readonly target: TargetInfo, socket: net.Socket, rng: (n: number) => Uint8Array, o: ClientConnectOptions, trace?: ConnTrace) {
    super(rec);
    this.engine = new Engine({
      role: 'client',
      rng,
      ...(o.algorithms ? { algorithms: o.algorithms } : {}),
      ...(o.strictKex !== undefined ? { strictKex: o.strictKex } : {}),
      ...(o.extInfo !== undefined ? { extInfo: o.extInfo } : {}),
      ...(o.softwareVersion !== undefined ? { softwareVersion: o.softwareVersion } : {}),
      ...(o.comments !== undefined ? { comments: o.comments } : {}),
      ...(o.deviations ? { deviations: o.deviations } : {}),
      onPacket: (p) => {
        if (p.direction === 'out' && p.seq >= 0) this.lastSentSeq = p.seq;
        rec.packet(p.direction, p.seq, p.payload, p.deviation);
      },
      ...(trace?.keys ? { onKeys: (k: KexSecrets) => trace.keys!(k) } : {}),
    });
    this.driver = new Driver(this.engine, socket, (e) => this.onEvent(e), trace ? { onBytes: (d, b, t) => trace.bytes(d, b, t), onClose: (t) => trace.close(t) } : {});
  }

  static async open(rec: ConnectionRecorder, target: TargetInfo, rng: (n: number) => Uint8Array, o: ClientConnectOptions = {}, trace?: ConnTrace): Promise<ClientConn> {
    const socket = await openSocket(target.host, target.port, o.connectTimeoutMs ?? 5000);
    const c = new ClientConn(rec, target, socket, rng, o, trace);
    c.driver.start();
    return c;
  }

  private onEvent(e: EngineEvent): void {
    this.events.push(e);
    if (e.type === 'kexDone' || e.type === 'closed') for (const w of this.kexWaiters.splice(0)) w(e);
    if (e.type !== 'closed') return;
    const err = e.error;
    const msgs = this.rec.inbox.messages;
    const last = msgs[msgs.length - 1];
    if (err instanceof DisconnectError && err.byPeer) {
      if (last?.name === 'SSH_MSG_DISCONNECT') this.rec.close({ kind: 'disconnect', reason: Number(last.fields?.['reason']), description: String(last.fields?.['description'] ?? ''), t: last.t });
      else this.rec.close({ kind: 'eof', t: this.rec.evidence.now() });
    } else if (err instanceof DisconnectError) {
      this.rec.close({ kind: 'local', message: `we sent DISCONNECT ${err.message}`, t: this.rec.evidence.now() });
    } else {
      this.rec.close({ kind: 'local', message: `${err.name}: ${err.message}`, t: this.rec.evidence.now() });
    }
  }

  get negotiated(): NegotiatedAlgorithms | undefined {
    return this.engine.negotiated;
  }

  get testing(): EngineTesting {
    return this.engine.testing;
  }

  /** Runs an engine command and flushes what it produced. */
  act(fn: (e: Engine) => void): void {
    if (this.engine.isClosed) return;
    fn(this.engine);
    this.driver.flush();
  }

  // ───────────────────────────── sending ─────────────────────────────

  /** The normal path: held during our key exchange, framed with the current keys. */
  send(m: MessageInput): void {
    this.act((e) => e.sendPayload(encodeMessage(m)));
  }

  /** Framed with the current keys and sent now, whatever the state (a message out of state). */
  sendRaw(payload: Uint8Array, label = 'raw payload'): number {
    this.act((e) => e.testing.sendRawPayload(payload, label));
    return this.lastSentSeq;
  }

  sendRawMessage(m: MessageInput, label = 'out of state'): number {
    return this.sendRaw(encodeMessage(m), label);
  }

  /** Bytes straight onto the wire. */
  sendBytes(bytes: Uint8Array, label = 'raw bytes'): void {
    this.rec.note(`sent ${bytes.length} raw bytes (${label}): ${Buffer.from(bytes.subarray(0, 48)).toString('hex')}${bytes.length > 48 ? '…' : ''}`);
    this.act((e) => e.testing.sendRawBytes(bytes));
  }

  // ───────────────────────────── protocol steps ─────────────────────────────

  /** The initial key exchange. A failure here means the check could not get to what it tests: `else` (inconclusive). */
  async kex(o: { within?: number; else?: Verdict; onClose?: Verdict } = {}): Promise<NegotiatedAlgorithms> {
    const done = this.events.find((e) => e.type === 'kexDone');
    if (done?.type === 'kexDone') return this.afterKex(done.algorithms);
    // 15 s: a big DH group (group18, 8192 bits) in a Python peer takes seconds of CPU on a busy machine
    const within = o.within ?? Math.round(15_000 * TIME_SCALE);
    const e = this.engine.isClosed ? this.events.find((x) => x.type === 'closed')
      : await new Promise<EngineEvent | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), within);
        this.kexWaiters.push((ev) => { clearTimeout(timer); resolve(ev); });
      });
    if (e?.type === 'kexDone') return this.afterKex(e.algorithms);
    const why = e?.type === 'closed' ? (this.closed ? this.describeClosed() : e.error.message) : `not done after ${within} ms`;
    // closed before the peer said a word: it is not taking connections right now (e.g. dropbear's 5 unauthenticated
    // connections per address, OpenSSH's MaxStartups) — an infrastructure error the runner retries, not a verdict
    if (this.closed?.kind === 'eof' && !this.events.some((x) => x.type === 'version')) throw new InfraError(`${this.target.host}:${this.target.port} closed the connection before sending its identification string`);
    const byPeer = this.closed?.kind === 'disconnect' || this.closed?.kind === 'eof';
    if (byPeer && o.onClose) return this.end(o.onClose, `the peer ended the connection during the key exchange: ${why}`);
    return this.end(o.else ?? 'inconclusive', `initial key exchange failed: ${why}`);
  }

  /** Expectations after the key exchange look at what came after the server's first NEWKEYS. */
  private afterKex(algs: NegotiatedAlgorithms): NegotiatedAlgorithms {
    const nk = this.rec.inbox.messages.find((m) => m.name === 'SSH_MSG_NEWKEYS');
    if (nk && this.cursor <= nk.index) this.cursor = nk.index + 1;
    return algs;
  }

  /** How the connection ended (after `closed` is set). */
  describeClosed(): string {
    const c = this.closed!;
    return c.kind === 'disconnect' ? `peer disconnected (${c.reason}) ${JSON.stringify(c.description)}` : c.kind === 'eof' ? 'peer closed the connection' : c.message;
  }

  /** SSH_MSG_SERVICE_REQUEST → SSH_MSG_SERVICE_ACCEPT (RFC 4253 §10). */
  async service(name = 'ssh-userauth', o: { else?: Verdict } = {}): Promise<void> {
    await this.kex();
    this.act((e) => e.requestService(name));
    await this.expectMessage('SSH_MSG_SERVICE_ACCEPT', { where: { service: name }, else: o.else ?? 'inconclusive', because: `service ${name}` });
  }

  private loadUserKey(): PrivateKey {
    if (this.userKey) return this.userKey;
    const path = this.target.credentials.privateKeyPath;
    if (!path) return this.end('not-applicable', 'the target has no private key for publickey authentication');
    this.userKey = parsePrivateKey(readFileSync(path)).toPrivateKey();
    return this.userKey;
  }

  /**
   * The signature algorithm for our user key: the first the server lists in server-sig-algs (RFC 8308 §3.1);
   * without that extension RFC 8332 rsa-sha2-* is preferred, except for a server whose own host key algorithms
   * know RSA only as ssh-rsa (lsh 2.1): it predates RFC 8332, and ssh-rsa is what it can verify (RFC 4253 §6.6).
   */
  userKeyAlgorithm(): string {
    const k = this.loadUserKey();
    const sigAlgs = this.engine.peerExtensions.get('server-sig-algs');
    if (sigAlgs) {
      const listed = Buffer.from(sigAlgs).toString('latin1').split(',');
      const pick = k.algorithms.find((a) => a !== 'ssh-rsa' && listed.includes(a)) ?? k.algorithms.find((a) => listed.includes(a));
      if (pick) return pick;
    }
    const hostAlgs = this.target.kexInit?.hostKey ?? [];
    if (k.algorithms.includes('ssh-rsa') && hostAlgs.includes('ssh-rsa') && !hostAlgs.some((a) => a.startsWith('rsa-sha2-'))) return 'ssh-rsa';
    return k.algorithms.find((a) => a !== 'ssh-rsa') ?? k.algorithms[0]!;
  }

  /** A publickey USERAUTH_REQUEST signed over `sessionId` (RFC 4252 §7); tests swap pieces to forge one. */
  publicKeyRequest(o: { user?: string; service?: string; signedService?: string; sessionId?: Uint8Array; algorithm?: string; signedUser?: string } = {}): MessageInput {
    const key = this.loadUserKey();
    const user = o.user ?? this.target.credentials.user;
    const service = o.service ?? 'ssh-connection';
    const algorithm = o.algorithm ?? this.userKeyAlgorithm();
    const sid = o.sessionId ?? this.engine.sessionId ?? new Uint8Array(32);
    const data = publicKeySignedData(sid, o.signedUser ?? user, o.signedService ?? service, algorithm, key.publicKey.blob);
    return { type: 'SSH_MSG_USERAUTH_REQUEST', user, service, method: 'publickey', hasSignature: true, algorithm, key: key.publicKey.blob, signature: key.sign(algorithm, data) };
  }

  passwordRequest(o: { user?: string; password?: string; service?: string } = {}): MessageInput {
    const password = o.password ?? this.target.credentials.password;
    if (password === undefined) return this.end('not-applicable', 'the target has no password credentials');
    return { type: 'SSH_MSG_USERAUTH_REQUEST', user: o.user ?? this.target.credentials.user, service: o.service ?? 'ssh-connection', method: 'password', changePassword: false, password };
  }

  /**
   * Service request (if not yet), then one authentication with the target's credentials, expecting success.
   * `method` 'any' uses publickey when a key is known, else password.
   */
  async authenticate(method: 'password' | 'publickey' | 'any' = 'any', o: { else?: Verdict } = {}): Promise<void> {
    if (!this.inbox.messages.some((m) => m.name === 'SSH_MSG_SERVICE_ACCEPT')) await this.service('ssh-userauth');
    const creds = this.target.credentials;
    const m = method === 'any' ? (creds.password !== undefined ? 'password' : 'publickey') : method;
    this.send(m === 'password' ? this.passwordRequest() : this.publicKeyRequest());
    // a password check may hash slowly (yescrypt, PAM) on a loaded machine: a late answer is not the peer's fault
    const r = await this.expectMessage(['SSH_MSG_USERAUTH_SUCCESS', 'SSH_MSG_USERAUTH_FAILURE'], { within: Math.round(AUTH_WITHIN_MS_BASE * TIME_SCALE), else: o.else ?? 'inconclusive', because: `${m} authentication` });
    if (r.name !== 'SSH_MSG_USERAUTH_SUCCESS') this.end(o.else ?? 'inconclusive', `${m} authentication with the target's credentials failed: ${JSON.stringify(r.fields)}`);
  }

  private get inbox() {
    return this.rec.inbox;
  }

  /** SSH_MSG_CHANNEL_OPEN "session" → confirmation (RFC 4254 §6.1). */
  async openSession(o: ChannelOpenOptions = {}): Promise<OpenChannel> {
    const local = o.local ?? OUR_CHANNEL;
    this.send({ type: 'SSH_MSG_CHANNEL_OPEN', channelType: 'session', senderChannel: local, initialWindowSize: o.window ?? 2 * 1024 * 1024, maximumPacketSize: o.maxPacket ?? 32768, data: new Uint8Array(0) });
    const r = await this.expectMessage(['SSH_MSG_CHANNEL_OPEN_CONFIRMATION', 'SSH_MSG_CHANNEL_OPEN_FAILURE'], { else: o.else ?? 'inconclusive', because: 'opening a session channel' });
    // RFC 4254 §5.1: the reply names the channel number we sent; anything else is a broken peer, whatever the check
    if (Number(r.fields?.['recipientChannel']) !== local) this.end('fail', `${r.name} names recipient channel ${String(r.fields?.['recipientChannel'])}, but we opened channel ${local} (RFC 4254 §5.1)`);
    if (r.name !== 'SSH_MSG_CHANNEL_OPEN_CONFIRMATION') this.end(o.else ?? 'inconclusive', `session channel refused: ${JSON.stringify(r.fields)}`);
    const f = r.fields!;
    return { local, remote: Number(f['senderChannel']), remoteWindow: Number(f['initialWindowSize']), remoteMaxPacket: Number(f['maximumPacketSize']) };
  }

  /** `exec` with want_reply (RFC 4254 §6.5); returns whether the server said CHANNEL_SUCCESS. */
  async exec(ch: OpenChannel, command: string, o: { else?: Verdict } = {}): Promise<boolean> {
    this.send({ type: 'SSH_MSG_CHANNEL_REQUEST', recipientChannel: ch.remote, requestType: 'exec', wantReply: true, data: stringBytes(command) });
    const r = await this.expectMessage(['SSH_MSG_CHANNEL_SUCCESS', 'SSH_MSG_CHANNEL_FAILURE'], { where: { recipientChannel: ch.local }, else: o.else ?? 'inconclusive', because: `exec ${JSON.stringify(command)}` });
    return r.name === 'SSH_MSG_CHANNEL_SUCCESS';
  }

  /**
   * Liveness probe: an unknown message number must be answered with SSH_MSG_UNIMPLEMENTED carrying its sequence
   * number (RFC 4253 §11.4). Returns true when answered, false when the connection closed or stayed silent.
   */
  async ping(within = pingWithin()): Promise<boolean> {
    if (this.engine.isClosed || this.closed) return false;
    const seq = this.sendRaw(Uint8Array.of(PING_ID), 'ping (unknown message number)');
    const e = await this.inbox.wait(this.cursor, (m) => m.name === 'SSH_MSG_UNIMPLEMENTED' && Number(m.fields?.['seq']) === seq, within);
    if (e.kind === 'message') { this.cursor = e.m.index + 1; return true; }
    return false;
  }

  /**
   * After something the peer must not accept: passes when it disconnects or closes; fails when a ping is still
   * answered (it carried on as if nothing happened); `onSilence` when it neither answers nor closes.
   */
  async expectReject(o: { within?: number; onSilence?: Verdict; because?: string; reasons?: readonly number[] } = {}): Promise<void> {
    const within = o.within ?? DEFAULT_WITHIN_MS;
    const prefix = o.because ? `${o.because}: ` : '';
    const early = await this.inbox.wait(this.cursor, (m) => m.name === 'SSH_MSG_DISCONNECT', 150);
    if (early.kind === 'closed' || early.kind === 'message') return this.checkRejectReason(o.reasons, prefix);
    if (await this.ping(Math.min(within, pingWithin()))) return this.end('fail', `${prefix}the peer kept the connection and answered a later message`);
    if (this.closed) return this.checkRejectReason(o.reasons, prefix);
    const v = o.onSilence ?? 'pass';
    this.rec.note(`the peer neither answered nor closed within ${within} ms`);
    if (v !== 'pass') this.end(v, `${prefix}the peer neither closed the connection nor answered within ${within} ms`);
  }

  /**
   * Robustness after bad input: the peer either ends the connection properly (SSH_MSG_DISCONNECT, RFC 4253
   * §11.1) or carries on (a ping is answered). A TCP close without DISCONNECT, or silence, looks like a crash
   * or a hang: `else` (default fail).
   */
  async expectGraceful(o: { within?: number; else?: Verdict; because?: string } = {}): Promise<void> {
    const within = o.within ?? DEFAULT_WITHIN_MS;
    const prefix = o.because ? `${o.because}: ` : '';
    const early = await this.inbox.wait(this.cursor, (m) => m.name === 'SSH_MSG_DISCONNECT', 150);
    if (early.kind === 'message') return;
    if (early.kind === 'timeout' && (await this.ping(within))) return;
    const c = this.closed;
    if (c?.kind === 'disconnect' || this.inbox.messages.some((m, i) => i >= this.cursor && m.name === 'SSH_MSG_DISCONNECT')) return;
    if (c?.kind === 'local') return this.end(o.else ?? 'fail', `${prefix}the peer answered with something our client rejected: ${c.message}`);
    this.end(o.else ?? 'fail', `${prefix}${c ? 'the peer closed the TCP connection without SSH_MSG_DISCONNECT' : `the peer neither answered nor disconnected within ${within} ms`}`);
  }

  private checkRejectReason(reasons: readonly number[] | undefined, prefix: string): void {
    const c = this.closed;
    const last = this.inbox.messages.find((m) => m.name === 'SSH_MSG_DISCONNECT');
    if (!reasons?.length || !last) return;
    const r = Number(last.fields?.['reason']);
    if (!reasons.includes(r)) this.end('fail', `${prefix}SSH_MSG_DISCONNECT reason ${r}, expected ${reasons.join(' or ')}`);
    void c;
  }

  /** Ends our side: DISCONNECT BY_APPLICATION (unless closed), then the socket. */
  close(): void {
    this.rec.inbox.abandon();
    for (const w of this.kexWaiters.splice(0)) w(undefined);
    if (!this.engine.isClosed) this.act((e) => e.disconnect());
    this.driver.stop();
    this.driver.socket.destroy();
  }
}

/** An RFC 4251 §5 string from text (request-specific data). */
export function stringBytes(s: string): Uint8Array {
  const b = Buffer.from(s, 'utf8');
  const out = Buffer.alloc(4 + b.length);
  out.writeUInt32BE(b.length, 0);
  b.copy(out, 4);
  return out;
}
