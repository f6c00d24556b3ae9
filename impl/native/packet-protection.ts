/**
 * Sealer/Opener (impl/crypto/types.ts) over the native addon: one native call per packet, written straight into
 * the one buffer the packet needs (no intermediate ciphertext, tag or concatenation). The wire formats are
 * exactly those of impl/crypto/cipher/* and impl/crypto/protect.ts; the C files cite the specs.
 */
import { MacError } from '../errors.js';
import type { Opener, Sealer } from '../crypto/types.js';
import { NativeResult, type NativeBinding, type NativeContext } from './binding.js';

/**
 * Optional in-place forms the native path offers beyond the Sealer/Opener contract (node:crypto cannot write into
 * a caller's buffer, so impl/crypto has no equivalent). They save the output allocation per packet for a caller
 * that owns the memory (impl/native/path-bench.ts measures what that saves).
 */
export interface InPlaceSealer extends Sealer {
  /** `buf` = the plaintext packet in its first `packetLength` bytes, then exactly `macLen` spare bytes; sealed in place and returned. */
  sealInPlace(seq: number, buf: Uint8Array, packetLength: number): Uint8Array;
}
export interface InPlaceOpener extends Opener {
  /** As `open`, but decrypts into `wire`'s own memory and returns the view `wire[4 .. length - macLen]`. */
  openInPlace(seq: number, wire: Uint8Array): Uint8Array;
  /** As `open` for wire = a || b, reading both pieces once (no join). */
  openSplit(seq: number, a: Uint8Array, b: Uint8Array): Uint8Array;
}

const TAG_LEN = 16;

