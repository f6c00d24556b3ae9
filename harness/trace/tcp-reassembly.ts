/**
 * TCP stream reassembly per connection (4-tuple), in capture order: in-order bytes are delivered at once;
 * out-of-order segments wait (bounded); retransmitted and overlapping bytes are delivered once; bytes the
 * capture never saw (loss, snaplen cut) become explicit gaps, so consumers know the stream is partial.
 *
 * Sequence arithmetic is modulo 2^32 (RFC 9293 §3.4) but stream offsets are plain numbers, so streams longer
 * than 4 GiB and ISNs near the wrap are handled.
 */
import type { TcpSegment } from './frame-decoder.js';
import { TcpFlag } from './frame-decoder.js';

export type Direction = 'c2s' | 's2c';

export interface Endpoint {
  readonly ip: string;
  readonly port: number;
}

export interface StreamSink {
  /** A new connection (in order of first appearance, as tshark numbers `tcp.stream`). */
  connection?(c: TcpConnection): void;
  /** In-order bytes of one direction; `bytes` may be a view into the capture: copy to keep it. */
  data(c: TcpConnection, dir: Direction, bytes: Uint8Array, timeMs: number): void;
  /** `length` bytes at stream offset `at` were not captured; the bytes after them follow. */
  gap(c: TcpConnection, dir: Direction, at: number, length: number, reason: GapReason): void;
}

export type GapReason = 'missing-segment' | 'snaplen-cut' | 'missing-before-fin';

export interface ReassemblyOptions {
  /** Out-of-order bytes held per direction before the hole in front of them is declared lost. Default 16 MiB. */
  readonly maxPendingBytes?: number;
  /** Ports known to be servers: decide roles when the capture missed the handshake (else 22, else the lower port). */
  readonly serverPorts?: readonly number[];
}

interface Pending {
  readonly off: number;
  readonly bytes: Uint8Array;
  readonly missing: number;
  readonly timeMs: number;
}

class HalfStream {
  /** Absolute sequence number of stream offset 0 (the byte after the SYN). */
  base: number | undefined;
  /** Stream offset of the next byte to deliver. */
  next = 0;
  pending: Pending[] = [];
  pendingBytes = 0;
  finAt: number | undefined;
  /** No SYN seen: the stream starts where the capture did. */
  midStream = false;
}

export class TcpConnection {
  readonly halves: { readonly c2s: HalfStream; readonly s2c: HalfStream } = { c2s: new HalfStream(), s2c: new HalfStream() };
  /** The three-way handshake was captured (so client/server roles are known, not guessed). */
  handshakeSeen: boolean;
  closed = false;
  resetSeen = false;
  retransmittedSegments = 0;
  outOfOrderSegments = 0;
  gapBytes = 0;
  lastTimeMs: number;

  constructor(readonly id: number, readonly client: Endpoint, readonly server: Endpoint, readonly firstTimeMs: number, handshakeSeen: boolean) {
    this.handshakeSeen = handshakeSeen;
    this.lastTimeMs = firstTimeMs;
  }

  get partial(): boolean {
    return this.gapBytes > 0 || this.halves.c2s.midStream || this.halves.s2c.midStream;
  }

  /** Bytes delivered so far per direction. */
  get delivered(): { c2s: number; s2c: number } {
    return { c2s: this.halves.c2s.next, s2c: this.halves.s2c.next };
  }
}

export class TcpReassembler {
  private readonly byKey = new Map<string, TcpConnection>();
  private readonly all: TcpConnection[] = [];
  private readonly maxPending: number;
  private readonly serverPorts: ReadonlySet<number>;

  constructor(private readonly sink: StreamSink, options: ReassemblyOptions = {}) {
    this.maxPending = options.maxPendingBytes ?? 16 << 20;
    this.serverPorts = new Set([...(options.serverPorts ?? []), 22]);
  }

  get connections(): readonly TcpConnection[] {
    return this.all;
  }

