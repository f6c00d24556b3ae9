/**
 * What crossed the wire on one connection, as the oracles need it: our probes and how they were answered,
 * packets we corrupted or could not frame, service requests and acceptances, replies that only exist after
 * authentication, and (for replay) a copy of every payload. Fed from the engine's packet hook.
 */
import { decodeMessage } from '../../impl/messages/index.js';
import type { PacketRecord } from '../../impl/transport/types.js';

/** An unassigned transport-generic number (RFC 4250 §4.1.2 leaves 9–19 free): every peer must answer UNIMPLEMENTED. */
export const PROBE_ID = 15;
const MAX_TRACE = 4000;

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

/** The connection state the log needs when a packet passes (from the FuzzClient). */
export interface LogState {
  readonly kexDone: boolean;
  readonly kexInProgress: boolean;
  readonly authenticated: boolean;
  /** Valid credentials went out and their answer has not come back: the peer may already count us as logged in. */
  readonly credentialsPending: boolean;
  /** Negotiated client→server cipher ('' before the first kex). */
  readonly cipher: string;
}

function serviceOf(payload: Uint8Array): string | undefined {
  try {
    const m = decodeMessage(payload);
    return m.type === 'SSH_MSG_SERVICE_REQUEST' || m.type === 'SSH_MSG_SERVICE_ACCEPT' ? m.service : undefined;
  } catch {
    return undefined;
  }
}

export class WireLog {
  /** Inbound packets this connection (unbounded counter, unlike `inbound`). */
  inboundCount = 0;
  /** Inbound message numbers seen this case, in order (bounded), for oracles and coverage. */
  readonly inbound: number[] = [];
  /** Our probes this case, in order (see ProbeRecord). */
  readonly probes: ProbeRecord[] = [];
  /** Packets we have put on the wire this connection (orders probes against corrupted packets). */
  outOrdinal = 0;
  /**
   * Sequence numbers of our injected packets this case that a peer may answer with UNIMPLEMENTED (an
   * UNIMPLEMENTED naming one of them answers that packet, not the probe). The engine's own packets and
   * IGNORE/DEBUG never earn one, and leaving them out keeps strict kex's counter resets from hiding answers.
   */
  readonly sentSeqs = new Set<number>();
  /** Ordinal of the first packet whose MAC/sequence number we corrupted (sentCorrupt). */
  corruptOrdinal: number | undefined;
  /** One of our requests never left (skipped) or may still be held (delayed): replies owed for it are void. */
  lostRequest = false;
  /** Something was put on the wire that the peer cannot frame (raw bytes, truncation, length rewrite). */
  streamDesync = false;
  /** A packet went out that the peer must reject (bad MAC, or a wrong sequence number the MAC covers). */
  sentCorrupt = false;
  /** Some packet of ours went out with a deliberate framing fault (any 'corrupt' deviation, padding included). */
  deviated = false;
  /** We sent SSH_MSG_DISCONNECT: RFC 4253 §11.1, the peer "MUST NOT accept any data after" it. */
  sentDisconnect = false;
  /** SERVICE_REQUESTs for anything but ssh-userauth sent before authentication (RFC 4253 §10), in order. */
  readonly foreignServiceRequests: { readonly name: string; readonly ordinal: number }[] = [];
  /** Services the peer accepted (SSH_MSG_SERVICE_ACCEPT). */
  readonly acceptedServices: string[] = [];
  /** Peer-sent messages that the connection layer of a correct peer never sends before auth (bypass evidence). */
  readonly preAuthConnectionReplies: number[] = [];
  /** Every payload, when traceEnabled (replay turns it on; campaigns leave it off: copies cost time). */
  readonly trace: TraceLine[] = [];
  traceEnabled = false;

  /** The oldest probe the peer has not answered with its sequence number. */
  get pendingProbe(): ProbeRecord | undefined {
    return this.probes.find((p) => !p.answered);
  }

