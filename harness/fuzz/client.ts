/**
 * The fuzzing side of a connection: our client Engine (real kex and encryption) plus just enough of the
 * userauth and connection protocols to walk a peer into deep states, and the bookkeeping the oracles need
 * (what the peer answered, what it still owes us, how it closed). The fuzzer decides what to send; this class
 * keeps the session coherent around it. How bytes travel (in-process or over TCP) is the Link's business.
 */
import { publicKeySignedData } from '../../impl/auth/signed-data.js';
import type { PrivateKey } from '../../impl/crypto/types.js';
import { DisconnectError, type SSHError } from '../../impl/errors.js';
import { decodeMessage, encodeChannelRequestData, encodeMessage, type DecodeContext, type MessageInput } from '../../impl/messages/index.js';
import { encodeSftpPacket, SFTP_TYPES } from './sftp.js';
import { Engine } from '../../impl/transport/engine.js';
import type { EngineEvent, EngineOptions, PacketRecord } from '../../impl/transport/types.js';
import { PROBE_ID, WireLog } from './wire-log.js';
import { forwardRequest, grantedListener, scratchSocketPath, type ForwardKind, type PeerListener } from './forward.js';

export interface FuzzCredentials {
  readonly user: string;
  readonly password?: string;
  readonly privateKey?: PrivateKey;
}

/** One of our channels; `$chan: n` in a generated message means `channels[n].remote`. */
export interface ClientChannel {
  readonly local: number;
  remote: number | undefined;
  state: 'opening' | 'open' | 'failed' | 'closed';
  sentClose: boolean;
  /** Bytes the peer may still send us before we adjust (we re-open at half). */
  window: number;
  owedReplies: number;
  /** The peer sent CHANNEL_EOF (its side of the session is done). */
  peerEof?: boolean;
  /** We asked for the sftp subsystem on it (an `sftp` step). */
  sftp?: boolean;
}

export interface PeerClose {
  /** The peer sent SSH_MSG_DISCONNECT (else the connection dropped, or our side ended it). */
  readonly byPeer: boolean;
  readonly reason?: number;
  readonly description?: string;
  /** Our engine ended the connection (it judged the peer's bytes invalid). */
  readonly byUs: boolean;
  readonly error: SSHError;
}

const INITIAL_WINDOW = 1 << 20;
const MAX_PACKET = 32768;

/** Channel types a peer opens toward a client for what the client asked it to forward (RFC 4254 §7.2, OpenSSH PROTOCOL §2.2, §2.4). */
const FORWARDED_OPENS: ReadonlySet<string> = new Set(['forwarded-tcpip', 'forwarded-streamlocal@openssh.com', 'auth-agent@openssh.com', 'x11']);

function userOf(payload: Uint8Array): string | undefined {
  try {
    const m = decodeMessage(payload);
    return m.type === 'SSH_MSG_USERAUTH_REQUEST' ? m.user : undefined;
  } catch {
    return undefined;
  }
}

export class FuzzClient {
  readonly engine: Engine;
  readonly channels: ClientChannel[] = [];
  started = false;
  kexDone = false;
  kexCount = 0;
  serviceAccepted = false;
  authenticated = false;
  /** A USERAUTH_REQUEST with credentials the peer should accept was sent (the bypass oracle's reference). */
  validCredentialsSent = false;
  /** User of the last USERAUTH_REQUEST we sent (standard or fuzzed), undefined when it did not decode. */
  lastAuthUser: string | undefined;
  /** The auth method our last standard auth step is running, to decode 60 (RFC 4252 §7, RFC 4256 §3.2). */
  private authMethod: 'publickey' | 'password' | 'keyboard-interactive' | undefined;
  closed: PeerClose | undefined;
  owedAuth = 0;
  owedGlobal = 0;
  /** Global requests with want-reply that left, oldest first: replies come in order (RFC 4254 §4). */
  private readonly pendingGlobals: { name: string; data: Uint8Array }[] = [];
  /** Listeners the peer opened for us this case (granted forwards), for the harness to connect to. */
  readonly listeners: PeerListener[] = [];
  /** Socket paths our forwards asked the peer to create (this connection): the link removes the files. */
  readonly socketPaths: string[] = [];
  /** Accept the channels the peer opens for our forwards (a `forward` step asked for them); else refuse them all. */
  acceptPeerOpens = false;
  /** What crossed the wire this case, for the oracles (probes, corruption, service requests, trace). */
  readonly log = new WireLog();

