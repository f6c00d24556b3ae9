/**
 * The two shapes a registered cipher takes inside impl/crypto. The engine sees only the CipherAlgorithm
 * facts; protect.ts reaches the constructors through `cipherImpl`.
 */
import type { CipherAlgorithm, DirectionKeys, Opener, Sealer } from '../types.js';

/** A stateful transform for one direction; CTR keystream and CBC chaining continue across packets. */
export interface StreamTransform {
  update(data: Uint8Array): Uint8Array;
}

/** A block or stream cipher used with a separate MAC (RFC 4253 §6.3). */
export interface StreamCipher extends CipherAlgorithm {
  readonly aead: false;
  stream(key: Uint8Array, iv: Uint8Array, encrypt: boolean): StreamTransform;
}

/** An authenticated cipher that protects whole packets itself (no negotiated MAC). */
export interface AeadCipher extends CipherAlgorithm {
  readonly aead: true;
  sealer(keys: DirectionKeys): Sealer;
  opener(keys: DirectionKeys): Opener;
}

export type CipherImpl = StreamCipher | AeadCipher;

export function cipherImpl(c: CipherAlgorithm): CipherImpl {
  const x = c as { sealer?: unknown; opener?: unknown; stream?: unknown };
  if (c.aead ? typeof x.sealer === 'function' && typeof x.opener === 'function' : typeof x.stream === 'function') return c as CipherImpl;
  throw new TypeError(`cipher ${JSON.stringify(c.name)} is not one of impl/crypto's registered ciphers`);
}

/** `key` cut to the length the algorithm needs; RangeError when the engine derived too few bytes. */
export function keyOf(c: CipherAlgorithm, what: 'encKey' | 'iv', b: Uint8Array): Uint8Array {
  const need = what === 'encKey' ? c.keyLen : c.ivLen;
  if (b.length < need) throw new RangeError(`${c.name}: ${what} needs ${need} bytes, got ${b.length}`);
  return b.subarray(0, need);
}
