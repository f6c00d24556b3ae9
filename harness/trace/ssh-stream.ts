/**
 * Splits one direction of a reassembled SSH byte stream: lines before the version string and the version string
 * itself (RFC 4253 §4.2), then binary packets (RFC 4253 §6) while they are unencrypted, i.e. until this
 * direction's SSH_MSG_NEWKEYS (RFC 4253 §7.3). After that the bytes go, as they are, to an optional handler
 * (decryption with a keylog: phase 2), else they are only counted.
 *
 * Bad framing or a gap stops the parsing of that direction (framing cannot be recovered); the reason is reported.
 */
import type { Direction } from './tcp-reassembly.js';

export interface SplitPacket {
  /** RFC 4253 §6.4: the implicit packet sequence number, 0 for the first packet of the direction. */
  readonly seq: number;
  /** The payload (message number first), a copy owned by the receiver. */
  readonly payload: Uint8Array;
  /** Time of the segment that completed the packet. */
  readonly timeMs: number;
  /** Stream offset of the packet's length field. */
  readonly offset: number;
}

export interface SplitterSink {
  /** Lines sent before the version string (RFC 4253 §4.2 allows them from the server), without CR LF. */
  preBannerLine?(line: string, timeMs: number): void;
  banner(line: string, timeMs: number): void;
  packet(p: SplitPacket): void;
  /** Bytes after NEWKEYS; `offset` is their stream offset. */
  encrypted?(bytes: Uint8Array, timeMs: number, offset: number): void;
  /** The direction cannot be parsed further. */
  stopped(reason: string, offset: number): void;
}

export interface SplitterLimits {
  /** RFC 4253 §4.2: the version line, CR LF included, is at most 255 bytes; we allow longer before giving up. */
  readonly maxLine: number;
  readonly maxPreBannerLines: number;
  /** Largest packet_length accepted (OpenSSH: 256 KiB). */
  readonly maxPacket: number;
}

export const defaultSplitterLimits: SplitterLimits = { maxLine: 8192, maxPreBannerLines: 1024, maxPacket: 256 * 1024 };

const MSG_NEWKEYS = 21;
const latin1 = new TextDecoder('latin1');

type State = 'banner' | 'packets' | 'encrypted' | 'stopped';

export class SshStreamSplitter {
  private state: State = 'banner';
  private buf = new Uint8Array(256); // grows on demand: captures can hold very many short connections
  private start = 0;
  private end = 0;
  /** Stream offset of buf[start]. */
  private offset = 0;
  private seq = 0;
  private lines = 0;
  encryptedBytes = 0;

  constructor(readonly direction: Direction, private readonly sink: SplitterSink, private readonly limits: SplitterLimits = defaultSplitterLimits) {}

  get phase(): State {
    return this.state;
  }

  /** Next packet sequence number (continues across NEWKEYS; RFC 4253 §6.4). */
  get nextSeq(): number {
    return this.seq;
  }

  push(bytes: Uint8Array, timeMs: number): void {
    if (this.state === 'stopped') return;
    if (this.state === 'encrypted') return this.passEncrypted(bytes, timeMs, this.offset);
    this.append(bytes);
    this.parse(timeMs);
  }

  /** Bytes held for an unfinished line or packet. */
  get bufferedBytes(): number {
    return this.end - this.start;
  }

  gap(at: number, length: number): void {
    // Packet framing (plain or encrypted) cannot be found again after a hole.
    this.abandon(`${length} bytes missing from the capture`, at);
  }

  /** Stops parsing this direction (the caller knows the framing is lost). */
  abandon(reason: string, offset: number): void {
    if (this.state !== 'stopped') this.stop(reason, offset);
  }

  private append(bytes: Uint8Array): void {
    const need = this.end - this.start + bytes.length;
    if (this.end + bytes.length > this.buf.length) {
      if (need <= this.buf.length) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        let cap = this.buf.length * 2;
        while (cap < need) cap *= 2;
        const next = new Uint8Array(cap);
        next.set(this.buf.subarray(this.start, this.end));
        this.buf = next;
      }
      this.end -= this.start;
      this.start = 0;
    }
    this.buf.set(bytes, this.end);
    this.end += bytes.length;
  }

  private consume(n: number): void {
    this.start += n;
    this.offset += n;
    if (this.start === this.end) { this.start = 0; this.end = 0; }
  }

  private parse(timeMs: number): void {
    // Every pass consumes bytes or returns, so this ends within the buffered length.
    for (;;) {
      const avail = this.end - this.start;
      if (this.state === 'banner') {
        const nl = this.buf.subarray(this.start, this.end).indexOf(0x0a);
        if (nl < 0) {
          if (avail > this.limits.maxLine) this.stop(`no end of line within ${this.limits.maxLine} bytes of the version exchange`, this.offset);
          return;
        }
        let lineEnd = this.start + nl;
        if (lineEnd > this.start && this.buf[lineEnd - 1] === 0x0d) lineEnd--;
        const line = latin1.decode(this.buf.subarray(this.start, lineEnd));
        this.consume(nl + 1);
        if (line.startsWith('SSH-')) {
          this.sink.banner(line, timeMs);
          this.state = 'packets';
        } else {
          this.sink.preBannerLine?.(line, timeMs);
          if (++this.lines > this.limits.maxPreBannerLines) return this.stop(`more than ${this.limits.maxPreBannerLines} lines before the version string`, this.offset);
        }
        continue;
      }
      if (this.state !== 'packets') return;
      if (avail < 5) return;
      const b = this.buf, s = this.start;
      const len = ((b[s]! << 24) | (b[s + 1]! << 16) | (b[s + 2]! << 8) | b[s + 3]!) >>> 0;
      const pad = b[s + 4]!;
      // RFC 4253 §6: packet_length covers padding_length, payload (≥ 1 byte: the message number) and ≥ 4 bytes of padding
      if (len > this.limits.maxPacket) return this.stop(`packet_length ${len} exceeds ${this.limits.maxPacket} (not an unencrypted SSH packet?)`, this.offset);
      if (pad < 4 || pad + 2 > len) return this.stop(`padding_length ${pad} does not fit packet_length ${len}`, this.offset + 4);
      if (avail < 4 + len) return;
      const payload = b.slice(s + 5, s + 4 + len - pad);
      const packet: SplitPacket = { seq: this.seq, payload, timeMs, offset: this.offset };
      this.seq = (this.seq + 1) >>> 0; // RFC 4253 §6.4: wraps at 2^32
      this.consume(4 + len);
      this.sink.packet(packet);
      if (payload[0] === MSG_NEWKEYS) {
        // RFC 4253 §7.3: everything this side sends after NEWKEYS uses the new keys
        this.state = 'encrypted';
        if (this.end > this.start) {
          const rest = this.buf.slice(this.start, this.end);
          this.start = this.end = 0;
          this.passEncrypted(rest, timeMs, this.offset);
        }
        return;
      }
    }
  }

  private passEncrypted(bytes: Uint8Array, timeMs: number, at: number): void {
    this.encryptedBytes += bytes.length;
    this.offset = at + bytes.length;
    this.sink.encrypted?.(bytes, timeMs, at);
  }

  private stop(reason: string, offset: number): void {
    this.state = 'stopped';
    this.start = this.end = 0;
    this.sink.stopped(reason, offset);
  }
}
