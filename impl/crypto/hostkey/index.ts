/**
 * Host keys: signature algorithms, PrivateKey implementations over node:crypto KeyObjects, and public key
 * blobs (RFC 4253 §6.6).
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { nistCurves } from '../nist-curves.js';
import { keyTypeOf } from './blob.js';
import { ecdsaPrivateKey } from './ecdsa.js';
import { ed25519PrivateKey } from './ed25519.js';
import { rsaPrivateKey } from './rsa.js';
import type { NodePrivateKey } from './signature-blob.js';

export { publicKeyBlob, publicKeyFromBlob, keyTypeOf, type ParsedPublicKey } from './blob.js';
export { sshEd25519 } from './ed25519.js';
export { ecdsaSha2Nistp256, ecdsaSha2Nistp384, ecdsaSha2Nistp521 } from './ecdsa.js';
export { rsaSha2256, rsaSha2512, sshRsa, RSA_MIN_BITS } from './rsa.js';
export type { NodePrivateKey } from './signature-blob.js';

export type HostKeyType = 'ssh-ed25519' | 'ecdsa-sha2-nistp256' | 'ecdsa-sha2-nistp384' | 'ecdsa-sha2-nistp521' | 'ssh-rsa';

/** A signing key from a node:crypto private KeyObject (Ed25519, NIST P-256/384/521 or RSA). */
export function privateKeyFromNode(keyObject: KeyObject): NodePrivateKey {
  if (keyObject.type !== 'private') throw new TypeError('privateKeyFromNode needs a private KeyObject');
  const type = keyTypeOf(keyObject);
  if (type === 'ssh-ed25519') return ed25519PrivateKey(keyObject);
  if (type === 'ssh-rsa') return rsaPrivateKey(keyObject);
  return ecdsaPrivateKey(keyObject, nistCurves.find((c) => `ecdsa-sha2-${c.id}` === type)!);
}

/** A fresh host key (OS randomness; host keys are not part of seeded runs). RSA defaults to 3072 bits like ssh-keygen. */
export function generateHostKey(type: HostKeyType, options: { rsaBits?: number } = {}): NodePrivateKey {
  if (type === 'ssh-ed25519') return privateKeyFromNode(generateKeyPairSync('ed25519').privateKey);
  if (type === 'ssh-rsa') return privateKeyFromNode(generateKeyPairSync('rsa', { modulusLength: options.rsaBits ?? 3072 }).privateKey);
  const curve = nistCurves.find((c) => `ecdsa-sha2-${c.id}` === type);
  if (curve === undefined) throw new TypeError(`unsupported host key type ${JSON.stringify(type)}`);
  return privateKeyFromNode(generateKeyPairSync('ec', { namedCurve: curve.nodeCurve }).privateKey);
}
