/**
 * Where trace writers put their bytes. Writers ask for space (`reserve`), fill it in place and `commit` it, so a
 * frame is assembled once, directly in the output buffer (no per-frame allocation on the recording path).
 *
 * The file sink writes synchronously in large blocks: recording happens on the socket adapter's data path, and
 * a synchronous block write keeps frames in order, bounds memory (no unbounded queue of pending async writes)
 * and makes `close()` final without awaiting anything.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

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

  reserve(n: number): Uint8Array {
    if (this.closed) throw new Error('trace sink is closed');
    if (this.pos + n > this.buf.length) {
      this.flush();
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
    this.flush();
    this.closed = true;
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

/** Writes to a file (created or truncated) in blocks of `blockSize` bytes. */
export class FileSink extends BufferedSink {
  private fd: number | undefined;

  constructor(readonly path: string, blockSize = 4 << 20) {
    super(blockSize);
    this.fd = openSync(path, 'w');
  }

  protected drain(bytes: Uint8Array): void {
    if (this.fd === undefined) throw new Error(`trace file ${this.path} is closed`);
    let off = 0;
    // writeSync may write less than asked (bounded: each pass writes ≥ 1 byte or throws)
    while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off);
  }

  override close(): void {
    if (this.closed) return;
    super.close();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
