/**
 * Public key blobs (RFC 4253 §6.6): `string type || type-specific fields`, converted to and from
 * node:crypto KeyObjects through JWK (no DER parsing: it is much slower in OpenSSL 3).
 * - ssh-ed25519: string A (32 bytes) — RFC 8709 §4
 * - ssh-rsa: mpint e || mpint n — RFC 4253 §6.6
 * - ecdsa-sha2-<id>: string id || string Q (uncompressed point) — RFC 5656 §3.1
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Jwk } from '../jwk.js';
import { DecodeError } from '../../errors.js';
import { Reader, Writer, mpintFromUnsigned } from '../../wire/index.js';
import { bigintToBytes, fromBase64Url, toBase64Url } from '../bytes.js';
import { curveById, isUncompressedPoint, nistCurves, type NistCurve } from '../nist-curves.js';
import type { PublicKey } from '../types.js';

export const ED25519 = 'ssh-ed25519';
export const SSH_RSA = 'ssh-rsa';
export const ecdsaKeyType = (c: NistCurve): string => `ecdsa-sha2-${c.id}`;

/** RFC 4253 §6.6 blob plus the KeyObject it describes. */
export interface ParsedPublicKey extends PublicKey {
  readonly keyObject: KeyObject;
}

function jwkField(jwk: Jwk, f: 'x' | 'y' | 'n' | 'e'): Uint8Array {
  const v = jwk[f];
  if (typeof v !== 'string') throw new TypeError(`key has no public component ${f}`);
  return fromBase64Url(v);
}

function curveOfJwk(crv: unknown): NistCurve {
  const c = nistCurves.find((k) => k.jwkCrv === crv);
  if (c === undefined) throw new TypeError(`unsupported EC curve ${JSON.stringify(crv)}`);
  return c;
}

/** SSH key type of a node KeyObject (public or private). */
export function keyTypeOf(key: KeyObject): string {
  switch (key.asymmetricKeyType) {
    case 'ed25519': return ED25519;
    case 'rsa': return SSH_RSA;
    case 'ec': {
      const c = nistCurves.find((k) => k.nodeCurve === key.asymmetricKeyDetails?.namedCurve);
      if (c === undefined) throw new TypeError(`unsupported EC curve ${JSON.stringify(key.asymmetricKeyDetails?.namedCurve)}`);
      return ecdsaKeyType(c);
    }
    default: throw new TypeError(`unsupported key type ${JSON.stringify(key.asymmetricKeyType)}`);
  }
}

/** The RFC 4253 §6.6 public key blob of a KeyObject (a private key's public half). */
export function publicKeyBlob(key: KeyObject): Uint8Array {
  const jwk = key.export({ format: 'jwk' });
  const type = keyTypeOf(key);
  if (type === ED25519) return new Writer(51).string(ED25519).string(jwkField(jwk, 'x')).finish();
  if (type === SSH_RSA) {
    return new Writer(600).string(SSH_RSA).string(mpintFromUnsigned(jwkField(jwk, 'e'))).string(mpintFromUnsigned(jwkField(jwk, 'n'))).finish();
  }
  const c = curveOfJwk(jwk.crv);
  const q = new Uint8Array(1 + 2 * c.fieldLen);
  q[0] = 0x04;
  q.set(jwkField(jwk, 'x'), 1);
  q.set(jwkField(jwk, 'y'), 1 + c.fieldLen);
  return new Writer(60 + q.length).string(type).string(c.id).string(q).finish();
}

/** RFC 4251 §5 mpint → positive integer bytes, or a DecodeError. */
function positiveMpint(r: Reader, what: string): Uint8Array {
  const at = r.offset;
  const v = r.mpint(what);
  if (v <= 0n) throw new DecodeError(`${what}: must be positive`, at);
  return bigintToBytes(v);
}

/**
 * Parses a public key blob. Throws DecodeError for malformed or unsupported blobs, trailing bytes
 * included, and for points that are not on the curve.
 */
export function publicKeyFromBlob(blob: Uint8Array): ParsedPublicKey {
  const r = new Reader(blob);
  const type = r.ascii('public key type');
  let jwk: Jwk;
  if (type === ED25519) {
    const a = r.string('ed25519 public key');
    if (a.length !== 32) throw new DecodeError(`ssh-ed25519 key must be 32 bytes, got ${a.length}`, 4 + type.length);
    jwk = { kty: 'OKP', crv: 'Ed25519', x: toBase64Url(a) };
  } else if (type === SSH_RSA) {
    const e = positiveMpint(r, 'rsa e');
    const n = positiveMpint(r, 'rsa n');
    // OpenSSH SSHBUF_MAX_BIGNUM: moduli above 16384 bits are refused
    if (n.length > 2048) throw new DecodeError(`rsa modulus of ${n.length * 8} bits is too large`, 0);
    jwk = { kty: 'RSA', n: toBase64Url(n), e: toBase64Url(e) };
  } else if (type.startsWith('ecdsa-sha2-')) {
    const c = curveById(type.slice('ecdsa-sha2-'.length));
    if (c === undefined) throw new DecodeError(`unsupported public key type ${JSON.stringify(type)}`, 0);
    const at = r.offset;
    if (r.ascii('ecdsa curve') !== c.id) throw new DecodeError(`${type}: curve identifier does not match the key type`, at);
    const q = r.string('ecdsa point');
    if (!isUncompressedPoint(c, q)) throw new DecodeError(`${type}: point is not uncompressed (${q.length} bytes)`, at);
    jwk = { kty: 'EC', crv: c.jwkCrv, x: toBase64Url(q.subarray(1, 1 + c.fieldLen)), y: toBase64Url(q.subarray(1 + c.fieldLen)) };
  } else {
    throw new DecodeError(`unsupported public key type ${JSON.stringify(type)}`, 0);
  }
  r.end(`${type} public key blob`);
  let keyObject: KeyObject;
  try {
    keyObject = createPublicKey({ key: jwk, format: 'jwk' });
  } catch {
    throw new DecodeError(`${type}: invalid public key`, 0);
  }
  return { type, blob, keyObject };
}

/** The KeyObject of `blob` when it is a valid key of `type`; null otherwise. Never throws. */
export function keyFromBlobOfType(blob: Uint8Array, type: string): KeyObject | null {
  try {
    const k = publicKeyFromBlob(blob);
    return k.type === type ? k.keyObject : null;
  } catch {
    return null;
  }
}
