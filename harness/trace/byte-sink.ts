/**
 * Where trace writers put their bytes. Writers ask for space (`reserve`), fill it in place and `commit` it, so a
 * frame is assembled once, directly in the output buffer (no per-frame allocation on the recording path).
 *
 * The file sink writes synchronously in large blocks: recording happens on the socket adapter's data path, and
 * a synchronous block write keeps frames in order, bounds memory (no unbounded queue of pending async writes)
 * and makes `close()` final without awaiting anything.
 */
import { closeSync, constants, fstatSync, ftruncateSync, openSync, write, writeSync } from 'node:fs';

export interface ByteSink {
  /** A writable view of at least `n` bytes, valid until the next call on this sink. */
  reserve(n: number): Uint8Array;
  /** Marks the first `n` reserved bytes as written. */
  commit(n: number): void;
  /** Copies `bytes` (reserve + set + commit). */
  write(bytes: Uint8Array): void;
  /** Pushes buffered bytes to the destination. */
  flush(): void;
  close(): void;
  /** Bytes committed so far. */
  readonly bytesWritten: number;
}

abstract class BufferedSink implements ByteSink {
  private buf: Uint8Array;
  private pos = 0;
  private total = 0;
  protected closed = false;

  constructor(private readonly blockSize: number) {
    this.buf = new Uint8Array(blockSize);
  }

  get bytesWritten(): number { return this.total; }

  protected abstract drain(bytes: Uint8Array): void;

  /**
   * Called with a full block instead of `drain` when the sink needs room: a subclass that keeps the block (an
   * asynchronous write) returns a fresh one; undefined means it consumed the bytes and the block can be reused.
   */
  protected nextBlock(done: Uint8Array): Uint8Array | undefined {
    this.drain(done);
    return undefined;
  }

  reserve(n: number): Uint8Array {
    if (this.closed) throw new Error('trace sink is closed');
    if (this.pos + n > this.buf.length) {
      if (this.pos > 0) {
        const fresh = this.nextBlock(this.buf.subarray(0, this.pos));
        if (fresh) this.buf = fresh;
        this.pos = 0;
      }
      // A request larger than a block gets its own buffer once; blocks are reused afterwards.
      if (n > this.buf.length) this.buf = new Uint8Array(Math.max(n, this.blockSize));
    }
    return this.buf.subarray(this.pos, this.pos + n);
  }

  commit(n: number): void {
    this.pos += n;
    this.total += n;
  }

  write(bytes: Uint8Array): void {
    this.reserve(bytes.length).set(bytes);
    this.commit(bytes.length);
  }

  flush(): void {
    if (this.pos === 0) return;
    this.drain(this.buf.subarray(0, this.pos));
    this.pos = 0;
  }

  close(): void {
    if (this.closed) return;
    try {
      this.flush();
    } finally {
      this.closed = true; // a failed final write is reported once; the sink is closed either way
    }
  }
}

/** Collects everything in memory; `bytes()` returns one contiguous copy. */
export class MemorySink extends BufferedSink {
  private readonly chunks: Uint8Array[] = [];

  constructor(blockSize = 1 << 20) {
    super(blockSize);
  }

  protected drain(bytes: Uint8Array): void {
    this.chunks.push(bytes.slice());
  }

  /** A plain Uint8Array (not a Buffer, whose `slice` would share memory). */
  bytes(): Uint8Array {
    this.flush();
    const b = Buffer.concat(this.chunks);
    return new Uint8Array(b.buffer, b.byteOffset, b.length);
  }
}

/**
 * Writes to a file (created or truncated) in blocks of `blockSize` bytes.
 *
 * Full blocks go to the file with positional `fs.write` on libuv's thread pool, so the write syscall (and the
 * page-cache work behind it, ~0.4 ms per MB on these VMs: most of what recording cost the connection's thread)
 * runs on another core. Memory stays bounded: at most `maxInFlight` blocks are pending; past that a block is
 * written synchronously, which is the backpressure. Every write names its file offset, so completion order does
 * not matter, and `close()` is still final and synchronous: it writes the blocks still pending again with
 * `writeSync` (same bytes, same offsets, so whichever write lands last the file is the same), and the descriptor
 * is closed once the pool has returned them. A failed background write is thrown from the next call.
 */
export class FileSink extends BufferedSink {
  private fd: number | undefined;
  private position = 0;
  private readonly pending = new Map<Uint8Array, number>();
  private readonly spare: Uint8Array[] = [];
  private failure: Error | undefined;
  private closeWhenIdle = false;
  private reported = false;

  constructor(readonly path: string, blockSize = 1 << 20, private readonly maxInFlight = 8) {
    super(blockSize);
    this.fd = openSync(path, constants.O_WRONLY | constants.O_CREAT, 0o666);
    // Not 'w': truncating, even a file that is already empty (TraceSession creates its files first), arms ext4's
    // auto_da_alloc, and the last close then writes back every dirty page of the file before it returns — 550 ms
    // for a 1 GiB pcap here, against 0.1 ms without. Truncate only when there is something to drop.
    try {
      if (fstatSync(this.fd).size > 0) ftruncateSync(this.fd, 0);
    } catch (e) {
      closeSync(this.fd);
      throw e;
    }
  }

  protected override nextBlock(done: Uint8Array): Uint8Array | undefined {
    this.check();
    const at = this.position;
    this.position += done.length;
    if (this.pending.size >= this.maxInFlight || done.byteOffset !== 0 || done.length < 64 * 1024) {
      writeAllSync(this.fd!, done, at); // small tails and overflow: no pool round trip
      return undefined; // keep using the same block
    }
    this.pending.set(done, at);
    const block = new Uint8Array(done.buffer, 0, done.buffer.byteLength);
    const fd = this.fd!;
    write(fd, done, 0, done.length, at, (err, n) => {
      if (!err && n < done.length) {
        // a short write (a full disk, say): finish it here or record why not, never drop the rest silently
        try { writeAllSync(fd, done.subarray(n), at + n); } catch (e) { err = e as NodeJS.ErrnoException; }
      }
      this.pending.delete(done);
      if (err) this.failure ??= err;
      else if (this.spare.length < this.maxInFlight) this.spare.push(block);
      if (this.closeWhenIdle && this.pending.size === 0) this.release();
    });
    return this.spare.pop() ?? new Uint8Array(block.length);
  }

  protected drain(bytes: Uint8Array): void {
    // only reached through flush() with a partial block (nextBlock handles the rest)
    this.check();
    writeAllSync(this.fd!, bytes, this.position);
    this.position += bytes.length;
  }

  override close(): void {
    if (this.closed) return;
    if (this.failure && this.reported) {
      // the caller already got the error from a write: closing just lets go of the file
      this.closed = true;
      if (this.pending.size === 0) this.release(); else this.closeWhenIdle = true;
      return;
    }
    try {
      super.close();
      for (const [block, at] of this.pending) writeAllSync(this.fd!, block, at);
      this.check();
    } finally {
      if (this.pending.size === 0) this.release();
      else this.closeWhenIdle = true;
    }
  }

  private release(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private check(): void {
    if (this.fd === undefined) throw new Error(`trace file ${this.path} is closed`);
    if (this.failure) {
      this.reported = true;
      throw new Error(`trace file ${this.path}: ${this.failure.message}`);
    }
  }
}

/** writeSync may write less than asked (bounded: each pass writes ≥ 1 byte or throws). */
function writeAllSync(fd: number, bytes: Uint8Array, position: number): void {
  for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off, position + off);
}
