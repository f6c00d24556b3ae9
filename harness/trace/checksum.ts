/**
 * The Internet checksum (RFC 1071): the 16-bit one's complement of the one's complement sum of 16-bit words.
 * Used for the synthetic IPv4 header (RFC 791 §3.1) and TCP segment (RFC 9293 §3.1) checksums, which tshark
 * verifies when `ip.check_checksum` / `tcp.check_checksum` are on.
 *
 * This runs over every recorded byte, so it avoids a per-byte loop: RFC 1071 §2(B) makes the sum byte-order
 * independent, so the aligned middle of the input is summed as native little-endian 32-bit words (four
 * accumulators, ~3.5 GB/s here against ~1.6 GB/s for a DataView loop) and swapped once; the unaligned edge bytes
 * are added by their position's parity.
 */

import { nativeBinding, type NativeBinding } from '../../impl/native/binding.js';

/** Below this the N-API call costs more than the JavaScript loop saves. */
const NATIVE_MIN = 256;

/**
 * One's complement partial sum of `b` as big-endian 16-bit words; add more with `initial`, then `fold`.
 * Large inputs go to the native addon when it is built (impl/native/src/checksum.c, several times faster).
 */
export function sumWords(b: Uint8Array, initial = 0): number {
  if (b.length >= NATIVE_MIN) {
    // looked up once: nativeBinding() reads the environment on every call, too slow for once per frame
    if (native === undefined) native = nativeBinding();
    if (native) return initial + native.inetSum(b);
  }
  return sumWordsJs(b, initial);
}

let native: NativeBinding | null | undefined;

/**
 * Copies `src` into `dst` (the same length, not overlapping) and returns its partial sum, as `dst.set(src)` then
 * `sumWords(src, initial)` would: the addon does both in one pass, with stores that do not pull the destination into
 * the cache (the pcap frame only goes on to the file).
 */
export function copyAndSumWords(dst: Uint8Array, src: Uint8Array, initial = 0): number {
  if (src.length >= NATIVE_MIN) {
    if (native === undefined) native = nativeBinding();
    if (native) return initial + native.inetCopySum(dst, src);
  }
  dst.set(src);
  return sumWordsJs(src, initial);
}

/** The JavaScript sum (exported for tests: both paths must agree). */
export function sumWordsJs(b: Uint8Array, initial = 0): number {
  const n = b.length;
  if (n < 64) return initial + sumBytes(b, 0, n);
  const head = (4 - (b.byteOffset & 3)) & 3;
  const words = (n - head) >>> 2;
  const tail = head + words * 4;
  let le = 0;
  const a = new Uint32Array(b.buffer, b.byteOffset + head, words);
  // each accumulator takes ≤ 2^18 words of < 2^32 per block: sums stay exact in a double (< 2^53)
  for (let i = 0; i < words;) {
    const stop = Math.min(words, i + (1 << 20));
    const quad = i + ((stop - i) & ~3);
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (; i < quad; i += 4) { s0 += a[i]!; s1 += a[i + 1]!; s2 += a[i + 2]!; s3 += a[i + 3]!; }
    for (; i < stop; i++) s0 += a[i]!;
    le = fold(le + fold(s0) + fold(s1) + fold(s2) + fold(s3));
  }
  // The aligned run starts at offset `head` of the input: at an even offset its little-endian words are the
  // big-endian words byte-swapped; at an odd offset they line up with the big-endian pairing as they are.
  const mid = (head & 1) === 0 ? ((le & 0xff) << 8) | (le >>> 8) : le;
  return initial + mid + sumBytes(b, 0, head) + sumBytes(b, tail, n);
}

/** Bytes [from, to) of `b` by position: even offsets are high bytes of a big-endian word, odd ones low bytes. */
function sumBytes(b: Uint8Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += i & 1 ? b[i]! : b[i]! << 8;
  return s;
}

/** Folds carries into 16 bits (end-around carry); exact for any sum below 2^53. */
export function fold(sum: number): number {
  // modulo 0xffff is the end-around-carry fold, except that a non-zero multiple of 0xffff is 0xffff (−0)
  if (sum === 0) return 0;
  const r = sum % 0xffff;
  return r === 0 ? 0xffff : r;
}

/** The checksum field value: complement of the folded sum. */
export function internetChecksum(b: Uint8Array, initial = 0): number {
  return ~fold(sumWords(b, initial)) & 0xffff;
}
