/**
 * Ciphers and the KDF that protect OpenSSH private keys (OpenSSH PROTOCOL.key, sshkey.c private2).
 * The key and IV come from bcrypt_pbkdf(passphrase, salt, rounds); the cipher runs once over the
 * private section with no AAD; an AEAD tag (AES-GCM, ChaCha20-Poly1305) follows the encrypted string.
 */
import { createCipheriv, createDecipheriv, timingSafeEqual, type CipherGCMTypes } from 'node:crypto';
import { createRequire } from 'node:module';
import type bcryptPbkdfModule from 'bcrypt-pbkdf';
import { poly1305 } from '../crypto/cipher/poly1305.js';
import { KeyFormatError, WrongPassphraseError } from './errors.js';

let bcryptPbkdf: typeof bcryptPbkdfModule | undefined;
/** Loaded on the first encrypted key, not at import: most programs never read one. */
function bcrypt(): typeof bcryptPbkdfModule {
  bcryptPbkdf ??= createRequire(import.meta.url)('bcrypt-pbkdf') as typeof bcryptPbkdfModule;
  return bcryptPbkdf;
}

export interface KeyCipher {
  readonly name: string;
  /** How the section is sealed: nothing, an unauthenticated node cipher, AES-GCM, or OpenSSH's ChaCha20-Poly1305. */
  readonly mode: 'none' | 'plain' | 'gcm' | 'chachapoly';
  readonly keyLen: number;
  readonly ivLen: number;
  /** The private section is padded to this (8 for 'none', as sshkey.c does). */
  readonly blockSize: number;
  /** Bytes of tag after the encrypted string (AEAD only). */
  readonly authLen: number;
  /** node:crypto cipher name for 'plain' and 'gcm'. */
  readonly node?: string;
}

export const KEY_CIPHERS: readonly KeyCipher[] = [
  { name: 'none', mode: 'none', keyLen: 0, ivLen: 0, blockSize: 8, authLen: 0 },
  { name: 'aes128-ctr', mode: 'plain', keyLen: 16, ivLen: 16, blockSize: 16, authLen: 0, node: 'aes-128-ctr' },
  { name: 'aes192-ctr', mode: 'plain', keyLen: 24, ivLen: 16, blockSize: 16, authLen: 0, node: 'aes-192-ctr' },
  { name: 'aes256-ctr', mode: 'plain', keyLen: 32, ivLen: 16, blockSize: 16, authLen: 0, node: 'aes-256-ctr' },
  { name: 'aes128-cbc', mode: 'plain', keyLen: 16, ivLen: 16, blockSize: 16, authLen: 0, node: 'aes-128-cbc' },
  { name: 'aes192-cbc', mode: 'plain', keyLen: 24, ivLen: 16, blockSize: 16, authLen: 0, node: 'aes-192-cbc' },
  { name: 'aes256-cbc', mode: 'plain', keyLen: 32, ivLen: 16, blockSize: 16, authLen: 0, node: 'aes-256-cbc' },
  { name: 'aes128-gcm@openssh.com', mode: 'gcm', keyLen: 16, ivLen: 12, blockSize: 16, authLen: 16, node: 'aes-128-gcm' },
  { name: 'aes256-gcm@openssh.com', mode: 'gcm', keyLen: 32, ivLen: 12, blockSize: 16, authLen: 16, node: 'aes-256-gcm' },
  // OpenSSH PROTOCOL.chacha20poly1305 with sequence number 0 and no length field (cipher-chachapoly.c, aadlen 0)
  { name: 'chacha20-poly1305@openssh.com', mode: 'chachapoly', keyLen: 64, ivLen: 0, blockSize: 8, authLen: 16 },
];

export type KeyCipherName = 'chacha20-poly1305@openssh.com' | 'aes128-ctr' | 'aes192-ctr' | 'aes256-ctr' | 'aes128-cbc' | 'aes192-cbc' | 'aes256-cbc' | 'aes128-gcm@openssh.com' | 'aes256-gcm@openssh.com';

export function keyCipher(name: string): KeyCipher {
  const c = KEY_CIPHERS.find((k) => k.name === name);
  if (!c) throw new KeyFormatError('unsupported', `private key cipher ${JSON.stringify(name.slice(0, 64))} is not supported`);
  return c;
}

