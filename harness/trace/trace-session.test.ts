import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticSession, type Chunk, type Packet } from './fixtures.js';
import { importPcap } from './import.js';
import type { TraceLine } from './jsonl.js';
import { TraceSession, type ConnectionTrace, type TraceSessionOptions } from './trace-session.js';
import { CHECKSUM_PREFS, requireTshark, tshark } from './tshark.js';

/** Plays synthetic sessions into a trace session the way an engine + socket adapter would (client side). */
function play(options: TraceSessionOptions, sessions: { chunks: Chunk[]; packets: Packet[] }[]): ReturnType<TraceSession['close']> {
  const s = TraceSession.open(options);
  const conns: ConnectionTrace[] = sessions.map(() => s.connection('client'));
  sessions.forEach((x, i) => conns[i]!.bytes.open(x.chunks[0]!.t - 1));
  type Ev = { t: number; i: number; k: 0 | 1; c?: Chunk; p?: Packet };
  const evs: Ev[] = sessions.flatMap((x, i) => [
    ...x.chunks.map((c): Ev => ({ t: c.t, i, k: 0, c })),
    ...x.packets.map((p): Ev => ({ t: p.t, i, k: 1, p })),
  ]).sort((a, b) => a.t - b.t || a.k - b.k);
  for (const e of evs) {
    const c = conns[e.i]!;
    if (e.c) c.bytes.chunk(e.c.dir, e.c.bytes, e.c.t);
    else c.onPacket({ direction: e.p!.dir === 'c2s' ? 'out' : 'in', seq: e.p!.seq, payload: e.p!.payload, timeMs: e.p!.t });
  }
  sessions.forEach((x, i) => conns[i]!.bytes.close(x.chunks.at(-1)!.t + 1));
  return s.close();
}

describe('trace/trace-session', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'trace-session-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const sessions = [syntheticSession(101), syntheticSession(102, 100_000), syntheticSession(103)];

  it('writes the same pcap and JSONL in the worker as inline, and the index', () => {
    const a = play({ dir, name: 'inline', threaded: false }, sessions);
    const b = play({ dir, name: 'threaded', threaded: true }, sessions);
    expect(a.error).to.equal(undefined);
    expect(b.error).to.equal(undefined);
    expect(b.threaded).to.equal(true);
    expect(b.dropped).to.equal(0);
    expect(Buffer.compare(readFileSync(a.files.pcap!), readFileSync(b.files.pcap!))).to.equal(0);
    expect(readFileSync(b.files.jsonl!, 'utf8')).to.equal(readFileSync(a.files.jsonl!, 'utf8'));
    expect(b.connections.map((c) => [c.id, c.role, c.client.port, c.server.port])).to.deep.equal([[0, 'client', 40000, 22], [1, 'client', 40001, 22], [2, 'client', 40002, 22]]);
    const index = JSON.parse(readFileSync(join(dir, 'threaded.index.json'), 'utf8')) as { kind: string; files: object };
    expect(index.kind).to.equal('trace-index');
    expect(index.files).to.deep.equal({ pcap: join(dir, 'threaded.pcap'), jsonl: join(dir, 'threaded.jsonl') });
    expect(existsSync(join(dir, 'threaded.keylog'))).to.equal(false); // keylogs only when asked
  });

  it('round trip: the recorded pcap imports to exactly the recorded JSONL; tshark finds no TCP/IP problems', async function () {
    const idx = play({ dir, name: 'rt', threaded: true, jsonl: { rawHex: true } }, sessions);
    const recorded = readFileSync(idx.files.jsonl!, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TraceLine);
    const imported = await importPcap(idx.files.pcap!, { collectLines: true, rawHex: true });
    const byConn = (ls: readonly TraceLine[]): TraceLine[] => [...ls].sort((x, y) => x.conn! - y.conn! || x.time - y.time);
    expect(byConn(imported.lines!)).to.deep.equal(byConn(recorded));
    expect(imported.corpus.partial).to.equal(false);
    requireTshark(this);
    // TCP/IP health only: the synthetic "encrypted" bytes are random, which tshark's SSH heuristics flag
    expect(tshark(['-r', idx.files.pcap!, ...CHECKSUM_PREFS, '-Y', 'tcp.analysis.flags || ip.checksum.status == 0 || tcp.checksum.status == 0']).trim()).to.equal('');
    expect(new Set(tshark(['-r', idx.files.pcap!, '-T', 'fields', '-e', 'tcp.stream']).trim().split('\n'))).to.deep.equal(new Set(['0', '1', '2']));
  });

  it('streams more than the ring holds (wrap-around and backpressure) without losing a byte', async () => {
    const big = [syntheticSession(104, 12_000_000)];
    const idx = play({ dir, name: 'big', threaded: true, ringBytes: 4 << 20, jsonl: false }, big);
    expect(idx.dropped).to.equal(0);
    const r = await importPcap(idx.files.pcap!);
    expect(r.corpus.connections[0]!.encryptedBytes).to.deep.equal({ c2s: 12_000_000, s2c: 12_000_000 });
    expect(r.corpus.partial).to.equal(false);
  });

  it('writes a keylog only when asked; setup errors throw at open', () => {
    const s = TraceSession.open({ dir, name: 'keys', keylog: true, threaded: false, pcap: false, jsonl: false });
    const c = s.connection('server');
    c.onKeys({ kex: 'curve25519-sha256', role: 'server', clientCookie: new Uint8Array(16), serverCookie: new Uint8Array(16).fill(1),
      ephemeralPrivateKey: new Uint8Array(32).fill(2), sharedSecret: Uint8Array.of(5), sessionId: new Uint8Array(32), exchangeHash: new Uint8Array(32) });
    const idx = s.close();
    expect(readFileSync(idx.files.keylog!, 'utf8')).to.match(/^(01){16} (02){32}\n(01){16} SHARED_SECRET 05\n$/);

    // setup errors throw at open, in both modes; nothing was started
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    for (const threaded of [false, true]) expect(() => TraceSession.open({ dir: join(file, 'sub'), threaded })).to.throw(/ENOTDIR/);
  });
});
