import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapWriter } from './pcap-writer.js';
import { CHECKSUM_PREFS, parseFollowRaw, requireTshark, tshark, tsharkFields } from './tshark.js';
import { bannerBytes, framePacket, kexInitPayload } from './fixtures.js';

/** Deterministic bytes that are not SSH (so tshark keeps them as opaque TCP payload). */
function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

describe('trace/pcap-writer', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'trace-writer-')); });
  after(() => { rmSync(dir, { recursive: true, force: true }); });

  it('writes a capture tshark reads with no malformed frames, good checksums and exact stream bytes', function () {
    requireTshark(this);
    const file = join(dir, 'two-conns.pcap');
    const w = PcapWriter.toFile(file);
    const chunks = { c2s: [] as Uint8Array[], s2c: [] as Uint8Array[] };
    const conns = [w.connection(), w.connection({ isn: { client: 0xffffff00, server: 0xfffffff0 } })]; // second one wraps seq
    const t0 = 1_700_000_000_000;
    conns.forEach((c, i) => c.open(t0 + i));
    for (let k = 0; k < 6; k++) {
      for (const [i, c] of conns.entries()) {
        const a = pattern(k === 3 ? 150_000 : 100 + k * 37, k + i), b = pattern(50 + k, 7 * k + i);
        c.chunk('c2s', a, t0 + 10 + k);
        c.chunk('s2c', b, t0 + 10.5 + k);
        if (i === 0) { chunks.c2s.push(a); chunks.s2c.push(b); }
      }
    }
    conns.forEach((c) => c.close(t0 + 100));
    w.close();

    const status = tsharkFields(file, ['ip.checksum.status', 'tcp.checksum.status'], CHECKSUM_PREFS);
    expect(status.length).to.equal(w.frames);
    for (const [ip, tcp] of status) expect([ip, tcp]).to.deep.equal(['1', '1']); // 1 = Good
    const bad = tshark(['-r', file, ...CHECKSUM_PREFS, '-Y', '_ws.malformed || _ws.expert.severity >= 0x600000']);
    expect(bad.trim()).to.equal('');
    const streams = tsharkFields(file, ['tcp.stream']).map(([s]) => s);
    expect(new Set(streams)).to.deep.equal(new Set(['0', '1']));
    for (const s of [0, 1]) {
      const follow = parseFollowRaw(tshark(['-r', file, '-q', '-z', `follow,tcp,raw,${s}`]));
      if (s === 0) {
        expect(Buffer.compare(follow.c2s, Buffer.concat(chunks.c2s))).to.equal(0);
        expect(Buffer.compare(follow.s2c, Buffer.concat(chunks.s2c))).to.equal(0);
      } else {
        expect(follow.c2s.length).to.equal(chunks.c2s.reduce((n, c) => n + c.length, 0));
      }
    }
  });

  it('is dissected as SSH on a non-22 port with -d, showing the hand-built KEXINIT (message code 20)', function () {
    requireTshark(this);
    const file = join(dir, 'ssh.pcap');
    const w = PcapWriter.toFile(file, { serverPort: 2222, linkType: 'raw' });
    const c = w.connection();
    const t = 1_700_000_000_000;
    c.open(t);
    c.chunk('c2s', bannerBytes('SSH-2.0-harness_client'), t + 1);
    c.chunk('s2c', bannerBytes('SSH-2.0-harness_server'), t + 2);
    c.chunk('c2s', framePacket(kexInitPayload(new Uint8Array(16).fill(0xaa))), t + 3);
    c.chunk('s2c', framePacket(kexInitPayload(new Uint8Array(16).fill(0xbb))), t + 4);
    c.close(t + 5);
    w.close();
    const rows = tsharkFields(file, ['ssh.message_code', 'ssh.cookie', 'ssh.kex_algorithms', 'ssh.protocol'], ['-d', 'tcp.port==2222,ssh', '-Y', 'ssh']);
    const codes = rows.map((r) => r[0]).filter((x) => x);
    expect(codes).to.deep.equal(['20', '20']);
    expect(rows.map((r) => r[1]).filter((x) => x)).to.deep.equal(['aa'.repeat(16), 'bb'.repeat(16)]);
    expect(rows.some((r) => r[2]?.startsWith('curve25519-sha256,'))).to.equal(true);
    expect(rows.map((r) => r[3]).filter((x) => x)).to.deep.equal(['SSH-2.0-harness_client', 'SSH-2.0-harness_server']);
    expect(tshark(['-r', file, '-d', 'tcp.port==2222,ssh', '-Y', '_ws.malformed || _ws.expert.severity >= 0x600000']).trim()).to.equal('');
  });

  it('puts each caller-marked SSH packet in its own segment when asked', function () {
    requireTshark(this);
    const p1 = framePacket(kexInitPayload(new Uint8Array(16))), p2 = framePacket(Uint8Array.of(21));
    const both = Buffer.concat([bannerBytes('SSH-2.0-x'), p1, p2]);
    const ends = [11, 11 + p1.length, both.length];
    for (const onePacketPerSegment of [true, false]) {
      const f = join(dir, `pp-${onePacketPerSegment}.pcap`);
      const w = PcapWriter.toFile(f, { onePacketPerSegment });
      const c = w.connection();
      c.chunk('c2s', both, 1000, ends);
      c.close(1001);
      w.close();
      const lens = tsharkFields(f, ['tcp.len']).map(([l]) => Number(l)).filter((l) => l > 0);
      expect(lens).to.deep.equal(onePacketPerSegment ? [11, p1.length, p2.length] : [both.length]);
    }
  });

  it('splits at the MSS and keeps timestamps monotonic', () => {
    const w = PcapWriter.inMemory({ mss: 1000 });
    const c = w.connection();
    c.open(5000);
    c.chunk('c2s', new Uint8Array(2500), 5001);
    c.chunk('s2c', new Uint8Array(10), 4000); // earlier than the last frame: clamped
    c.close(5002);
    // 3 handshake + 3 data + 1 data + 3 close
    expect(w.frames).to.equal(10);
    expect(() => w.connection({ client: { ip: '1.2.3', port: 1 } })).to.throw(TypeError);
    expect(() => PcapWriter.inMemory({ mss: 70000 })).to.throw(RangeError);
  });
});
