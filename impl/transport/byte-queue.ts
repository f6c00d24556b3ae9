/**
 * FIFO of received chunks. Reads are zero-copy when a request fits in the head chunk; otherwise exactly the
 * requested bytes are copied once. Avoids re-concatenating the whole buffer on every small TCP read.
 */
export class ByteQueue {
  private chunks: Uint8Array[] = [];
  /** Per chunk: the pusher handed the memory over (nothing else reads it afterwards). */
  private owned: boolean[] = [];
  private head = 0; // offset into chunks[0]
  private total = 0;
  /** Whether the last take() returned memory the caller may overwrite (a copy, or a view of an owned chunk). */
  lastTakeOwned = false;

  get length(): number { return this.total; }

  /** `owned`: the caller gives `b` away, so a reader may decrypt it in place. */
  push(b: Uint8Array, owned = false): void {
    if (b.length === 0) return;
    // a read that continues the previous one in memory (a socket reading into one arena, connection/socket.ts)
    // joins it: a packet across the two is then one view, not a copy
    const last = this.chunks.length - 1;
    const prev = this.chunks[last];
    if (prev !== undefined && prev.buffer === b.buffer && prev.byteOffset + prev.length === b.byteOffset && this.owned[last] === owned) {
      this.chunks[last] = Buffer.from(prev.buffer, prev.byteOffset, prev.length + b.length);
      this.total += b.length;
      return;
    }
    this.chunks.push(b);
    this.owned.push(owned);
    this.total += b.length;
  }

  /** Drops everything queued (a closed connection reads no more; its last chunk may be megabytes). */
  clear(): void {
    this.chunks = [];
    this.owned = [];
    this.head = 0;
    this.total = 0;
  }

  /** The first n bytes without consuming them (n ≤ length). */
  peek(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length - this.head >= n) return first.subarray(this.head, this.head + n);
    const out = Buffer.allocUnsafe(n); // fully overwritten below
    let o = 0;
    let off = this.head;
    for (const c of this.chunks) {
      const take = Math.min(c.length - off, n - o);
      out.set(c.subarray(off, off + take), o);
      o += take;
      off = 0;
      if (o === n) break;
    }
    return out;
  }

  /** Removes and returns the first n bytes (n ≤ length). */
  take(n: number): Uint8Array {
    const out = this.peek(n);
    this.lastTakeOwned = out.buffer !== this.chunks[0]!.buffer || this.owned[0]!;
    this.skip(n);
    return out;
  }

  /**
   * The first n bytes as the two pieces they lie in, removed from the queue, when they span exactly two chunks (a
   * packet across two socket reads); otherwise undefined, and nothing is removed. Views, not copies.
   */
  takeSplit(n: number): [Uint8Array, Uint8Array] | undefined {
    const first = this.chunks[0]!;
    const inFirst = first.length - this.head;
    const second = this.chunks[1];
    if (inFirst >= n || second === undefined || inFirst + second.length < n) return undefined;
    const pieces: [Uint8Array, Uint8Array] = [first.subarray(this.head), second.subarray(0, n - inFirst)];
    this.skip(n);
    return pieces;
  }

  skip(n: number): void {
    this.total -= n;
    while (n > 0) {
      const first = this.chunks[0]!;
      const avail = first.length - this.head;
      if (avail > n) { this.head += n; return; }
      n -= avail;
      this.chunks.shift();
      this.owned.shift();
      this.head = 0;
    }
  }

  /** Index of byte `v` within the first `limit` bytes, or -1. */
  indexOf(v: number, limit: number): number {
    let i = 0;
    let off = this.head;
    for (const c of this.chunks) {
      const end = Math.min(c.length, off + (limit - i));
      const j = c.subarray(off, end).indexOf(v);
      if (j >= 0) return i + j;
      i += end - off;
      off = 0;
      if (i >= limit) break;
    }
    return -1;
  }
}
