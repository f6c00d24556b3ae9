/** ssh-ed25519 signatures (RFC 8709 §6): the signature blob carries the 64-byte R || S of RFC 8032. */
import { sign, verify, type KeyObject } from 'node:crypto';
import type { SignatureAlgorithm } from '../types.js';
import { ED25519, keyFromBlobOfType, publicKeyBlob } from './blob.js';
import { readSignatureBlob, signatureBlob, type NodePrivateKey } from './signature-blob.js';

export const sshEd25519: SignatureAlgorithm = {
  name: ED25519, legacy: false, spec: 'RFC 8709 §6', keyType: ED25519,
  verify(publicKey, data, signature) {
    const key = keyFromBlobOfType(publicKey, ED25519);
    const sig = readSignatureBlob(signature, ED25519);
    if (key === null || sig === null || sig.length !== 64) return false;
    try {
      return verify(null, data, key, sig);
    } catch {
      return false;
    }
  },
};

export function ed25519PrivateKey(keyObject: KeyObject): NodePrivateKey {
  return {
    type: ED25519, keyObject, publicKey: { type: ED25519, blob: publicKeyBlob(keyObject) }, algorithms: [ED25519],
    sign(algorithm, data) {
      if (algorithm !== ED25519) throw new TypeError(`an ssh-ed25519 key cannot sign ${JSON.stringify(algorithm)}`);
      return signatureBlob(ED25519, sign(null, data, keyObject));
    },
  };
}
