/**
 * UMAC (RFC 4418) for 4-, 8-, 12- and 16-byte tags: Tag = UHASH(K, M) xor PDF(K, Nonce) (§4.1), with AES-128 as
 * the block cipher of the KDF (§3.2) and the PDF (§3.3) via node:crypto. node has no UMAC of its own.
 *
 * Speed: the L1 hash NH (§5.2.2) is the hot loop, 0.125 multiply-adds per byte and per 4-byte tag word; it runs in
 * umac-nh.ts (WebAssembly SIMD, or a portable JS kernel), all iterations in one pass, straight from a copy of the
 * message in the kernel's memory. Per 1 KiB chunk this file then adds the length and runs the L2 polynomial
 * (§5.3) over 2^64 - 59 in 16-bit float limbs (exact: column sums stay below 2^35). Only messages over 16 MiB reach
 * the 128-bit polynomial stage, which uses BigInt; SSH packets never do. L3 (§5.4) and the PDF run once per tag.
 */
import { createCipheriv, type Cipher } from 'node:crypto';
import { NH_MAX_MESSAGE, nhKernel, type NhKernel } from './umac-nh.js';

const L1_KEY_LEN = 1024; // RFC 4418 §5.1: L1 key is 1024 bytes, plus 16 per extra iteration
const TWO32 = 4294967296;
const TWO16 = 65536;
/** §5.3: messages whose L1 output exceeds 2^17 bytes (16 MiB of message) switch to the 128-bit polynomial. */
const POLY64_BYTES = 1 << 17;
const P36 = 2 ** 36 - 5;
const P128 = (1n << 128n) - 159n;
const MASK128 = 0x01ffffff01ffffff01ffffff01ffffffn;

function aesEcb(key: Uint8Array): Cipher {
  const c = createCipheriv('aes-128-ecb', key, null);
  c.setAutoPadding(false);
  return c;
}

/** RFC 4418 §3.2.1 KDF: AES(K, uint64 index || uint64 i) for i = 1, 2, ..., truncated to numbytes. */
export function umacKdf(key: Uint8Array, index: number, numBytes: number): Uint8Array {
  const blocks = Math.ceil(numBytes / 16);
  const input = Buffer.alloc(blocks * 16);
  for (let i = 1; i <= blocks; i++) {
    input.writeUInt32BE(index, (i - 1) * 16 + 4);
    input.writeUInt32BE(i, (i - 1) * 16 + 12);
  }
  return new Uint8Array(aesEcb(key).update(input).subarray(0, numBytes));
}

function wordsBE(b: Uint8Array): Uint32Array {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out = new Uint32Array(b.length >>> 2);
  for (let i = 0; i < out.length; i++) out[i] = v.getUint32(i * 4);
  return out;
}

/** One UHASH iteration's keys (§5.1), pre-split into the forms the loops use. */
interface IterKeys {
  /** k64 of §5.3 as four 16-bit limbs, least significant first. */
  readonly k64: Float64Array;
  readonly k128: bigint;
  /** §5.4: eight 64-bit key words, each reduced mod p36. */
  readonly l3k1: Float64Array;
  readonly l3k2: number;
}

/**
 * Computes UMAC tags for one key. `tag(nonce, parts)` hashes the concatenation of `parts`. Not re-entrant
 * (one NH kernel and its memory), which suits one MAC instance per direction.
 */
export class Umac {
  readonly tagLen: number;
  private readonly iters: number;
  private readonly keys: readonly IterKeys[];
  private readonly nh: NhKernel;
  private readonly pdfCipher: Cipher;
  private readonly nonceBlock = Buffer.alloc(16);
  private lastPdfInput: Buffer | undefined;
  private lastPdfOutput: Buffer | undefined;
  /** Per iteration: the §5.3 POLY state y as four 16-bit limbs, least significant first. */
  private readonly y: Float64Array;
  private readonly out: Uint8Array;

