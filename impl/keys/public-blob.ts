/**
 * Public key blobs ↔ node:crypto KeyObjects (RFC 4253 §6.6, RFC 5656 §3.1, RFC 8709 §4). The codec itself
 * lives in impl/crypto/hostkey (the engine verifies signatures with it); this adapter gives it the key-file
 * error type, the blob size bound, and the field helpers the OpenSSH private key format shares.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';

/**
 * The JWK fields we read and write (RFC 7517/7518). Our own type: node:crypto's JsonWebKey export moved between
 * @types/node versions (26 has none), and this file's declarations must compile against all of them.
 */
export interface Jwk {
  kty?: string;
  crv?: string;
  x?: string;
  y?: string;
  d?: string;
  n?: string;
  e?: string;
  [field: string]: unknown;
}
import { Reader } from '../wire/index.js';
import { publicKeyBlob, publicKeyFromBlob } from '../crypto/hostkey/index.js';
import { KeyFormatError, asKeyFormatError } from './errors.js';
import { bigintFromBytes, bitLength, bytesFromBigint, fromBase64Url, toBase64Url } from './encoding.js';
import { MAX_PUBLIC_BLOB, RSA_MAX_BITS, RSA_MIN_BITS, isKeyType, type KeyType } from './key-types.js';

const blobLimits = { maxString: MAX_PUBLIC_BLOB, maxNames: 1 };

export interface DecodedPublicKey {
  readonly type: KeyType;
  readonly blob: Uint8Array;
  readonly keyObject: KeyObject;
}

/** The key type of a node KeyObject (public or private); KeyFormatError('unsupported') for others (DSA, X25519, brainpool…). */
export function keyTypeOf(key: KeyObject): KeyType {
  switch (key.asymmetricKeyType) {
    case 'ed25519': return 'ssh-ed25519';
    case 'rsa': return 'ssh-rsa';
    case 'ec': {
      const curve = { prime256v1: 'ecdsa-sha2-nistp256', secp384r1: 'ecdsa-sha2-nistp384', secp521r1: 'ecdsa-sha2-nistp521' }[String(key.asymmetricKeyDetails?.namedCurve)];
      if (curve && isKeyType(curve)) return curve;
      throw new KeyFormatError('unsupported', `EC curve ${JSON.stringify(key.asymmetricKeyDetails?.namedCurve)} is not an SSH curve`);
    }
    default:
      throw new KeyFormatError('unsupported', `key type ${JSON.stringify(key.asymmetricKeyType)} is not supported`);
  }
}

/** The SSH public key blob of a public or private KeyObject. */
export function encodePublicBlob(key: KeyObject): Uint8Array {
  if (key.type === 'secret') throw new KeyFormatError('unsupported', 'a secret key has no public blob');
  keyTypeOf(key);
  return publicKeyBlob(key.type === 'private' ? createPublicKey(key) : key);
}

/** Decodes and validates a public key blob of one of the supported types (EC points must be on the curve). */
export function decodePublicBlob(blob: Uint8Array): DecodedPublicKey {
  if (blob.length > MAX_PUBLIC_BLOB) throw new KeyFormatError('limit', `public key blob of ${blob.length} bytes exceeds ${MAX_PUBLIC_BLOB}`);
  const type = peekBlobType(blob);
  if (!isKeyType(type)) throw new KeyFormatError('unsupported', `public key type ${JSON.stringify(type.slice(0, 64))} is not supported`);
  try {
    return { type, blob, keyObject: publicKeyFromBlob(blob).keyObject };
  } catch (e) {
    throw asKeyFormatError(e, 'public key blob');
  }
}

/** The key type named at the start of a blob, without validating the rest (certificates, sk- keys...). */
export function peekBlobType(blob: Uint8Array): string {
  try {
    return new Reader(blob, blobLimits).ascii('key type');
  } catch (e) {
    throw asKeyFormatError(e, 'public key blob');
  }
}

/** SEC1 §2.3.3 uncompressed point 0x04 || x || y, each coordinate padded to the field size. */
export function ecPoint(jwk: Jwk, fieldBytes: number): Uint8Array {
  const q = new Uint8Array(1 + 2 * fieldBytes);
  q[0] = 4;
  q.set(bytesFromBigint(bigintFromBytes(fromBase64Url(jwk.x, 'ec x')), fieldBytes), 1);
  q.set(bytesFromBigint(bigintFromBytes(fromBase64Url(jwk.y, 'ec y')), fieldBytes), 1 + fieldBytes);
  return q;
}

/** Splits an uncompressed point into JWK coordinates; compressed points are refused as OpenSSH does. */
export function ecPointToJwk(q: Uint8Array, fieldBytes: number, what: string): { x: string; y: string } {
  if (q.length !== 1 + 2 * fieldBytes || q[0] !== 4) {
    throw new KeyFormatError('malformed', `${what}: EC point must be uncompressed (${1 + 2 * fieldBytes} bytes starting 0x04), got ${q.length} bytes`);
  }
  return { x: toBase64Url(q.subarray(1, 1 + fieldBytes)), y: toBase64Url(q.subarray(1 + fieldBytes)) };
}

/** RSA public parameters within OpenSSH's bounds (sshkey.c). */
export function checkRsaPublic(e: bigint, n: bigint, what: string): void {
  const bits = bitLength(n);
  if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) throw new KeyFormatError(bits > RSA_MAX_BITS ? 'limit' : 'malformed', `${what}: RSA modulus of ${bits} bits outside [${RSA_MIN_BITS}, ${RSA_MAX_BITS}]`);
  if (e < 3n || e % 2n === 0n || e >= n) throw new KeyFormatError('malformed', `${what}: invalid RSA public exponent`);
}

/** JWK import; node validates EC points (on the curve) here. Every failure becomes a KeyFormatError. */
export function importJwk(jwk: Jwk, kind: 'public' | 'private', what: string): KeyObject {
  try {
    return kind === 'public' ? createPublicKey({ key: jwk, format: 'jwk' }) : createPrivateKey({ key: jwk, format: 'jwk' });
  } catch (e) {
    throw new KeyFormatError('malformed', `${what}: invalid key material (${e instanceof Error ? e.message : String(e)})`);
  }
}
