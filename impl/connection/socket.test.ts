import { expect } from 'chai';
import { createHash } from 'node:crypto';
import * as net from 'node:net';
import { connectSocket, parseHostPort } from './socket.js';

/** A loopback server that writes `total` deterministic bytes in uneven writes, then ends. */
function source(total: number): Promise<{ port: number; digest: string; close: () => void }> {
  const all = Buffer.alloc(total);
  for (let i = 0; i < total; i++) all[i] = (i * 31 + (i >> 11)) & 0xff;
  const digest = createHash('sha256').update(all).digest('hex');
  const srv = net.createServer((s) => {
    let off = 0, k = 0;
    const pump = (): void => {
      while (off < total) {
        const n = Math.min([1, 700, 65_536, 200_001, 33][k++ % 5]!, total - off);
        const ok = s.write(all.subarray(off, off + n));
        off += n;
        if (!ok) { s.once('drain', pump); return; }
      }
      s.end();
    };
    pump();
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve({ port: (srv.address() as net.AddressInfo).port, digest, close: () => srv.close() })));
}

describe('connection/socket: sockets we open read into an arena', () => {
  it('delivers every byte in order, including what arrived before anyone listened (paused, then resumed)', async () => {
    const src = await source(6_000_000);
    try {
      const s = await connectSocket(['127.0.0.1', src.port], 5_000);
      await new Promise((r) => setTimeout(r, 200)); // reads pile up with no 'data' listener: must be kept, not dropped
      const h = createHash('sha256');
      let got = 0, adjacent = 0;
      let prev: Buffer | undefined;
      s.on('data', (d: Buffer) => {
        h.update(d);
        got += d.length;
        if (prev && prev.buffer === d.buffer && prev.byteOffset + prev.length === d.byteOffset) adjacent++;
        prev = d;
      });
      await new Promise((r) => s.once('end', r));
      expect(got).to.equal(6_000_000);
      expect(h.digest('hex')).to.equal(src.digest);
      expect(adjacent, 'consecutive reads share one buffer back to back').to.be.greaterThan(0);
    } finally {
      src.close();
    }
  });

  it('parses host:port and [v6]:port; refuses anything else', () => {
    expect(parseHostPort('127.0.0.1:22')).to.deep.equal(['127.0.0.1', 22]);
    expect(parseHostPort('[::1]:2222')).to.deep.equal(['::1', 2222]);
    expect(() => parseHostPort('nohost')).to.throw(/host:port/);
  });
});