  constructor(key: Uint8Array, tagLen: 4 | 8 | 12 | 16, kernel: 'simd' | 'js' = 'simd') {
    if (key.length !== 16) throw new RangeError(`UMAC key must be 16 bytes, got ${key.length}`);
    this.tagLen = tagLen;
    this.iters = tagLen / 4;
    const n = this.iters;
    // §5.1: one L1 key of 1024 + 16(n-1) bytes; iteration i uses the 1024 bytes from offset 16i
    this.nh = nhKernel(n, wordsBE(umacKdf(key, 1, L1_KEY_LEN + (n - 1) * 16)), kernel);
    const l2 = umacKdf(key, 2, n * 24);
    const l3a = umacKdf(key, 3, n * 64);
    const l3b = umacKdf(key, 4, n * 4);
    const keys: IterKeys[] = [];
    for (let i = 0; i < n; i++) {
      const k2 = l2.subarray(i * 24, i * 24 + 24);
      const v = new DataView(k2.buffer, k2.byteOffset, 24);
      // §5.3: k64 = str2uint(K[1..8]) and 0x01ffffff01ffffff
      const hi = v.getUint32(0) & 0x01ffffff, lo = v.getUint32(4) & 0x01ffffff;
      const k64 = Float64Array.of(lo & 0xffff, lo >>> 16, hi & 0xffff, hi >>> 16);
      const k128 = BigInt('0x' + Buffer.from(k2.subarray(8, 24)).toString('hex')) & MASK128;
      const k1 = l3a.subarray(i * 64, i * 64 + 64);
      const kv = new DataView(k1.buffer, k1.byteOffset, 64);
      const l3k1 = new Float64Array(8);
      // §5.4: k_i = str2uint(K1 chunk) mod p36; BigInt once per key, never per message
      for (let j = 0; j < 8; j++) l3k1[j] = Number(((BigInt(kv.getUint32(j * 8)) << 32n) | BigInt(kv.getUint32(j * 8 + 4))) % BigInt(P36));
      const l3k2 = new DataView(l3b.buffer, l3b.byteOffset + i * 4, 4).getUint32(0);
      keys.push({ k64, k128, l3k1, l3k2 });
    }
    this.keys = keys;
    this.y = new Float64Array(4 * n);
    this.out = new Uint8Array(tagLen);
    // §3.3 PDF: K' = KDF(K, 0, 16)
    this.pdfCipher = aesEcb(umacKdf(key, 0, 16));
  }

  /** Whether NH runs on the WebAssembly SIMD kernel. */
  get simd(): boolean {
    return this.nh.simd;
  }

  /** The tag of `parts` (concatenated) under a 1..16-byte nonce (OpenSSH: the 8-byte sequence number). */
  tag(nonce: Uint8Array, parts: readonly Uint8Array[]): Uint8Array {
    let len = 0;
    for (const p of parts) len += p.length;
    const n = this.iters, y = this.y;
    for (let i = 0; i < n; i++) { y[4 * i] = 1; y[4 * i + 1] = 0; y[4 * i + 2] = 0; y[4 * i + 3] = 0; }
    let big: bigint[][] | undefined;
    let single: Uint32Array | undefined;
    // the message goes through NH in segments of whole chunks; SSH packets fit in one
    let chunkIndex = 0;
    for (let start = 0; start === 0 || start < len; start += NH_MAX_MESSAGE) {
      const segLen = Math.min(NH_MAX_MESSAGE, len - start);
      copyRange(parts, start, this.nh.message(segLen));
      this.nh.run(segLen);
      const r = this.nh.results();
      const chunks = Math.max(1, Math.ceil(segLen / L1_KEY_LEN));
      for (let c = 0; c < chunks; c++, chunkIndex++) {
        // §5.2.1: each chunk's NH plus its bit length (8192 for full chunks), mod 2^64
        const bits = (c === chunks - 1 ? segLen - c * L1_KEY_LEN : L1_KEY_LEN) * 8;
        for (let i = 0; i < n; i++) {
          const at = 2 * (c * n + i);
          let lo = r[at]! + bits, hi = r[at + 1]!;
          if (lo >= TWO32) { lo -= TWO32; hi = (hi + 1) % TWO32; }
          if (len <= L1_KEY_LEN) {
            (single ??= new Uint32Array(2 * n)).set([hi, lo], 2 * i);
          } else if (chunkIndex * 8 >= POLY64_BYTES) {
            ((big ??= Array.from({ length: n }, () => []))[i]!).push((BigInt(hi) << 32n) | BigInt(lo));
          } else {
            this.poly64(i, hi, lo);
          }
        }
      }
    }
    const out = this.out;
    const ov = new DataView(out.buffer);
    for (let i = 0; i < n; i++) {
      let w: number;
      if (single) {
        // §5.1: B = zeroes(8) || A for messages of at most one chunk
        w = this.l3(i, 0, 0, single[2 * i]!, single[2 * i + 1]!);
      } else {
        const yHi = y[4 * i + 3]! * TWO16 + y[4 * i + 2]!, yLo = y[4 * i + 1]! * TWO16 + y[4 * i]!;
        if (big === undefined) {
          w = this.l3(i, 0, 0, yHi, yLo);
        } else {
          const b = this.poly128Tail(i, (BigInt(yHi) << 32n) | BigInt(yLo), big[i]!);
          w = this.l3(i, Number(b >> 96n), Number((b >> 64n) & 0xffffffffn), Number((b >> 32n) & 0xffffffffn), Number(b & 0xffffffffn));
        }
      }
      ov.setUint32(i * 4, w);
    }
    const pad = this.pdf(nonce);
    const tag = new Uint8Array(this.tagLen);
    for (let i = 0; i < tag.length; i++) tag[i] = out[i]! ^ pad[i]!;
    return tag;
  }

