/**
 * The zlib@openssh.com receive path (RFC 4253 §6.2) on its own: the library's streaming inflater (pako's port of
 * zlib, fed one packet at a time) against node's native zlib inflating the same bytes in one call — the best a
 * single native call reaches, which a per-packet synchronous stream cannot use. Input: 32 KiB SSH payloads of
 * mixed text, binary and zero runs, compressed packet by packet with Z_SYNC_FLUSH by the library's compressor.
 * MB/s of decompressed output per CPU-second, alternating, median of the rounds.
 */
import { inflateSync } from 'node:zlib';
import { zlibOpenssh } from '../../impl/crypto/compression/zlib.js';

const PACKET = 32 * 1024;

export interface InflateRow {
  readonly group: 'inflate';
  readonly name: string;
  readonly ours: number;
  readonly baseline: number;
  readonly baselineName: string;
  readonly ratio: number;
  readonly unit: 'MB/s';
}

/** `packets` payloads that compress like a shell session or a file transfer would: text, binary, zeros. */
export function sshLikePayloads(packets: number): Uint8Array[] {
  const text = new TextEncoder().encode('total 48\ndrwxr-xr-x  2 user user 4096 Dec  7 04:54 harness\n-rw-r--r--  1 user user  987 README.md\n');
  let x = 0x2545f491;
  const out: Uint8Array[] = [];
  for (let p = 0; p < packets; p++) {
    const b = new Uint8Array(PACKET);
    for (let i = 0; i < PACKET;) {
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
      const run = 64 + ((x >>> 0) % 2048);
      const kind = (x >>> 24) % 3;
      const end = Math.min(PACKET, i + run);
      if (kind === 0) for (; i < end; i++) b[i] = text[i % text.length]!;
      else if (kind === 1) for (; i < end; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; b[i] = x & 0xff; }
      else i = end; // zeros
    }
    out.push(b);
  }
  return out;
}

/** Compresses payloads into one zlib@openssh.com stream, one flushed piece per packet. */
export function compressedStream(payloads: readonly Uint8Array[]): Uint8Array[] {
  const c = zlibOpenssh.compressor()!;
  return payloads.map((p) => c.compress(p));
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

function cpuMBps(bytes: number, f: () => void): number {
  const c0 = process.cpuUsage();
  f();
  const c = process.cpuUsage(c0);
  return bytes / 2 ** 20 / ((c.user + c.system) / 1e6);
}

export function inflateRows(mib = 64, rounds = 5): InflateRow[] {
  const payloads = sshLikePayloads(Math.ceil((mib * 2 ** 20) / PACKET));
  const wire = compressedStream(payloads);
  const total = payloads.reduce((n, p) => n + p.length, 0);
  const joined = Buffer.concat(wire);
  const ours = (): void => {
    const d = zlibOpenssh.decompressor()!;
    for (const w of wire) d.decompress(w, 256 * 1024);
  };
  const native = (): void => { inflateSync(joined, { finishFlush: 2 /* Z_SYNC_FLUSH: the stream has no end */ }); };
  ours(); native(); // compiled and paged in before timing
  const a: number[] = [], b: number[] = [];
  for (let r = 0; r < rounds; r++) { a.push(cpuMBps(total, ours)); b.push(cpuMBps(total, native)); }
  const ratio = median(a.map((x, i) => x / b[i]!));
  return [{ group: 'inflate', name: `zlib@openssh.com inflate, ${mib} MiB in 32 KiB packets (compressed to ${(joined.length / total * 100).toFixed(0)} %), per packet`, ours: median(a), baseline: median(b), baselineName: 'node zlib one call', ratio, unit: 'MB/s' }];
}
