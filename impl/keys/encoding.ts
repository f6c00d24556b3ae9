/** Small byte helpers shared by the key formats: strict base64, base64url (JWK) and unsigned big-endian integers. */
import { KeyFormatError } from './errors.js';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Strict standard base64 (RFC 4648 §4): Buffer.from(_, 'base64') silently skips junk, which would let
 * garbled files parse. Whitespace must already be removed.
 */
export function decodeBase64Strict(text: string, what: string, maxBytes: number): Uint8Array {
  if (text.length % 4 !== 0 || !BASE64.test(text)) throw new KeyFormatError('malformed', `${what}: invalid base64`);
  if ((text.length / 4) * 3 > maxBytes + 2) throw new KeyFormatError('limit', `${what}: ${Math.floor((text.length / 4) * 3)} bytes exceed limit ${maxBytes}`);
  return new Uint8Array(Buffer.from(text, 'base64'));
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64');
}

export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64url');
}

export function fromBase64Url(text: string | undefined, what: string): Uint8Array {
  if (text === undefined) throw new KeyFormatError('malformed', `${what}: missing`);
  return new Uint8Array(Buffer.from(text, 'base64url'));
}

/** Unsigned big-endian bytes → bigint (empty → 0). */
export function bigintFromBytes(b: Uint8Array): bigint {
  if (b.length === 0) return 0n;
  return BigInt('0x' + Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex'));
}

/** bigint ≥ 0 → unsigned big-endian bytes, left-padded with zeros to `len` when given. */
export function bytesFromBigint(v: bigint, len?: number): Uint8Array {
  let hex = v.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  if (v === 0n) hex = '';
  const raw = Buffer.from(hex, 'hex');
  if (len === undefined || raw.length === len) return new Uint8Array(raw);
  if (raw.length > len) throw new RangeError(`integer needs ${raw.length} bytes, more than ${len}`);
  const out = new Uint8Array(len);
  out.set(raw, len - raw.length);
  return out;
}

export function bitLength(v: bigint): number {
  return v <= 0n ? 0 : v.toString(2).length;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

export function modInverse(a: bigint, m: bigint): bigint {
  let [r0, r1] = [((a % m) + m) % m, m];
  let [s0, s1] = [1n, 0n];
  // Extended Euclid; the loop ends after O(log m) steps because r strictly decreases.
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  if (r0 !== 1n) throw new KeyFormatError('malformed', 'value has no modular inverse');
  return ((s0 % m) + m) % m;
}