  push(seg: TcpSegment, timeMs: number): void {
    const a = `${seg.src}|${seg.srcPort}`, b = `${seg.dst}|${seg.dstPort}`;
    const key = a < b ? `${a}|${b}` : `${b}|${a}`;
    let c = this.byKey.get(key);
    const syn = (seg.flags & TcpFlag.SYN) !== 0, ack = (seg.flags & TcpFlag.ACK) !== 0;
    // A fresh SYN on a finished 4-tuple is a new connection (port reuse).
    if (c && c.closed && syn && !ack) c = undefined;
    if (!c) {
      const from = { ip: seg.src, port: seg.srcPort }, to = { ip: seg.dst, port: seg.dstPort };
      let fromIsClient: boolean;
      if (syn) fromIsClient = !ack; // SYN → client; SYN+ACK → server
      else fromIsClient = this.guessServer(from, to) === to;
      c = new TcpConnection(this.all.length, fromIsClient ? from : to, fromIsClient ? to : from, timeMs, syn);
      this.byKey.set(key, c);
      this.all.push(c);
      this.sink.connection?.(c);
    }
    c.lastTimeMs = timeMs;
    const dir: Direction = seg.src === c.client.ip && seg.srcPort === c.client.port ? 'c2s' : 's2c';
    const h = c.halves[dir];
    const dataSeq = syn ? (seg.seq + 1) >>> 0 : seg.seq;
    if (syn) {
      if (h.base === undefined) h.base = dataSeq;
    } else if (h.base === undefined) {
      h.base = dataSeq;
      h.midStream = true;
    }
    if (seg.flags & TcpFlag.RST) { c.resetSeen = true; c.closed = true; }
    // Signed distance from the next expected sequence number: the offset in this direction's stream.
    const off = h.next + ((dataSeq - ((h.base + h.next) >>> 0)) | 0);
    const len = seg.payload.length + seg.missing;
    if (seg.flags & TcpFlag.FIN) {
      h.finAt = off + len;
      if (c.halves.c2s.finAt !== undefined && c.halves.s2c.finAt !== undefined) c.closed = true;
    }
    if (len === 0) return;
    if (off + len <= h.next) { c.retransmittedSegments++; return; }
    if (off > h.next) {
      c.outOfOrderSegments++;
      this.hold(c, dir, h, { off, bytes: seg.payload.slice(), missing: seg.missing, timeMs });
      return;
    }
    this.deliver(c, dir, h, off, seg.payload, seg.missing, timeMs);
    this.drain(c, dir, h);
  }

  /** Without a captured handshake: a known server port (22 and `serverPorts`), else the lower port, is the server. */
  private guessServer(a: Endpoint, b: Endpoint): Endpoint {
    const sa = this.serverPorts.has(a.port), sb = this.serverPorts.has(b.port);
    if (sa !== sb) return sa ? a : b;
    return a.port <= b.port ? a : b;
  }

  /** End of capture: holes in front of held segments and before FINs become gaps. */
  finish(): void {
    for (const c of this.all) {
      for (const dir of ['c2s', 's2c'] as const) {
        const h = c.halves[dir];
        while (h.pending.length > 0) this.skipToPending(c, dir, h);
        if (h.finAt !== undefined && h.finAt > h.next) this.emitGap(c, dir, h, h.finAt - h.next, 'missing-before-fin');
      }
    }
  }

  private deliver(c: TcpConnection, dir: Direction, h: HalfStream, off: number, bytes: Uint8Array, missing: number, timeMs: number): void {
    const skip = h.next - off; // ≥ 0: bytes already delivered (retransmitted overlap)
    if (skip < bytes.length) {
      const fresh = bytes.subarray(skip);
      h.next += fresh.length;
      this.sink.data(c, dir, fresh, timeMs);
    }
    const capturedEnd = off + bytes.length;
    if (missing > 0 && capturedEnd + missing > h.next) this.emitGap(c, dir, h, capturedEnd + missing - Math.max(h.next, capturedEnd), 'snaplen-cut');
  }

  private drain(c: TcpConnection, dir: Direction, h: HalfStream): void {
    // Each pass removes one held segment, so this ends after at most pending.length passes.
    while (h.pending.length > 0 && h.pending[0]!.off <= h.next) {
      const p = h.pending.shift()!;
      h.pendingBytes -= p.bytes.length;
      if (p.off + p.bytes.length + p.missing > h.next) this.deliver(c, dir, h, p.off, p.bytes, p.missing, p.timeMs);
      else c.retransmittedSegments++;
    }
  }

  private hold(c: TcpConnection, dir: Direction, h: HalfStream, p: Pending): void {
    let lo = 0, hi = h.pending.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (h.pending[mid]!.off <= p.off) lo = mid + 1; else hi = mid; }
    h.pending.splice(lo, 0, p);
    h.pendingBytes += p.bytes.length;
    // Bounded memory: past the limit, the bytes in front of the oldest held segment are declared lost.
    while (h.pendingBytes > this.maxPending && h.pending.length > 0) this.skipToPending(c, dir, h);
  }

  private skipToPending(c: TcpConnection, dir: Direction, h: HalfStream): void {
    const first = h.pending[0]!;
    if (first.off > h.next) this.emitGap(c, dir, h, first.off - h.next, 'missing-segment');
    this.drain(c, dir, h);
  }

  private emitGap(c: TcpConnection, dir: Direction, h: HalfStream, length: number, reason: GapReason): void {
    const at = h.next;
    h.next += length;
    c.gapBytes += length;
    this.sink.gap(c, dir, at, length, reason);
  }
}