  constructor(readonly credentials: FuzzCredentials, options: Omit<EngineOptions, 'role' | 'onPacket'> = {}) {
    this.engine = new Engine({ ...options, role: 'client', onPacket: (p) => this.onPacket(p) });
  }

  private onPacket(p: PacketRecord): void {
    const st = { kexDone: this.kexDone, kexInProgress: this.engine.kexInProgress, authenticated: this.authenticated, credentialsPending: this.validCredentialsSent && !this.authenticated, cipher: this.engine.negotiated?.cipherC2S ?? '' };
    this.log.record(p, st);
    if (p.direction === 'out' && p.deviation === undefined) this.onStandardOut(p.payload);
    // a fuzzed GLOBAL/CHANNEL_REQUEST that decodes, with want-reply, sent after authentication outside a kex, is
    // owed its reply like a reference one (RFC 4254 §4, §5.4); before authentication nothing is (RFC 4252 §6)
    else if (p.direction === 'out' && p.deviation === 'fuzz' && st.authenticated && !st.kexInProgress && (p.payload[0] === 80 || p.payload[0] === 98)) this.onStandardOut(p.payload);
    if (p.direction === 'out' && p.payload[0] === 50 && p.deviation !== 'skipped') this.lastAuthUser = userOf(p.payload);
  }

  /**
   * A reference request actually left (not merely queued: our engine holds payloads during its own kex, and a
   * peer that never finishes that kex must not be blamed for the reply): now a reply is owed.
   */
  private onStandardOut(payload: Uint8Array): void {
    const id = payload[0];
    if (id === 50) { this.owedAuth++; return; }
    if (id !== 90 && id !== 98 && id !== 80) return;
    let m;
    try { m = decodeMessage(payload); } catch { return; }
    if (m.type === 'SSH_MSG_CHANNEL_OPEN') { const c = this.channelByLocal(m.senderChannel); if (c) c.owedReplies = 1; }
    else if (m.type === 'SSH_MSG_CHANNEL_REQUEST' && m.wantReply) { const c = this.channels.find((x) => x.remote === m.recipientChannel && x.state === 'open'); if (c) c.owedReplies++; }
    else if (m.type === 'SSH_MSG_GLOBAL_REQUEST' && m.wantReply) { this.owedGlobal++; this.pendingGlobals.push({ name: m.name, data: m.data }); }
  }

  /** Handles one engine event (the Link delivers them after each engine call). */
  onEvent(e: EngineEvent): void {
    switch (e.type) {
      case 'kexDone': this.kexDone = true; this.kexCount++; return;
      case 'serviceAccept': this.serviceAccepted = true; return;
      case 'payload': this.onPayload(e.payload); return;
      case 'closed': {
        const err = e.error;
        const byPeer = err instanceof DisconnectError && err.byPeer && err.disconnectReason !== 10;
        this.closed = {
          byPeer, byUs: !(err instanceof DisconnectError && err.byPeer), error: err,
          ...(byPeer ? { reason: (err as DisconnectError).disconnectReason, description: (err as DisconnectError).description } : {}),
        };
        return;
      }
      default: return;
    }
  }

  private ctx(): DecodeContext | undefined {
    return this.authMethod ? { auth: this.authMethod } : undefined;
  }

