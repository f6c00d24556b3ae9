/** The key types impl/keys reads and writes, with the facts each format needs. */

export type KeyType = 'ssh-ed25519' | 'ecdsa-sha2-nistp256' | 'ecdsa-sha2-nistp384' | 'ecdsa-sha2-nistp521' | 'ssh-rsa';

export const KEY_TYPES: readonly KeyType[] = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa'];

export function isKeyType(name: string): name is KeyType {
  return (KEY_TYPES as readonly string[]).includes(name);
}

/** RFC 5656 §6.1 curve identifiers ↔ JWK / OpenSSL names. */
export interface CurveFacts {
  readonly type: KeyType;
  /** Curve identifier inside the blob (RFC 5656 §3.1). */
  readonly sshCurve: 'nistp256' | 'nistp384' | 'nistp521';
  readonly jwkCrv: 'P-256' | 'P-384' | 'P-521';
  readonly nodeCurve: 'prime256v1' | 'secp384r1' | 'secp521r1';
  /** Bytes of one field element (x, y, d). */
  readonly fieldBytes: number;
}

export const CURVES: readonly CurveFacts[] = [
  { type: 'ecdsa-sha2-nistp256', sshCurve: 'nistp256', jwkCrv: 'P-256', nodeCurve: 'prime256v1', fieldBytes: 32 },
  { type: 'ecdsa-sha2-nistp384', sshCurve: 'nistp384', jwkCrv: 'P-384', nodeCurve: 'secp384r1', fieldBytes: 48 },
  { type: 'ecdsa-sha2-nistp521', sshCurve: 'nistp521', jwkCrv: 'P-521', nodeCurve: 'secp521r1', fieldBytes: 66 },
];

export function curveByType(type: string): CurveFacts | undefined {
  return CURVES.find((c) => c.type === type);
}

export function curveByJwk(crv: string | undefined): CurveFacts | undefined {
  return CURVES.find((c) => c.jwkCrv === crv);
}

/** OpenSSH refuses smaller RSA moduli (sshkey.c SSH_RSA_MINIMUM_MODULUS_SIZE) and bigger bignums (SSHBUF_MAX_BIGNUM). */
export const RSA_MIN_BITS = 1024;
export const RSA_MAX_BITS = 16384;

/** sshkey.h SSH_MAX_PUBKEY_BYTES: no public key blob is larger. */
export const MAX_PUBLIC_BLOB = 16384;
