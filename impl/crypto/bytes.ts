/**
 * Small byte/bigint helpers shared by the algorithm modules. Used at key-exchange and signature time,
 * never per byte of packet data.
 */

export function toBase64Url(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');
}

export function fromBase64Url(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'base64url'));
}

/** Big-endian unsigned bytes → bigint (empty → 0n). */
export function bigintFromBytes(be: Uint8Array): bigint {
  if (be.length === 0) return 0n;
  return BigInt('0x' + Buffer.from(be.buffer, be.byteOffset, be.byteLength).toString('hex'));
}

/** bigint ≥ 0 → big-endian unsigned bytes, left-padded to `len` (minimal when len is 0). */
export function bigintToBytes(v: bigint, len = 0): Uint8Array {
  let hex = v.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  if (len > 0) hex = hex.padStart(len * 2, '0');
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/** Drops leading zero bytes (a view, no copy). */
export function stripLeadingZeros(be: Uint8Array): Uint8Array {
  let i = 0;
  while (i < be.length && be[i] === 0) i++;
  return be.subarray(i);
}

/**
 * `mpint` with its uint32 length prefix (RFC 4251 §5) for an unsigned big-endian value: the form in which
 * the shared secret K enters the exchange hash and the KDF (RFC 4253 §7.2, §8).
 */
export function mpintWithLength(unsignedBE: Uint8Array): Uint8Array {
  const body = stripLeadingZeros(unsignedBE);
  const pad = body.length > 0 && (body[0]! & 0x80) !== 0 ? 1 : 0;
  const out = new Uint8Array(4 + pad + body.length);
  new DataView(out.buffer).setUint32(0, pad + body.length);
  out.set(body, 4 + pad);
  return out;
}

/** `string` with its uint32 length prefix (RFC 4251 §5). */
export function stringWithLength(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + b.length);
  new DataView(out.buffer).setUint32(0, b.length);
  out.set(b, 4);
  return out;
}

export function isAllZero(b: Uint8Array): boolean {
  let acc = 0;
  for (let i = 0; i < b.length; i++) acc |= b[i]!;
  return acc === 0;
}

/**
 * A scalar in [1, n-1] from injected randomness, with negligible bias: 64 extra random bits reduced
 * mod (n-1), plus one (FIPS 186-5 §A.2.1, "extra random bits"). Deterministic for a given rng.
 */
export function scalarFromRng(rng: (n: number) => Uint8Array, n: bigint, len: number): Uint8Array {
  const c = bigintFromBytes(rng(len + 8));
  return bigintToBytes((c % (n - 1n)) + 1n, len);
}
