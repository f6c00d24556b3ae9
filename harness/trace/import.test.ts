import { expect } from 'chai';
import { MemorySink } from './byte-sink.js';
import { rng, syntheticSession, type Chunk } from './fixtures.js';
import { decodeFrame } from './frame-decoder.js';
import { importPcap } from './import.js';
import { JsonlWriter, type TraceLine } from './jsonl.js';
import { cutRecord, joinPcap, rewrapRecord, splitPcap } from './pcap-edit.js';
import { LinkType } from './pcap-format.js';
import { PcapFormatError, readPcap } from './pcap-reader.js';
import { PcapWriter, type Direction } from './pcap-writer.js';
import { TcpReassembler } from './tcp-reassembly.js';

function writeSessions(sessions: { chunks: Chunk[] }[], options: ConstructorParameters<typeof PcapWriter>[1] = {}): Uint8Array {
  const w = PcapWriter.inMemory(options);
  const recs = sessions.map(() => w.connection());
  sessions.forEach((s, i) => recs[i]!.open(s.chunks[0]!.t - 1));
  // merge all chunks in time order so connections interleave in the file
  const all = sessions.flatMap((s, i) => s.chunks.map((c) => ({ ...c, i }))).sort((a, b) => a.t - b.t);
  for (const c of all) recs[c.i]!.chunk(c.dir, c.bytes, c.t);
  sessions.forEach((s, i) => recs[i]!.close(s.chunks.at(-1)!.t + 1));
  w.close();
  return w.sink.bytes();
}

/** Reassembled bytes per connection and direction, straight from the reader + decoder + reassembler. */
async function reassemble(file: Uint8Array): Promise<{ streams: Map<number, Record<Direction, Buffer>>; gaps: number; retrans: number; ooo: number }> {
  const parts = new Map<number, Record<Direction, Buffer[]>>();
  let gaps = 0;
  const r = new TcpReassembler({
    connection: (c) => parts.set(c.id, { c2s: [], s2c: [] }),
    data: (c, dir, bytes) => parts.get(c.id)![dir].push(Buffer.from(bytes)),
    gap: () => { gaps++; },
  });
  let lt = 0;
  await readPcap(file, (rec) => {
    const f = decodeFrame(lt, rec.data, rec.originalLength);
    if (f.kind === 'tcp') r.push(f.segment, rec.timeMs);
  }, (h) => { lt = h.linkType; });
  r.finish();
  const streams = new Map([...parts].map(([k, v]) => [k, { c2s: Buffer.concat(v.c2s), s2c: Buffer.concat(v.s2c) }]));
  return { streams, gaps, retrans: r.connections.reduce((n, c) => n + c.retransmittedSegments, 0), ooo: r.connections.reduce((n, c) => n + c.outOfOrderSegments, 0) };
}

const joined = (chunks: Chunk[], dir: Direction): Buffer => Buffer.concat(chunks.filter((c) => c.dir === dir).map((c) => c.bytes));

