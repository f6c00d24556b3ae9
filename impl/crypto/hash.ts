import { createHash } from 'node:crypto';
import type { HashName } from './types.js';

/** Hash output sizes in bytes. */
export const hashLength: Readonly<Record<HashName, number>> = { md5: 16, sha1: 20, sha256: 32, sha384: 48, sha512: 64 };

/** One-shot hash over several parts, without concatenating them first. */
export function hashFor(name: HashName): (...parts: Uint8Array[]) => Uint8Array {
  return (...parts) => {
    const h = createHash(name);
    for (const p of parts) h.update(p);
    return h.digest();
  };
}
