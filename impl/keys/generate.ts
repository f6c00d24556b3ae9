/** Fresh key pairs for the supported SSH key types (OS randomness: keys are not part of seeded runs). */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { RSA_MAX_BITS, RSA_MIN_BITS } from './key-types.js';

export type GenerateKind = 'ed25519' | 'ecdsa-p256' | 'ecdsa-p384' | 'ecdsa-p521' | 'rsa';

export interface KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

const NAMED_CURVE = { 'ecdsa-p256': 'prime256v1', 'ecdsa-p384': 'secp384r1', 'ecdsa-p521': 'secp521r1' } as const;

/** `bits` applies to RSA only (default 3072, ssh-keygen's default). */
export function generateKey(kind: GenerateKind, bits = 3072): KeyPair {
  if (kind === 'ed25519') return generateKeyPairSync('ed25519');
  if (kind === 'rsa') {
    if (!Number.isInteger(bits) || bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) throw new RangeError(`bits: RSA size must be an integer in [${RSA_MIN_BITS}, ${RSA_MAX_BITS}], got ${bits}`);
    return generateKeyPairSync('rsa', { modulusLength: bits });
  }
  const namedCurve = NAMED_CURVE[kind];
  if (!namedCurve) throw new TypeError(`generateKey: unknown kind ${JSON.stringify(kind)}`);
  return generateKeyPairSync('ec', { namedCurve });
}
