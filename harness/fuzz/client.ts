/**
 * The fuzzing side of a connection: our client Engine (real kex and encryption) plus just enough of the
 * userauth and connection protocols to walk a peer into deep states, and the bookkeeping the oracles need
 * (what the peer answered, what it still owes us, how it closed). The fuzzer decides what to send; this class
 * keeps the session coherent around it. How bytes travel (in-process or over TCP) is the Link's business.
 */
import { publicKeySignedData } from '../../impl/auth/signed-data.js';
import type { PrivateKey } from '../../impl/crypto/types.js';
import { DisconnectError, type SSHError } from '../../impl/errors.js';
import { decodeMessage, encodeMessage, type DecodeContext, type MessageInput } from '../../impl/messages/index.js';
import { Engine } from '../../impl/transport/engine.js';
import type { EngineEvent, EngineOptions, PacketRecord } from '../../impl/transport/types.js';

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

/** One probe: its sequence number, when it left, and how the peer answered. */
export interface ProbeRecord {
  readonly seq: number;
  readonly ordinal: number;
  /** inboundCount when it was sent: anything after that arrived after the probe left. */
  readonly inboundAt: number;
  answered: boolean;
  /** An UNIMPLEMENTED arrived after the probe carrying another sequence number (RFC 4253 §11.4 says ours). */
  otherSeq?: number;
}

export interface TraceLine {
  readonly dir: 'in' | 'out';
  readonly seq: number;
  readonly timeMs: number;
  /** A copy of the payload (decrypted, message number first). */
  readonly payload: Uint8Array;
  readonly deviation?: string;
}

const INITIAL_WINDOW = 1 << 20;
const MAX_PACKET = 32768;
/** An unassigned transport-generic number (RFC 4250 §4.1.2 leaves 9–19 free): every peer must answer UNIMPLEMENTED. */
export const PROBE_ID = 15;
const MAX_TRACE = 4000;

