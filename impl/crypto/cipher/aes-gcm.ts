/**
 * aes128-gcm@openssh.com and aes256-gcm@openssh.com (RFC 5647 as profiled by OpenSSH PROTOCOL §1.6):
 * - packet_length travels in clear and is the AAD (RFC 5647 §7.3);
 * - the 12-byte nonce is a 4-byte fixed field || an 8-byte invocation counter, both taken from the KDF IV,
 *   and the counter is incremented after every packet (RFC 5647 §7.1);
 * - the 16-byte tag follows the ciphertext; the negotiated MAC is not used (RFC 5647 §5.1).
 * Node's API needs a new cipher object per nonce; the key is imported once as a KeyObject.
 */
import { createCipheriv, createDecipheriv, createSecretKey, type CipherGCMTypes, type KeyObject } from 'node:crypto';
import { MacError } from '../../errors.js';
import type { DirectionKeys, Opener, Sealer } from '../types.js';
import { keyOf, type AeadCipher } from './cipher-impl.js';

const TAG_LEN = 16;

/** RFC 5647 §7.1: invocation_counter += 1, as a 64-bit big-endian integer modulo 2^64. */
export function incrementInvocationCounter(nonce: Uint8Array): void {
  for (let i = 11; i >= 4; i--) {
    nonce[i] = (nonce[i]! + 1) & 0xff;
    if (nonce[i] !== 0) return;
  }
}

class GcmSealer implements Sealer {
  readonly blockSize = 16;
  readonly lengthExcluded = true;
  readonly macLen = TAG_LEN;
  constructor(private readonly alg: CipherGCMTypes, private readonly key: KeyObject, private readonly nonce: Uint8Array) {}

  seal(_seq: number, packet: Uint8Array): Uint8Array {
    const c = createCipheriv(this.alg, this.key, this.nonce, { authTagLength: TAG_LEN });
    incrementInvocationCounter(this.nonce);
    c.setAAD(packet.subarray(0, 4));
    const ct = c.update(packet.subarray(4));
    c.final();
    const out = Buffer.allocUnsafe(packet.length + TAG_LEN);
    out.set(packet.subarray(0, 4), 0);
    out.set(ct, 4);
    out.set(c.getAuthTag(), packet.length);
    return out;
  }
}

class GcmOpener implements Opener {
  readonly blockSize = 16;
  readonly lengthExcluded = true;
  readonly macLen = TAG_LEN;
  readonly headerLen = 4;
  constructor(private readonly alg: CipherGCMTypes, private readonly key: KeyObject, private readonly nonce: Uint8Array) {}

  packetLength(_seq: number, header: Uint8Array): number {
    return ((header[0]! << 24) | (header[1]! << 16) | (header[2]! << 8) | header[3]!) >>> 0;
  }

  open(_seq: number, wire: Uint8Array): Uint8Array {
    const end = wire.length - TAG_LEN;
    if (end < 4) throw new MacError('packet too short for an AES-GCM tag');
    const d = createDecipheriv(this.alg, this.key, this.nonce, { authTagLength: TAG_LEN });
    incrementInvocationCounter(this.nonce);
    d.setAAD(wire.subarray(0, 4));
    d.setAuthTag(wire.subarray(end));
    const pt = d.update(wire.subarray(4, end));
    try {
      d.final();
    } catch {
      throw new MacError('AES-GCM authentication tag mismatch');
    }
    return pt;
  }
}

function aesGcm(bits: 128 | 256): AeadCipher {
  const alg: CipherGCMTypes = `aes-${bits}-gcm`;
  const facts = { name: `aes${bits}-gcm@openssh.com`, legacy: false, spec: 'RFC 5647 §7, OpenSSH PROTOCOL §1.6', keyLen: bits / 8, ivLen: 12, blockSize: 16, aead: true } as const;
  // copies: the nonce is ours to mutate (Uint8Array.from, not .slice(): the keys may be Buffers, whose slice() is
  // a view), and the KeyObject lets the engine wipe its key bytes
  const prepare = (k: DirectionKeys): [KeyObject, Uint8Array] => [createSecretKey(keyOf(facts, 'encKey', k.encKey)), Uint8Array.from(keyOf(facts, 'iv', k.iv))];
  return {
    ...facts,
    sealer: (k) => new GcmSealer(alg, ...prepare(k)),
    opener: (k) => new GcmOpener(alg, ...prepare(k)),
  };
}

export const aes128Gcm = aesGcm(128);
export const aes256Gcm = aesGcm(256);
