import { expect } from 'chai';
import { constants, createDeflate, createInflate, deflateSync, type Deflate, type Inflate } from 'node:zlib';
import { DisconnectReason, SSHError } from '../../errors.js';
import { seededRng, toHex } from '../test-util.js';
import { zlibCompression, zlibOpenssh } from './zlib.js';

/** Runs chunks through a long-lived node zlib stream, flushing after each: one output per chunk. */
async function throughNodeStream(stream: Deflate | Inflate, chunks: Uint8Array[], flush: number): Promise<Uint8Array[]> {
  let acc: Buffer[] = [];
  stream.on('data', (d: Buffer) => acc.push(d));
  const outs: Uint8Array[] = [];
  for (const c of chunks) {
    stream.write(c);
    await new Promise<void>((resolve) => stream.flush(flush, () => resolve()));
    await new Promise((resolve) => setImmediate(resolve));
    outs.push(new Uint8Array(Buffer.concat(acc)));
    acc = [];
  }
  // SSH streams never finish: close without end(), which would report the missing trailer
  stream.close();
  return outs;
}

/** Payloads with matches inside and across packets, incompressible runs, and sizes past 32 KiB and 64 KiB. */
function payloads(seed: string): Uint8Array[] {
  const rng = seededRng(seed);
  const text = new TextEncoder().encode('SSH_MSG_CHANNEL_DATA recipient channel 0 '.repeat(40));
  const big = new Uint8Array(100_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) % 251 < 40 ? 0 : (i * 13) & 0xff;
  return [text, new Uint8Array(0), text.subarray(5, 300), rng(5000), new Uint8Array(3000).fill(0x41), big, rng(70_000), text, rng(1), big.subarray(1000, 40_000)];
}

const isCompressionError = (e: unknown): boolean => e instanceof SSHError && e.reason === DisconnectReason.COMPRESSION_ERROR;

