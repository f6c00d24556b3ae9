/**
 * A streaming, bounded inflater for SSH's zlib compression (RFC 1950 / RFC 1951 bit stream; RFC 4253 §6.2:
 * one stream per direction, each packet flushed). Node's zlib has no synchronous API that keeps a stream
 * open between calls, and the sans-I/O engine is synchronous, so inflate lives here.
 *
 * Each call decodes every complete deflate block in (leftover || payload). A block cut off by the end of
 * the input is rolled back and retried with the next packet; with Z_PARTIAL_FLUSH (OpenSSH) that is only
 * the empty 10-bit static block whose tail spills into the next packet. Output is bounded by `maxOut`
 * per call, leftover input by MAX_PENDING, back-references by the 32 KiB window.
 * Decoding follows RFC 1951 §3.2 with canonical Huffman codes decoded by code length (as in zlib's puff).
 */
import { DisconnectReason, LimitError, SSHError } from '../../errors.js';

const WINDOW = 32 * 1024;
/** Input we hold back waiting for a block to complete; a stored block is at most 65535 + 5 bytes. */
const MAX_PENDING = 1024 * 1024;
const MAX_BITS = 15;

const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
/** RFC 1951 §3.2.7: order of the code length code lengths. */
const CLEN_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

export function compressionError(message: string): SSHError {
  return new SSHError('DECODE', `zlib: ${message}`, DisconnectReason.COMPRESSION_ERROR);
}

/** Thrown internally when the input ends inside a block. */
const OUT_OF_INPUT = Symbol('out of input');

interface Huffman {
  readonly count: Uint16Array;   // codes of each length
  readonly symbol: Uint16Array;  // symbols ordered by code
}

/** Builds a canonical code; returns < 0 when over-subscribed, > 0 when incomplete, 0 when complete. */
function construct(lengths: Uint8Array | number[], n: number, off = 0): { h: Huffman; left: number } {
  const count = new Uint16Array(MAX_BITS + 1);
  const symbol = new Uint16Array(n);
  for (let s = 0; s < n; s++) count[lengths[off + s]!]!++;
  if (count[0] === n) return { h: { count, symbol }, left: 0 };
  let left = 1;
  for (let len = 1; len <= MAX_BITS; len++) {
    left = (left << 1) - count[len]!;
    if (left < 0) return { h: { count, symbol }, left };
  }
  const offs = new Uint16Array(MAX_BITS + 2);
  for (let len = 1; len < MAX_BITS; len++) offs[len + 1] = offs[len]! + count[len]!;
  for (let s = 0; s < n; s++) if (lengths[off + s] !== 0) symbol[offs[lengths[off + s]!]!++] = s;
  return { h: { count, symbol }, left };
}

const FIXED = (() => {
  const l = new Uint8Array(288 + 30);
  l.fill(8, 0, 144); l.fill(9, 144, 256); l.fill(7, 256, 280); l.fill(8, 280, 288); l.fill(5, 288, 318);
  return { lit: construct(l, 288).h, dist: construct(l, 30, 288).h };
})();

class BitReader {
  pos = 0;
  bitBuf = 0;
  bitCnt = 0;
  constructor(readonly input: Uint8Array, startBit: number) {
    this.pos = startBit >>> 3;
    const skip = startBit & 7;
    if (skip) this.bits(skip);
  }
  get bitPos(): number { return this.pos * 8 - this.bitCnt; }

  bits(n: number): number {
    while (this.bitCnt < n) {
      if (this.pos >= this.input.length) throw OUT_OF_INPUT;
      this.bitBuf |= this.input[this.pos++]! << this.bitCnt;
      this.bitCnt += 8;
    }
    const v = this.bitBuf & ((1 << n) - 1);
    this.bitBuf >>>= n;
    this.bitCnt -= n;
    return v;
  }

