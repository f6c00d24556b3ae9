/**
 * Ciphers and the KDF that protect OpenSSH private keys (OpenSSH PROTOCOL.key, sshkey.c private2).
 * The key and IV come from bcrypt_pbkdf(passphrase, salt, rounds); the cipher runs once over the
 * private section with no AAD; AES-GCM's tag follows the encrypted string.
 */
import { createCipheriv, createDecipheriv, type CipherGCMTypes } from 'node:crypto';
import bcryptPbkdf from 'bcrypt-pbkdf';
import { KeyFormatError, WrongPassphraseError } from './errors.js';

export interface KeyCipher {
  readonly name: string;
  readonly keyLen: number;
  readonly ivLen: number;
  /** The private section is padded to this (8 for 'none', as sshkey.c does). */
  readonly blockSize: number;
  /** Bytes of tag after the encrypted string (AEAD only). */
  readonly authLen: number;
  readonly node: string | null;
}

export const KEY_CIPHERS: readonly KeyCipher[] = [
  { name: 'none', keyLen: 0, ivLen: 0, blockSize: 8, authLen: 0, node: null },
  { name: 'aes128-ctr', keyLen: 16, ivLen: 16, blockSize: 16, authLen: 0, node: 'aes-128-ctr' },
  { name: 'aes192-ctr', keyLen: 24, ivLen: 16, blockSize: 16, authLen: 0, node: 'aes-192-ctr' },
  { name: 'aes256-ctr', keyLen: 32, ivLen: 16, blockSize: 16, authLen: 0, node: 'aes-256-ctr' },
  { name: 'aes128-cbc', keyLen: 16, ivLen: 16, blockSize: 16, authLen: 0, node: 'aes-128-cbc' },
  { name: 'aes192-cbc', keyLen: 24, ivLen: 16, blockSize: 16, authLen: 0, node: 'aes-192-cbc' },
  { name: 'aes256-cbc', keyLen: 32, ivLen: 16, blockSize: 16, authLen: 0, node: 'aes-256-cbc' },
  { name: 'aes128-gcm@openssh.com', keyLen: 16, ivLen: 12, blockSize: 16, authLen: 16, node: 'aes-128-gcm' },
  { name: 'aes256-gcm@openssh.com', keyLen: 32, ivLen: 12, blockSize: 16, authLen: 16, node: 'aes-256-gcm' },
];

export type KeyCipherName = 'aes128-ctr' | 'aes192-ctr' | 'aes256-ctr' | 'aes128-cbc' | 'aes192-cbc' | 'aes256-cbc' | 'aes128-gcm@openssh.com' | 'aes256-gcm@openssh.com';

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
  if (bcryptPbkdf.pbkdf(pass, pass.length, salt, salt.length, out, outLen, rounds) !== 0) throw new KeyFormatError('malformed', 'bcrypt kdf: invalid parameters');
  return out;
}

/** Decrypts the private section; for AES-GCM a bad tag means the passphrase was wrong. */
export function decryptSection(c: KeyCipher, keyIv: Uint8Array, data: Uint8Array, tag: Uint8Array): Uint8Array {
  if (!c.node) return data;
  const key = keyIv.subarray(0, c.keyLen);
  const iv = keyIv.subarray(c.keyLen, c.keyLen + c.ivLen);
  if (c.authLen) {
    const d = createDecipheriv(c.node as CipherGCMTypes, key, iv);
    d.setAuthTag(tag);
    const head = d.update(data);
    try {
      return new Uint8Array(Buffer.concat([head, d.final()]));
    } catch {
      throw new WrongPassphraseError('wrong passphrase (authentication tag mismatch)');
    }
  }
  // CTR and CBC without padding never fail here: the check-ints tell a wrong passphrase.
  const d = createDecipheriv(c.node, key, iv).setAutoPadding(false);
  return new Uint8Array(Buffer.concat([d.update(data), d.final()]));
}

export function encryptSection(c: KeyCipher, keyIv: Uint8Array, data: Uint8Array): { data: Uint8Array; tag: Uint8Array } {
  if (!c.node) return { data, tag: new Uint8Array(0) };
  const key = keyIv.subarray(0, c.keyLen);
  const iv = keyIv.subarray(c.keyLen, c.keyLen + c.ivLen);
  if (c.authLen) {
    const e = createCipheriv(c.node as CipherGCMTypes, key, iv);
    const out = new Uint8Array(Buffer.concat([e.update(data), e.final()]));
    return { data: out, tag: new Uint8Array(e.getAuthTag()) };
  }
  const e = createCipheriv(c.node, key, iv).setAutoPadding(false);
  return { data: new Uint8Array(Buffer.concat([e.update(data), e.final()])), tag: new Uint8Array(0) };
}
