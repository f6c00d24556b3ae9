/**
 * chacha20-poly1305@openssh.com (OpenSSH PROTOCOL.chacha20poly1305):
 * - the 64-byte key is K_2 (first 32 bytes, payload) || K_1 (last 32 bytes, packet length);
 * - the nonce is the packet sequence number as a 64-bit big-endian integer, for both keys;
 * - packet_length is encrypted alone with K_1 at block counter 0, so a reader can learn it before the MAC;
 * - the Poly1305 key is the first 32 bytes of K_2's keystream block 0; the payload is encrypted from block 1;
 * - tag = Poly1305(encrypted length || encrypted payload), 16 bytes, checked before decrypting.
 * ChaCha20 is node's (OpenSSL's) raw 'chacha20', whose 16-byte IV is a 32-bit little-endian block counter
 * followed by a 96-bit nonce: with the counter's high word zero this is the original 64/64 layout above.
 * Poly1305 is the WebAssembly kernel in poly1305.ts.
 */
import { createCipheriv, timingSafeEqual } from 'node:crypto';
import { MacError } from '../../errors.js';
import type { DirectionKeys, Opener, Sealer } from '../types.js';
import { keyOf, type AeadCipher } from './cipher-impl.js';
import { poly1305 } from './poly1305.js';

const TAG_LEN = 16;
/** Keystream block 0 of K_2: 32 bytes of Poly1305 key, 32 unused; the payload starts at block 1. */
const BLOCK0 = new Uint8Array(64);

class ChachaKeys {
  private readonly main: Buffer;
  private readonly header: Buffer;
  /** counter (4, little-endian) || 0 (4) || seq (8, big-endian) */
  private readonly iv = Buffer.alloc(16);

  constructor(key: Uint8Array) {
    this.main = Buffer.from(key.subarray(0, 32));
    this.header = Buffer.from(key.subarray(32, 64));
  }

  private nonce(seq: number): Buffer {
    this.iv.writeUInt32BE(seq >>> 0, 12); // sequence numbers are uint32 (RFC 4253 §6.4): the high half stays 0
    return this.iv;
  }

  /** packet_length ⊕ K_1 keystream (encryption and decryption alike). */
  length(seq: number, four: Uint8Array): Buffer {
    return createCipheriv('chacha20', this.header, this.nonce(seq)).update(four);
  }

  /** K_2 keystream positioned at block 0; the caller takes the Poly1305 key, then the payload continues at block 1. */
  payload(seq: number): { polyKey: Uint8Array; xor: (data: Uint8Array) => Buffer } {
    const c = createCipheriv('chacha20', this.main, this.nonce(seq));
    const polyKey = c.update(BLOCK0).subarray(0, 32);
    return { polyKey, xor: (data) => c.update(data) };
  }
}

function readUint32(b: Uint8Array): number {
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

class ChachaSealer implements Sealer {
  readonly blockSize = 8;
  readonly lengthExcluded = true;
  readonly macLen = TAG_LEN;
  constructor(private readonly keys: ChachaKeys) {}

  seal(seq: number, packet: Uint8Array): Uint8Array {
    const { polyKey, xor } = this.keys.payload(seq);
    const out = Buffer.allocUnsafe(packet.length + TAG_LEN);
    out.set(this.keys.length(seq, packet.subarray(0, 4)), 0);
    out.set(xor(packet.subarray(4)), 4);
    out.set(poly1305(polyKey, out.subarray(0, packet.length)), packet.length);
    return out;
  }
}

class ChachaOpener implements Opener {
  readonly blockSize = 8;
  readonly lengthExcluded = true;
  readonly macLen = TAG_LEN;
  readonly headerLen = 4;
  constructor(private readonly keys: ChachaKeys) {}

  packetLength(seq: number, header: Uint8Array): number {
    return readUint32(this.keys.length(seq, header.subarray(0, 4)));
  }

  open(seq: number, wire: Uint8Array): Uint8Array {
    const end = wire.length - TAG_LEN;
    if (end < 4) throw new MacError('packet too short for a Poly1305 tag');
    const { polyKey, xor } = this.keys.payload(seq);
    if (!timingSafeEqual(poly1305(polyKey, wire.subarray(0, end)), wire.subarray(end))) throw new MacError('Poly1305 tag mismatch');
    return xor(wire.subarray(4, end));
  }
}

const facts = {
  name: 'chacha20-poly1305@openssh.com', legacy: false, spec: 'OpenSSH PROTOCOL.chacha20poly1305',
  keyLen: 64, ivLen: 0, blockSize: 8, aead: true,
} as const;

export const chacha20Poly1305: AeadCipher = {
  ...facts,
  sealer: (k: DirectionKeys) => new ChachaSealer(new ChachaKeys(keyOf(facts, 'encKey', k.encKey))),
  opener: (k: DirectionKeys) => new ChachaOpener(new ChachaKeys(keyOf(facts, 'encKey', k.encKey))),
};
