/**
 * The sans-I/O SSH transport engine (RFC 4253). Bytes and time go in; bytes, deadlines and events come out.
 *
 * Inputs:   start(now), receive(bytes, now), handleTimeout(now), connectionLost(now)
 * Commands: sendPayload(payload), requestService(name), acceptService(name), rekey(), disconnect(reason, text)
 * Outputs:  pollTransmit() (wire bytes, in order), pollEvent() (EngineEvent), pollTimeout() (next deadline)
 * Drive it by calling an input, then draining pollTransmit and pollEvent; call handleTimeout when pollTimeout's
 * deadline passes. A fatal error queues SSH_MSG_DISCONNECT (RFC 4253 §11.1), emits one 'closed' event, and
 * the engine ignores input from then on; pollTransmit still drains what was queued.
 */
import { createHash, randomBytes } from 'node:crypto';
import { cipherAlgorithms, compressionAlgorithms, defaultAlgorithms, kexAlgorithms, macAlgorithms, signatureAlgorithms } from '../crypto/registry.js';
import { makeOpener, makeSealer } from '../crypto/protect.js';
import { serverGexGroup } from '../crypto/kex/moduli.js';
import type { CompressionAlgorithm, Opener, PrivateKey, PublicKey, Rng, Sealer } from '../crypto/types.js';
import { describePeerBytes, DisconnectError, DisconnectReason, LimitError, MacError, PEER_PREVIEW_BYTES, ProtocolError, SSHError, TimeoutError } from '../errors.js';
import { decodeMessage, encodeMessage, MessageId, type Message } from '../messages/index.js';
import { ByteQueue } from './byte-queue.js';
import type { SessionKeys } from './kdf.js';
import { KexRun, type KexHost } from './kex-run.js';
import { EXT_INFO_C, EXT_INFO_S, STRICT_KEX_C, STRICT_KEX_S } from './negotiate.js';
import { PacketReader } from './packet-reader.js';
import { PacketWriter, type OutboundDeviation } from './packet-writer.js';
import { EngineTesting, type EstablishedSnapshot, type InboundRewrite, type OutboundRewrite, type OutboundRule, type Relaxations, type TestingSurface } from './testing.js';
import type { EngineEvent, EngineOptions, EnginePhase, KexSecrets, NegotiatedAlgorithms, Role } from './types.js';
import { formatVersion, VersionParser } from './version.js';
import { Reader, Writer } from '../wire/index.js';

/** RFC 4344 §3: rekey after 2^32 blocks for 128-bit ciphers is far away; 1 GiB and 1 hour are the usual defaults. */
export const DEFAULT_REKEY = { bytes: 1 << 30, packets: 2 ** 31, seconds: 3600 } as const;
export const DEFAULT_MAX_PACKET = 256 * 1024 + 64;
const DEFAULT_KEX_TIMEOUT_MS = 60_000;
/** RFC 4254 §5.2 peers use ≤ 32 KiB data packets; payloads after decompression are bounded separately. */
const DEFAULT_MAX_PAYLOAD = 256 * 1024;

interface ResolvedAlgorithms {
  kex: string[]; hostKey: string[]; cipher: string[]; mac: string[]; compression: string[];
}

function resolveList(kind: string, names: readonly string[] | undefined, fallback: readonly string[], registry: ReadonlyMap<string, unknown>): string[] {
  const list = names ? [...names] : [...fallback];
  for (const n of list) if (!registry.has(n)) throw new SSHError('USAGE', `unknown ${kind} algorithm ${JSON.stringify(n)}`);
  if (list.length === 0) throw new SSHError('USAGE', `empty ${kind} algorithm list`);
  return list;
}

/** Keys EngineOptions.resume derived, by the secret object both ends of a resumed pair share. */
const resumedKeys = new WeakMap<Uint8Array, { readonly inputs: string; readonly keys: SessionKeys }>();

/** Message numbers ≥ 50 with a fixed meaning (RFC 4250 §4.1.2); 60–79 are per authentication method. */
const SERVICE_MESSAGE_IDS: ReadonlySet<number> = new Set([50, 51, 52, 53, 80, 81, 82, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100]);

export class Engine {
  readonly role: Role;
  private readonly rng: Rng;
  readonly ourVersion: string;
  peerVersion: string | undefined;
  phase: EnginePhase = 'version';
  sessionId: Uint8Array | undefined;
  negotiated: NegotiatedAlgorithms | undefined;
  /** The server's host key from the last key exchange (both roles). */
  hostKey: PublicKey | undefined;
  /** Strict kex was negotiated in the initial exchange; persists (OpenSSH PROTOCOL, "strict key exchange"). */
  strictKex = false;
  /** Sent (server) or received (client) SSH_MSG_USERAUTH_SUCCESS: starts delayed compression. */
  authenticated = false;
  /** Extensions the peer announced with SSH_MSG_EXT_INFO (RFC 8308). */
  peerExtensions: ReadonlyMap<string, Uint8Array> = new Map();

