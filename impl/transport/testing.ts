/**
 * The deviation interface of the engine: how the harness makes our implementation misbehave
 * on purpose, without monkey-patching. The reference behaviour never uses any of this.
 *
 *   const t = engine.testing;
 *   t.sendRawPayload(Uint8Array.of(94, ...))      // a message out of state, framed with the current keys
 *   t.sendRawBytes(garbage)                       // bytes straight onto the wire
 *   t.corruptNext({ id: 94, mac: true })          // flip a MAC/tag bit of the next CHANNEL_DATA packet
 *   t.corruptNext({ padding: 2 })                 // padding_length < 4 (RFC 4253 §6)
 *   t.corruptNext({ packetLength: 0xffffffff })   // rewrite packet_length on the wire
 *   t.corruptNext({ seqOffset: 1 })               // seal with a wrong sequence number
 *   t.skipNext(21); t.duplicateNext(2); t.delayNext(5, 1)   // skip / duplicate / reorder
 *   t.setKexInitOverride((k) => ({ ...k, kexAlgorithms: ['nope'] }))
 *   t.inspect()                                   // phase, sequence numbers, session id, negotiated algorithms
 *   t.snapshot()                                  // at rest after the first kex: what EngineOptions.resume forks from
 *   t.rewriteInbound((p) => p)                    // see/replace/drop every payload we receive, before any rule runs
 *   t.rewriteOutbound((p) => p)                   // see/replace/drop every payload we send, before framing
 *   t.relax({ ignoreBadMac: true })               // receive-side leniency, for deliberately broken peers
 *   t.holdKexMessages(true); t.releaseKex(30)     // our kex messages leave one at a time, when told (state learning)
 *
 * Hooks that must be in place before the first KEXINIT goes out (e.g. inside a Transport) are installed with
 * the `deviations` engine option, which is called with this object from the engine's constructor.
 */
import type { Message } from '../messages/index.js';
import type { OutboundDeviation } from './packet-writer.js';
import type { PublicKey } from '../crypto/types.js';
import type { EnginePhase, NegotiatedAlgorithms, Role } from './types.js';

type KexInit = Extract<Message, { type: 'SSH_MSG_KEXINIT' }>;

/** A one-shot rule applied to the next outbound packet whose message number is `id` (any when undefined). */
export type OutboundRule =
  | { readonly id?: number; readonly action: 'skip' }
  | { readonly id?: number; readonly action: 'duplicate' }
  | { readonly id?: number; readonly action: 'delay'; readonly after?: number }
  | { readonly id?: number; readonly action: 'deviate'; readonly deviation: OutboundDeviation; readonly label: string };

/** Returns the payload to process/send instead (the same one to pass it through), or undefined to drop it. */
export type InboundRewrite = (payload: Uint8Array, seq: number) => Uint8Array | undefined;
export type OutboundRewrite = (payload: Uint8Array) => Uint8Array | undefined;

/**
 * Receive-side leniency that no correct implementation has. The harness uses it to build deliberately broken
 * peers whose faults the conformance suite must find; the reference behaviour never relaxes anything.
 */
export interface Relaxations {
  /** A packet whose MAC/tag fails is dropped silently (as if it were SSH_MSG_IGNORE) instead of ending the connection. */
  readonly ignoreBadMac?: boolean;
  /**
   * Service messages are accepted before the first key exchange, between KEXINIT and NEWKEYS and before a
   * service was accepted (RFC 4253 §7.1, §10), and strict kex's "only kex messages" rule is not enforced.
   */
  readonly skipStateChecks?: boolean;
}

export interface EngineState {
  readonly role: Role;
  readonly phase: EnginePhase;
  readonly seqIn: number;
  readonly seqOut: number;
  readonly sessionId: Uint8Array | undefined;
  readonly negotiated: NegotiatedAlgorithms | undefined;
  readonly strictKex: boolean;
  readonly kexInProgress: boolean;
  readonly authenticated: boolean;
  readonly heldPayloads: number;
  readonly bufferedInbound: number;
  readonly bytesSinceKex: { readonly in: number; readonly out: number };
}

/**
 * One end of a connection at rest after its initial key exchange, as `EngineOptions.resume` needs it to start
 * a new engine in the same state: what was negotiated and learned, the service and authentication state, and
 * where the sequence numbers stand. The keys are not in it: a resumed pair derives its own from a secret both
 * ends are given.
 */
export interface EstablishedSnapshot {
  readonly role: Role;
  readonly ourVersion: string;
  readonly peerVersion: string;
  readonly sessionId: Uint8Array;
  readonly negotiated: NegotiatedAlgorithms;
  readonly hostKey: PublicKey;
  readonly strictKex: boolean;
  readonly peerExtensions: ReadonlyMap<string, Uint8Array>;
  readonly seqIn: number;
  readonly seqOut: number;
  readonly packetsReceived: number;
  /** The accepted service (RFC 4253 §10), if any. */
  readonly service: string | undefined;
  /** USERAUTH_SUCCESS was sent (server) or received (client): delayed compression runs. */
  readonly authenticated: boolean;
}

/** What the engine exposes to EngineTesting (internal). */
export interface TestingSurface {
  sendRawPayload(payload: Uint8Array, dev?: OutboundDeviation, label?: string): void;
  /** Like sendRawPayload, but through the outbound rewrite and the pending rules (skip/duplicate/delay/corrupt). */
  sendRawPayloadWithRules(payload: Uint8Array, label: string): void;
  sendRawBytes(bytes: Uint8Array): void;
  addRule(rule: OutboundRule): void;
  setKexInitOverride(fn: ((k: KexInit) => KexInit) | undefined): void;
  inspect(): EngineState;
  snapshot(): EstablishedSnapshot;
  forceRekey(): void;
  setInboundRewrite(fn: InboundRewrite | undefined): void;
  setOutboundRewrite(fn: OutboundRewrite | undefined): void;
  setRelaxations(r: Relaxations): void;
  setKexGate(on: boolean): void;
  releaseKex(id: number | undefined): boolean;
  heldKex(): number[];
}

