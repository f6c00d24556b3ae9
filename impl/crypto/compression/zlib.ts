/**
 * zlib (RFC 4253 §6.2) and zlib@openssh.com (OpenSSH PROTOCOL §2.1: the same, started only after
 * USERAUTH_SUCCESS). One zlib stream (RFC 1950) per direction; every packet's payload ends with a flush so
 * the peer can decode it at once.
 * - Compressor: node's native deflate, one call per packet: raw deflate of the payload with the last 32 KiB
 *   we sent as preset dictionary, ended by Z_SYNC_FLUSH (byte-aligned, non-final). Back-references then
 *   reach into what the peer's inflater already holds, so the concatenated output is one valid stream.
 *   The first packet carries the 2-byte zlib header.
 * - Decompressor: the bounded streaming inflater in inflate.ts (node has no synchronous streaming inflate).
 */
import { constants, deflateRawSync } from 'node:zlib';
import type { CompressionAlgorithm, Compressor, Decompressor } from '../types.js';
import { Inflater } from './inflate.js';

const WINDOW = 32 * 1024;
/** RFC 1950 §2.2: CM 8, CINFO 7 (32 KiB window), FLEVEL 2 (default), FCHECK so that the pair is a multiple of 31. */
const ZLIB_HEADER = Uint8Array.of(0x78, 0x9c);

class ZlibCompressor implements Compressor {
  private history: Uint8Array = new Uint8Array(0);
  private started = false;

  compress(payload: Uint8Array): Uint8Array {
    const body = deflateRawSync(payload, {
      finishFlush: constants.Z_SYNC_FLUSH,
      level: constants.Z_DEFAULT_COMPRESSION,
      windowBits: 15,
      ...(this.history.length > 0 ? { dictionary: this.history } : {}),
    });
    this.remember(payload);
    if (this.started) return body;
    this.started = true;
    const out = new Uint8Array(2 + body.length);
    out.set(ZLIB_HEADER, 0);
    out.set(body, 2);
    return out;
  }

  private remember(payload: Uint8Array): void {
    if (payload.length >= WINDOW) {
      this.history = payload.slice(payload.length - WINDOW);
      return;
    }
    const keep = Math.min(this.history.length, WINDOW - payload.length);
    const next = new Uint8Array(keep + payload.length);
    next.set(this.history.subarray(this.history.length - keep), 0);
    next.set(payload, keep);
    this.history = next;
  }
}

class ZlibDecompressor implements Decompressor {
  private readonly inflater = new Inflater();
  decompress(payload: Uint8Array, maxOut: number): Uint8Array {
    return this.inflater.inflate(payload, maxOut);
  }
}

function zlib(name: string, delayed: boolean, spec: string): CompressionAlgorithm {
  return {
    name, legacy: false, spec, delayed,
    compressor: () => new ZlibCompressor(),
    decompressor: () => new ZlibDecompressor(),
  };
}

export const zlibCompression = zlib('zlib', false, 'RFC 4253 §6.2');
export const zlibOpenssh = zlib('zlib@openssh.com', true, 'OpenSSH PROTOCOL §2.1');