  private onPayload(payload: Uint8Array): void {
    let m;
    try {
      m = decodeMessage(payload, this.ctx());
    } catch {
      return; // a malformed reply: the oracles see it in the trace; we keep going
    }
    switch (m.type) {
      case 'SSH_MSG_USERAUTH_SUCCESS': this.authenticated = true; this.owedAuth = 0; this.authMethod = undefined; return;
      case 'SSH_MSG_USERAUTH_FAILURE': if (this.owedAuth > 0) this.owedAuth--; return;
      case 'SSH_MSG_USERAUTH_PK_OK': {
        // RFC 4252 §7: the key is acceptable; sign and send
        const k = this.credentials.privateKey;
        // signing answers the query with valid credentials (our user, our key): the peer may rightly accept
        if (k && this.authMethod === 'publickey') { this.validCredentialsSent = true; this.sendPublicKey(k, true); }
        return;
      }
      case 'SSH_MSG_USERAUTH_INFO_REQUEST':
        if (this.authMethod === 'keyboard-interactive') {
          // RFC 4256 §3.4: the answers belong to the latest request's user; only for our own user do we give the
          // real password (and then the peer may rightly accept: valid credentials were presented)
          const ours = this.lastAuthUser === this.credentials.user && this.credentials.password !== undefined;
          if (ours) this.validCredentialsSent = true;
          this.send({ type: 'SSH_MSG_USERAUTH_INFO_RESPONSE', responses: m.prompts.map(() => (ours ? this.credentials.password! : 'wrong-answer')) });
        }
        return;
      case 'SSH_MSG_USERAUTH_PASSWD_CHANGEREQ': if (this.owedAuth > 0) this.owedAuth--; return;
      case 'SSH_MSG_GLOBAL_REQUEST':
        if (m.wantReply) this.send({ type: 'SSH_MSG_REQUEST_FAILURE' });
        return;
      case 'SSH_MSG_REQUEST_SUCCESS': case 'SSH_MSG_REQUEST_FAILURE': {
        if (this.owedGlobal > 0) this.owedGlobal--;
        const req = this.pendingGlobals.shift();
        const granted = req && m.type === 'SSH_MSG_REQUEST_SUCCESS' ? grantedListener(req.name, req.data, m.data) : undefined;
        if (granted && this.listeners.length < 16) this.listeners.push(granted);
        return;
      }
      case 'SSH_MSG_CHANNEL_OPEN': {
        // RFC 4254 §5.1: a channel for a forward we asked for becomes one of ours (later steps address it); any
        // other is refused (administratively prohibited)
        if (this.acceptPeerOpens && FORWARDED_OPENS.has(m.channelType) && this.channels.length < 64) {
          const local = this.channels.length;
          this.channels.push({ local, remote: m.senderChannel, state: 'open', sentClose: false, window: INITIAL_WINDOW, owedReplies: 0 });
          this.send({ type: 'SSH_MSG_CHANNEL_OPEN_CONFIRMATION', recipientChannel: m.senderChannel, senderChannel: local, initialWindowSize: INITIAL_WINDOW, maximumPacketSize: MAX_PACKET, data: new Uint8Array(0) });
          return;
        }
        this.send({ type: 'SSH_MSG_CHANNEL_OPEN_FAILURE', recipientChannel: m.senderChannel, reason: 1, description: 'refused', language: '' });
        return;
      }
      case 'SSH_MSG_CHANNEL_OPEN_CONFIRMATION': {
        const c = this.channelByLocal(m.recipientChannel);
        if (c && c.state === 'opening') { c.state = 'open'; c.remote = m.senderChannel; c.owedReplies = 0; }
        return;
      }
      case 'SSH_MSG_CHANNEL_OPEN_FAILURE': {
        const c = this.channelByLocal(m.recipientChannel);
        if (c && c.state === 'opening') { c.state = 'failed'; c.owedReplies = 0; }
        return;
      }
      case 'SSH_MSG_CHANNEL_DATA': case 'SSH_MSG_CHANNEL_EXTENDED_DATA': {
        const c = this.channelByLocal(m.recipientChannel);
        if (!c || c.state !== 'open') return;
        c.window -= m.data.length;
        if (c.window < INITIAL_WINDOW / 2 && !c.sentClose && c.remote !== undefined) {
          const add = INITIAL_WINDOW - c.window;
          c.window += add;
          this.send({ type: 'SSH_MSG_CHANNEL_WINDOW_ADJUST', recipientChannel: c.remote, bytesToAdd: add });
        }
        return;
      }
      case 'SSH_MSG_CHANNEL_REQUEST': {
        const c = this.channelByLocal(m.recipientChannel);
        if (m.wantReply && c?.remote !== undefined && !c.sentClose) this.send({ type: 'SSH_MSG_CHANNEL_FAILURE', recipientChannel: c.remote });
        return;
      }
      case 'SSH_MSG_CHANNEL_SUCCESS': case 'SSH_MSG_CHANNEL_FAILURE': {
        const c = this.channelByLocal(m.recipientChannel);
        if (c && c.owedReplies > 0) c.owedReplies--;
        return;
      }
      case 'SSH_MSG_CHANNEL_EOF': {
        const c = this.channelByLocal(m.recipientChannel);
        if (c) c.peerEof = true;
        return;
      }
      case 'SSH_MSG_CHANNEL_CLOSE': {
        const c = this.channelByLocal(m.recipientChannel);
        if (!c) return;
        // RFC 4254 §5.3: answer CLOSE with CLOSE
        if (!c.sentClose && c.remote !== undefined) { c.sentClose = true; this.send({ type: 'SSH_MSG_CHANNEL_CLOSE', recipientChannel: c.remote }); }
        c.state = 'closed';
        c.owedReplies = 0;
        return;
      }
      default: return;
    }
  }