  /** §5.3 POLY(64, 2^64 - 2^32, k64, M), one word: a word ≥ 2^64 - 2^32 goes in as marker, then m - offset. */
  private poly64(i: number, hi: number, lo: number): void {
    const y = this.y, k = this.keys[i]!.k64, at = 4 * i;
    if (hi === 0xffffffff) {
      poly64Step(k, y, at, 0xffff, 0xffff, 0xffff, 0xffc4); // marker = p64 - 1
      lo -= 59; // offset = 2^64 - p64; m ≥ 2^64 - 2^32, so only the low word changes
    }
    poly64Step(k, y, at, hi >>> 16, hi & 0xffff, lo >>> 16, lo & 0xffff);
  }

  /** §5.3 second stage: POLY(128, 2^128 - 2^96, k128, uint2str(y, 16) || zeropad(M_2 || 0x80, 16)). */
  private poly128Tail(i: number, y64: bigint, rest: readonly bigint[]): bigint {
    const k = this.keys[i]!.k128;
    // M_2 is a list of 64-bit words; append the 0x80 byte and pad to 16-byte words
    const words: bigint[] = [y64];
    for (let j = 0; j < rest.length; j += 2) {
      const a = rest[j]!;
      const b = j + 1 < rest.length ? rest[j + 1]! : 0x80n << 56n;
      words.push((a << 64n) | b);
    }
    if (rest.length % 2 === 0) words.push(0x80n << 120n);
    let y = 1n;
    const marker = P128 - 1n, offset = 159n, max = (1n << 128n) - (1n << 96n);
    for (const m of words) {
      if (m >= max) {
        y = (k * y + marker) % P128;
        y = (k * y + (m - offset)) % P128;
      } else {
        y = (k * y + m) % P128;
      }
    }
    return y;
  }

  /** §5.4 L3-HASH over the 128-bit B given as four 32-bit words (most significant first). */
  private l3(i: number, w0: number, w1: number, w2: number, w3: number): number {
    const { l3k1, l3k2 } = this.keys[i]!;
    const m = [w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff];
    let y = 0;
    // each term < 2^16 · 2^36 = 2^52 and y < 2^36, so every sum stays exact
    for (let j = 0; j < 8; j++) y = (y + m[j]! * l3k1[j]!) % P36;
    // y < p36 < 2^36: keep the low 32 bits (uint2str(y, 4) drops the top four)
    return ((y % TWO32) ^ l3k2) >>> 0;
  }