  readonly algorithms: ResolvedAlgorithms;
  readonly hostKeys: readonly PrivateKey[];
  private readonly opts: EngineOptions;
  private readonly rekeyLimits: { bytes: number; packets: number; seconds: number };
  private readonly maxQueued: number;
  private readonly kexTimeoutMs: number;
  private readonly inQ = new ByteQueue();
  private readonly outQ: Uint8Array[] = [];
  private readonly events: EngineEvent[] = [];
  private eventHead = 0;
  private readonly reader: PacketReader;
  private readonly writer: PacketWriter;
  private readonly versionParser: VersionParser;
  private kex: KexRun | null = null;
  /** Service payloads held while our side is inside a key exchange (RFC 4253 §7.1). */
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  private lastKexAt = 0;
  private cipherRekeyBytes = Infinity;
  private kexStartedAt = 0;
  private now = 0;
  private started = false;
  private packetsReceived = 0;
  private serviceRequested: string | undefined;
  private serviceActive: string | undefined;
  /** Service messages that arrived behind a SERVICE_REQUEST not yet accepted (server). */
  private pipelined: { payload: Uint8Array; seq: number }[] = [];
  private closedWith: SSHError | undefined;
  private compressionPending: { out?: CompressionAlgorithm; in?: CompressionAlgorithm } = {};
  /** Deviation rules installed through `testing` (impl/transport/testing.ts). Empty in reference behaviour. */
  private rules: OutboundRule[] = [];
  private delayed: { payload: Uint8Array; dev?: OutboundDeviation; label: string; after: number }[] = [];
  private kexInitOverride: ((k: Extract<Message, { type: 'SSH_MSG_KEXINIT' }>) => Extract<Message, { type: 'SSH_MSG_KEXINIT' }>) | undefined;
  private testingApi: EngineTesting | undefined;
  private inboundRewrite: InboundRewrite | undefined;
  private outboundRewrite: OutboundRewrite | undefined;
  private relaxed: Relaxations = {};
  /** The first bytes the peer sent while we wait for its identification string, quoted by errors of that phase. */
  private preview: { bytes: Uint8Array; total: number } = { bytes: new Uint8Array(0), total: 0 };
  /**
   * Testing (EngineTesting.holdKexMessages): our kex messages wait here until released one by one; the key
   * switch and everything else that follows our NEWKEYS waits with it (`after`).
   */
  private kexGate: { payload: Uint8Array; after: (() => void)[] }[] | undefined;

  constructor(options: EngineOptions) {
    this.opts = options;
    this.role = options.role;
    this.rng = options.rng ?? ((n) => new Uint8Array(randomBytes(n)));
    this.ourVersion = formatVersion(options.softwareVersion ?? 'ssh_harness_0.1', options.comments);
    const a = options.algorithms ?? {};
    this.hostKeys = options.hostKeys ?? [];
    let hostKeyNames = resolveList('host key', a.hostKey, defaultAlgorithms.hostKey, signatureAlgorithms);
    if (this.role === 'server') {
      // a server offers only algorithms it holds a key for (RFC 4253 §7.1 server_host_key_algorithms)
      hostKeyNames = hostKeyNames.filter((n) => this.hostKeys.some((k) => k.algorithms.includes(n)));
      if (hostKeyNames.length === 0) throw new SSHError('USAGE', 'server has no host key for any offered host key algorithm');
    }
    this.algorithms = {
      kex: resolveList('kex', a.kex, defaultAlgorithms.kex, kexAlgorithms),
      hostKey: hostKeyNames,
      cipher: resolveList('cipher', a.cipher, defaultAlgorithms.cipher, cipherAlgorithms),
      mac: resolveList('mac', a.mac, defaultAlgorithms.mac, macAlgorithms),
      compression: resolveList('compression', a.compression, defaultAlgorithms.compression, compressionAlgorithms),
    };
    const r = options.rekey ?? {};
    this.rekeyLimits = { bytes: r.bytes ?? DEFAULT_REKEY.bytes, packets: r.packets ?? DEFAULT_REKEY.packets, seconds: r.seconds ?? DEFAULT_REKEY.seconds };
    const l = options.limits ?? {};
    const maxPacket = l.maxPacket ?? DEFAULT_MAX_PACKET;
    if (maxPacket < 35000) throw new RangeError('limits.maxPacket: RFC 4253 §6.1 requires at least 35000');
    this.maxQueued = l.maxQueuedDuringKex ?? 8 * 1024 * 1024;
    this.kexTimeoutMs = l.kexTimeoutMs ?? DEFAULT_KEX_TIMEOUT_MS;
    this.reader = new PacketReader(maxPacket, Math.max(DEFAULT_MAX_PAYLOAD, maxPacket));
    this.writer = new PacketWriter(this.rng);
    this.versionParser = new VersionParser(this.role === 'client', l.maxPreBannerLines ?? 64);
    if (options.resume && (options.resume.snapshot.role !== this.role || options.resume.snapshot.ourVersion !== this.ourVersion)) {
      throw new SSHError('USAGE', `resume: a ${options.resume.snapshot.role} snapshot of ${options.resume.snapshot.ourVersion} cannot start this ${this.role}`);
    }
    options.deviations?.(this.testing);
  }

  // ───────────────────────────── inputs ─────────────────────────────

  /** Queues our identification string and our first KEXINIT (both may precede the peer's version). */
  start(now: number): void {
    if (this.started) return;
    this.started = true;
    this.now = now;
    this.lastKexAt = now;
    if (this.opts.resume) { this.guard(() => this.resume(this.opts.resume!.snapshot, this.opts.resume!.secret)); return; }
    this.outQ.push(Buffer.from(this.ourVersion + '\r\n', 'latin1'));
    this.guard(() => this.beginKex(true));
  }

  /**
   * Bytes from the peer. With `transfer` the caller hands `bytes` over: nothing reads them afterwards, so packets
   * may be decrypted in place (the Driver does this with socket reads, whose taps copy during the call).
   */
  receive(bytes: Uint8Array, now: number, transfer = false): void {
    this.now = now;
    if (this.closedWith) return;
    if (!this.started) this.start(now);
    if (this.phase === 'version') this.notePreview(bytes);
    this.inQ.push(bytes, transfer);
    this.guard(() => this.process());
  }

  /** The socket closed under us (TCP FIN/RST without SSH_MSG_DISCONNECT). */
  connectionLost(now: number): void {
    this.now = now;
    if (this.closedWith) return;
    // RFC 4253 §4.2: a peer that closes before its identification string is no SSH peer (or a probe): say what it sent
    if (this.phase === 'version') {
      this.close(new DisconnectError(DisconnectReason.CONNECTION_LOST, 'connection closed before the peer sent its SSH identification string', true, this.preview));
      return;
    }
    const when = this.kex?.initial ? 'connection lost during the initial key exchange' : 'connection lost';
    this.close(new DisconnectError(DisconnectReason.CONNECTION_LOST, when, true));
  }