  private channelByLocal(local: number): ClientChannel | undefined {
    return this.channels.find((c) => c.local === local && c.state !== 'closed' && c.state !== 'failed');
  }

  // ───────────────────────────── commands the steps use ─────────────────────────────

  get alive(): boolean { return !this.engine.isClosed; }

  start(now: number): void {
    if (this.started) return;
    this.started = true;
    this.engine.start(now);
  }

  /** A well-formed message through the engine's normal path (held during our kex, RFC 4253 §7.1). */
  send(m: MessageInput): void {
    if (!this.alive) return;
    this.engine.sendPayload(encodeMessage(m));
  }

  /**
   * Bytes framed with the current keys now, whatever the state (the fuzzer's main tool). Pending packet
   * deviations (a 'deviate' step before it) apply to it like to the engine's own packets.
   */
  sendRaw(payload: Uint8Array, label = 'fuzz'): void {
    if (!this.alive || payload.length === 0) return;
    this.engine.testing.sendRawPayload(payload, label, { applyRules: true });
  }

  /** Sends a probe the peer must answer with SSH_MSG_UNIMPLEMENTED (RFC 4253 §11.4); the log records it. */
  probe(): void {
    if (!this.alive) return;
    // a deviation still pending applies to the probe: the peer must then reject it (or we must not blame it)
    this.engine.testing.sendRawPayload(Uint8Array.of(PROBE_ID), 'probe', { applyRules: true });
  }

  requestService(name: string): void {
    if (this.alive) this.engine.requestService(name);
  }