  /** §3.3 PDF: AES(K', nonce with its low bits cleared and zero-padded), the taglen bytes the low bits select. */
  private pdf(nonce: Uint8Array): Uint8Array {
    if (nonce.length < 1 || nonce.length > 16) throw new RangeError(`UMAC nonce must be 1..16 bytes, got ${nonce.length}`);
    const block = this.nonceBlock;
    block.fill(0);
    block.set(nonce, 0);
    let index = 0;
    if (this.tagLen <= 8) {
      const bits = this.tagLen === 4 ? 3 : 1;
      const lastByte = nonce.length - 1;
      index = nonce[lastByte]! & bits;
      block[lastByte] = nonce[lastByte]! & ~bits;
    }
    // 8-byte tags: consecutive sequence numbers 2k, 2k+1 share one AES block (OpenSSH's umac.c caches it too)
    let t: Buffer;
    if (this.tagLen > 8) {
      t = this.pdfCipher.update(block);
    } else if (this.lastPdfInput !== undefined && this.lastPdfInput.equals(block)) {
      t = this.lastPdfOutput!;
    } else {
      t = this.pdfCipher.update(block);
      this.lastPdfInput = Buffer.from(block);
      this.lastPdfOutput = t;
    }
    return t.subarray(index * this.tagLen, index * this.tagLen + this.tagLen);
  }
}

/**
 * One step of §5.3 POLY over p64 = 2^64 - 59: y = (k·y + m) mod p64, in 16-bit limbs (least significant first for k
 * and for y, which is y[at..at+3] and is updated in place; m is given most significant first). Column sums stay
 * below 2^35, so float arithmetic is exact.
 */
export function poly64Step(k: Float64Array, y: Float64Array, at: number, m3: number, m2: number, m1: number, m0: number): void {
  const k0 = k[0]!, k1 = k[1]!, k2 = k[2]!, k3 = k[3]!;
  const y0 = y[at]!, y1 = y[at + 1]!, y2 = y[at + 2]!, y3 = y[at + 3]!;
  let c0 = k0 * y0 + m0;
  let c1 = k0 * y1 + k1 * y0 + m1;
  let c2 = k0 * y2 + k1 * y1 + k2 * y0 + m2;
  let c3 = k0 * y3 + k1 * y2 + k2 * y1 + k3 * y0 + m3;
  let c4 = k1 * y3 + k2 * y2 + k3 * y1;
  let c5 = k2 * y3 + k3 * y2;
  let c6 = k3 * y3;
  // carry-propagate into 16-bit limbs c0..c7
  let t = Math.floor(c0 / TWO16); c0 -= t * TWO16; c1 += t;
  t = Math.floor(c1 / TWO16); c1 -= t * TWO16; c2 += t;
  t = Math.floor(c2 / TWO16); c2 -= t * TWO16; c3 += t;
  t = Math.floor(c3 / TWO16); c3 -= t * TWO16; c4 += t;
  t = Math.floor(c4 / TWO16); c4 -= t * TWO16; c5 += t;
  t = Math.floor(c5 / TWO16); c5 -= t * TWO16; c6 += t;
  t = Math.floor(c6 / TWO16); c6 -= t * TWO16;
  const c7 = t; // k < 2^57 and y < 2^64: the product is below 2^121, nothing is left above c7
  // 2^64 ≡ 59 (mod p64): fold the high 64 bits down, at most three times
  let r0 = c0 + 59 * c4, r1 = c1 + 59 * c5, r2 = c2 + 59 * c6, r3 = c3 + 59 * c7;
  for (let round = 0; round < 3; round++) {
    t = Math.floor(r0 / TWO16); r0 -= t * TWO16; r1 += t;
    t = Math.floor(r1 / TWO16); r1 -= t * TWO16; r2 += t;
    t = Math.floor(r2 / TWO16); r2 -= t * TWO16; r3 += t;
    t = Math.floor(r3 / TWO16); r3 -= t * TWO16;
    if (t === 0) break;
    r0 += 59 * t;
  }
  // values in [p64, 2^64) become value - p64
  if (r3 === 0xffff && r2 === 0xffff && r1 === 0xffff && r0 >= 0xffc5) {
    r0 -= 0xffc5; r1 = 0; r2 = 0; r3 = 0;
  }
  y[at] = r0; y[at + 1] = r1; y[at + 2] = r2; y[at + 3] = r3;
}

/** Copies bytes [start, start + dest.length) of the concatenation of `parts` into `dest`. */
function copyRange(parts: readonly Uint8Array[], start: number, dest: Uint8Array): void {
  let skip = start, at = 0;
  for (const p of parts) {
    if (at >= dest.length) return;
    if (skip >= p.length) { skip -= p.length; continue; }
    const take = Math.min(p.length - skip, dest.length - at);
    dest.set(skip === 0 && take === p.length ? p : p.subarray(skip, skip + take), at);
    at += take;
    skip = 0;
  }
}