  handleTimeout(now: number): void {
    this.now = now;
    if (this.closedWith) return;
    this.guard(() => {
      if (this.kex && now - this.kexStartedAt >= this.kexTimeoutMs) {
        if (this.phase === 'version') throw new TimeoutError(`no SSH identification string from the peer within ${this.kexTimeoutMs} ms (RFC 4253 §4.2); ${describePeerBytes(this.preview.bytes, this.preview.total)}`);
        throw new TimeoutError(`key exchange did not complete within ${this.kexTimeoutMs} ms`);
      }
      this.maybeRekey();
    });
  }

  // ───────────────────────────── outputs ─────────────────────────────

  /** Next bytes for the wire, in order; undefined when nothing is pending. */
  pollTransmit(): Uint8Array | undefined {
    return this.outQ.shift();
  }

  /**
   * Hands bytes from pollTransmit() back once they are fully written and nothing reads them (a socket write's
   * callback): the packet buffer is reused. Optional; bytes not given back are garbage-collected as usual.
   */
  recycle(sent: Uint8Array): void {
    this.writer.release(sent);
  }

  pollEvent(): EngineEvent | undefined {
    if (this.eventHead >= this.events.length) return undefined;
    const e = this.events[this.eventHead]!;
    this.events[this.eventHead++] = undefined as unknown as EngineEvent;
    if (this.eventHead > 1024 && this.eventHead * 2 > this.events.length) { this.events.splice(0, this.eventHead); this.eventHead = 0; }
    return e;
  }

  /** Absolute time (same clock as `now`) at which handleTimeout must be called, if any. */
  pollTimeout(): number | undefined {
    if (this.closedWith || !this.started) return undefined;
    if (this.kex) return this.kexStartedAt + this.kexTimeoutMs;
    return this.lastKexAt + this.rekeyLimits.seconds * 1000;
  }

  get isClosed(): boolean { return this.closedWith !== undefined; }
  get closeError(): SSHError | undefined { return this.closedWith; }
  /** sendPayloadParts' join buffer when onPacket borrows payloads (EngineOptions.onPacketBorrows). */
  private joinBuf = new Uint8Array(0);
  /** RFC 4253 §7.1: from our KEXINIT until our NEWKEYS (and before the first exchange) only kex messages go out. */
  private get holdingPayloads(): boolean {
    return this.phase !== 'established' || (this.kex !== null && !this.kex.sentNewKeys) || this.newKeysHeld;
  }

  /** Our NEWKEYS waits in the testing gate: the outbound keys have not switched yet. */
  private get newKeysHeld(): boolean {
    return this.kexGate !== undefined && this.kexGate.some((h) => h.payload[0] === MessageId.NEWKEYS);
  }

  /** Bytes of service payloads held until our NEWKEYS (bounded by limits.maxQueuedDuringKex). */
  get heldPayloadBytes(): number { return this.heldBytes; }
  /** True while a key exchange is running (service payloads are being held). */
  get kexInProgress(): boolean { return this.kex !== null; }

  // ───────────────────────────── commands ─────────────────────────────

  /**
   * Queues a service-layer payload (message number ≥ 50, or IGNORE/DEBUG). Held while our side is inside a key
   * exchange (RFC 4253 §7.1) and sent after our NEWKEYS. Throws after the connection closed.
   */
  sendPayload(payload: Uint8Array): void {
    if (this.closedWith) throw this.closedWith;
    if (payload.length === 0) throw new RangeError('sendPayload: empty payload');
    if (this.holdingPayloads) {
      if (this.heldBytes + payload.length > this.maxQueued) {
        this.fail(new SSHError('LIMIT', `more than ${this.maxQueued} bytes queued during key exchange`, DisconnectReason.BY_APPLICATION));
        return;
      }
      this.held.push(payload);
      this.heldBytes += payload.length;
      return;
    }
    this.guard(() => this.writePayload(payload));
  }

  /**
   * sendPayload(head || body) without joining the two: the bulk-data path (CHANNEL_DATA header + data) copies the
   * data once, into the packet. Falls back to one joined payload whenever anything must see or hold it whole.
   */
  sendPayloadParts(head: Uint8Array, body: Uint8Array): void {
    if (this.closedWith) throw this.closedWith;
    const plain = !this.holdingPayloads && this.rules.length === 0 && this.delayed.length === 0 && !this.outboundRewrite;
    if (!plain || (this.opts.onPacket && !this.opts.onPacketBorrows)) { this.sendPayload(Buffer.concat([head, body])); return; }
    if (this.opts.onPacket) {
      // the observer reads the payload only during the call: join into a reused buffer, not a new one per packet
      const n = head.length + body.length;
      if (this.joinBuf.length < n) this.joinBuf = new Uint8Array(Math.max(n, this.joinBuf.length * 2));
      const joined = this.joinBuf.subarray(0, n);
      joined.set(head);
      joined.set(body, head.length);
      this.guard(() => this.writePayload(joined));
      return;
    }
    this.guard(() => {
      this.outQ.push(this.writer.write(head, undefined, body));
      this.maybeRekey();
    });
  }

  sendMessage(m: Message): void {
    this.sendPayload(encodeMessage(m));
  }

  /** Client: SSH_MSG_SERVICE_REQUEST (RFC 4253 §10); 'serviceAccept' follows. */
  requestService(service: string): void {
    if (this.role !== 'client') throw new SSHError('USAGE', 'requestService is a client command');
    this.serviceRequested = service;
    this.sendMessage({ type: 'SSH_MSG_SERVICE_REQUEST', service });
  }

  /** Server: answers a 'serviceRequest' event with SSH_MSG_SERVICE_ACCEPT (RFC 4253 §10). */
  acceptService(service: string): void {
    if (this.role !== 'server') throw new SSHError('USAGE', 'acceptService is a server command');
    if (this.serviceRequested !== service) throw new SSHError('USAGE', `no pending request for service ${JSON.stringify(service)}`);
    this.serviceActive = service;
    this.serviceRequested = undefined;
    this.sendMessage({ type: 'SSH_MSG_SERVICE_ACCEPT', service });
    const pipelined = this.pipelined;
    this.pipelined = [];
    for (const p of pipelined) this.emit({ type: 'payload', payload: p.payload, seq: p.seq });
  }

