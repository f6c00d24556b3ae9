/**
 * Where trace writers put their bytes. Writers ask for space (`reserve`), fill it in place and `commit` it, so a
 * frame is assembled once, directly in the output buffer (no per-frame allocation on the recording path).
 *
 * The file sink writes synchronously in large blocks: recording happens on the socket adapter's data path, and
 * a synchronous block write keeps frames in order, bounds memory (no unbounded queue of pending async writes)
 * and makes `close()` final without awaiting anything.
 */
import { closeSync, constants, fstatSync, ftruncateSync, openSync, write, writeSync } from 'node:fs';
import { nativeBinding } from '../../impl/native/binding.js';

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

  constructor(private readonly blockSize: number, private readonly allocate: (size: number) => Uint8Array = (size) => new Uint8Array(size)) {
    this.buf = allocate(blockSize);
  }

  get bytesWritten(): number { return this.total; }

  protected abstract drain(bytes: Uint8Array): void;

  /**
   * Called with the current block and how much of it is filled when the sink needs room. Returns the block to go on
   * in (the same one, or a fresh one when the subclass keeps this one for an asynchronous write) and how many bytes
   * at its start are already filled: bytes carried over (a direct-I/O file writes whole disk blocks only).
   */
  protected nextBlock(block: Uint8Array, filled: number): { readonly block: Uint8Array; readonly carried: number } {
    this.drain(block.subarray(0, filled));
    return { block, carried: 0 };
  }

  reserve(n: number): Uint8Array {
    if (this.closed) throw new Error('trace sink is closed');
    if (this.pos + n > this.buf.length) {
      if (this.pos > 0) {
        const next = this.nextBlock(this.buf, this.pos);
        this.buf = next.block;
        this.pos = next.carried;
      }
      // A request larger than a block gets its own buffer once; blocks are reused afterwards.
      if (this.pos + n > this.buf.length) {
        const bigger = this.allocate(Math.max(this.pos + n, this.blockSize));
        bigger.set(this.buf.subarray(0, this.pos));
        this.buf = bigger;
      }
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

/** O_DIRECT needs buffer addresses, lengths and file offsets in multiples of the disk's block size; 4 KiB covers it. */
const DIRECT_ALIGN = 4096;

/** Blocks at 4 KiB-aligned addresses (the native addon tells where an allocation's first aligned byte is), or none. */
function alignedAllocator(): ((size: number) => Uint8Array) | undefined {
  const native = nativeBinding();
  if (!native) return undefined;
  return (size) => {
    const raw = Buffer.allocUnsafeSlow(size + DIRECT_ALIGN);
    const k = native.alignOffset(raw, DIRECT_ALIGN);
    return raw.subarray(k, k + size);
  };
}

/**
 * Writes to a file (created or truncated) in blocks of `blockSize` bytes.
 *
 * Full blocks go to the file with positional `fs.write` on libuv's thread pool, so the write syscall runs on
 * another core. When the file system allows it (and the native addon gives aligned memory), the file is opened
 * with O_DIRECT: blocks go from our memory to the disk without the page cache, which costs this process 0.19 s of
 * CPU per GiB here against 0.46–0.68 s buffered (plus the kernel's later write-back), the largest part of what
 * recording costs a bulk transfer. A direct write covers whole 4 KiB disk blocks only: the rest of a block is
 * carried into the next one, and the last partial block goes through a second, buffered descriptor at close.
 *
 * Memory stays bounded: at most `maxInFlight` blocks are pending; past that a block is written synchronously,
 * which is the backpressure. Every write names its file offset, so completion order does not matter, and `close()`
 * is still final and synchronous: it writes the blocks still pending again with `writeSync` (same bytes, same
 * offsets, so whichever write lands last the file is the same), and the descriptors are closed once the pool has
 * returned them. A failed background write is thrown from the next call.
 */
export class FileSink extends BufferedSink {
  private fd: number | undefined;
  /** With O_DIRECT: a buffered descriptor of the same file, for bytes that are not whole disk blocks. */
  private tailFd: number | undefined;
  private position = 0;
  private readonly pending = new Map<Uint8Array, number>();
  private readonly spare: Uint8Array[] = [];
  private failure: Error | undefined;
  private closeWhenIdle = false;
  private reported = false;

  constructor(readonly path: string, blockSize = 1 << 20, private readonly maxInFlight = 8, direct = true) {
    const aligned = direct && blockSize % DIRECT_ALIGN === 0 ? alignedAllocator() : undefined;
    super(blockSize, aligned);
    this.allocateBlock = aligned ?? ((size) => new Uint8Array(size));
    const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT, 0o666);
    // Not 'w': truncating, even a file that is already empty (TraceSession creates its files first), arms ext4's
    // auto_da_alloc, and the last close then writes back every dirty page of the file before it returns — 550 ms
    // for a 1 GiB pcap here, against 0.1 ms without. Truncate only when there is something to drop.
    try {
      if (fstatSync(fd).size > 0) ftruncateSync(fd, 0);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    if (aligned) {
      try {
        this.fd = openSync(path, constants.O_WRONLY | constants.O_DIRECT);
        this.tailFd = fd;
        this.direct = true;
        return;
      } catch { /* no O_DIRECT here (tmpfs on older kernels, some network file systems): buffered it is */ }
    }
    this.fd = fd;
    this.direct = false;
  }

  private readonly allocateBlock: (size: number) => Uint8Array;
  /** Whether blocks bypass the page cache (O_DIRECT): false where the file system or the build does not allow it. */
  readonly direct: boolean;

  /** Where bytes that are not whole disk blocks go: the buffered descriptor. */
  private get bufferedFd(): number {
    return this.tailFd ?? this.fd!;
  }

  protected override nextBlock(block: Uint8Array, filled: number): { readonly block: Uint8Array; readonly carried: number } {
    this.check();
    const at = this.position;
    // direct: whole disk blocks only; the rest is carried to the start of the block we go on in
    const len = this.tailFd !== undefined ? filled - (filled % DIRECT_ALIGN) : filled;
    if (len === 0) return { block, carried: filled };
    this.position += len;
    const done = block.subarray(0, len);
    if (this.pending.size >= this.maxInFlight || len < 64 * 1024) {
      this.writeNow(done, at); // small blocks and overflow: no pool round trip
      block.copyWithin(0, len, filled);
      return { block, carried: filled - len };
    }
    this.pending.set(done, at);
    const fd = this.fd!;
    write(fd, done, 0, len, at, (err, n) => {
      // a short write (a full disk, say), or a direct write the file system refused: finish it here through
      // writeAllSync (buffered where direct fails) or record why not, never drop the rest silently
      const rest = err === null && n < len ? n : err?.code === 'EINVAL' && this.tailFd !== undefined ? 0 : len;
      if (rest < len) {
        try { this.writeAllSync(done.subarray(rest), at + rest); err = null; } catch (e) { err = e as NodeJS.ErrnoException; }
      }
      this.pending.delete(done);
      if (err) this.failure ??= err;
      else if (this.spare.length < this.maxInFlight) this.spare.push(block);
      if (this.closeWhenIdle && this.pending.size === 0) this.release();
    });
    const next = this.spare.pop() ?? this.allocateBlock(block.length);
    next.set(block.subarray(len, filled));
    return { block: next, carried: filled - len };
  }

  protected drain(bytes: Uint8Array): void {
    // only reached through flush() at close, with the last partial block: the buffered descriptor takes it
    this.check();
    this.writeNow(bytes, this.position, true);
    this.position += bytes.length;
  }

  /**
   * A synchronous write whose failure is reported as a background one is: kept (later calls throw it too) and
   * thrown naming the file, whichever path the block took.
   */
  private writeNow(bytes: Uint8Array, at: number, buffered = false): void {
    try {
      if (buffered) writeAllSync(this.bufferedFd, bytes, at);
      else this.writeAllSync(bytes, at);
    } catch (e) {
      this.failure ??= e as Error;
      this.check();
    }
  }

  /**
   * Writes `bytes` at `at`. With O_DIRECT a partial write leaves an unaligned rest, which the buffered descriptor
   * finishes; the direct one may also refuse a write outright (EINVAL), which the buffered one then does.
   */
  private writeAllSync(bytes: Uint8Array, at: number): void {
    let off = 0;
    if (this.tailFd !== undefined) {
      try {
        off = writeSync(this.fd!, bytes, 0, bytes.length, at);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
      }
    }
    writeAllSync(this.bufferedFd, bytes.subarray(off), at + off);
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
      for (const [block, at] of this.pending) this.writeNow(block, at);
      this.check();
    } finally {
      if (this.pending.size === 0) this.release();
      else this.closeWhenIdle = true;
    }
  }

  private release(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    if (this.tailFd !== undefined) closeSync(this.tailFd);
    this.fd = this.tailFd = undefined;
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