  /** A standard authentication attempt; `valid` uses the real credentials, else a wrong password. */
  auth(method: 'password' | 'publickey' | 'keyboard-interactive' | 'none', valid: boolean): void {
    if (!this.alive) return;
    const c = this.credentials;
    const user = c.user;
    if (method === 'none') { this.authMethod = undefined; this.send({ type: 'SSH_MSG_USERAUTH_REQUEST', user, service: 'ssh-connection', method: 'none' }); return; }
    if (method === 'password' || (method === 'publickey' && !c.privateKey) || (method === 'keyboard-interactive' && c.password === undefined)) {
      const ok = valid && c.password !== undefined;
      if (ok) this.validCredentialsSent = true;
      this.authMethod = 'password';
      this.send({ type: 'SSH_MSG_USERAUTH_REQUEST', user, service: 'ssh-connection', method: 'password', changePassword: false, password: ok ? c.password! : `wrong-${c.password ?? ''}` });
      return;
    }
    if (method === 'keyboard-interactive') {
      this.authMethod = 'keyboard-interactive';
      if (valid) this.validCredentialsSent = true;
      else { this.send({ type: 'SSH_MSG_USERAUTH_REQUEST', user: `${user}-nobody`, service: 'ssh-connection', method: 'keyboard-interactive', language: '', submethods: '' }); return; }
      this.send({ type: 'SSH_MSG_USERAUTH_REQUEST', user, service: 'ssh-connection', method: 'keyboard-interactive', language: '', submethods: '' });
      return;
    }
    this.authMethod = 'publickey';
    if (valid) { this.validCredentialsSent = true; this.sendPublicKey(c.privateKey!, true); return; }
    // a signature by the right key over the wrong data: must fail (RFC 4252 §7)
    this.sendPublicKey(c.privateKey!, true, true);
  }

  private sendPublicKey(key: PrivateKey, signed: boolean, wrongData = false): void {
    const algorithm = key.algorithms[0]!;
    const sid = this.engine.sessionId ?? new Uint8Array(32);
    const data = publicKeySignedData(wrongData ? new Uint8Array(sid.length) : sid, this.credentials.user, 'ssh-connection', algorithm, key.publicKey.blob);
    this.send(signed
      ? { type: 'SSH_MSG_USERAUTH_REQUEST', user: this.credentials.user, service: 'ssh-connection', method: 'publickey', hasSignature: true, algorithm, key: key.publicKey.blob, signature: key.sign(algorithm, data) }
      : { type: 'SSH_MSG_USERAUTH_REQUEST', user: this.credentials.user, service: 'ssh-connection', method: 'publickey', hasSignature: false, algorithm, key: key.publicKey.blob });
  }

  /** Opens a channel (RFC 4254 §5.1); it becomes `$chan: channels.length - 1`. */
  openChannel(channelType: string, data: Uint8Array = new Uint8Array(0)): void {
    if (!this.alive) return;
    const local = this.channels.length;
    this.channels.push({ local, remote: undefined, state: 'opening', sentClose: false, window: INITIAL_WINDOW, owedReplies: 0 });
    this.send({ type: 'SSH_MSG_CHANNEL_OPEN', channelType, senderChannel: local, initialWindowSize: INITIAL_WINDOW, maximumPacketSize: MAX_PACKET, data });
  }

  /** A CHANNEL_REQUEST with want_reply on an open channel (a reply is owed: RFC 4254 §5.4). */
  channelRequest(index: number, requestType: string, data: Uint8Array): void {
    const c = this.channels[index];
    if (!this.alive || !c || c.state !== 'open' || c.remote === undefined || c.sentClose) return;
    this.send({ type: 'SSH_MSG_CHANNEL_REQUEST', recipientChannel: c.remote, requestType, wantReply: true, data });
  }

  /**
   * SFTP packets as channel data; the channel's first call asks for the `sftp` subsystem (RFC 4254 §6.5) and
   * sends SSH_FXP_INIT with `initVersion` when given (draft-ietf-secsh-filexfer-02 §4).
   */
  sftp(index: number, initVersion: number | undefined, packets: Uint8Array): void {
    const c = this.channels[index];
    if (!this.alive || !c || c.state !== 'open' || c.remote === undefined || c.sentClose) return;
    let data = packets;
    if (!c.sftp) {
      c.sftp = true;
      this.channelRequest(index, 'subsystem', encodeChannelRequestData({ kind: 'subsystem', name: 'sftp' }));
      if (initVersion !== undefined) data = Buffer.concat([encodeSftpPacket({ type: SFTP_TYPES.INIT, id: initVersion, args: [] }), packets]);
    }
    if (data.length > 0) this.send({ type: 'SSH_MSG_CHANNEL_DATA', recipientChannel: c.remote, data });
  }

