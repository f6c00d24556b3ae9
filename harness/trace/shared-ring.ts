/**
 * A single-producer, single-consumer record ring in a SharedArrayBuffer: the recording side (the connection's
 * thread) copies tapped bytes in, a worker thread takes them out and does the per-byte work (TCP framing,
 * checksums, file writes, message decoding). The producer's cost per recorded byte is one memcpy.
 *
 * Records are `u32 length, u32 reserved, body` padded to 8 bytes; a length of 0xffffffff means "continue at 0".
 * Memory is bounded by the ring: a full ring makes the producer wait (Atomics.wait, bounded), never grow.
 * Wakeups are sent only to a side that said it sleeps, so the steady state costs no futex calls.
 */

const HEAD = 0, TAIL = 1, CONSUMER_SLEEPING = 2, PRODUCER_WAITING = 3, CLOSED = 4, DONE = 5, FAILED = 6;
/** Control word indexes, for code that must flag a failure before it can import this module (a worker bootstrap). */
export const RING_CTL = Object.freeze({ TAIL, DONE, FAILED });
const CTL_INTS = 8;
const ERROR_TEXT_BYTES = 2048;
const WRAP = 0xffffffff;
const HEADER = 8;

export interface RingBuffers {
  readonly ctl: SharedArrayBuffer;
  readonly data: SharedArrayBuffer;
  /** The consumer's error text (utf8, length-prefixed) when it failed. */
  readonly error: SharedArrayBuffer;
}

export function createRing(bytes: number): RingBuffers {
  if (!Number.isInteger(bytes) || bytes < 4096 || bytes % 8 !== 0) throw new RangeError(`ring size: expected a multiple of 8 ≥ 4096, got ${bytes}`);
  return { ctl: new SharedArrayBuffer(CTL_INTS * 4), data: new SharedArrayBuffer(bytes), error: new SharedArrayBuffer(ERROR_TEXT_BYTES) };
}

const align8 = (n: number): number => (n + 7) & ~7;

export class RingProducer {
  private readonly ctl: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly size: number;
  private head = 0;
  private pending = -1; // position of the reserved record, -1 when none
  private pendingTotal = 0;
  private wrapAt = -1;

  /** Largest body one record can hold; bigger payloads are split by the caller. */
  readonly maxRecord: number;

  constructor(private readonly bufs: RingBuffers, private readonly waitLimitMs = 60_000) {
    this.ctl = new Int32Array(bufs.ctl);
    this.bytes = new Uint8Array(bufs.data);
    this.view = new DataView(bufs.data);
    this.size = this.bytes.length;
    this.maxRecord = this.size / 4 - HEADER;
  }

  get failed(): boolean {
    return Atomics.load(this.ctl, FAILED) !== 0;
  }

  /** The consumer's error message, if it failed. */
  errorText(): string | undefined {
    if (!this.failed) return undefined;
    return readErrorText(this.bufs.error);
  }

  /**
   * Space for a record body of `n` bytes: returns its offset in `data` (fill `data[offset, offset+n)`), then call
   * `commit()`. Returns -1 when the consumer failed or stayed stuck past the wait limit (the record is dropped).
   */
  reserve(n: number): number {
    if (n > this.maxRecord) throw new RangeError(`ring record of ${n} bytes exceeds ${this.maxRecord}`);
    const total = HEADER + align8(n);
    const deadline = Date.now() + this.waitLimitMs;
    // Each pass either finds room or sleeps ≤ 50 ms; the deadline bounds the loop.
    for (;;) {
      if (this.failed) return -1;
      const tail = Atomics.load(this.ctl, TAIL);
      const at = this.fit(total, tail);
      if (at >= 0) {
        this.view.setUint32(at, n, true);
        this.pending = at;
        this.pendingTotal = total;
        return at + HEADER;
      }
      if (Date.now() >= deadline) return -1;
      // Ask to be woken only once a quarter of the ring is free: one wakeup per many records, not per record.
      Atomics.store(this.ctl, PRODUCER_WAITING, Math.max(total, this.size >> 2));
      if (Atomics.load(this.ctl, TAIL) === tail) Atomics.wait(this.ctl, TAIL, tail, 50);
      Atomics.store(this.ctl, PRODUCER_WAITING, 0);
    }
  }

