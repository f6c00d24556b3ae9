/** Facts about the NIST prime curves used by ecdh-sha2-* (RFC 5656 §4) and ecdsa-sha2-* (RFC 5656 §3). */
import type { HashName } from './types.js';

export interface NistCurve {
  /** SSH curve identifier (RFC 5656 §10.1). */
  readonly id: 'nistp256' | 'nistp384' | 'nistp521';
  /** OpenSSL / node:crypto curve name. */
  readonly nodeCurve: string;
  /** JWK "crv". */
  readonly jwkCrv: 'P-256' | 'P-384' | 'P-521';
  /** Field element size in bytes. */
  readonly fieldLen: number;
  /** Group order n (FIPS 186-5 / SEC 2). */
  readonly order: bigint;
  /** RFC 5656 §6.2.1: hash by curve size. */
  readonly hash: HashName;
}

export const nistp256: NistCurve = {
  id: 'nistp256', nodeCurve: 'prime256v1', jwkCrv: 'P-256', fieldLen: 32, hash: 'sha256',
  order: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
};
export const nistp384: NistCurve = {
  id: 'nistp384', nodeCurve: 'secp384r1', jwkCrv: 'P-384', fieldLen: 48, hash: 'sha384',
  order: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
};
export const nistp521: NistCurve = {
  id: 'nistp521', nodeCurve: 'secp521r1', jwkCrv: 'P-521', fieldLen: 66, hash: 'sha512',
  order: 0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
};

export const nistCurves: readonly NistCurve[] = [nistp256, nistp384, nistp521];

export function curveById(id: string): NistCurve | undefined {
  return nistCurves.find((c) => c.id === id);
}

/** RFC 5656 §3.1 / SEC1 §2.3.3: the uncompressed point form 0x04 || X || Y, the only form OpenSSH accepts. */
export function isUncompressedPoint(curve: NistCurve, q: Uint8Array): boolean {
  return q.length === 1 + 2 * curve.fieldLen && q[0] === 0x04;
}
