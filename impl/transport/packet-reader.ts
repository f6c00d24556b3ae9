import type { Decompressor, Opener } from '../crypto/types.js';
import { DisconnectReason, LimitError, ProtocolError } from '../errors.js';
import type { ByteQueue } from './byte-queue.js';
import { noneOpener } from './none-protection.js';

export interface InboundPacket {
  readonly seq: number;
  readonly payload: Uint8Array;
}

/**
 * Inbound binary packet protocol (RFC 4253 §6). Reads the header, checks packet_length against the bound
 * and the block alignment before buffering the body, verifies the MAC, strips padding, decompresses.
 */
export class PacketReader {
  seq = 0;
  opener: Opener = noneOpener;
  decompressor: Decompressor | null = null;
  packetsSinceKex = 0;
  bytesSinceKex = 0;
  private pendingLength = -1;

  constructor(private readonly maxPacket: number, private readonly maxPayload: number) {}

  /** The next complete packet, or undefined when more bytes are needed. Throws SSHError on bad input. */
  read(q: ByteQueue): InboundPacket | undefined {
    const o = this.opener;
    if (this.pendingLength < 0) {
      if (q.length < o.headerLen) return undefined;
      const len = o.packetLength(this.seq, q.peek(o.headerLen));
      // RFC 4253 §6.1: implementations SHOULD check that the packet length is reasonable
      if (len > this.maxPacket) throw new LimitError(`packet_length ${len} exceeds the limit ${this.maxPacket} (RFC 4253 §6.1)`, DisconnectReason.PROTOCOL_ERROR);
      const block = Math.max(8, o.blockSize);
      // RFC 4253 §6: the aligned part is a multiple of max(8, block size); at least 1 + 4 bytes
      const aligned = o.lengthExcluded ? len : len + 4;
      if (len < 5 || aligned % block !== 0) throw new ProtocolError(`bad packet_length ${len}: not a multiple of the block size ${block} (RFC 4253 §6)`);
      this.pendingLength = len;
    }
    const total = 4 + this.pendingLength + o.macLen;
    if (q.length < total) return undefined;
    const seq = this.seq;
    // padding_length || payload || padding; MacError on a bad MAC. A packet spanning two reads is opened from its
    // two pieces when the opener can (one pass, instead of joining them first); otherwise in place (no allocation)
    // when the opener can and `wire` is ours to overwrite: a copy (a packet spanning reads) or a view of a chunk
    // handed over with receive(bytes, now, true), as the Driver does with socket reads
    const split = o.openSplit ? q.takeSplit(total) : undefined;
    let body: Uint8Array;
    if (split) body = o.openSplit!(seq, split[0], split[1]);
    else {
      const wire = q.take(total);
      body = o.openInPlace && q.lastTakeOwned ? o.openInPlace(seq, wire) : o.open(seq, wire);
    }
    this.pendingLength = -1;
    this.seq = (this.seq + 1) >>> 0;
    this.packetsSinceKex++;
    this.bytesSinceKex += total;
    const pad = body[0]!;
    // RFC 4253 §6: padding is at least 4 bytes; payload must hold at least the message number
    if (pad < 4) throw new ProtocolError(`padding_length ${pad} < 4 (RFC 4253 §6)`);
    if (pad + 1 >= body.length) throw new ProtocolError(`padding_length ${pad} leaves no payload in a ${body.length}-byte packet (RFC 4253 §6)`);
    let payload = body.subarray(1, body.length - pad);
    if (this.decompressor) payload = this.decompressor.decompress(payload, this.maxPayload);
    return { seq, payload };
  }
}
