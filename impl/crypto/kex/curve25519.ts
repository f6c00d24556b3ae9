/**
 * curve25519-sha256 and curve25519-sha256@libssh.org (RFC 8731): X25519 (RFC 7748) through node:crypto.
 * Q_C/Q_S are the raw 32-byte public keys; K is the 32-byte X25519 output read as a big-endian unsigned
 * integer and encoded as mpint (RFC 8731 §3.1).
 */
import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';
import { KexError } from '../../errors.js';
import { fromBase64Url, isAllZero, mpintWithLength, toBase64Url } from '../bytes.js';
import type { KexAlgorithm, KexClientSide, KexServerSide, Rng } from '../types.js';

export const X25519_KEY_LEN = 32;

export interface X25519KeyPair {
  readonly privateKey: Uint8Array;
  readonly publicValue: Uint8Array;
  readonly key: KeyObject;
}

/**
 * An X25519 key pair from 32 random bytes (clamping is part of X25519 itself, RFC 7748 §5).
 * JWK import is ~10x faster than DER here; node derives the public key from `d` and only checks the
 * length of `x`, so `d` stands in for it.
 */
export function x25519KeyPair(rng: Rng): X25519KeyPair {
  const privateKey = rng(X25519_KEY_LEN);
  const d = toBase64Url(privateKey);
  const key = createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d, x: d }, format: 'jwk' });
  const x = createPublicKey(key).export({ format: 'jwk' }).x;
  if (typeof x !== 'string') throw new KexError('X25519: could not derive the public key');
  return { privateKey, publicValue: fromBase64Url(x), key };
}

/**
 * The raw 32-byte X25519 shared secret. RFC 8731 §3: the peer's public key must be exactly 32 bytes and an
 * all-zero result (a low-order point) must abort the exchange.
 */
export function x25519Shared(ours: KeyObject, peerPublic: Uint8Array): Uint8Array {
  if (peerPublic.length !== X25519_KEY_LEN) throw new KexError(`X25519 public key must be 32 bytes, got ${peerPublic.length}`);
  let secret: Uint8Array;
  try {
    const pub = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: toBase64Url(peerPublic) }, format: 'jwk' });
    secret = diffieHellman({ privateKey: ours, publicKey: pub });
  } catch {
    // OpenSSL refuses to derive an all-zero secret ("failed during derivation")
    throw new KexError('X25519: invalid peer public key (shared secret would be zero)');
  }
  if (isAllZero(secret)) throw new KexError('X25519: shared secret is all zero');
  return secret;
}

function curve25519(name: string, spec: string): KexAlgorithm {
  return {
    name, legacy: false, spec, hash: 'sha256', shape: 'ecdh',
    clientStart(rng: Rng): KexClientSide {
      const kp = x25519KeyPair(rng);
      return {
        publicValue: kp.publicValue,
        privateKey: kp.privateKey,
        finish: (serverPublic) => mpintWithLength(x25519Shared(kp.key, serverPublic)),
      };
    },
    serverRespond(rng: Rng, clientPublic: Uint8Array): KexServerSide {
      // validate the client's value before spending work on our own key
      if (clientPublic.length !== X25519_KEY_LEN) throw new KexError(`X25519 public key must be 32 bytes, got ${clientPublic.length}`);
      const kp = x25519KeyPair(rng);
      return { publicValue: kp.publicValue, privateKey: kp.privateKey, sharedSecret: mpintWithLength(x25519Shared(kp.key, clientPublic)) };
    },
  };
}

export const curve25519Sha256 = curve25519('curve25519-sha256', 'RFC 8731 §3');
export const curve25519Sha256Libssh = curve25519('curve25519-sha256@libssh.org', 'RFC 8731 §3 (pre-standard name)');
