/**
 * RSA signatures with PKCS#1 v1.5: rsa-sha2-256 / rsa-sha2-512 (RFC 8332 §3) and legacy ssh-rsa (SHA-1,
 * RFC 4253 §6.6). All three use key type 'ssh-rsa'; the signature is as long as the modulus.
 */
import { sign, verify, type KeyObject } from 'node:crypto';
import type { HashName, SignatureAlgorithm } from '../types.js';
import { SSH_RSA, keyFromBlobOfType, publicKeyBlob } from './blob.js';
import { readSignatureBlob, signatureBlob, type NodePrivateKey } from './signature-blob.js';

/** OpenSSH SSH_RSA_MINIMUM_MODULUS_SIZE: shorter moduli are refused. */
export const RSA_MIN_BITS = 1024;

const rsaHashes: Readonly<Record<string, HashName>> = { 'rsa-sha2-512': 'sha512', 'rsa-sha2-256': 'sha256', 'ssh-rsa': 'sha1' };

function rsaAlgorithm(name: string, legacy: boolean, spec: string): SignatureAlgorithm {
  const hash = rsaHashes[name]!;
  return {
    name, legacy, spec, keyType: SSH_RSA,
    verify(publicKey, data, signature) {
      const key = keyFromBlobOfType(publicKey, SSH_RSA);
      let sig = readSignatureBlob(signature, name);
      if (key === null || sig === null) return false;
      const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
      if (bits < RSA_MIN_BITS) return false;
      const modLen = Math.ceil(bits / 8);
      if (sig.length > modLen) return false;
      if (sig.length < modLen) {
        // RFC 8332 §3 says the signature is exactly as long as the modulus; like OpenSSH, accept and
        // left-pad shorter ones that some implementations send
        const padded = new Uint8Array(modLen);
        padded.set(sig, modLen - sig.length);
        sig = padded;
      }
      try {
        return verify(hash, data, key, sig);
      } catch {
        return false;
      }
    },
  };
}

export const rsaSha2512 = rsaAlgorithm('rsa-sha2-512', false, 'RFC 8332 §3');
export const rsaSha2256 = rsaAlgorithm('rsa-sha2-256', false, 'RFC 8332 §3');
/** Legacy: SHA-1 signatures (RFC 8332 §1 deprecates them). */
export const sshRsa = rsaAlgorithm('ssh-rsa', true, 'RFC 4253 §6.6');

export function rsaPrivateKey(keyObject: KeyObject): NodePrivateKey {
  return {
    type: SSH_RSA, keyObject, publicKey: { type: SSH_RSA, blob: publicKeyBlob(keyObject) },
    algorithms: ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
    sign(algorithm, data) {
      const hash = rsaHashes[algorithm];
      if (hash === undefined) throw new TypeError(`an ssh-rsa key cannot sign ${JSON.stringify(algorithm)}`);
      return signatureBlob(algorithm, sign(hash, data, keyObject));
    },
  };
}