function serviceOf(payload: Uint8Array): string | undefined {
  try {
    const m = decodeMessage(payload);
    return m.type === 'SSH_MSG_SERVICE_REQUEST' || m.type === 'SSH_MSG_SERVICE_ACCEPT' ? m.service : undefined;
  } catch {
    return undefined;
  }
}

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
  /** Inbound packets this connection (unbounded counter, unlike `inbound`). */
  inboundCount = 0;
  /** Inbound message numbers seen, in order (bounded), for oracles and coverage. */
  readonly inbound: number[] = [];
  /** Our probes this case, in order (see ProbeRecord). */
  readonly probes: ProbeRecord[] = [];
  /** Packets we have put on the wire this connection (orders probes against corrupted packets). */
  outOrdinal = 0;
  /** Sequence numbers of our packets this case (an UNIMPLEMENTED naming one of them answers that packet). */
  readonly sentSeqs = new Set<number>();
  /** Ordinal of the first packet whose MAC/sequence number we corrupted (sentCorrupt). */
  corruptOrdinal: number | undefined;
  owedAuth = 0;
  owedGlobal = 0;
  /** One of our requests never left (skipped) or may still be held (delayed): replies owed for it are void. */
  lostRequest = false;
  /** Something was put on the wire that the peer cannot frame (raw bytes, truncation, length rewrite). */
  streamDesync = false;
  /** A packet went out that the peer must reject (bad MAC, wrong sequence number, bad padding). */
  sentCorrupt = false;
  readonly trace: TraceLine[] = [];
  /** SERVICE_REQUESTs for anything but ssh-userauth sent before authentication (RFC 4253 §10), in order. */
  readonly foreignServiceRequests: { readonly name: string; readonly ordinal: number }[] = [];
  /** Services the peer accepted (SSH_MSG_SERVICE_ACCEPT). */
  readonly acceptedServices: string[] = [];
  /** Peer-sent messages that the connection layer of a correct peer never sends before auth (bypass evidence). */
  readonly preAuthConnectionReplies: number[] = [];
  /** Record every packet in `trace` (replay turns it on; campaigns leave it off: copies cost time). */
  traceEnabled = false;

  constructor(readonly credentials: FuzzCredentials, options: Omit<EngineOptions, 'role' | 'onPacket'> = {}) {
    this.engine = new Engine({ ...options, role: 'client', onPacket: (p) => this.onPacket(p) });
  }

  private onPacket(p: PacketRecord): void {
    const id = p.payload[0] ?? -1;
    if (this.traceEnabled && this.trace.length < MAX_TRACE) {
      this.trace.push({ dir: p.direction, seq: p.seq, timeMs: Date.now(), payload: p.payload.slice(), ...(p.deviation ? { deviation: p.deviation } : {}) });
    }
    if (p.direction !== 'in') {
      const dev = p.deviation;
      if (dev !== 'skipped') { this.outOrdinal++; if (this.sentSeqs.size < 4096) this.sentSeqs.add(p.seq); }
      if (id === 50 && dev !== 'skipped') this.lastAuthUser = userOf(p.payload);
      // a request the peer can treat as a service request: ours after the first kex, outside a kex of ours
      if (id === 5 && dev !== 'skipped' && !this.authenticated && this.kexDone && !this.engine.kexInProgress) {
        const name = serviceOf(p.payload);
        if (name !== undefined && name !== 'ssh-userauth') this.foreignServiceRequests.push({ name, ordinal: this.outOrdinal });
      }
      if (dev === undefined) { this.onStandardOut(p.payload); return; }
      if (dev === 'probe') this.probes.push({ seq: p.seq, ordinal: this.outOrdinal, inboundAt: this.inboundCount, answered: false });
      // a corrupted MAC, or a wrong sequence number where the MAC/AEAD covers it (RFC 4253 §6.4, OpenSSH
      // PROTOCOL.chacha20poly1305; not AES-GCM, whose nonce is its own counter, RFC 5647 §7.1): must be rejected
      const gcm = /gcm/.test(this.engine.negotiated?.cipherC2S ?? '');
      if (dev.startsWith('corrupt') && this.kexDone && (/mac=true/.test(dev) || (/seqOffset=[1-9]/.test(dev) && !gcm))) {
        this.sentCorrupt = true;
        this.corruptOrdinal ??= this.outOrdinal;
      }
      // a request we skipped is owed nothing (a skipped probe was never recorded)
      if (dev === 'skipped' && id !== PROBE_ID) this.lostRequest = true;
      return;
    }
    this.inboundCount++;
    if (this.inbound.length < 10_000) this.inbound.push(id);
    if (id === 3) {
      // RFC 4253 §11.4: SSH_MSG_UNIMPLEMENTED carries the rejected packet's sequence number
      try {
        const m = decodeMessage(p.payload);
        if (m.type === 'SSH_MSG_UNIMPLEMENTED') {
          const exact = this.probes.find((x) => !x.answered && x.seq === m.seq);
          if (exact) exact.answered = true;
          else if (!this.sentSeqs.has(m.seq)) {
            // not the number of anything we sent: the peer answered our probe with a wrong sequence number
            const pending = this.probes.find((x) => !x.answered && x.otherSeq === undefined && x.inboundAt < this.inboundCount);
            if (pending) pending.otherSeq = m.seq;
          }
        }
      } catch { /* a malformed UNIMPLEMENTED: our engine closes on it */ }
    }
    if (!this.authenticated && id >= 80 && id <= 100 && id !== 80) this.preAuthConnectionReplies.push(id);
    if (id === 6) { const name = serviceOf(p.payload); if (name !== undefined) this.acceptedServices.push(name); }
  }

  /**
   * A reference request actually left (not merely queued: our engine holds payloads during its own kex, and a
   * peer that never finishes that kex must not be blamed for the reply): now a reply is owed.
   */
  private onStandardOut(payload: Uint8Array): void {
    const id = payload[0];
    if (id === 50) { this.owedAuth++; return; }
    // (the user of any USERAUTH_REQUEST we send is tracked in onPacket: fuzzed ones count too)
    if (id !== 90 && id !== 98 && id !== 80) return;
    let m;
    try { m = decodeMessage(payload); } catch { return; }
    if (m.type === 'SSH_MSG_CHANNEL_OPEN') { const c = this.channelByLocal(m.senderChannel); if (c) c.owedReplies = 1; }
    else if (m.type === 'SSH_MSG_CHANNEL_REQUEST' && m.wantReply) { const c = this.channels.find((x) => x.remote === m.recipientChannel && x.state === 'open'); if (c) c.owedReplies++; }
    else if (m.type === 'SSH_MSG_GLOBAL_REQUEST' && m.wantReply) this.owedGlobal++;
  }

  /** Handles one engine event; returns payloads the session answers with (sent after the engine call returns). */
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
      case 'SSH_MSG_REQUEST_SUCCESS': case 'SSH_MSG_REQUEST_FAILURE':
        if (this.owedGlobal > 0) this.owedGlobal--;
        return;
      case 'SSH_MSG_CHANNEL_OPEN': {
        // we never accept channels from the server (RFC 4254 §5.1)
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

  /** Bytes framed with the current keys now, whatever the state (the fuzzer's main tool). */
  sendRaw(payload: Uint8Array, label = 'fuzz'): void {
    if (!this.alive || payload.length === 0) return;
    this.engine.testing.sendRawPayload(payload, label);
  }

  /** Sends a probe the peer must answer with SSH_MSG_UNIMPLEMENTED (RFC 4253 §11.4); onPacket records it. */
  probe(): void {
    if (!this.alive) return;
    this.engine.testing.sendRawPayload(Uint8Array.of(PROBE_ID), 'probe');
  }

  /** The oldest probe the peer has not answered with its sequence number. */
  get pendingProbe(): ProbeRecord | undefined {
    return this.probes.find((p) => !p.answered);
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

  globalRequest(name: string): void {
    if (!this.alive || !this.authenticated) return;
    this.send({ type: 'SSH_MSG_GLOBAL_REQUEST', name, wantReply: true, data: new Uint8Array(0) });
  }

  /** The peer's number of our n-th channel; for a channel that has none, a number no channel has. */
  remoteChannel(index: number): number {
    const c = this.channels[index];
    return c?.remote ?? (0x7fff0000 + index) >>> 0;
  }

  /** Closes every channel we opened that is still open (between cases on a reused session). */
  closeChannels(): void {
    for (const c of this.channels) {
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
    // a probe answered with a wrong sequence number is still an answer (the seq oracle judges it)
    const probes = this.probes.filter((p) => !p.answered && p.otherSeq === undefined).length;
    return { probes, auth: this.owedAuth, channel, global: this.owedGlobal };
  }

  /** Channels all closed on both sides (after closeChannels() settled). */
  get channelsClosed(): boolean {
    return this.channels.every((c) => c.state === 'closed' || c.state === 'failed');
  }

  /**
   * Forgets the previous case on a reused connection: its channels (all closed), trace and counters. The
   * connection itself (keys, sequence numbers, authentication) carries on.
   */
  resetCase(): void {
    this.channels.length = 0;
    this.trace.length = 0;
    this.inbound.length = 0;
    this.probes.length = 0;
    this.sentSeqs.clear();
    this.corruptOrdinal = undefined;
    this.preAuthConnectionReplies.length = 0;
    this.foreignServiceRequests.length = 0;
    this.acceptedServices.length = 0;
    this.owedAuth = 0;
    this.owedGlobal = 0;
    this.lostRequest = false;
    // credentials a previous case presented belong to it (its answer has arrived: nothing was owed)
    if (!this.authenticated) this.validCredentialsSent = false;
    this.reused++;
  }
  /** Cases this connection served before the current one. */
  reused = 0;

  get anythingOwed(): boolean {
    const o = this.owed();
    return o.probes + o.auth + o.channel + o.global > 0;
  }
}