  decode(h: Huffman): number {
    let code = 0, first = 0, index = 0;
    for (let len = 1; len <= MAX_BITS; len++) {
      code |= this.bits(1);
      const count = h.count[len]!;
      if (code - count < first) return h.symbol[index + (code - first)]!;
      index += count;
      first = (first + count) << 1;
      code <<= 1;
    }
    throw compressionError('invalid Huffman code');
  }

  /** Drops the bits up to the next byte boundary (RFC 1951 §3.2.4). */
  align(): void {
    const drop = this.bitCnt & 7;
    this.bitBuf >>>= drop;
    this.bitCnt -= drop;
  }
}

/** Output buffer preceded by the window of earlier output, so distances may reach back across packets. */
class Output {
  buf: Uint8Array;
  len: number;
  /** Where this call's output begins (after the history). */
  readonly start: number;
  constructor(history: Uint8Array, private readonly limit: number) {
    this.buf = new Uint8Array(Math.max(history.length + 1024, history.length * 2));
    this.buf.set(history);
    this.len = this.start = history.length;
  }
  private grow(n: number): void {
    if (this.len + n - this.start > this.limit) throw new LimitError(`zlib: decompressed payload exceeds ${this.limit} bytes`, DisconnectReason.COMPRESSION_ERROR);
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  byte(b: number): void {
    this.grow(1);
    this.buf[this.len++] = b;
  }
  bytes(b: Uint8Array): void {
    this.grow(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  copy(dist: number, n: number): void {
    if (dist > this.len || dist > WINDOW) throw compressionError(`distance ${dist} reaches before the start of the stream`);
    this.grow(n);
    // RFC 1951 §3.2.3: the copy may overlap its own output (a run repeating the last `dist` bytes); copying
    // in chunks no longer than what is already written keeps it exact with native copies, doubling each time
    const from = this.len - dist;
    while (n > 0) {
      const c = Math.min(n, this.len - from);
      this.buf.copyWithin(this.len, from, from + c);
      this.len += c;
      n -= c;
    }
  }
}

export class Inflater {
  private history: Uint8Array<ArrayBufferLike> = new Uint8Array(0);
  private pending: Uint8Array<ArrayBufferLike> = new Uint8Array(0);
  private pendingBit = 0;
  private headerDone = false;
  private finished = false;

  /** Decompresses one packet's payload; throws SSHError(reason COMPRESSION_ERROR) on corrupt input or beyond `maxOut`. */
  inflate(payload: Uint8Array, maxOut: number): Uint8Array {
    let input: Uint8Array = payload;
    if (this.pending.length > 0) {
      input = new Uint8Array(this.pending.length + payload.length);
      input.set(this.pending);
      input.set(payload, this.pending.length);
    }
    let startBit = this.pendingBit;
    if (!this.headerDone) {
      if (input.length < 2) { this.keep(input, 0); return new Uint8Array(0); }
      // RFC 1950 §2.2: CM = 8 (deflate), CINFO ≤ 7 (window ≤ 32 KiB), FCHECK, and no preset dictionary
      const cmf = input[0]!, flg = input[1]!;
      if ((cmf & 0x0f) !== 8 || cmf >> 4 > 7 || ((cmf << 8) | flg) % 31 !== 0 || (flg & 0x20) !== 0) throw compressionError('bad zlib header');
      this.headerDone = true;
      startBit = 16;
    }
    const out = new Output(this.history, maxOut);
    const r = new BitReader(input, startBit);
    for (let guard = 0; ; guard++) {
      if (guard > input.length * 8) throw compressionError('no progress');
      const blockStart = r.bitPos;
      const outStart = out.len;
      if (blockStart >= input.length * 8) { this.keep(input, blockStart); break; }
      if (this.finished) throw compressionError('data after the final block');
      try {
        this.finished = this.block(r, out);
      } catch (e) {
        if (e !== OUT_OF_INPUT) throw e;
        out.len = outStart;
        this.keep(input, blockStart);
        break;
      }
    }
    const result = out.buf.slice(out.start, out.len);
    this.history = out.buf.slice(Math.max(0, out.len - WINDOW), out.len);
    return result;
  }

  private keep(input: Uint8Array, bit: number): void {
    const from = bit >>> 3;
    if (input.length - from > MAX_PENDING) throw new LimitError('zlib: incomplete deflate block is too long', DisconnectReason.COMPRESSION_ERROR);
    this.pending = input.slice(from);
    this.pendingBit = bit & 7;
  }

  /** One block (RFC 1951 §3.2.3); returns BFINAL. */
  private block(r: BitReader, out: Output): boolean {
    const final = r.bits(1) === 1;
    const type = r.bits(2);
    if (type === 0) {
      r.align();
      const len = r.bits(16);
      const nlen = r.bits(16);
      if ((len ^ 0xffff) !== nlen) throw compressionError('stored block length check failed');
      // the bit buffer is empty after align + 32 bits, so the bytes follow at r.pos
      if (r.pos + len > r.input.length) throw OUT_OF_INPUT;
      out.bytes(r.input.subarray(r.pos, r.pos + len));
      r.pos += len;
    } else if (type === 1) {
      this.codes(r, out, FIXED.lit, FIXED.dist);
    } else if (type === 2) {
      const { lit, dist } = this.dynamicTables(r);
      this.codes(r, out, lit, dist);
    } else {
      throw compressionError('invalid block type 3');
    }
    return final;
  }

  private dynamicTables(r: BitReader): { lit: Huffman; dist: Huffman } {
    const nlen = r.bits(5) + 257;
    const ndist = r.bits(5) + 1;
    const ncode = r.bits(4) + 4;
    if (nlen > 286 || ndist > 30) throw compressionError('too many length or distance codes');
    const lengths = new Uint8Array(320);
    for (let i = 0; i < ncode; i++) lengths[CLEN_ORDER[i]!] = r.bits(3);
    const lencode = construct(lengths, 19);
    if (lencode.left !== 0) throw compressionError('incomplete code length code');
    lengths.fill(0);
    for (let i = 0; i < nlen + ndist;) {
      const sym = r.decode(lencode.h);
      if (sym < 16) { lengths[i++] = sym; continue; }
      let len = 0, rep: number;
      if (sym === 16) {
        if (i === 0) throw compressionError('repeat with no first length');
        len = lengths[i - 1]!;
        rep = 3 + r.bits(2);
      } else if (sym === 17) rep = 3 + r.bits(3);
      else rep = 11 + r.bits(7);
      if (i + rep > nlen + ndist) throw compressionError('too many code lengths');
      lengths.fill(len, i, i + rep);
      i += rep;
    }
    if (lengths[256] === 0) throw compressionError('no end-of-block code');
    const lit = construct(lengths, nlen);
    // RFC 1951 allows an incomplete code only when it has a single code (zlib's rule)
    if (lit.left < 0 || (lit.left > 0 && nlen - lit.h.count[0]! !== 1)) throw compressionError('bad literal/length code');
    const dist = construct(lengths, ndist, nlen);
    if (dist.left < 0 || (dist.left > 0 && ndist - dist.h.count[0]! !== 1)) throw compressionError('bad distance code');
    return { lit: lit.h, dist: dist.h };
  }

  private codes(r: BitReader, out: Output, lit: Huffman, dist: Huffman): void {
    for (;;) {
      const sym = r.decode(lit);
      if (sym < 256) { out.byte(sym); continue; }
      if (sym === 256) return;
      const li = sym - 257;
      if (li >= 29) throw compressionError('invalid length symbol');
      const len = LENGTH_BASE[li]! + r.bits(LENGTH_EXTRA[li]!);
      const di = r.decode(dist);
      if (di >= 30) throw compressionError('invalid distance symbol');
      out.copy(DIST_BASE[di]! + r.bits(DIST_EXTRA[di]!), len);
    }
  }
}