  globalRequest(name: string): void {
    if (!this.alive || !this.authenticated) return;
    this.send({ type: 'SSH_MSG_GLOBAL_REQUEST', name, wantReply: true, data: new Uint8Array(0) });
  }

  /**
   * Asks the peer to listen for us (RFC 4254 §7.1, OpenSSH PROTOCOL §2.4) and accepts the channels it opens for
   * it. Returns the socket path asked for (kind 'unix'), which the peer creates and the link removes.
   */
  forward(kind: ForwardKind): string | undefined {
    if (!this.alive || !this.authenticated) return undefined;
    const path = kind === 'unix' ? scratchSocketPath() : undefined;
    if (path) this.socketPaths.push(path);
    const { name, data } = forwardRequest(kind, path ?? '');
    this.acceptPeerOpens = true;
    this.send({ type: 'SSH_MSG_GLOBAL_REQUEST', name, wantReply: true, data });
    return path;
  }

  /** The peer's number of our n-th channel; for a channel that has none, a number no channel has. */
  remoteChannel(index: number): number {
    const c = this.channels[index];
    return c?.remote ?? (0x7fff0000 + index) >>> 0;
  }

  /** Closes every channel we opened that is still open (between cases on a reused session), but the first when asked. */
  closeChannels(keepFirst = false): void {
    for (const c of this.channels.slice(keepFirst ? 1 : 0)) {
      if (c.state === 'open' && !c.sentClose && c.remote !== undefined) {
        c.sentClose = true;
        this.send({ type: 'SSH_MSG_CHANNEL_CLOSE', recipientChannel: c.remote });
      }
    }
  }

  /** Replies the peer still owes us (probes, auth, channel and global requests). */
  owed(): { probes: number; auth: number; channel: number; global: number } {
    let channel = 0;
    for (const c of this.channels) channel += c.state === 'opening' || c.state === 'open' ? c.owedReplies : 0;
    return { probes: this.log.unansweredProbes, auth: this.owedAuth, channel, global: this.owedGlobal };
  }

  /** Channels all closed on both sides (after closeChannels() settled). */
  get channelsClosed(): boolean {
    return this.channels.every((c) => c.state === 'closed' || c.state === 'failed');
  }

  /** Only the first channel is open, untouched by EOF or CLOSE either way (a reusable session channel). */
  get onlyFirstChannelOpen(): boolean {
    const [first, ...rest] = this.channels;
    return first !== undefined && first.state === 'open' && !first.sentClose && !first.peerEof && rest.every((c) => c.state === 'closed' || c.state === 'failed');
  }

  /**
   * Forgets the previous case on a reused connection: its channels (all closed), trace and counters. The
   * connection itself (keys, sequence numbers, authentication) carries on.
   */
  resetCase(keepFirstChannel = false): void {
    const first = this.channels[0];
    this.channels.length = 0;
    if (keepFirstChannel && first) this.channels.push(first);
    this.log.resetCase();
    this.owedAuth = 0;
    this.owedGlobal = 0;
    this.pendingGlobals.length = 0;
    this.listeners.length = 0;
    this.acceptPeerOpens = false;
    // credentials a previous case presented belong to it (its answer has arrived: nothing was owed)
    if (!this.authenticated) this.validCredentialsSent = false;
    this.reused++;
  }
  /** Cases this connection served before the current one. */
  reused = 0;

  /**
   * The engine resumed a snapshot taken after our valid login (the self target's forked connections): the
   * session is authenticated as if that login had happened on this connection.
   */
  resumedAuthenticated(): void {
    this.authenticated = true;
    this.validCredentialsSent = true;
  }

  get anythingOwed(): boolean {
    const o = this.owed();
    return o.probes + o.auth + o.channel + o.global > 0;
  }
}