  /** Starts a key re-exchange now (RFC 4253 §9); a no-op while one is running. */
  rekey(): void {
    if (this.closedWith) throw this.closedWith;
    if (this.phase !== 'established' || this.kex) return;
    this.guard(() => this.beginKex(false));
  }

  /** Sends SSH_MSG_DISCONNECT (RFC 4253 §11.1) and closes. */
  disconnect(reason: number = DisconnectReason.BY_APPLICATION, description = ''): void {
    if (this.closedWith) return;
    this.sendDisconnect(reason, description);
    this.close(new DisconnectError(reason, description, false));
  }

  /** The documented deviation interface for the harness (impl/transport/testing.ts; public only via impl/testing.ts). */
  get testing(): EngineTesting {
    return (this.testingApi ??= new EngineTesting(this.surface()));
  }

  // ───────────────────────────── processing ─────────────────────────────

  private notePreview(bytes: Uint8Array): void {
    const p = this.preview;
    if (p.bytes.length < PEER_PREVIEW_BYTES) {
      const add = bytes.subarray(0, PEER_PREVIEW_BYTES - p.bytes.length);
      const next = new Uint8Array(p.bytes.length + add.length);
      next.set(p.bytes);
      next.set(add, p.bytes.length);
      p.bytes = next;
    }
    p.total += bytes.length;
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.fail(err);
    }
  }

  private process(): void {
    if (this.phase === 'version') {
      let v;
      try {
        v = this.versionParser.parse(this.inQ);
      } catch (e) {
        // too long a line, too many lines: garbage or another protocol, quote what it was
        if (e instanceof LimitError) throw new LimitError(`${e.message}; ${describePeerBytes(this.preview.bytes, this.preview.total)}`, e.reason);
        throw e;
      }
      if (!v) return;
      this.peerVersion = v.version;
      this.emit({ type: 'version', version: v.version, preBanner: v.preBanner });
      this.phase = 'kex';
    }
    while (!this.closedWith) {
      const pkt = this.reader.read(this.inQ);
      if (!pkt) return;
      this.handlePacket(pkt.payload, pkt.seq);
    }
  }

  private handlePacket(payload: Uint8Array, seq: number): void {
    this.packetsReceived++;
    this.opts.onPacket?.({ direction: 'in', seq, payload });
    if (this.inboundRewrite) {
      const p = this.inboundRewrite(payload, seq);
      if (p === undefined || p.length === 0) return; // testing: dropped on purpose
      payload = p;
    }
    const id = payload[0]!;
    const kex = this.kex;
    const checks = this.relaxed.skipStateChecks !== true;
    // OpenSSH PROTOCOL "strict key exchange": during the initial kex only kex messages are allowed, IGNORE/DEBUG included
    if (checks && kex?.initial && kex.strict && !kex.receivedNewKeys && id !== MessageId.DISCONNECT && !(id >= 20 && id <= 49)) {
      throw new ProtocolError(`strict KEX violation: message ${id} during the initial key exchange`, ['kex messages'], String(id));
    }
    if (id < 50) return this.handleTransportMessage(id, payload, seq);
    // OpenSSH PROTOCOL "ping@openssh.com": SSH2_MSG_PING(192) is answered with SSH2_MSG_PONG(193) echoing its data,
    // once the first key exchange is done; before that, or when it does not parse, it is an unknown message like any other
    if (id === PING_MESSAGE && this.phase === 'established' && this.answerPing(payload)) return;
    if (checks) {
      // RFC 4253 §7.1: between the peer's KEXINIT and its NEWKEYS only transport and kex messages may come
      if (kex && kex.peerKexInit && !kex.receivedNewKeys) throw new ProtocolError(`message ${id} during key exchange (RFC 4253 §7.1)`, ['kex messages'], String(id));
      if (this.phase !== 'established') throw new ProtocolError(`message ${id} before the first key exchange completed (RFC 4253 §7)`, ['SSH_MSG_KEXINIT'], String(id));
      if (this.serviceActive === undefined) {
        // RFC 4253 §11.4: a number no service defines is unimplemented, whatever the state
        if (!SERVICE_MESSAGE_IDS.has(id) && !(id >= 60 && id <= 79)) { this.writeTransport({ type: 'SSH_MSG_UNIMPLEMENTED', seq }); return; }
        // a client may pipeline its first service messages behind SERVICE_REQUEST (dbclient sends USERAUTH_REQUEST
        // at once): hold them, bounded, until the application accepts the service
        if (this.role === 'server' && this.serviceRequested !== undefined) {
          if (this.pipelined.length >= 16) throw new LimitError('more than 16 messages pipelined behind SSH_MSG_SERVICE_REQUEST');
          this.pipelined.push({ payload, seq });
          return;
        }
        throw new ProtocolError(`message ${id} before any service was accepted (RFC 4253 §10)`, ['SSH_MSG_SERVICE_REQUEST'], String(id));
      }
    }
    if (id === MessageId.USERAUTH_SUCCESS && this.role === 'client') this.onAuthenticated();
    this.emit({ type: 'payload', payload, seq });
    this.maybeRekey();
  }

  private handleTransportMessage(id: number, payload: Uint8Array, seq: number): void {
    switch (id) {
      case MessageId.DISCONNECT: {
        const m = decodeMessage(payload);
        if (m.type !== 'SSH_MSG_DISCONNECT') throw new ProtocolError('bad SSH_MSG_DISCONNECT');
        this.close(new DisconnectError(m.reason, m.description, true));
        return;
      }
      case MessageId.IGNORE:
        decodeMessage(payload); // malformed IGNORE is still a decode error
        return;
      case MessageId.UNIMPLEMENTED:
      case MessageId.NEWCOMPRESS:
        decodeMessage(payload);
        return;
      case MessageId.DEBUG: {
        const m = decodeMessage(payload);
        if (m.type === 'SSH_MSG_DEBUG') this.emit({ type: 'debug', message: m.message, alwaysDisplay: m.alwaysDisplay });
        return;
      }
      case MessageId.SERVICE_REQUEST: {
        this.requireEstablished(id);
        if (this.role !== 'server') throw new ProtocolError('SSH_MSG_SERVICE_REQUEST sent to a client (RFC 4253 §10)');
        const m = decodeMessage(payload);
        if (m.type !== 'SSH_MSG_SERVICE_REQUEST') throw new ProtocolError('bad SSH_MSG_SERVICE_REQUEST');
        this.serviceRequested = m.service;
        this.emit({ type: 'serviceRequest', service: m.service });
        return;
      }
      case MessageId.SERVICE_ACCEPT: {
        this.requireEstablished(id);
        const m = decodeMessage(payload);
        if (m.type !== 'SSH_MSG_SERVICE_ACCEPT') throw new ProtocolError('bad SSH_MSG_SERVICE_ACCEPT');
        if (this.role !== 'client' || this.serviceRequested !== m.service) {
          throw new ProtocolError(`unexpected SSH_MSG_SERVICE_ACCEPT for ${JSON.stringify(m.service)} (RFC 4253 §10)`, ['SSH_MSG_SERVICE_ACCEPT for the requested service']);
        }
        this.serviceActive = m.service;
        this.emit({ type: 'serviceAccept', service: m.service });
        return;
      }
      case MessageId.EXT_INFO: {
        // RFC 8308 §2.4: only after NEWKEYS, and only if we signalled support
        if (this.sessionId === undefined) throw new ProtocolError('SSH_MSG_EXT_INFO before the first NEWKEYS (RFC 8308 §2.4)');
        const m = decodeMessage(payload);
        if (m.type !== 'SSH_MSG_EXT_INFO') throw new ProtocolError('bad SSH_MSG_EXT_INFO');
        const map = new Map(m.extensions.map((e) => [e.name, e.value] as const));
        this.peerExtensions = map;
        this.emit({ type: 'extInfo', extensions: map });
        return;
      }
      case MessageId.KEXINIT:
        this.onKexInit(payload, seq);
        return;
      case MessageId.NEWKEYS:
        if (!this.kex) throw new ProtocolError('SSH_MSG_NEWKEYS outside a key exchange (RFC 4253 §7.3)', ['SSH_MSG_KEXINIT'], 'SSH_MSG_NEWKEYS');
        this.kex.onNewKeys(payload);
        return;
      default:
        if (id >= 30 && id <= 49 && this.kex && this.kex.peerKexInit) {
          this.kex.onMethodMessage(payload);
          return;
        }
        if (this.kex?.initial && this.kex.peerKexInit && !this.kex.receivedNewKeys) {
          throw new ProtocolError(`unexpected message ${id} during the initial key exchange (RFC 4253 §7.1)`);
        }
        // RFC 4253 §11.4: unrecognized messages get SSH_MSG_UNIMPLEMENTED with their sequence number
        this.writeTransport({ type: 'SSH_MSG_UNIMPLEMENTED', seq });
    }
  }

  private requireEstablished(id: number): void {
    if (this.relaxed.skipStateChecks) return;
    if (this.phase !== 'established' || (this.kex?.peerKexInit && !this.kex.receivedNewKeys)) {
      throw new ProtocolError(`message ${id} not allowed during key exchange (RFC 4253 §7.1)`);
    }
  }

  private onKexInit(payload: Uint8Array, seq: number): void {
    if (this.kex?.peerKexInit) throw new ProtocolError('second SSH_MSG_KEXINIT during a key exchange (RFC 4253 §7.1)', ['kex method messages'], 'SSH_MSG_KEXINIT');
    if (this.phase !== 'kex' && !this.kex) this.beginKex(false); // the peer starts a re-exchange (RFC 4253 §9)
    this.kex!.onPeerKexInit(payload, seq, this.packetsReceived === 1);
  }

  private beginKex(initial: boolean): void {
    this.kexStartedAt = this.now;
    const kexList = [...this.algorithms.kex];
    if (initial) {
      // pseudo-algorithms are sent in the initial KEXINIT only (RFC 8308 §2.1; OpenSSH PROTOCOL strict kex)
      if (this.opts.extInfo !== false) kexList.push(this.role === 'client' ? EXT_INFO_C : EXT_INFO_S);
      if (this.opts.strictKex !== false) kexList.push(this.role === 'client' ? STRICT_KEX_C : STRICT_KEX_S);
    }
    let ours: Extract<Message, { type: 'SSH_MSG_KEXINIT' }> = {
      type: 'SSH_MSG_KEXINIT',
      cookie: this.rng(16),
      kexAlgorithms: kexList,
      serverHostKeyAlgorithms: this.algorithms.hostKey,
      encryptionC2S: this.algorithms.cipher, encryptionS2C: this.algorithms.cipher,
      macC2S: this.algorithms.mac, macS2C: this.algorithms.mac,
      compressionC2S: this.algorithms.compression, compressionS2C: this.algorithms.compression,
      languagesC2S: [], languagesS2C: [],
      firstKexPacketFollows: false,
      reserved: 0,
    };
    if (this.kexInitOverride) ours = this.kexInitOverride(ours);
    const oursPayload = encodeMessage(ours);
    this.kex = new KexRun(this.kexHost(), initial, ours, oursPayload);
    this.writeKex(oursPayload);
  }

  /** The narrow view of the engine that one key exchange run needs. */
  private kexHost(): KexHost {
    return {
      role: this.role,
      rng: this.rng,
      ourVersion: this.ourVersion,
      peerVersion: () => this.peerVersion ?? '',
      sessionId: () => this.sessionId,
      hostKeys: this.hostKeys,
      verifyHostKey: this.opts.verifyHostKey,
      extInfo: this.opts.extInfo !== false,
      send: (m) => this.writeKex(encodeMessage(m)),
      installOutbound: (sealer, compression) => this.afterKexSend(() => {
        if (this.strictKex) this.writer.seq = 0; // strict kex: reset after sending NEWKEYS
        this.installOutbound(sealer, compression);
      }),
      installInbound: (opener, compression) => {
        if (this.strictKex) this.reader.seq = 0; // strict kex: reset after receiving NEWKEYS
        this.installInbound(opener, compression);
      },
      afterOurNewKeys: (initial, peerWantsExtInfo) => this.afterKexSend(() => {
        if (initial && this.role === 'server' && peerWantsExtInfo && this.opts.extInfo !== false) this.sendServerSigAlgs();
        this.flushHeld();
      }),
      done: (algs, hostKey, initial, secrets) => this.finishKex(algs, hostKey, initial, secrets),
      setSessionId: (h) => { this.sessionId ??= h; },
      setStrict: () => { this.strictKex = true; },
      gexGroup: (min, n, max) => serverGexGroup(this.opts.gexGroups ?? [], min, n, max, { rng: this.rng }),
      makeSealer, makeOpener,
    };
  }

  private installOutbound(sealer: Sealer, compression: CompressionAlgorithm | undefined): void {
    this.writer.sealer = sealer;
    this.writer.packetsSinceKex = 0;
    this.writer.bytesSinceKex = 0;
    this.setCompression('out', compression);
  }

  private installInbound(opener: Opener, compression: CompressionAlgorithm | undefined): void {
    this.reader.opener = this.relaxed.ignoreBadMac ? macIgnoringOpener(opener) : opener;
    this.reader.packetsSinceKex = 0;
    this.reader.bytesSinceKex = 0;
    this.setCompression('in', compression);
  }

  private finishKex(algs: NegotiatedAlgorithms, hostKey: PublicKey, initial: boolean, secrets: KexSecrets): void {
    this.kex = null;
    this.established(algs, hostKey);
    // payloads queued after our NEWKEYS but before the peer's (initial kex: phase was still 'kex') go out now
    if (this.held.length > 0 && !this.newKeysHeld) this.flushHeld();
    this.opts.onKeys?.(secrets);
    this.emit({ type: 'kexDone', algorithms: algs, initial, hostKey });
  }

  private established(algs: NegotiatedAlgorithms, hostKey: PublicKey): void {
    this.negotiated = algs;
    this.hostKey = hostKey;
    // RFC 4344 §3.2: 64-bit block ciphers must rekey after 2^(L/4) blocks; the cipher declares its own bound
    this.cipherRekeyBytes = Math.min(cipherAlgorithms.get(algs.cipherC2S)?.rekeyBytes ?? Infinity, cipherAlgorithms.get(algs.cipherS2C)?.rekeyBytes ?? Infinity);
    this.phase = 'established';
    this.lastKexAt = this.now;
  }

  /**
   * EngineOptions.resume: the state of `snap`, with keys drawn from SHAKE256(secret ‖ session id); then the
   * events a real initial exchange would have given (and serviceAccept, for a client past it).
   */
  private resume(snap: EstablishedSnapshot, secret: Uint8Array): void {
    const algs = snap.negotiated;
    const cC2S = cipherAlgorithms.get(algs.cipherC2S);
    const cS2C = cipherAlgorithms.get(algs.cipherS2C);
    const mC2S = algs.macC2S === 'none' ? null : macAlgorithms.get(algs.macC2S);
    const mS2C = algs.macS2C === 'none' ? null : macAlgorithms.get(algs.macS2C);
    if (!cC2S || !cS2C || mC2S === undefined || mS2C === undefined) throw new SSHError('USAGE', 'resume: the snapshot names algorithms this build lacks');
    // the two ends of a pair are given one secret object: the second derives nothing (same inputs, same keys)
    const inputs = `${algs.kex} ${algs.cipherC2S} ${algs.cipherS2C} ${algs.macC2S} ${algs.macS2C} ${Buffer.from(snap.sessionId).toString('base64')}`;
    const cached = resumedKeys.get(secret);
    let keys = cached?.inputs === inputs ? cached.keys : undefined;
    if (!keys) {
      // all six keys from one SHAKE256 call: a resumed pair is ours at both ends, so it needs keys that are
      // fresh and shared, not RFC 4253 §7.2's derivation (four to eight hash calls)
      const sizes = [cC2S.ivLen, cS2C.ivLen, cC2S.keyLen, cS2C.keyLen, mC2S?.keyLen ?? 0, mS2C?.keyLen ?? 0];
      const out = createHash('shake256', { outputLength: sizes.reduce((a, b) => a + b, 0) }).update(secret).update(snap.sessionId).digest();
      const at = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
      const part = (i: number): Uint8Array => Uint8Array.from(out.subarray(at[i]!, at[i]! + sizes[i]!));
      keys = { c2s: { iv: part(0), encKey: part(2), macKey: part(4) }, s2c: { iv: part(1), encKey: part(3), macKey: part(5) } };
      resumedKeys.set(secret, { inputs, keys });
    }
    const client = this.role === 'client';
    this.peerVersion = snap.peerVersion;
    this.sessionId = Uint8Array.from(snap.sessionId); // one snapshot starts many engines: none shares its bytes
    this.strictKex = snap.strictKex;
    this.peerExtensions = new Map(snap.peerExtensions);
    this.packetsReceived = snap.packetsReceived;
    this.serviceActive = snap.service;
    if (this.role === 'client') this.serviceRequested = snap.service; // what it had asked for, as after a real accept
    this.authenticated = snap.authenticated; // before the installs: delayed compression starts with it
    this.installOutbound(client ? makeSealer(cC2S, mC2S, keys.c2s) : makeSealer(cS2C, mS2C, keys.s2c), compressionAlgorithms.get(client ? algs.compressionC2S : algs.compressionS2C));
    this.installInbound(client ? makeOpener(cS2C, mS2C, keys.s2c) : makeOpener(cC2S, mC2S, keys.c2s), compressionAlgorithms.get(client ? algs.compressionS2C : algs.compressionC2S));
    this.writer.seq = snap.seqOut;
    this.reader.seq = snap.seqIn;
    this.established(algs, snap.hostKey);
    this.emit({ type: 'version', version: snap.peerVersion, preBanner: [] });
    this.emit({ type: 'kexDone', algorithms: algs, initial: true, hostKey: snap.hostKey });
    if (snap.peerExtensions.size > 0) this.emit({ type: 'extInfo', extensions: snap.peerExtensions });
    // a client application learns of its service from this event; a server's accepted it before the snapshot
    if (snap.service !== undefined && this.role === 'client') this.emit({ type: 'serviceAccept', service: snap.service });
  }

  /**
   * RFC 8308 §3.1: server-sig-algs lists every signature algorithm we accept for user authentication; OpenSSH
   * PROTOCOL "ping@openssh.com" (version "0") says we answer SSH2_MSG_PING.
   */
  private sendServerSigAlgs(): void {
    const names = defaultAlgorithms.hostKey;
    this.writeTransport({ type: 'SSH_MSG_EXT_INFO', extensions: [
      { name: 'server-sig-algs', value: Buffer.from(names.join(','), 'latin1') },
      { name: 'ping@openssh.com', value: Buffer.from('0', 'latin1') },
      // OpenSSH PROTOCOL §3.1: the auth layer takes publickey-hostbound-v00@openssh.com
      { name: 'publickey-hostbound@openssh.com', value: Buffer.from('0', 'latin1') },
    ] });
  }

  /** SSH2_MSG_PING: `byte 192 || string data` → `byte 193 || string data`. False when it does not parse (then: UNIMPLEMENTED, RFC 4253 §11.4). */
  private answerPing(payload: Uint8Array): boolean {
    let data: Uint8Array;
    try {
      const r = new Reader(payload.subarray(1));
      data = r.string('ping data');
      r.end('SSH2_MSG_PING');
    } catch {
      return false;
    }
    this.writeRaw(new Writer(data.length + 5).byte(PING_MESSAGE + 1).string(data).finish());
    return true;
  }

  private setCompression(dir: 'in' | 'out', alg: CompressionAlgorithm | undefined): void {
    if (!alg || alg.name === 'none') {
      if (dir === 'out') this.writer.compressor = null; else this.reader.decompressor = null;
      return;
    }
    // zlib@openssh.com waits for USERAUTH_SUCCESS (OpenSSH PROTOCOL §2.1)
    if (alg.delayed && !this.authenticated) { this.compressionPending[dir] = alg; return; }
    // RFC 4253 §6.2: "The compression context is initialized after each key exchange": a fresh stream at every
    // NEWKEYS, as OpenSSH and Dropbear do (continuing the old one across a rekey broke on their first packet)
    if (dir === 'out') this.writer.compressor = alg.compressor(); else this.reader.decompressor = alg.decompressor();
  }

  private onAuthenticated(): void {
    if (this.authenticated) return;
    this.authenticated = true;
    const p = this.compressionPending;
    this.compressionPending = {};
    if (p.out) this.setCompression('out', p.out);
    if (p.in) this.setCompression('in', p.in);
  }

  private flushHeld(): void {
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    for (const p of held) this.writePayload(p);
  }

  private maybeRekey(): void {
    if (this.phase !== 'established' || this.kex || this.closedWith) return;
    const w = this.writer;
    const r = this.reader;
    const l = this.rekeyLimits;
    const bytes = Math.min(l.bytes, this.cipherRekeyBytes);
    // RFC 4344 §3: rekey after a volume of data, a number of packets, or an amount of time
    if (w.bytesSinceKex >= bytes || r.bytesSinceKex >= bytes || w.packetsSinceKex >= l.packets || r.packetsSinceKex >= l.packets
      || this.now - this.lastKexAt >= l.seconds * 1000) {
      this.beginKex(false);
    }
  }

  // ───────────────────────────── writing ─────────────────────────────

  private writeTransport(m: Message): void {
    this.writeRaw(encodeMessage(m));
  }

  /** Our KEXINIT, kex-method messages and NEWKEYS: sent now, or held while the testing gate is on. */
  private writeKex(payload: Uint8Array): void {
    if (this.kexGate) this.kexGate.push({ payload, after: [] });
    else this.writeRaw(payload);
  }

  /** What must follow a kex message we sent (the key switch after NEWKEYS) waits for that message to leave. */
  private afterKexSend(fn: () => void): void {
    const last = this.kexGate?.[this.kexGate.length - 1];
    if (last) last.after.push(fn);
    else fn();
  }

  /** Sends the oldest held kex message (with number `id`, when given) and what waited for it; false if none. */
  private releaseKex(id: number | undefined): boolean {
    const gate = this.kexGate;
    const i = gate ? gate.findIndex((h) => id === undefined || h.payload[0] === id) : -1;
    if (!gate || i < 0) return false;
    const [h] = gate.splice(i, 1);
    this.guard(() => {
      this.writeRaw(h!.payload);
      for (const fn of h!.after) fn();
    });
    return true;
  }

  /** Service payload path: deviation rules apply here, then packet framing. */
  private writePayload(payload: Uint8Array): void {
    this.writeRaw(payload);
    if (this.role === 'server' && payload[0] === MessageId.USERAUTH_SUCCESS) this.onAuthenticated();
    this.maybeRekey();
  }

  /** Frames one payload with the current outbound keys, applying any matching deviation rule. */
  private writeRaw(payload: Uint8Array, label?: string): void {
    if (this.outboundRewrite) {
      const p = this.outboundRewrite(payload);
      if (p === undefined || p.length === 0) { this.opts.onPacket?.({ direction: 'out', seq: -1, payload, deviation: 'dropped by rewrite' }); return; }
      if (p !== payload) label = 'rewritten';
      payload = p;
    }
    let dev: OutboundDeviation | undefined;
    if (this.rules.length > 0) {
      const i = this.rules.findIndex((r) => r.id === undefined || r.id === payload[0]);
      if (i >= 0) {
        const rule = this.rules[i]!;
        this.rules.splice(i, 1);
        if (rule.action === 'skip') { this.opts.onPacket?.({ direction: 'out', seq: -1, payload, deviation: 'skipped' }); return; }
        if (rule.action === 'delay') { this.delayed.push({ payload, label: 'delayed', after: rule.after ?? 1 }); return; }
        if (rule.action === 'duplicate') { this.emitPacket(payload, undefined, 'duplicate (original)'); this.emitPacket(payload, undefined, 'duplicate'); return; }
        dev = rule.deviation;
        label = rule.label;
      }
    }
    this.emitPacket(payload, dev, label);
  }

  private emitPacket(payload: Uint8Array, dev: OutboundDeviation | undefined, label: string | undefined): void {
    const seq = this.writer.seq;
    this.opts.onPacket?.({ direction: 'out', seq, payload, ...(label ? { deviation: label } : {}) });
    this.outQ.push(this.writer.write(payload, dev));
    if (this.delayed.length > 0) this.releaseDelayed();
  }

  /** Packets held by a 'delay' rule go out once `after` later packets have been sent (reordering). */
  private releaseDelayed(): void {
    const ready = this.delayed.filter((d) => --d.after < 0);
    if (ready.length === 0) return;
    this.delayed = this.delayed.filter((d) => d.after >= 0);
    for (const d of ready) this.emitPacket(d.payload, d.dev, 'reordered');
  }

  private sendDisconnect(reason: number, description: string): void {
    try {
      this.writeRaw(encodeMessage({ type: 'SSH_MSG_DISCONNECT', reason, description, language: '' }));
    } catch {
      // the outbound keys may be unusable; closing still proceeds
    }
  }

  // ───────────────────────────── closing ─────────────────────────────

  private fail(err: unknown): void {
    if (this.closedWith) return;
    const e = err instanceof SSHError ? err : new ProtocolError(`internal error: ${err instanceof Error ? err.message : String(err)}`);
    if (this.started && this.phase !== 'version') this.sendDisconnect(e.reason, e.message.slice(0, 200));
    this.close(e);
  }

  private close(e: SSHError): void {
    this.closedWith = e;
    this.phase = 'closed';
    this.kex = null;
    this.held = [];
    // nothing more is read: the chunk we closed on (up to a socket read of megabytes) need not live on with us
    this.inQ.clear();
    this.emit({ type: 'closed', error: e });
  }

  private emit(e: EngineEvent): void {
    this.events.push(e);
  }

  // ───────────────────────────── testing surface ─────────────────────────────

  private snapshot(): EstablishedSnapshot {
    // a server clears its pending request when it accepts; a client keeps the name it asked for
    const servicePending = this.serviceRequested !== undefined && (this.role === 'server' || this.serviceActive === undefined);
    const atRest = this.phase === 'established' && !this.kex && this.held.length === 0 && this.inQ.length === 0 && this.outQ.length === 0
      && this.rules.length === 0 && this.delayed.length === 0 && !servicePending && this.pipelined.length === 0
      && this.sessionId !== undefined && this.negotiated !== undefined && this.hostKey !== undefined && this.peerVersion !== undefined;
    if (!atRest) throw new SSHError('USAGE', 'snapshot: only at rest after the initial key exchange (established, nothing queued, no kex or service request pending)');
    // a running compression stream is not carried over: both ends of a resumed pair start fresh ones, in step
    return {
      role: this.role, ourVersion: this.ourVersion, peerVersion: this.peerVersion!, sessionId: this.sessionId!.slice(), negotiated: this.negotiated!,
      hostKey: this.hostKey!, strictKex: this.strictKex, peerExtensions: new Map(this.peerExtensions), seqIn: this.reader.seq, seqOut: this.writer.seq,
      packetsReceived: this.packetsReceived, service: this.serviceActive, authenticated: this.authenticated,
    };
  }

  private surface(): TestingSurface {
    return {
      sendRawPayload: (payload, dev, label) => this.emitPacket(payload, dev, label ?? 'raw payload'),
      sendRawPayloadWithRules: (payload, label) => this.writeRaw(payload, label),
      sendRawBytes: (bytes) => { this.outQ.push(bytes); },
      addRule: (rule) => { this.rules.push(rule); },
      setKexInitOverride: (fn) => { this.kexInitOverride = fn; },
      inspect: () => ({
        role: this.role,
        phase: this.phase,
        seqIn: this.reader.seq,
        seqOut: this.writer.seq,
        sessionId: this.sessionId,
        negotiated: this.negotiated,
        strictKex: this.strictKex,
        kexInProgress: this.kex !== null,
        authenticated: this.authenticated,
        heldPayloads: this.held.length,
        bufferedInbound: this.inQ.length,
        bytesSinceKex: { in: this.reader.bytesSinceKex, out: this.writer.bytesSinceKex },
      }),
      snapshot: () => this.snapshot(),
      forceRekey: () => this.beginKex(false),
      setInboundRewrite: (fn) => { this.inboundRewrite = fn; },
      setOutboundRewrite: (fn) => { this.outboundRewrite = fn; },
      setRelaxations: (r) => { this.relaxed = { ...r }; },
      setKexGate: (on) => {
        if (on) { this.kexGate ??= []; return; }
        while (this.kexGate?.length) this.releaseKex(undefined);
        this.kexGate = undefined;
      },
      releaseKex: (id) => this.releaseKex(id),
      heldKex: () => (this.kexGate ?? []).map((h) => h.payload[0]!),
    };
  }
}

/** OpenSSH PROTOCOL "ping@openssh.com": SSH2_MSG_PING; SSH2_MSG_PONG is the next number. */
const PING_MESSAGE = 192;

/** `padding_length || SSH_MSG_IGNORE (empty string) || padding`: what a relaxed opener hands back for a bad packet. */
const IGNORE_BODY = Uint8Array.of(4, MessageId.IGNORE, 0, 0, 0, 0, 0, 0, 0, 0);

/** Testing only (Relaxations.ignoreBadMac): a packet that fails authentication becomes an IGNORE instead of an error. */
function macIgnoringOpener(inner: Opener): Opener {
  return {
    blockSize: inner.blockSize, lengthExcluded: inner.lengthExcluded, macLen: inner.macLen, headerLen: inner.headerLen,
    packetLength: (seq, header) => inner.packetLength(seq, header),
    open: (seq, wire) => {
      try {
        return inner.open(seq, wire);
      } catch (e) {
        if (e instanceof MacError) return IGNORE_BODY.slice();
        throw e;
      }
    },
  };
}
