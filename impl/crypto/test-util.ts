/** Helpers for impl/crypto tests (not exported from the package). */
import { createHash } from 'node:crypto';
import type { Rng } from './types.js';

export const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** A reproducible Rng: SHA-256(seed || counter) blocks. */
export function seededRng(seed: string): Rng {
  let counter = 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let o = 0; o < n; o += 32) {
      const block = createHash('sha256').update(`${seed}/${counter++}`).digest();
      out.set(block.subarray(0, Math.min(32, n - o)), o);
    }
    return out;
  };
}

/** An Rng that hands out fixed values in order (for known-answer tests). */
export function fixedRng(...values: Uint8Array[]): Rng {
  return (n) => {
    const v = values.shift();
    if (v === undefined || v.length !== n) throw new Error(`fixedRng: asked for ${n} bytes, have ${v?.length}`);
    return v.slice();
  };
}

/**
 * A plaintext binary packet as the engine builds it (RFC 4253 §6): uint32 packet_length || byte padding_length
 * || payload || padding, padded to `align` over the bytes the mode encrypts, with 4..255 bytes of padding.
 */
export function buildPacket(payload: Uint8Array, align: number, lengthExcluded: boolean, extraBlocks = 0): Uint8Array {
  const covered = (lengthExcluded ? 0 : 4) + 1 + payload.length;
  let pad = align - (covered % align);
  if (pad < 4) pad += align;
  pad += align * extraBlocks;
  const packetLength = 1 + payload.length + pad;
  const p = new Uint8Array(4 + packetLength);
  new DataView(p.buffer).setUint32(0, packetLength);
  p[4] = pad;
  p.set(payload, 5);
  for (let i = 0; i < pad; i++) p[5 + payload.length + i] = (i * 37 + 11) & 0xff;
  return p;
}
