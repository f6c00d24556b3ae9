/**
 * sntrup761x25519-sha512 and its original name sntrup761x25519-sha512@openssh.com (draft-josefsson-ntruprime-ssh;
 * OpenSSH PROTOCOL), shape 'ecdh':
 * - Q_C = sntrup761 public key (1158 bytes) || X25519 public key (32);
 * - Q_S = sntrup761 ciphertext (1039 bytes) || X25519 public key (32);
 * - K = string(SHA-512(K_PQ || K_CL)), K_PQ the 32-byte sntrup761 session key, K_CL the raw 32-byte X25519
 *   output; K enters the exchange hash and the KDF as a string, not an mpint. The exchange hash is SHA-512.
 */
import { createHash } from 'node:crypto';
import { KexError } from '../../errors.js';
import { stringWithLength } from '../bytes.js';
import type { KexAlgorithm, KexClientSide, KexServerSide, Rng } from '../types.js';
import { X25519_KEY_LEN, x25519KeyPair, x25519Shared } from './curve25519.js';
import {
  CIPHERTEXT_BYTES, PUBLIC_KEY_BYTES, sntrup761Decapsulate, sntrup761Encapsulate, sntrup761Keypair,
} from './sntrup761.js';

const CLIENT_LEN = PUBLIC_KEY_BYTES + X25519_KEY_LEN; // 1190
const SERVER_LEN = CIPHERTEXT_BYTES + X25519_KEY_LEN; // 1071

function combine(kPq: Uint8Array, kCl: Uint8Array): Uint8Array {
  return stringWithLength(createHash('sha512').update(kPq).update(kCl).digest());
}

function sntrup761x25519(name: string, spec: string): KexAlgorithm {
  return {
    name, legacy: false, spec, hash: 'sha512', shape: 'ecdh',
    clientStart(rng: Rng): KexClientSide {
      const kem = sntrup761Keypair(rng);
      const ecdh = x25519KeyPair(rng);
      const publicValue = new Uint8Array(CLIENT_LEN);
      publicValue.set(kem.publicKey, 0);
      publicValue.set(ecdh.publicValue, PUBLIC_KEY_BYTES);
      return {
        publicValue,
        // the classical half, for X25519-aware keylogs; the sntrup761 secret key stays here
        privateKey: ecdh.privateKey,
        finish(serverPublic) {
          if (serverPublic.length !== SERVER_LEN) throw new KexError(`${name}: server value must be ${SERVER_LEN} bytes, got ${serverPublic.length}`);
          const kCl = x25519Shared(ecdh.key, serverPublic.subarray(CIPHERTEXT_BYTES));
          // decapsulation of a well-sized ciphertext never fails (implicit rejection): a forged one yields a
          // key the server does not have, and the host key signature over H then fails
          const kPq = sntrup761Decapsulate(serverPublic.subarray(0, CIPHERTEXT_BYTES), kem.secretKey);
          return combine(kPq, kCl);
        },
      };
    },
    serverRespond(rng: Rng, clientPublic: Uint8Array): KexServerSide {
      if (clientPublic.length !== CLIENT_LEN) throw new KexError(`${name}: client value must be ${CLIENT_LEN} bytes, got ${clientPublic.length}`);
      // every 1158-byte string decodes to some public key (the encoding has no invalid values), so there is
      // nothing further to validate on the PQ half; the X25519 half is checked by x25519Shared
      const ecdh = x25519KeyPair(rng);
      const kCl = x25519Shared(ecdh.key, clientPublic.subarray(PUBLIC_KEY_BYTES));
      const enc = sntrup761Encapsulate(clientPublic.subarray(0, PUBLIC_KEY_BYTES), rng);
      const publicValue = new Uint8Array(SERVER_LEN);
      publicValue.set(enc.cipherText, 0);
      publicValue.set(ecdh.publicValue, CIPHERTEXT_BYTES);
      return { publicValue, privateKey: ecdh.privateKey, sharedSecret: combine(enc.sharedSecret, kCl) };
    },
  };
}

export const sntrup761x25519Sha512 = sntrup761x25519('sntrup761x25519-sha512', 'draft-josefsson-ntruprime-ssh §2');
export const sntrup761x25519Sha512Openssh = sntrup761x25519('sntrup761x25519-sha512@openssh.com', 'OpenSSH PROTOCOL "sntrup761x25519-sha512@openssh.com"');
