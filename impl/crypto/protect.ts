/**
 * Binary packet protection for one direction (RFC 4253 §6): composes a registered cipher with a MAC.
 * - MAC-then-encrypt (RFC 4253 §6.4): mac = MAC(key, uint32 seq || plaintext packet); the whole packet,
 *   packet_length included, is encrypted.
 * - Encrypt-then-MAC (OpenSSH PROTOCOL §1.5): packet_length in clear; mac = MAC(key, seq || length || ciphertext),
 *   checked before anything is decrypted.
 * - AEAD ciphers (AES-GCM, chacha20-poly1305) bring their own sealer/opener and take no MAC.
 * Every MAC comparison is constant-time (timingSafeEqual); every mismatch is a MacError.
 */
import { nativeOpener, nativeSealer } from '../native/index.js';
import { timingSafeEqual } from 'node:crypto';
import { MacError } from '../errors.js';
import { cipherImpl, keyOf, type StreamCipher, type StreamTransform } from './cipher/cipher-impl.js';
import type { CipherAlgorithm, DirectionKeys, MacAlgorithm, MakeOpener, MakeSealer, Opener, Sealer } from './types.js';

type MacFn = (seq: number, ...data: Uint8Array[]) => Uint8Array;

function readUint32(b: Uint8Array, at = 0): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

function macMatches(expected: Uint8Array, got: Uint8Array): boolean {
  return expected.length === got.length && timingSafeEqual(expected, got);
}

function requireMac(cipher: CipherAlgorithm, mac: MacAlgorithm | null): MacAlgorithm {
  if (mac === null) throw new TypeError(`${cipher.name} is not an AEAD cipher and needs a MAC`);
  return mac;
}

function macOf(m: MacAlgorithm, keys: DirectionKeys): MacFn {
  if (keys.macKey.length < m.keyLen) throw new RangeError(`${m.name}: macKey needs ${m.keyLen} bytes, got ${keys.macKey.length}`);
  return m.create(keys.macKey.subarray(0, m.keyLen));
}

function streamOf(c: StreamCipher, keys: DirectionKeys, encrypt: boolean): StreamTransform {
  return c.stream(keyOf(c, 'encKey', keys.encKey), keyOf(c, 'iv', keys.iv), encrypt);
}

/** RFC 4253 §6: padding aligns to the cipher block size or 8, whichever is larger. */
const alignOf = (c: CipherAlgorithm): number => Math.max(8, c.blockSize);

class MacThenEncryptSealer implements Sealer {
  readonly lengthExcluded = false;
  constructor(readonly blockSize: number, readonly macLen: number, private readonly enc: StreamTransform, private readonly mac: MacFn) {}

  seal(seq: number, packet: Uint8Array): Uint8Array {
    const tag = this.mac(seq, packet);
    const ct = this.enc.update(packet);
    const out = Buffer.allocUnsafe(ct.length + this.macLen);
    out.set(ct, 0);
    out.set(tag, ct.length);
    return out;
  }
}

class MacThenEncryptOpener implements Opener {
  readonly lengthExcluded = false;
  readonly headerLen: number;
  /** The first block, decrypted by packetLength, waiting for open. */
  private first: Uint8Array | null = null;
  constructor(readonly blockSize: number, readonly macLen: number, private readonly dec: StreamTransform, private readonly mac: MacFn) {
    this.headerLen = blockSize;
  }

  packetLength(_seq: number, header: Uint8Array): number {
    this.first = this.dec.update(header.subarray(0, this.headerLen));
    return readUint32(this.first);
  }

  open(seq: number, wire: Uint8Array): Uint8Array {
    const first = this.first;
    this.first = null;
    const end = wire.length - this.macLen;
    // the engine promises aligned packets of at least one block; anything else cannot be decrypted in step
    if (first === null || end < this.headerLen || end % this.blockSize !== 0) throw new MacError('packet cannot be authenticated: not block-aligned');
    const plain = Buffer.allocUnsafe(end);
    plain.set(first, 0);
    plain.set(this.dec.update(wire.subarray(this.headerLen, end)), this.headerLen);
    if (!macMatches(this.mac(seq, plain), wire.subarray(end))) throw new MacError();
    return plain.subarray(4);
  }
}

class EncryptThenMacSealer implements Sealer {
  readonly lengthExcluded = true;
  constructor(readonly blockSize: number, readonly macLen: number, private readonly enc: StreamTransform, private readonly mac: MacFn) {}

  seal(seq: number, packet: Uint8Array): Uint8Array {
    const ct = this.enc.update(packet.subarray(4));
    const end = 4 + ct.length;
    const out = Buffer.allocUnsafe(end + this.macLen);
    out.set(packet.subarray(0, 4), 0);
    out.set(ct, 4);
    out.set(this.mac(seq, out.subarray(0, end)), end);
    return out;
  }
}

class EncryptThenMacOpener implements Opener {
  readonly lengthExcluded = true;
  readonly headerLen = 4;
  constructor(readonly blockSize: number, readonly macLen: number, private readonly dec: StreamTransform, private readonly mac: MacFn) {}

  packetLength(_seq: number, header: Uint8Array): number {
    return readUint32(header);
  }

  open(seq: number, wire: Uint8Array): Uint8Array {
    const end = wire.length - this.macLen;
    if (end < 4) throw new MacError('packet too short for its MAC');
    // OpenSSH PROTOCOL §1.5: verify before decrypting
    if (!macMatches(this.mac(seq, wire.subarray(0, end)), wire.subarray(end))) throw new MacError();
    if ((end - 4) % this.blockSize !== 0) throw new MacError('packet cannot be decrypted: not block-aligned');
    return this.dec.update(wire.subarray(4, end));
  }
}

export const makeSealer: MakeSealer = (cipher, mac, keys) => {
  // the optional N-API addon (impl/native) when built and covering this pair; otherwise node:crypto below
  const n = nativeSealer(cipher, mac, keys);
  if (n) return n;
  const c = cipherImpl(cipher);
  if (c.aead) return c.sealer(keys);
  const m = requireMac(cipher, mac);
  const Sealer = m.etm ? EncryptThenMacSealer : MacThenEncryptSealer;
  return new Sealer(alignOf(c), m.macLen, streamOf(c, keys, true), macOf(m, keys));
};

export const makeOpener: MakeOpener = (cipher, mac, keys) => {
  const n = nativeOpener(cipher, mac, keys);
  if (n) return n;
  const c = cipherImpl(cipher);
  if (c.aead) return c.opener(keys);
  const m = requireMac(cipher, mac);
  const Opener = m.etm ? EncryptThenMacOpener : MacThenEncryptOpener;
  return new Opener(alignOf(c), m.macLen, streamOf(c, keys, false), macOf(m, keys));
};
