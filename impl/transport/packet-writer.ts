import type { Compressor, Rng, Sealer } from '../crypto/types.js';
import { noneSealer } from './none-protection.js';

/** Per-packet deviations the testing hooks can ask for. Never set by the reference behaviour. */
export interface OutboundDeviation {
  /** Padding length to use, even if it breaks RFC 4253 §6 (e.g. < 4 or misaligned). */
  padding?: number;
  /** Seal with the real sequence number plus this offset (the real counter still advances normally). */
  seqOffset?: number;
  /** Transforms the sealed wire bytes (flip a MAC bit, rewrite the length, truncate...). */
  mutate?: (wire: Uint8Array) => Uint8Array;
}

/**
 * Packet buffers given back with PacketWriter.release() once the socket is done with them: a bulk transfer
 * otherwise allocates (and, on these VMs, page-faults in) a fresh 32 KiB buffer per packet. One pool for the
 * process, capped, so a server with many connections keeps at most POOL_KEEP × 40 KiB (10 MiB) between them
 * (a per-connection cap of 16 measured ~15 % slower than 64 for one bulk transfer). Only buffers a writer issued
 * are taken back (`issued`), so raw bytes from the testing hooks are never reused.
 */
const POOL_BLOCK = 40 * 1024;
const POOL_KEEP = 256;
const POOL_MIN = 4096;
const pool: ArrayBuffer[] = [];
const issued = new WeakSet<ArrayBuffer>();

/**
 * Random bytes for padding come from a pooled buffer: one rng call per 16 KiB, not per packet. The first
 * draws are small and double up to 16 KiB, so a short connection (a handshake, a fuzz case) does not pay for
 * 16 KiB of randomness it never uses.
 */
class PaddingPool {
  private pool: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private next = 512;
  constructor(private readonly rng: Rng) {}
  fill(dst: Uint8Array): void {
    if (this.pos + dst.length > this.pool.length) {
      this.pool = this.rng(Math.max(this.next, dst.length));
      this.pos = 0;
      this.next = Math.min(this.next * 2, 16384);
    }
    dst.set(this.pool.subarray(this.pos, this.pos + dst.length));
    this.pos += dst.length;
  }
}

/**
 * Outbound binary packet protocol (RFC 4253 §6): compress, pad, seal, count. The sequence number
 * wraps at 2^32 (§6.4) and is reset by strict kex after NEWKEYS.
 */
export class PacketWriter {
  seq = 0;
  sealer: Sealer = noneSealer;
  compressor: Compressor | null = null;
  /** Packets and bytes since the last key exchange, for rekey limits (RFC 4344 §3). */
  packetsSinceKex = 0;
  bytesSinceKex = 0;
  private readonly padding: PaddingPool;

  constructor(rng: Rng) {
    this.padding = new PaddingPool(rng);
  }

  /** Gives a sent packet's memory back for reuse; the caller guarantees nothing reads `wire` any more. */
  release(wire: Uint8Array): void {
    const ab = wire.buffer as ArrayBuffer;
    if (issued.delete(ab) && pool.length < POOL_KEEP) pool.push(ab);
  }

  private allocate(n: number): Buffer {
    // small packets come from node's own slab (cheap); pooling pays for bulk-data packets
    if (n > POOL_BLOCK || (n < POOL_MIN && pool.length === 0)) return Buffer.allocUnsafe(n);
    const ab = pool.pop() ?? new ArrayBuffer(POOL_BLOCK);
    issued.add(ab);
    return Buffer.from(ab, 0, n);
  }

  /**
   * Frames and seals one payload; returns the wire bytes. A payload given as `payload || tail` (e.g. a
   * CHANNEL_DATA header and its data) is copied straight into the packet, without joining it first.
   */
  write(payload: Uint8Array, dev?: OutboundDeviation, tail?: Uint8Array): Uint8Array {
    if (this.compressor) {
      payload = this.compressor.compress(tail ? Buffer.concat([payload, tail]) : payload);
      tail = undefined;
    }
    const payloadLength = payload.length + (tail?.length ?? 0);
    const s = this.sealer;
    const block = Math.max(8, s.blockSize);
    // RFC 4253 §6: 4..255 bytes of padding so that the aligned part is a multiple of the block size
    // (EtM/AEAD modes leave the 4-byte length out of the alignment: OpenSSH PROTOCOL §1.5, RFC 5647 §7.2).
    const aligned = (s.lengthExcluded ? 1 : 5) + payloadLength;
    let pad = block - (aligned % block);
    if (pad < 4) pad += block;
    if (dev?.padding !== undefined) pad = dev.padding;
    const packetLength = 1 + payloadLength + pad;
    const total = 4 + packetLength;
    // every byte is written below, so no zero-fill; room for the tag when the sealer works in place
    const packet = s.sealInPlace ? this.allocate(total + s.macLen) : Buffer.allocUnsafe(total);
    packet.writeUInt32BE(packetLength, 0);
    packet[4] = pad;
    packet.set(payload, 5);
    if (tail) packet.set(tail, 5 + payload.length);
    this.padding.fill(packet.subarray(5 + payloadLength, total));
    const seq = this.seq;
    this.seq = (this.seq + 1) >>> 0;
    const sealSeq = dev?.seqOffset ? (seq + dev.seqOffset) >>> 0 : seq;
    let wire = s.sealInPlace ? s.sealInPlace(sealSeq, packet, total) : s.seal(sealSeq, packet);
    if (dev?.mutate) wire = dev.mutate(wire);
    this.packetsSinceKex++;
    this.bytesSinceKex += wire.length;
    return wire;
  }
}
