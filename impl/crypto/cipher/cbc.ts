/**
 * Legacy CBC ciphers (RFC 4253 §6.3): aes128/192/256-cbc and 3des-cbc. The chaining state continues across
 * packets (the last ciphertext block of one packet is the IV of the next), which a single streaming object
 * per direction gives us. CBC leaks through padding/MAC-then-encrypt timing (RFC 4344 §1): legacy only.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { StreamCipher } from './cipher-impl.js';

function cbc(name: string, nodeName: string, keyLen: number, blockSize: number, spec: string): StreamCipher {
  return {
    name, legacy: true, spec, keyLen, ivLen: blockSize, blockSize, aead: false,
    // RFC 4344 §3.2: rekey after 2^(L/4) blocks of an L-bit block cipher; it only bites for 64-bit blocks
    ...(blockSize === 8 ? { rekeyBytes: 2 ** 16 * blockSize } : {}),
    stream(key, iv, encrypt) {
      // SSH pads packets itself; node must neither add nor strip padding, nor hold back a final block
      const c = encrypt ? createCipheriv(nodeName, key, iv) : createDecipheriv(nodeName, key, iv);
      c.setAutoPadding(false);
      return {
        update(data) {
          // node would silently hold back a partial block and shift every later packet; refuse instead
          if (data.length % blockSize !== 0) throw new RangeError(`${name}: ${data.length} bytes is not a multiple of the ${blockSize}-byte block`);
          return c.update(data);
        },
      };
    },
  };
}

export const aes128Cbc = cbc('aes128-cbc', 'aes-128-cbc', 16, 16, 'RFC 4253 §6.3');
export const aes192Cbc = cbc('aes192-cbc', 'aes-192-cbc', 24, 16, 'RFC 4253 §6.3');
export const aes256Cbc = cbc('aes256-cbc', 'aes-256-cbc', 32, 16, 'RFC 4253 §6.3');
export const tripleDesCbc = cbc('3des-cbc', 'des-ede3-cbc', 24, 8, 'RFC 4253 §6.3');