export interface Corruption {
  /** Only the next packet with this message number (any packet when omitted). */
  readonly id?: number;
  /** Flip one bit of the MAC/tag (the last byte on the wire). */
  readonly mac?: boolean;
  /** Use this padding_length (may violate the 4..255 and alignment rules of RFC 4253 §6). */
  readonly padding?: number;
  /** Overwrite the 4 packet_length bytes on the wire (meaningful when the length travels in clear). */
  readonly packetLength?: number;
  /** Seal with seq + offset: the peer's MAC/AEAD check must fail. */
  readonly seqOffset?: number;
  /** Cut the wire bytes to this many. */
  readonly truncate?: number;
}

export class EngineTesting {
  constructor(private readonly s: TestingSurface) {}

  /**
   * Frames `payload` with the current keys and sends it now, bypassing every state check and kex hold.
   * With `applyRules`, the pending skip/duplicate/delay/corrupt rules (and the outbound rewrite) apply to it
   * like to any packet the engine sends: the fuzzer deviates on its own injected messages that way.
   */
  sendRawPayload(payload: Uint8Array, label = 'raw payload', opts: { readonly applyRules?: boolean } = {}): void {
    if (opts.applyRules) this.s.sendRawPayloadWithRules(payload, label);
    else this.s.sendRawPayload(payload, undefined, label);
  }

  /** Puts `bytes` on the wire as they are (no framing, no encryption). */
  sendRawBytes(bytes: Uint8Array): void {
    this.s.sendRawBytes(bytes);
  }

  corruptNext(c: Corruption): void {
    const dev: OutboundDeviation = {
      ...(c.padding !== undefined ? { padding: c.padding } : {}),
      ...(c.seqOffset !== undefined ? { seqOffset: c.seqOffset } : {}),
      mutate: (wire) => {
        let w = wire;
        if (c.packetLength !== undefined) new DataView(w.buffer, w.byteOffset, 4).setUint32(0, c.packetLength >>> 0);
        if (c.mac) w[w.length - 1]! ^= 0x01;
        if (c.truncate !== undefined) w = w.subarray(0, c.truncate);
        return w;
      },
    };
    const parts = Object.entries(c).filter(([k]) => k !== 'id').map(([k, v]) => `${k}=${String(v)}`);
    this.s.addRule({ ...(c.id !== undefined ? { id: c.id } : {}), action: 'deviate', deviation: dev, label: `corrupt ${parts.join(' ')}` });
  }

  /** Drops the next outbound packet with message number `id` (e.g. 21 to never send NEWKEYS). */
  skipNext(id?: number): void {
    this.s.addRule({ ...(id !== undefined ? { id } : {}), action: 'skip' });
  }

  duplicateNext(id?: number): void {
    this.s.addRule({ ...(id !== undefined ? { id } : {}), action: 'duplicate' });
  }

  /** Holds the next packet with number `id` and sends it after `after` later packets (reordering). */
  delayNext(id: number, after = 1): void {
    this.s.addRule({ id, action: 'delay', after });
  }

  /** Rewrites every KEXINIT we send from now on (custom algorithm lists, first_kex_packet_follows, ...). */
  setKexInitOverride(fn: ((k: KexInit) => KexInit) | undefined): void {
    this.s.setKexInitOverride(fn);
  }

  /** Starts a key exchange even when the reference would refuse (e.g. during one). */
  forceRekey(): void {
    this.s.forceRekey();
  }

  inspect(): EngineState {
    return this.s.inspect();
  }

  /**
   * The state a resumed engine starts in (EngineOptions.resume). Only at rest after the initial key exchange:
   * established, no key exchange or service request pending, nothing queued either way, no
   * rules pending; otherwise throws SSHError('USAGE'). The service layers above are not in it: their owner
   * snapshots (or rebuilds) them itself.
   */
  snapshot(): EstablishedSnapshot {
    return this.s.snapshot();
  }

  /** Every received payload (after decryption, before any check) goes through `fn`; undefined drops it. */
  rewriteInbound(fn: InboundRewrite | undefined): void {
    this.s.setInboundRewrite(fn);
  }

  /** Every payload we send (transport, kex and service messages) goes through `fn` before framing; undefined drops it. */
  rewriteOutbound(fn: OutboundRewrite | undefined): void {
    this.s.setOutboundRewrite(fn);
  }

  /**
   * With `on`, every key exchange message we produce — our KEXINIT (RFC 4253 §7.1), the method's messages
   * (30–49) and NEWKEYS (§7.3) — waits in a queue instead of leaving, and the outbound key switch (with strict
   * kex, the sequence number reset) and the release of held service payloads wait with our NEWKEYS. The kex
   * itself runs as usual: the exchange hash covers exactly the bytes that later leave. A state learner's mapper
   * uses this to send each handshake message when its abstract input says so. Turning it off sends what waits.
   */
  holdKexMessages(on: boolean): void {
    this.s.setKexGate(on);
  }

  /** Sends the oldest held kex message (the oldest with number `id`, when given); false when none waits. */
  releaseKex(id?: number): boolean {
    return this.s.releaseKex(id);
  }

  /** Message numbers of the kex messages waiting, oldest first. */
  heldKex(): number[] {
    return this.s.heldKex();
  }

  /** Replaces the receive-side relaxations (none by default). */
  relax(r: Relaxations): void {
    this.s.setRelaxations(r);
  }
}
