/**
 * The Internet checksum (RFC 1071): the 16-bit one's complement of the one's complement sum of 16-bit words.
 * Used for the synthetic IPv4 header (RFC 791 §3.1) and TCP segment (RFC 9293 §3.1) checksums, which tshark
 * verifies when `ip.check_checksum` / `tcp.check_checksum` are on.
 *
 * RFC 1071 §2(B): the sum is byte-order independent, so we add 32-bit little-endian words (4 bytes per step,
 * no per-byte loop) and swap the folded result once at the end.
 */

/** One's complement partial sum of `b` as big-endian 16-bit words, not yet folded or complemented. */
export function sumWords(b: Uint8Array, initial = 0): number {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = b.length;
  const whole = n & ~3;
  let le = 0;
  // 2^53 / 2^32 words before a Number sum loses precision: fold every 2^20 words to stay exact.
  for (let i = 0; i < whole;) {
    const stop = Math.min(whole, i + (1 << 22));
    for (; i < stop; i += 4) le += view.getUint32(i, true);
    le = (le % 0xffff) || (le ? 0xffff : 0);
  }
  if (n - whole >= 2) le += view.getUint16(whole, true);
  if (n & 1) le += b[n - 1]!; // a trailing odd byte is the high byte of a big-endian word: low byte in LE terms
  let s = fold(le);
  s = ((s & 0xff) << 8) | (s >> 8); // little-endian sum → big-endian sum
  return initial + s;
}

/** Folds carries into 16 bits (end-around carry). */
export function fold(sum: number): number {
  // values stay below 2^53; modulo 0xffff is the end-around-carry fold, except that it maps 0xffff to 0
  if (sum === 0) return 0;
  const r = sum % 0xffff;
  return r === 0 ? 0xffff : r;
}

/** The checksum field value: complement of the folded sum. */
export function internetChecksum(b: Uint8Array, initial = 0): number {
  return ~fold(sumWords(b, initial)) & 0xffff;
}
