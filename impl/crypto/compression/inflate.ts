/**
 * The receiving half of SSH's zlib compression (RFC 4253 §6.2; zlib@openssh.com, OpenSSH PROTOCOL §2.1): one
 * RFC 1950 stream per direction that never ends, every packet's payload flushed by the sender (OpenSSH uses
 * Z_PARTIAL_FLUSH, so a packet need not end on a byte boundary: the decoder keeps its bit state between packets).
 *
 * Node's zlib has no synchronous API that keeps a stream open between calls and the sans-I/O engine is
 * synchronous, so inflate runs in pako's port of zlib's own inflate (its low-level API: a z_stream we feed one
 * packet at a time with Z_SYNC_FLUSH). Output is bounded before it is produced: zlib writes into our buffer and
 * stops when it is full, so a decompression bomb costs at most `maxOut + 1` bytes of output, never more.
 */
import { createRequire } from 'node:module';
import type * as Pako from 'pako';
import { DisconnectReason, SSHError } from '../../errors.js';

/** pako (~100 kB of JavaScript) is loaded by the first zlib connection, not by every `import 'ssh-harness'`. */
let pakoModule: typeof Pako | undefined;
const pako = (): typeof Pako => (pakoModule ??= createRequire(import.meta.url)('pako') as typeof Pako);

export function compressionError(message: string): SSHError {
  return new SSHError('DECODE', `zlib: ${message}`, DisconnectReason.COMPRESSION_ERROR);
}

export class Inflater {
  private readonly z = pako();
  private readonly strm = new this.z.ZStream();
  /** Output buffer reused between packets (one more byte than the largest allowed output, to see an overflow). */
  private out = new Uint8Array(0);
  private ended = false;
  /** Bytes of the 2-byte RFC 1950 header seen so far (the header may arrive split across packets). */
  private headerSeen = 0;

  constructor() {
    if (this.z.zlibInflateInit(this.strm) !== this.z.Z_OK) throw compressionError('cannot initialise inflate');
  }

  /** Decompresses one packet's payload; throws SSHError(reason COMPRESSION_ERROR) on corrupt input or beyond `maxOut`. */
  inflate(payload: Uint8Array, maxOut: number): Uint8Array {
    if (payload.length === 0) return new Uint8Array(0);
    // RFC 1950 §2.2: the stream ends once, and SSH's never does; anything after an end is not one stream
    if (this.ended) throw compressionError('data after the end of the stream');
    this.checkHeader(payload);
    if (this.out.length < maxOut + 1) this.out = new Uint8Array(maxOut + 1);
    const s = this.strm;
    s.input = payload;
    s.next_in = 0;
    s.avail_in = payload.length;
    s.output = this.out as Uint8Array<ArrayBuffer>;
    s.next_out = 0;
    s.avail_out = maxOut + 1;
    const z = this.z;
    const status = z.zlibInflate(s, z.Z_SYNC_FLUSH);
    const produced = s.next_out;
    s.input = EMPTY; // do not keep the packet alive
    if (produced > maxOut) throw compressionError(`packet inflates past ${maxOut} bytes`);
    if (status === z.Z_STREAM_END) {
      this.ended = true;
      if (s.avail_in > 0) throw compressionError('data after the end of the stream');
    } else if (status === z.Z_NEED_DICT) {
      throw compressionError('preset dictionary requested (RFC 1950 FDICT), which SSH does not use');
    } else if (status !== z.Z_OK && status !== z.Z_BUF_ERROR) {
      throw compressionError(s.msg || `inflate failed (${status})`);
    }
    // with room left in the output, zlib stops only when the input is used up (bits of an unfinished code wait inside)
    return this.out.slice(0, produced);
  }

  /**
   * RFC 1950 §2.2: SSH has no preset dictionary, so FDICT is refused as soon as the FLG byte arrives (zlib itself
   * would wait for the four DICTID bytes before saying so). zlib checks the rest of the header.
   */
  private checkHeader(payload: Uint8Array): void {
    if (this.headerSeen >= 2) return;
    const flgAt = 1 - this.headerSeen;
    this.headerSeen = Math.min(2, this.headerSeen + payload.length);
    if (flgAt < payload.length && (payload[flgAt]! & 0x20) !== 0) throw compressionError('preset dictionary requested (RFC 1950 FDICT), which SSH does not use');
  }
}

const EMPTY = new Uint8Array(0);