function readUint32(b: Uint8Array): number {
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

/** The Opener contract: for any input of the promised size, a MacError and nothing else. */
function opened(r: NativeResult, what: string): void {
  if (r === NativeResult.Ok) return;
  if (r === NativeResult.BadMac) throw new MacError(`${what}: message authentication code incorrect`);
  if (r === NativeResult.Misaligned) throw new MacError(`${what}: packet cannot be authenticated (too short or not block-aligned)`);
  throw new MacError(`${what}: OpenSSL could not open the packet`);
}

/** Sealing our own well-formed packet cannot fail short of an OpenSSL fault. */
function sealed(r: NativeResult, what: string): void {
  if (r !== NativeResult.Ok) throw new Error(`${what}: OpenSSL could not seal the packet`);
}

/** Plaintext after packet_length; a too-short wire gets an empty buffer and the addon reports the MAC failure. */
const bodyBuffer = (wireLength: number, macLen: number): Buffer => Buffer.allocUnsafe(Math.max(0, wireLength - 4 - macLen));
const bodyView = (wire: Uint8Array, macLen: number): Uint8Array => wire.subarray(4, Math.max(4, wire.length - macLen));

// ───────────────────────────── aes128-gcm@openssh.com, aes256-gcm@openssh.com ─────────────────────

export class NativeGcmSealer implements InPlaceSealer {
  readonly blockSize = 16;
  readonly lengthExcluded = true;
  readonly macLen = TAG_LEN;
  constructor(private readonly b: NativeBinding, private readonly ctx: NativeContext) {}

  seal(_seq: number, packet: Uint8Array): Uint8Array {
    const out = Buffer.allocUnsafe(packet.length + TAG_LEN);
    sealed(this.b.gcmSeal(this.ctx, packet, out), 'AES-GCM');
    return out;
  }

  sealInPlace(_seq: number, buf: Uint8Array, packetLength: number): Uint8Array {
    sealed(this.b.gcmSeal(this.ctx, buf.subarray(0, packetLength), buf), 'AES-GCM');
    return buf;
  }
}

export class NativeGcmOpener implements InPlaceOpener {
  readonly blockSize = 16;
  readonly lengthExcluded = true;
  readonly macLen = TAG_LEN;
  readonly headerLen = 4;
  constructor(private readonly b: NativeBinding, private readonly ctx: NativeContext) {}

  packetLength(_seq: number, header: Uint8Array): number {
    return readUint32(header); // RFC 5647 §7.3: in clear (it is the AAD)
  }

  open(_seq: number, wire: Uint8Array): Uint8Array {
    const out = bodyBuffer(wire.length, TAG_LEN);
    opened(this.b.gcmOpen(this.ctx, wire, out), 'AES-GCM');
    return out;
  }

  openInPlace(_seq: number, wire: Uint8Array): Uint8Array {
    const out = bodyView(wire, TAG_LEN);
    opened(this.b.gcmOpen(this.ctx, wire, out), 'AES-GCM');
    return out;
  }

  openSplit(_seq: number, a: Uint8Array, b: Uint8Array): Uint8Array {
    const out = bodyBuffer(a.length + b.length, TAG_LEN);
    opened(this.b.gcmOpenSplit(this.ctx, a, b, out), 'AES-GCM');
    return out;
  }
}

// ───────────────────────────── chacha20-poly1305@openssh.com ─────────────────────────────────────

export class NativeChachaSealer implements InPlaceSealer {
  readonly blockSize = 8;
  readonly lengthExcluded = true;
  readonly macLen = TAG_LEN;
  constructor(private readonly b: NativeBinding, private readonly ctx: NativeContext) {}

  seal(seq: number, packet: Uint8Array): Uint8Array {
    const out = Buffer.allocUnsafe(packet.length + TAG_LEN);
    sealed(this.b.chachaSeal(this.ctx, seq >>> 0, packet, out), 'chacha20-poly1305');
    return out;
  }

  sealInPlace(seq: number, buf: Uint8Array, packetLength: number): Uint8Array {
    sealed(this.b.chachaSeal(this.ctx, seq >>> 0, buf.subarray(0, packetLength), buf), 'chacha20-poly1305');
    return buf;
  }
}

export class NativeChachaOpener implements InPlaceOpener {
  readonly blockSize = 8;
  readonly lengthExcluded = true;
  readonly macLen = TAG_LEN;
  readonly headerLen = 4;
  constructor(private readonly b: NativeBinding, private readonly ctx: NativeContext) {}

  packetLength(seq: number, header: Uint8Array): number {
    return this.b.chachaLength(this.ctx, seq >>> 0, header);
  }

  open(seq: number, wire: Uint8Array): Uint8Array {
    const out = bodyBuffer(wire.length, TAG_LEN);
    opened(this.b.chachaOpen(this.ctx, seq >>> 0, wire, out), 'Poly1305');
    return out;
  }

  openInPlace(seq: number, wire: Uint8Array): Uint8Array {
    const out = bodyView(wire, TAG_LEN);
    opened(this.b.chachaOpen(this.ctx, seq >>> 0, wire, out), 'Poly1305');
    return out;
  }

  openSplit(seq: number, a: Uint8Array, b: Uint8Array): Uint8Array {
    const out = bodyBuffer(a.length + b.length, TAG_LEN);
    opened(this.b.chachaOpenSplit(this.ctx, seq >>> 0, a, b, out), 'Poly1305');
    return out;
  }
}

// ───────────────────────────── aes*-ctr + hmac-* (MtE and EtM) ───────────────────────────────────

export class NativeCtrHmacSealer implements InPlaceSealer {
  readonly blockSize = 16;
  constructor(private readonly b: NativeBinding, private readonly ctx: NativeContext, readonly macLen: number, readonly lengthExcluded: boolean) {}

  seal(seq: number, packet: Uint8Array): Uint8Array {
    const out = Buffer.allocUnsafe(packet.length + this.macLen);
    sealed(this.b.ctrHmacSeal(this.ctx, seq >>> 0, packet, out), 'AES-CTR/HMAC');
    return out;
  }

  sealInPlace(seq: number, buf: Uint8Array, packetLength: number): Uint8Array {
    sealed(this.b.ctrHmacSeal(this.ctx, seq >>> 0, buf.subarray(0, packetLength), buf), 'AES-CTR/HMAC');
    return buf;
  }
}

export class NativeCtrHmacOpener implements InPlaceOpener {
  readonly blockSize = 16;
  readonly headerLen: number;
  constructor(private readonly b: NativeBinding, private readonly ctx: NativeContext, readonly macLen: number, readonly lengthExcluded: boolean) {
    // EtM: the length is in clear; MtE: one block is decrypted (and kept by the addon) to learn it
    this.headerLen = lengthExcluded ? 4 : 16;
  }

  packetLength(seq: number, header: Uint8Array): number {
    return this.lengthExcluded ? readUint32(header) : this.b.ctrHmacLength(this.ctx, seq >>> 0, header);
  }

  open(seq: number, wire: Uint8Array): Uint8Array {
    const out = bodyBuffer(wire.length, this.macLen);
    opened(this.b.ctrHmacOpen(this.ctx, seq >>> 0, wire, out), 'HMAC');
    return out;
  }

  openInPlace(seq: number, wire: Uint8Array): Uint8Array {
    const out = bodyView(wire, this.macLen);
    opened(this.b.ctrHmacOpen(this.ctx, seq >>> 0, wire, out), 'HMAC');
    return out;
  }

  openSplit(seq: number, a: Uint8Array, b: Uint8Array): Uint8Array {
    const out = bodyBuffer(a.length + b.length, this.macLen);
    opened(this.b.ctrHmacOpenSplit(this.ctx, seq >>> 0, a, b, out), 'HMAC');
    return out;
  }
}