describe('trace/import', () => {
  it('round trip: write → read with pcap-parser → reassembly reproduces every chunk, across connections and seq wrap', async () => {
    const sessions = [syntheticSession(1), syntheticSession(2, 200_000), syntheticSession(3)];
    for (const opts of [{}, { mss: 536, linkType: 'raw' as const }]) {
      const file = writeSessions(sessions, opts);
      const { streams, gaps } = await reassemble(file);
      expect(gaps).to.equal(0);
      expect(streams.size).to.equal(3);
      sessions.forEach((s, i) => {
        expect(Buffer.compare(streams.get(i)!.c2s, joined(s.chunks, 'c2s'))).to.equal(0);
        expect(Buffer.compare(streams.get(i)!.s2c, joined(s.chunks, 's2c'))).to.equal(0);
      });
    }
    const w = PcapWriter.inMemory({ mss: 100 });
    const c = w.connection({ isn: { client: 0xffffffa0, server: 0xfffffffe } });
    const big = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
    c.chunk('c2s', big, 1);
    c.chunk('s2c', big, 2);
    c.close(3);
    w.close();
    const wrapped = await reassemble(w.sink.bytes());
    expect(Buffer.compare(wrapped.streams.get(0)!.c2s, Buffer.from(big))).to.equal(0);
    expect(Buffer.compare(wrapped.streams.get(0)!.s2c, Buffer.from(big))).to.equal(0);
  });

  it('round trip: imported JSONL equals the JSONL written live from the same packets', async () => {
    const s = syntheticSession(7);
    const file = writeSessions([s]);
    const live = new MemorySink();
    const jw = new JsonlWriter(live, 'client', { connection: 0, rawHex: true });
    for (const p of s.packets) jw.onPacket({ direction: p.dir === 'c2s' ? 'out' : 'in', seq: p.seq, payload: p.payload, timeMs: p.t });
    jw.close();
    const liveLines = Buffer.from(live.bytes()).toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as TraceLine);
    const imported = await importPcap(file, { collectLines: true, rawHex: true });
    expect(imported.lines).to.deep.equal(liveLines);
    expect(imported.corpus.partial).to.equal(false);
    const names = imported.lines!.map((l) => `${l.direction}:${l.name}`);
    expect(names).to.include.members(['c2s:SSH_MSG_KEXINIT', 's2c:SSH_MSG_KEXINIT', 'c2s:SSH_MSG_KEX_ECDH_INIT', 's2c:SSH_MSG_KEX_ECDH_REPLY', 'c2s:SSH_MSG_NEWKEYS', 's2c:SSH_MSG_NEWKEYS']);
    const conn = imported.corpus.connections[0]!;
    expect(conn.banners).to.deep.equal({ client: 'SSH-2.0-synthetic_client', server: 'SSH-2.0-synthetic_server' });
    expect(conn.encryptedBytes).to.deep.equal({ c2s: 3000, s2c: 3000 });
    expect(conn.messages.map((m) => m.payload)).to.deep.equal(s.packets.map((p) => Buffer.from(p.payload).toString('hex')));
  });

  it('handles out-of-order and retransmitted segments', async () => {
    const s = syntheticSession(11);
    const p = splitPcap(writeSessions([s], { mss: 200 }));
    const r = rng(5);
    const recs = p.records;
    // duplicate every 4th data record later, then swap random neighbours (after the handshake)
    const out = [...recs];
    for (let i = 3; i < recs.length; i += 4) out.splice(Math.min(out.length, i + 6), 0, recs[i]!);
    for (let k = 0; k < 40; k++) {
      const i = 3 + Math.floor(r() * (out.length - 5));
      [out[i], out[i + 1]] = [out[i + 1]!, out[i]!];
    }
    const { streams, gaps, retrans, ooo } = await reassemble(joinPcap({ ...p, records: out }));
    expect(gaps).to.equal(0);
    expect(retrans).to.be.greaterThan(0);
    expect(ooo).to.be.greaterThan(0);
    expect(Buffer.compare(streams.get(0)!.c2s, joined(s.chunks, 'c2s'))).to.equal(0);
    expect(Buffer.compare(streams.get(0)!.s2c, joined(s.chunks, 's2c'))).to.equal(0);
  });

  it('reads Linux cooked v1/v2, BSD/OpenBSD loopback, raw IPv4 and IPv6 link layers', async () => {
    const s = syntheticSession(13);
    const raw = splitPcap(writeSessions([s], { linkType: 'raw' }));
    const sll = new Uint8Array(16); sll[14] = 0x08; // protocol 0x0800
    const sll2 = new Uint8Array(20); sll2[0] = 0x08;
    const wraps: [number, Uint8Array][] = [
      [LinkType.LINUX_SLL, sll], [LinkType.LINUX_SLL2, sll2],
      [LinkType.NULL, Uint8Array.of(2, 0, 0, 0)], [LinkType.LOOP, Uint8Array.of(0, 0, 0, 2)], [LinkType.IPV4, new Uint8Array(0)],
    ];
    for (const [lt, prefix] of wraps) {
      const file = joinPcap({ ...raw, records: raw.records.map((r) => rewrapRecord(r, 0, prefix)) }, lt);
      const res = await importPcap(file);
      expect(res.corpus.connections[0]!.banners.client, `link type ${lt}`).to.equal('SSH-2.0-synthetic_client');
      expect(res.corpus.connections[0]!.messages.length).to.equal(6);
    }
    // IPv6: replace each 20-byte IPv4 header with a 40-byte IPv6 header (RFC 8200 §3)
    const v6 = raw.records.map((r) => {
      const tcpLen = r.data.length - 20;
      const h = new Uint8Array(40);
      h[0] = 0x60; h[4] = tcpLen >> 8; h[5] = tcpLen & 0xff; h[6] = 6; h[7] = 64;
      const fromClient = r.data[15] === 1; // 10.0.0.1
      h[23] = fromClient ? 1 : 2; h[39] = fromClient ? 2 : 1; // ::1 → ::2 style addresses
      return rewrapRecord(r, 20, h);
    });
    const res6 = await importPcap(joinPcap({ ...raw, records: v6 }, LinkType.RAW));
    const c6 = res6.corpus.connections[0]!;
    expect(c6.client.ip).to.equal('::1');
    expect(c6.server).to.deep.equal({ ip: '::2', port: 22 });
    expect(c6.messages.length).to.equal(6);
  });

  it('flags a TCP gap: partial result, the direction stops at the hole', async () => {
    const s = syntheticSession(17);
    const p = splitPcap(writeSessions([s], { mss: 100 }));
    // drop the 3rd client data segment (records: 3 handshake, then data)
    const c2sData = p.records.map((r, i) => ({ r, i })).filter(({ r }) => r.data.length > 54 && r.data[29] === 1);
    const dropped = c2sData[2]!.i;
    // TCP sequence number at Ethernet 14 + IPv4 20 + 4; the stream starts at ISN + 1
    const seqOf = (d: Uint8Array): number => new DataView(d.buffer, d.byteOffset).getUint32(38);
    const at = seqOf(p.records[dropped]!.data) - seqOf(p.records[0]!.data) - 1;
    const len = p.records[dropped]!.data.length - 54;
    const res = await importPcap(joinPcap({ ...p, records: p.records.filter((_, i) => i !== dropped) }));
    const c = res.corpus.connections[0]!;
    expect(res.corpus.partial).to.equal(true);
    expect(c.partial).to.equal(true);
    const gap = c.issues.find((i) => i.kind === 'gap');
    expect(gap, JSON.stringify(c.issues)).to.deep.equal({ kind: 'gap', direction: 'c2s', offset: at, message: `${len} bytes not captured (missing-segment)` });
    // the server side is untouched
    expect(c.messages.filter((m) => m.direction === 's2c').length).to.equal(3);
  });

  it('a capture that starts mid-connection: roles from serverPorts, the side without a version string is flagged', async () => {
    const s = syntheticSession(41);
    const p = splitPcap(writeSessions([s], { mss: 100, serverPort: 2200 }));
    // drop the handshake and every client segment up to and including the one carrying byte 150
    const seqOf = (d: Uint8Array): number => new DataView(d.buffer, d.byteOffset).getUint32(38);
    const isn = seqOf(p.records[0]!.data);
    const recs = p.records.filter((r, i) => i >= 3 && !(r.data[29] === 1 && seqOf(r.data) - isn - 1 < 150));
    const res = await importPcap(joinPcap({ ...p, records: recs }), { reassembly: { serverPorts: [2200] } });
    const c = res.corpus.connections[0]!;
    expect(c.server.port).to.equal(2200);
    expect(c.partial).to.equal(true);
    expect(c.banners).to.deep.equal({ server: 'SSH-2.0-synthetic_server' });
    expect(c.issues.map((i) => `${i.kind}:${i.direction}`)).to.deep.equal(['mid-stream:c2s']);
    expect(c.messages.map((m) => m.name)).to.deep.equal(['SSH_MSG_KEXINIT', 'SSH_MSG_KEX_ECDH_REPLY', 'SSH_MSG_NEWKEYS']);
  });

  it('leaves other protocols in the same capture out of the corpus', async () => {
    const w = PcapWriter.inMemory();
    const http = w.connection({ server: { ip: '10.0.0.3', port: 80 } });
    http.chunk('c2s', new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 1);
    http.chunk('s2c', new TextEncoder().encode('HTTP/1.1 200 OK\r\n\r\n'), 2);
    const tls = w.connection({ server: { ip: '10.0.0.3', port: 443 } });
    tls.chunk('c2s', Uint8Array.from({ length: 9000 }, (_, i) => (i * 7) & 0xff), 3);
    const ssh = w.connection();
    for (const c of syntheticSession(43).chunks) ssh.chunk(c.dir, c.bytes, 10 + c.t - 1_700_000_000_000);
    w.close();
    const res = await importPcap(w.sink.bytes());
    expect(res.stats.otherConnections).to.equal(2);
    expect(res.corpus.connections.map((c) => c.server.port)).to.deep.equal([22]);
    expect(res.corpus.partial).to.equal(false);
  });

  it('flags snaplen-cut packets as gaps (snaplen-cut)', async () => {
    const s = syntheticSession(19);
    const p = splitPcap(writeSessions([s], { mss: 300 }));
    const idx = p.records.findIndex((r, i) => i > 3 && r.data.length > 200);
    const recs = p.records.map((r, i) => (i === idx ? cutRecord(r, 120) : r));
    const res = await importPcap(joinPcap({ ...p, records: recs }));
    const issues = res.corpus.connections[0]!.issues;
    expect(issues.some((i) => i.kind === 'gap' && /snaplen-cut/.test(i.message)), JSON.stringify(issues)).to.equal(true);
    expect(res.corpus.partial).to.equal(true);
  });

  it('a truncated file gives the records before the cut, flagged with the offset; strict mode rejects', async () => {
    const file = writeSessions([syntheticSession(23)]);
    const recs = splitPcap(file).records;
    const cutAt = file.length - Math.floor(recs.at(-1)!.data.length / 2);
    const res = await importPcap(file.subarray(0, cutAt));
    const lastOffset = file.length - 16 - recs.at(-1)!.data.length;
    expect(res.corpus.issues).to.deep.include({ kind: 'truncated-file', offset: lastOffset, message: res.corpus.issues[0]!.message });
    expect(res.corpus.issues[0]!.message).to.match(new RegExp(`inside record ${recs.length - 1}: ${recs.at(-1)!.data.length} bytes announced at offset ${lastOffset}`));
    expect(res.corpus.partial).to.equal(true);
    expect(res.stats.records).to.equal(recs.length - 1);
    const headerCut = await importPcap(file.subarray(0, lastOffset + 7));
    expect(headerCut.corpus.issues[0]!.message).to.match(/inside the header of record/);
    try {
      await importPcap(file.subarray(0, cutAt), { pcap: { strict: true } });
      expect.fail('strict import of a truncated file must reject');
    } catch (e) {
      expect(e).to.be.instanceOf(PcapFormatError);
      expect((e as PcapFormatError).offset).to.equal(lastOffset);
    }
  });

  it('rejects non-pcap input with a clear error and offset, never a crash', async () => {
    const good = writeSessions([syntheticSession(29)]);
    const cases: [string, Uint8Array, RegExp, number][] = [
      ['too short', good.subarray(0, 10), /shorter than the 24-byte global header/, 10],
      ['wrong magic', Buffer.concat([Buffer.from('GIF89a..'), good.subarray(8)]), /unknown magic number 0x47494638/, 0],
      ['pcapng', Buffer.concat([Uint8Array.of(0x0a, 0x0d, 0x0d, 0x0a), good.subarray(4)]), /pcapng files are not supported/, 0],
      ['version 3.0', (() => { const b = good.slice(); b[4] = 3; return b; })(), /unsupported pcap version 3\.\d/, 4],
      ['corrupt record length', (() => { const b = good.slice(); new DataView(b.buffer).setUint32(24 + 8, 0x7fffffff, true); return b; })(), /record 0: captured length 2147483647 exceeds/, 32],
    ];
    for (const [what, bytes, msg, offset] of cases) {
      try {
        await importPcap(bytes);
        expect.fail(`${what}: expected a PcapFormatError`);
      } catch (e) {
        expect(e, what).to.be.instanceOf(PcapFormatError);
        expect((e as Error).message, what).to.match(msg);
        expect((e as PcapFormatError).offset, what).to.equal(offset);
      }
    }
  });

  it('survives random byte corruption of a capture (typed error or flagged result)', async () => {
    const good = writeSessions([syntheticSession(31)], { mss: 256 });
    const r = rng(99);
    for (let k = 0; k < 60; k++) {
      const b = good.slice();
      for (let j = 0; j < 1 + Math.floor(r() * 8); j++) b[24 + Math.floor(r() * (b.length - 24))] = Math.floor(r() * 256);
      try {
        const res = await importPcap(b.subarray(0, Math.floor(b.length * (0.5 + r() / 2))));
        expect(res.corpus.kind).to.equal('trace');
      } catch (e) {
        expect(e, String(e)).to.be.instanceOf(PcapFormatError);
      }
    }
  });

  it('reads nanosecond and big-endian pcaps', async () => {
    const s = syntheticSession(37);
    const file = writeSessions([s]);
    const ns = file.slice();
    const v = new DataView(ns.buffer);
    v.setUint32(0, 0xa1b23c4d, true);
    for (let o = 24; o + 16 <= ns.length; o += 16 + v.getUint32(o + 8, true)) v.setUint32(o + 4, v.getUint32(o + 4, true) * 1000, true);
    const a = await importPcap(file, { collectLines: true });
    const b = await importPcap(ns, { collectLines: true });
    expect(b.header.nanosecond).to.equal(true);
    expect(b.lines!.map((l) => [l.name, Math.round(l.time * 1000)])).to.deep.equal(a.lines!.map((l) => [l.name, Math.round(l.time * 1000)]));
    const be = file.slice();
    const bv = new DataView(be.buffer), lv = new DataView(file.buffer, file.byteOffset);
    bv.setUint32(0, 0xa1b2c3d4, false); bv.setUint16(4, 2, false); bv.setUint16(6, 4, false);
    bv.setUint32(16, lv.getUint32(16, true), false); bv.setUint32(20, lv.getUint32(20, true), false);
    for (let o = 24; o + 16 <= be.length;) {
      const cap = lv.getUint32(o + 8, true);
      for (let f = 0; f < 16; f += 4) bv.setUint32(o + f, lv.getUint32(o + f, true), false);
      o += 16 + cap;
    }
    const c = await importPcap(be, { collectLines: true });
    expect(c.header.byteOrder).to.equal('BE');
    expect(c.lines).to.deep.equal(a.lines);
  });
});