/**
 * bcrypt_pbkdf costs ~22 ms per round in this pure-JS port (measured here), so an attacker-chosen
 * uint32 could stall us for days. ssh-keygen's default is 16 and common advice 100; 1024 (≈ 22 s) leaves room.
 */
export const DEFAULT_MAX_KDF_ROUNDS = 1024;
export const MAX_KDF_SALT = 1024;

export function bcryptKdf(passphrase: string, salt: Uint8Array, rounds: number, outLen: number): Uint8Array {
  const pass = new TextEncoder().encode(passphrase);
  const out = new Uint8Array(outLen);
  if (pass.length === 0 || salt.length === 0 || rounds < 1) throw new KeyFormatError('malformed', 'bcrypt kdf: empty passphrase or salt, or zero rounds');
  if (bcrypt().pbkdf(pass, pass.length, salt, salt.length, out, outLen, rounds) !== 0) throw new KeyFormatError('malformed', 'bcrypt kdf: invalid parameters');
  return out;
}

/** Decrypts the private section; for the AEAD modes a bad tag means the passphrase was wrong. */
export function decryptSection(c: KeyCipher, keyIv: Uint8Array, data: Uint8Array, tag: Uint8Array): Uint8Array {
  const key = keyIv.subarray(0, c.keyLen);
  const iv = keyIv.subarray(c.keyLen, c.keyLen + c.ivLen);
  switch (c.mode) {
    case 'none':
      return data;
    case 'chachapoly': {
      const stream = chachaStream(key);
      if (!timingSafeEqual(poly1305(stream.polyKey, data), tag)) throw new WrongPassphraseError('wrong passphrase (authentication tag mismatch)');
      return new Uint8Array(stream.xor(data));
    }
    case 'gcm': {
      const d = createDecipheriv(c.node as CipherGCMTypes, key, iv);
      d.setAuthTag(tag);
      const head = d.update(data);
      try {
        return new Uint8Array(Buffer.concat([head, d.final()]));
      } catch {
        throw new WrongPassphraseError('wrong passphrase (authentication tag mismatch)');
      }
    }
    case 'plain': {
      // CTR and CBC without padding never fail here: the check-ints tell a wrong passphrase.
      const d = createDecipheriv(c.node!, key, iv).setAutoPadding(false);
      return new Uint8Array(Buffer.concat([d.update(data), d.final()]));
    }
  }
}

export function encryptSection(c: KeyCipher, keyIv: Uint8Array, data: Uint8Array): { data: Uint8Array; tag: Uint8Array } {
  const key = keyIv.subarray(0, c.keyLen);
  const iv = keyIv.subarray(c.keyLen, c.keyLen + c.ivLen);
  switch (c.mode) {
    case 'none':
      return { data, tag: new Uint8Array(0) };
    case 'chachapoly': {
      const stream = chachaStream(key);
      const out = new Uint8Array(stream.xor(data));
      return { data: out, tag: poly1305(stream.polyKey, out).slice() };
    }
    case 'gcm': {
      const e = createCipheriv(c.node as CipherGCMTypes, key, iv);
      const out = new Uint8Array(Buffer.concat([e.update(data), e.final()]));
      return { data: out, tag: new Uint8Array(e.getAuthTag()) };
    }
    case 'plain': {
      const e = createCipheriv(c.node!, key, iv).setAutoPadding(false);
      return { data: new Uint8Array(Buffer.concat([e.update(data), e.final()])), tag: new Uint8Array(0) };
    }
  }
}

/**
 * PROTOCOL.chacha20poly1305 with sequence number 0: ChaCha20 under the first 32 key bytes, nonce 0; keystream block 0
 * keys Poly1305 and the data is encrypted from block 1. node's 'chacha20' IV is a 32-bit little-endian block counter
 * then a 96-bit nonce, so an all-zero IV starts at block 0 of the original 64/64-bit layout.
 */
function chachaStream(key: Uint8Array): { polyKey: Uint8Array; xor: (data: Uint8Array) => Buffer } {
  const c = createCipheriv('chacha20', key.subarray(0, 32), Buffer.alloc(16));
  const polyKey = new Uint8Array(c.update(Buffer.alloc(64)).subarray(0, 32));
  return { polyKey, xor: (data) => c.update(data) };
}