  /** Probes still owed; one answered with a wrong sequence number is an answer (the seq oracle judges it). */
  get unansweredProbes(): number {
    return this.probes.filter((p) => !p.answered && p.otherSeq === undefined).length;
  }

  record(p: PacketRecord, st: LogState): void {
    const id = p.payload[0] ?? -1;
    if (this.traceEnabled && this.trace.length < MAX_TRACE) {
      this.trace.push({ dir: p.direction, seq: p.seq, timeMs: Date.now(), payload: p.payload.slice(), ...(p.deviation ? { deviation: p.deviation } : {}) });
    }
    if (p.direction === 'out') this.outbound(p, id, st);
    else this.inboundPacket(p, id, st);
  }

  private outbound(p: PacketRecord, id: number, st: LogState): void {
    const dev = p.deviation;
    if (dev === 'skipped') {
      // a request we skipped is owed nothing (a skipped probe was never recorded)
      if (id !== PROBE_ID) this.lostRequest = true;
      return;
    }
    this.outOrdinal++;
    // packets a peer may answer with UNIMPLEMENTED besides the probe: our deviations, and a rekey's KEXINIT (OpenSSH
    // 9.2 and 10.0 refuse one sent between the first NEWKEYS and SERVICE_REQUEST that way; that UNIMPLEMENTED
    // names the KEXINIT, not the probe)
    if (((dev !== undefined && dev !== 'probe' && id !== 2 && id !== 4) || id === 20) && this.sentSeqs.size < 4096) this.sentSeqs.add(p.seq);
    if (id === 1) this.sentDisconnect = true;
    // a request the peer can treat as a service request: ours after the first kex, outside a kex of ours, and
    // not behind valid credentials still in flight — the peer has then logged us in before it reads the request,
    // and a SERVICE_REQUEST in the connection protocol is just an unrecognised message (RFC 4253 §11.4:
    // UNIMPLEMENTED is the right answer, as OpenSSH 10 gives)
    if (id === 5 && !st.authenticated && !st.credentialsPending && st.kexDone && !st.kexInProgress) {
      const name = serviceOf(p.payload);
      if (name !== undefined && name !== 'ssh-userauth') this.foreignServiceRequests.push({ name, ordinal: this.outOrdinal });
    }
    if (dev === undefined) return;
    if (dev.startsWith('corrupt')) this.deviated = true;
    if (dev === 'probe') this.probes.push({ seq: p.seq, ordinal: this.outOrdinal, inboundAt: this.inboundCount, answered: false });
    // a corrupted MAC, or a wrong sequence number where the MAC/AEAD covers it (RFC 4253 §6.4, OpenSSH
    // PROTOCOL.chacha20poly1305; not AES-GCM, whose nonce is its own counter, RFC 5647 §7.1): must be rejected
    if (dev.startsWith('corrupt') && st.kexDone && (/mac=true/.test(dev) || (/seqOffset=[1-9]/.test(dev) && !/gcm/.test(st.cipher)))) {
      this.sentCorrupt = true;
      this.corruptOrdinal ??= this.outOrdinal;
    }
  }

  private inboundPacket(p: PacketRecord, id: number, st: LogState): void {
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
    if (!st.authenticated && id >= 81 && id <= 100) this.preAuthConnectionReplies.push(id);
    if (id === 6) { const name = serviceOf(p.payload); if (name !== undefined) this.acceptedServices.push(name); }
  }

  /** Forgets the previous case on a reused connection (the connection-wide counters carry on). */
  resetCase(): void {
    this.trace.length = 0;
    this.inbound.length = 0;
    this.probes.length = 0;
    this.sentSeqs.clear();
    this.corruptOrdinal = undefined;
    this.preAuthConnectionReplies.length = 0;
    this.foreignServiceRequests.length = 0;
    this.acceptedServices.length = 0;
    this.lostRequest = false;
    this.sentDisconnect = false;
    this.deviated = false;
  }
}
