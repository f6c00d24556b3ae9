/**
 * mlkem768x25519-sha256 (draft-ietf-sshm-mlkem-hybrid-kex; OpenSSH 9.9+ default), shape 'ecdh':
 * - Q_C = ML-KEM-768 encapsulation key (1184 bytes) || X25519 public key (32);
 * - Q_S = ML-KEM-768 ciphertext (1088 bytes) || X25519 public key (32);
 * - K = string(SHA-256(K_PQ || K_CL)), K_PQ the 32-byte ML-KEM shared secret, K_CL the raw 32-byte X25519
 *   output; K is encoded as a string, not an mpint.
 * ML-KEM-768 is ml-kem-768.ts (FIPS 203 on node's SHA-3/SHAKE; node 20 has no ML-KEM, and @noble/post-quantum,
 * its test oracle, hashes in JavaScript at ~3× the cost); X25519 is node's, as in curve25519.ts.
 */
import { createHash } from 'node:crypto';
import * as mlKem768 from './ml-kem-768.js';
import { KexError } from '../../errors.js';
import { stringWithLength } from '../bytes.js';
import type { KexAlgorithm, KexClientSide, KexServerSide, Rng } from '../types.js';
import { X25519_KEY_LEN, x25519KeyPair, x25519Shared } from './curve25519.js';

const EK_LEN = 1184;
const CT_LEN = 1088;
const KEYGEN_SEED_LEN = 64; // FIPS 203 ML-KEM.KeyGen: d || z
const ENCAPS_RAND_LEN = 32; // FIPS 203 ML-KEM.Encaps: m

function combine(kPq: Uint8Array, kCl: Uint8Array): Uint8Array {
  return stringWithLength(createHash('sha256').update(kPq).update(kCl).digest());
}

export const mlkem768x25519Sha256: KexAlgorithm = {
  name: 'mlkem768x25519-sha256', legacy: false, spec: 'draft-ietf-sshm-mlkem-hybrid-kex §2.1', hash: 'sha256', shape: 'ecdh',
  clientStart(rng: Rng): KexClientSide {
    const kem = mlKem768.keygen(rng(KEYGEN_SEED_LEN));
    const ecdh = x25519KeyPair(rng);
    const publicValue = new Uint8Array(EK_LEN + X25519_KEY_LEN);
    publicValue.set(kem.publicKey, 0);
    publicValue.set(ecdh.publicValue, EK_LEN);
    return {
      publicValue,
      // the classical half: what an X25519-aware keylog consumer can use; the ML-KEM secret stays here
      privateKey: ecdh.privateKey,
      finish(serverPublic) {
        if (serverPublic.length !== CT_LEN + X25519_KEY_LEN) throw new KexError(`mlkem768x25519: server value must be ${CT_LEN + X25519_KEY_LEN} bytes, got ${serverPublic.length}`);
        const kCl = x25519Shared(ecdh.key, serverPublic.subarray(CT_LEN));
        // ML-KEM decapsulation never fails for a well-sized ciphertext (implicit rejection, FIPS 203 §6.3)
        const kPq = mlKem768.decapsulate(serverPublic.subarray(0, CT_LEN), kem.secretKey);
        return combine(kPq, kCl);
      },
    };
  },
  serverRespond(rng: Rng, clientPublic: Uint8Array): KexServerSide {
    if (clientPublic.length !== EK_LEN + X25519_KEY_LEN) throw new KexError(`mlkem768x25519: client value must be ${EK_LEN + X25519_KEY_LEN} bytes, got ${clientPublic.length}`);
    let enc: { cipherText: Uint8Array; sharedSecret: Uint8Array };
    try {
      // FIPS 203 §7.2: encapsulation checks the key's modulus (every coefficient < q)
      enc = mlKem768.encapsulate(clientPublic.subarray(0, EK_LEN), rng(ENCAPS_RAND_LEN));
    } catch {
      throw new KexError('mlkem768x25519: invalid ML-KEM-768 encapsulation key');
    }
    const ecdh = x25519KeyPair(rng);
    const kCl = x25519Shared(ecdh.key, clientPublic.subarray(EK_LEN));
    const publicValue = new Uint8Array(CT_LEN + X25519_KEY_LEN);
    publicValue.set(enc.cipherText, 0);
    publicValue.set(ecdh.publicValue, CT_LEN);
    return { publicValue, privateKey: ecdh.privateKey, sharedSecret: combine(enc.sharedSecret, kCl) };
  },
};