  /** Publishes the reserved record. */
  commit(): void {
    if (this.pending < 0) return;
    if (this.wrapAt >= 0) { this.view.setUint32(this.wrapAt, WRAP, true); this.wrapAt = -1; }
    let head = this.pending + this.pendingTotal;
    if (head === this.size) head = 0;
    this.head = head;
    this.pending = -1;
    Atomics.store(this.ctl, HEAD, head);
    if (Atomics.load(this.ctl, CONSUMER_SLEEPING) !== 0) Atomics.notify(this.ctl, HEAD);
  }

  /** No more records; the consumer drains and finishes. */
  close(): void {
    Atomics.store(this.ctl, CLOSED, 1);
    Atomics.notify(this.ctl, HEAD);
  }

  /** Waits (bounded) until the consumer reports it finished; false on timeout or failure. */
  waitDone(timeoutMs = 60_000): boolean {
    const deadline = Date.now() + timeoutMs;
    while (Atomics.load(this.ctl, DONE) === 0) {
      if (this.failed || Date.now() > deadline) return false;
      Atomics.wait(this.ctl, DONE, 0, 50);
    }
    return !this.failed;
  }

  /** Where a record of `total` bytes can go now, or -1. Keeps head ≠ tail unless the ring is empty. */
  private fit(total: number, tail: number): number {
    const head = this.head;
    if (head >= tail) {
      const endRoom = this.size - head - (tail === 0 ? HEADER : 0);
      if (total <= endRoom) return head;
      // wrap: the marker goes at head (published with the record), the record at 0, before tail with a gap
      if (total <= tail - HEADER) { this.wrapAt = head; return 0; }
      return -1;
    }
    return total <= tail - head - HEADER ? head : -1;
  }
}

export class RingConsumer {
  private readonly ctl: Int32Array;
  private readonly view: DataView;
  private readonly size: number;
  private tail = 0;
  private current = 0;

  constructor(private readonly bufs: RingBuffers) {
    this.ctl = new Int32Array(bufs.ctl);
    this.view = new DataView(bufs.data);
    this.size = bufs.data.byteLength;
  }

  /**
   * Waits for the next record: returns [offset, length] of its body in `data`, or undefined once the producer
   * closed and everything was read. Call `release()` after using the body.
   */
  next(): [number, number] | undefined {
    for (;;) {
      const head = Atomics.load(this.ctl, HEAD);
      if (head !== this.tail) {
        const len = this.view.getUint32(this.tail, true);
        if (len === WRAP) { this.advance(0); continue; }
        this.current = HEADER + align8(len);
        return [this.tail + HEADER, len];
      }
      if (Atomics.load(this.ctl, CLOSED) !== 0 && Atomics.load(this.ctl, HEAD) === this.tail) return undefined;
      Atomics.store(this.ctl, CONSUMER_SLEEPING, 1);
      if (Atomics.load(this.ctl, HEAD) === this.tail && Atomics.load(this.ctl, CLOSED) === 0) Atomics.wait(this.ctl, HEAD, this.tail, 1000);
      Atomics.store(this.ctl, CONSUMER_SLEEPING, 0);
    }
  }

  release(): void {
    let t = this.tail + this.current;
    if (t === this.size) t = 0;
    this.advance(t);
  }

  done(): void {
    Atomics.store(this.ctl, DONE, 1);
    Atomics.notify(this.ctl, DONE);
  }

  fail(message: string): void {
    const b = Buffer.from(message, 'utf8').subarray(0, ERROR_TEXT_BYTES - 4);
    const err = new Uint8Array(this.bufs.error);
    new DataView(this.bufs.error).setUint32(0, b.length, true);
    err.set(b, 4);
    Atomics.store(this.ctl, FAILED, 1);
    Atomics.notify(this.ctl, TAIL);
    Atomics.notify(this.ctl, DONE);
  }

  private advance(t: number): void {
    this.tail = t;
    Atomics.store(this.ctl, TAIL, t);
    const want = Atomics.load(this.ctl, PRODUCER_WAITING);
    if (want !== 0) {
      const head = Atomics.load(this.ctl, HEAD);
      const free = head >= t ? this.size - (head - t) : t - head;
      if (free >= want) Atomics.notify(this.ctl, TAIL);
    }
  }
}

function readErrorText(buf: SharedArrayBuffer): string {
  const n = new DataView(buf).getUint32(0, true);
  return Buffer.from(new Uint8Array(buf, 4, Math.min(n, buf.byteLength - 4))).toString('utf8') || 'the trace worker failed before it could say why';
}
