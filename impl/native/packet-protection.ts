/**
 * Sealer/Opener (impl/crypto/types.ts) over the native addon: one native call per packet, written straight into
 * the one buffer the packet needs (no intermediate ciphertext, tag or concatenation). The wire formats are
 * exactly those of impl/crypto/cipher/* and impl/crypto/protect.ts; the C files cite the specs.
 */
import { MacError } from '../errors.js';
import type { Opener, Sealer } from '../crypto/types.js';
import { NativeResult, type NativeBinding, type NativeContext } from './binding.js';

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

// ───────────────────────────── aes128-gcm@openssh.com, aes256-gcm@openssh.com ─────────────────────

export class NativeGcmSealer implements Sealer {
  readonly blockSize = 16;
  readonly lengthExcluded = true;
  readonly macLen = TAG_LEN;
  constructor(private readonly b: NativeBinding, private readonly ctx: NativeContext) {}

  seal(_seq: number, packet: Uint8Array): Uint8Array {
    const out = Buffer.allocUnsafe(packet.length + TAG_LEN);
    sealed(this.b.gcmSeal(this.ctx, packet, out), 'AES-GCM');
    return out;
  }
}

export class NativeGcmOpener implements Opener {
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
}

// ───────────────────────────── chacha20-poly1305@openssh.com ─────────────────────────────────────

export class NativeChachaSealer implements Sealer {
  readonly blockSize = 8;
  readonly lengthExcluded = true;
  readonly macLen = TAG_LEN;
  constructor(private readonly b: NativeBinding, private readonly ctx: NativeContext) {}

  seal(seq: number, packet: Uint8Array): Uint8Array {
    const out = Buffer.allocUnsafe(packet.length + TAG_LEN);
    sealed(this.b.chachaSeal(this.ctx, seq >>> 0, packet, out), 'chacha20-poly1305');
    return out;
  }
}

export class NativeChachaOpener implements Opener {
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
}

// ───────────────────────────── aes*-ctr + hmac-* (MtE and EtM) ───────────────────────────────────

export class NativeCtrHmacSealer implements Sealer {
  readonly blockSize = 16;
  constructor(private readonly b: NativeBinding, private readonly ctx: NativeContext, readonly macLen: number, readonly lengthExcluded: boolean) {}

  seal(seq: number, packet: Uint8Array): Uint8Array {
    const out = Buffer.allocUnsafe(packet.length + this.macLen);
    sealed(this.b.ctrHmacSeal(this.ctx, seq >>> 0, packet, out), 'AES-CTR/HMAC');
    return out;
  }
}

export class NativeCtrHmacOpener implements Opener {
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
}