describe('crypto/compression/zlib', () => {
  it('declares delayed only for zlib@openssh.com', () => {
    expect(zlibOpenssh.delayed).to.equal(true);
    expect(zlibCompression.delayed).to.equal(false);
  });

  for (const [flushName, flush] of [['Z_PARTIAL_FLUSH (OpenSSH)', constants.Z_PARTIAL_FLUSH], ['Z_SYNC_FLUSH', constants.Z_SYNC_FLUSH]] as const) {
    for (const level of [0, 1, 6, 9]) {
      it(`inflates a node zlib stream flushed per packet with ${flushName}, level ${level}`, async () => {
        const chunks = payloads(`in-${level}`);
        const wire = await throughNodeStream(createDeflate({ level }), chunks, flush);
        const d = zlibCompression.decompressor()!;
        wire.forEach((w, i) => expect(toHex(d.decompress(w, 256 * 1024)), `packet ${i}`).to.equal(toHex(chunks[i]!)));
      });
    }
  }

  it('inflates a stream split at every byte boundary (any packetisation)', async () => {
    const chunks = payloads('split').slice(0, 5);
    const [whole] = await throughNodeStream(createDeflate({ level: 6 }), [Uint8Array.from(chunks.flatMap((c) => [...c]))], constants.Z_SYNC_FLUSH);
    const d = zlibOpenssh.decompressor()!;
    const parts: number[] = [];
    for (let i = 0; i < whole!.length; i++) parts.push(...d.decompress(whole!.subarray(i, i + 1), 1 << 20));
    expect(toHex(Uint8Array.from(parts))).to.equal(toHex(Uint8Array.from(chunks.flatMap((c) => [...c]))));
  });

  it('compresses into one stream that node zlib inflates packet by packet', async () => {
    const chunks = payloads('out');
    const c = zlibOpenssh.compressor()!;
    const wire = chunks.map((p) => c.compress(p));
    expect(toHex(wire[0]!.subarray(0, 2))).to.equal('789c');
    const outs = await throughNodeStream(createInflate(), wire, constants.Z_SYNC_FLUSH);
    outs.forEach((o, i) => expect(toHex(o), `packet ${i}`).to.equal(toHex(chunks[i]!)));
    // later packets refer back into earlier ones: repeated text shrinks to a few bytes
    expect(wire[2]!.length).to.be.lessThan(20);
  });

  it('round-trips through our own compressor and decompressor', () => {
    const c = zlibCompression.compressor()!;
    const d = zlibCompression.decompressor()!;
    for (const p of [...payloads('rt'), ...payloads('rt2')]) expect(toHex(d.decompress(c.compress(p), 1 << 20))).to.equal(toHex(p));
  });

  it('stops a decompression bomb at maxOut with COMPRESSION_ERROR', () => {
    const c = zlibCompression.compressor()!;
    const bomb = c.compress(new Uint8Array(8 * 1024 * 1024));
    expect(bomb.length).to.be.lessThan(10_000);
    const d = zlibCompression.decompressor()!;
    let err: unknown;
    try { d.decompress(bomb, 256 * 1024); } catch (e) { err = e; }
    expect(isCompressionError(err), String(err)).to.equal(true);
  });

  it('refuses bad headers, preset dictionaries and garbage with COMPRESSION_ERROR only', () => {
    for (const bad of [Uint8Array.of(0x78, 0x9d), Uint8Array.of(0x79, 0x9c), Uint8Array.of(0x78, 0xbb), Uint8Array.of(0x78, 0x9c, 0xff, 0xff)]) {
      let err: unknown;
      try { zlibCompression.decompressor()!.decompress(bad, 1000); } catch (e) { err = e; }
      expect(isCompressionError(err), toHex(bad)).to.equal(true);
    }
    const rng = seededRng('garbage');
    const valid = deflateSync(new TextEncoder().encode('hello hello hello hello, zlib'.repeat(20)));
    for (let i = 0; i < 400; i++) {
      const input = i % 2 === 0 ? Uint8Array.from([0x78, 0x9c, ...rng(1 + (i % 50))]) : valid.map((b, j) => (j === 2 + (i % (valid.length - 2)) ? b ^ (1 << (i % 8)) : b));
      const d = zlibCompression.decompressor()!;
      try {
        d.decompress(input, 4096);
        d.decompress(rng(20), 4096);
      } catch (e) {
        expect(isCompressionError(e), String(e)).to.equal(true);
      }
    }
  });
  it('allows exactly maxOut bytes and refuses one more (the bound holds before output is produced)', () => {
    for (const n of [1, 4095, 32 * 1024, 256 * 1024]) {
      const p = new Uint8Array(n).fill(0x61);
      const w = zlibCompression.compressor()!.compress(p);
      expect(zlibCompression.decompressor()!.decompress(w, n).length).to.equal(n);
      let err: unknown;
      try { zlibCompression.decompressor()!.decompress(w, n - 1); } catch (e) { err = e; }
      expect(isCompressionError(err), `${n}: ${String(err)}`).to.equal(true);
    }
  });

  it('refuses data after a finished stream (RFC 1950: SSH streams never end)', () => {
    const done = deflateSync(new TextEncoder().encode('the end'));
    const d = zlibCompression.decompressor()!;
    expect(new TextDecoder().decode(d.decompress(done, 100))).to.equal('the end');
    let err: unknown;
    try { d.decompress(Uint8Array.of(1, 2, 3), 100); } catch (e) { err = e; }
    expect(isCompressionError(err), String(err)).to.equal(true);
    err = undefined;
    try { zlibCompression.decompressor()!.decompress(Uint8Array.from([...done, 0x78]), 100); } catch (e) { err = e; }
    expect(isCompressionError(err), String(err)).to.equal(true);
  });

  it('fuzz: a flipped, cut or spliced multi-packet stream gives the right bytes or COMPRESSION_ERROR, nothing else', () => {
    const c = zlibOpenssh.compressor()!;
    const chunks = payloads('fuzz').slice(0, 6);
    const wire = chunks.map((p) => c.compress(p));
    const rng = seededRng('inflate-fuzz');
    for (let i = 0; i < 300; i++) {
      const r = rng(4);
      const k = r[0]! % wire.length;
      const mutated = wire.map((w, j) => {
        if (j !== k || w.length === 0) return w;
        const m = Uint8Array.from(w);
        const at = ((r[1]! << 8) | r[2]!) % m.length;
        if (r[3]! % 3 === 0) m[at]! ^= 1 << (r[3]! % 8);
        else if (r[3]! % 3 === 1) return m.subarray(0, at);
        else return Uint8Array.from([...m.subarray(0, at), ...rng(1 + (r[3]! % 40))]);
        return m;
      });
      const d = zlibOpenssh.decompressor()!;
      try {
        for (const w of mutated) expect(d.decompress(w, 256 * 1024).length).to.be.at.most(256 * 1024);
      } catch (e) {
        if (!isCompressionError(e)) throw e;
      }
    }
  });
});
