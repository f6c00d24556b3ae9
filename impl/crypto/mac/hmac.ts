/**
 * HMAC MACs (RFC 2104) over `uint32 seq || data` (RFC 4253 §6.4), and their encrypt-then-MAC variants
 * (OpenSSH PROTOCOL §1.5: same MAC, computed over `seq || packet_length || ciphertext`).
 */
import { createHmac, createSecretKey } from 'node:crypto';
import { hashLength } from '../hash.js';
import type { HashName, MacAlgorithm } from '../types.js';

function hmac(name: string, hash: HashName, macLen: number, etm: boolean, legacy: boolean, spec: string): MacAlgorithm {
  // RFC 4253 §6.4 / RFC 6668 §2: the key is as long as the hash output, even for truncated (-96) MACs
  const keyLen = hashLength[hash];
  return {
    name, legacy, spec, keyLen, macLen, etm,
    // HMAC is defined for any key length (RFC 2104 §2); protect.ts hands over exactly keyLen bytes
    create(key) {
      if (key.length === 0) throw new RangeError(`${name}: empty key`);
      const k = createSecretKey(key);
      const seqBuf = Buffer.alloc(4);
      return (seq, ...data) => {
        const h = createHmac(hash, k);
        seqBuf.writeUInt32BE(seq >>> 0, 0);
        h.update(seqBuf);
        for (const d of data) h.update(d);
        const tag = h.digest();
        return macLen < tag.length ? tag.subarray(0, macLen) : tag;
      };
    },
  };
}

const ETM = '-etm@openssh.com';
const ETM_SPEC = 'OpenSSH PROTOCOL §1.5';

export const hmacSha2256 = hmac('hmac-sha2-256', 'sha256', 32, false, false, 'RFC 6668 §2');
export const hmacSha2512 = hmac('hmac-sha2-512', 'sha512', 64, false, false, 'RFC 6668 §2');
export const hmacSha2256Etm = hmac('hmac-sha2-256' + ETM, 'sha256', 32, true, false, ETM_SPEC);
export const hmacSha2512Etm = hmac('hmac-sha2-512' + ETM, 'sha512', 64, true, false, ETM_SPEC);
export const hmacSha1 = hmac('hmac-sha1', 'sha1', 20, false, false, 'RFC 4253 §6.4');
export const hmacSha1Etm = hmac('hmac-sha1' + ETM, 'sha1', 20, true, false, ETM_SPEC);
/** Legacy: truncated and/or MD5-based (RFC 4253 §6.4 lists them as OPTIONAL). */
export const hmacSha196 = hmac('hmac-sha1-96', 'sha1', 12, false, true, 'RFC 4253 §6.4');
export const hmacMd5 = hmac('hmac-md5', 'md5', 16, false, true, 'RFC 4253 §6.4');
export const hmacMd596 = hmac('hmac-md5-96', 'md5', 12, false, true, 'RFC 4253 §6.4');
export const hmacSha196Etm = hmac('hmac-sha1-96' + ETM, 'sha1', 12, true, true, ETM_SPEC);
export const hmacMd5Etm = hmac('hmac-md5' + ETM, 'md5', 16, true, true, ETM_SPEC);
export const hmacMd596Etm = hmac('hmac-md5-96' + ETM, 'md5', 12, true, true, ETM_SPEC);
