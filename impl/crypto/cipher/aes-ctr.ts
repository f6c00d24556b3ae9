/**
 * aes128-ctr, aes192-ctr, aes256-ctr (RFC 4344 §4): one streaming node:crypto object per direction, so the
 * counter carries from packet to packet as the RFC requires (the IV is the initial counter block).
 */
import { createCipheriv } from 'node:crypto';
import type { StreamCipher } from './cipher-impl.js';

function aesCtr(bits: 128 | 192 | 256): StreamCipher {
  const nodeName = `aes-${bits}-ctr`;
  return {
    name: `aes${bits}-ctr`, legacy: false, spec: 'RFC 4344 §4', keyLen: bits / 8, ivLen: 16, blockSize: 16, aead: false,
    // CTR is its own inverse: encryption and decryption are the same keystream XOR
    stream: (key, iv) => createCipheriv(nodeName, key, iv),
  };
}

export const aes128Ctr = aesCtr(128);
export const aes192Ctr = aesCtr(192);
export const aes256Ctr = aesCtr(256);
