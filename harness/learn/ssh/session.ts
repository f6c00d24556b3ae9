/**
 * One connection under learning: our FuzzClient (our engine, real keys) on a fuzz Link, with the engine's
 * kex messages held in the testing gate (impl/transport/testing.ts `holdKexMessages`) so each leaves when an
 * abstract input says so, and every payload the peer sends recorded before our engine judges it. The mapper
 * also keeps our engine out of the way: replies it did not ask for through its own API (SERVICE_ACCEPT for a
 * request sent raw, kex-method messages outside a kex) are recorded and then dropped, and receive-side state
 * checks are relaxed, so the outputs are the peer's behaviour and not our client's verdicts.
 */
import { kexAlgorithms } from '../../../impl/crypto/registry.js';
import { encodeMessage, MessageId, type MessageInput } from '../../../impl/messages/index.js';
import type { Engine } from '../../../impl/transport/engine.js';
import type { FuzzClient } from '../../fuzz/client.js';
import type { Link } from '../../fuzz/link.js';
import { PROBE_ID } from '../../fuzz/wire-log.js';

export interface Received {
  readonly payload: Uint8Array;
  /** ms on the link's clock */
  readonly at: number;
}

export class LearnSession {
  readonly client: FuzzClient;
  readonly engine: Engine;
  /** Payloads from the peer since the last take(). */
  private inbox: Received[] = [];
  /** Recording is on once the reset prefix is done (the prefix's traffic is not an output). */
  learning = false;
  /** Sequence number of the probe in flight, and whether its UNIMPLEMENTED came back. */
  private probeSeq: number | undefined;
  probeAnswered = false;
  /** The last payload we sent for each message number (duplicates of kex messages are re-sent from here). */
  readonly lastSent = new Map<number, Uint8Array>();
  /** The peer's KEXINIT arrived (any time). */
  peerKexInits = 0;

  constructor(readonly link: Link) {
    this.client = link.client;
    this.engine = link.client.engine;
    const t = this.engine.testing;
    t.rewriteInbound((p) => this.onInbound(p));
    t.rewriteOutbound((p) => { this.lastSent.set(p[0]!, p); return p; });
  }

  /** From now on kex messages wait for their abstract input, and the peer's replies are recorded. */
  beginLearning(): void {
    const t = this.engine.testing;
    t.holdKexMessages(true);
    // the peer's messages reach the payload layer whatever our engine's view of the state (RFC 4253 §7.1 / §10 checks off)
    t.relax({ skipStateChecks: true });
    this.learning = true;
    this.inbox = [];
  }

  private onInbound(p: Uint8Array): Uint8Array | undefined {
    const id = p[0]!;
    if (id === MessageId.KEXINIT) this.peerKexInits++;
    if (!this.learning) return p;
    if (id === MessageId.UNIMPLEMENTED && this.probeSeq !== undefined && p.length >= 5) {
      const seq = ((p[1]! << 24) | (p[2]! << 16) | (p[3]! << 8) | p[4]!) >>> 0;
      if (seq === this.probeSeq) { this.probeAnswered = true; this.probeSeq = undefined; return p; }
    }
    this.inbox.push({ payload: p.slice(), at: this.link.now() });
    // our engine only asked for a service through its API in the reset prefix
    if (id === MessageId.SERVICE_ACCEPT) return undefined;
    // a kex-method reply when our engine runs no key exchange would only make it fail
    if (id >= 30 && id <= 49 && !this.engine.kexInProgress) return undefined;
    return p;
  }

  /** What the peer sent since the last call. */
  take(): Received[] {
    const r = this.inbox;
    this.inbox = [];
    return r;
  }

  get received(): number {
    return this.inbox.length;
  }

  /** Message numbers received since the last take(). */
  receivedIds(): number[] {
    return this.inbox.map((r) => r.payload[0]!);
  }

  /** When the first message since the last take() arrived. */
  get firstAt(): number | undefined {
    return this.inbox[0]?.at;
  }

  get alive(): boolean {
    return this.client.alive;
  }

  /** Frames `m` with the current keys and sends it now, whatever the state (the mapper's normal send). */
  sendRaw(m: MessageInput | Uint8Array): void {
    if (!this.alive) return;
    const payload = m instanceof Uint8Array ? m : encodeMessage(m);
    this.lastSent.set(payload[0]!, payload);
    this.engine.testing.sendRawPayload(payload, 'learn');
  }

  /** Releases the held kex message with number `id`; false when none waits. */
  release(id: number): boolean {
    return this.alive && this.engine.testing.releaseKex(id);
  }

  held(id: number): boolean {
    return this.engine.testing.heldKex().includes(id);
  }

  /**
   * The probe can end the wait for replies: both directions run on keys from a finished exchange and
   * nothing of a kex is pending on our side, so an unassigned message number is legal and must be answered
   * with SSH_MSG_UNIMPLEMENTED (RFC 4253 §11.4) after everything the input caused.
   */
  get canProbe(): boolean {
    const s = this.engine.testing.inspect();
    return this.alive && s.phase === 'established' && !s.kexInProgress && this.engine.testing.heldKex().length === 0;
  }

  probe(): void {
    this.probeSeq = this.engine.testing.inspect().seqOut;
    this.probeAnswered = false;
    this.engine.testing.sendRawPayload(Uint8Array.of(PROBE_ID), 'probe');
  }

  /** The family of the negotiated (or, before that, preferred) kex method, to name messages 30–49. */
  get kexShape(): 'ecdh' | 'dh' | 'dh-gex' {
    const name = this.engine.negotiated?.kex ?? this.engine.algorithms.kex[0]!;
    return kexAlgorithms.get(name)?.shape ?? 'ecdh';
  }

  /** The channel the mapper works with (at most one at a time), while it is open or opening on our side. */
  get channel(): { local: number; remote: number | undefined; state: string } | undefined {
    return this.client.channels.find((c) => (c.state === 'open' || c.state === 'opening') && !c.sentClose);
  }
}
