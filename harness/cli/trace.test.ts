import { expect } from 'chai';
import { Command } from 'commander';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register } from './trace.js';
import { PcapWriter } from '../trace/pcap-writer.js';
import { bannerBytes, framePacket, kexInitPayload } from '../trace/fixtures.js';
import { isTraceCorpusEntry } from '../trace/corpus.js';

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const program = new Command('ssh-harness').exitOverride().configureOutput({ writeOut: (s) => { out += s; }, writeErr: (s) => { err += s; } });
  register(program);
  const before = process.exitCode;
  process.exitCode = 0;
  try {
    await program.parseAsync(['node', 'ssh-harness', ...args]);
    return { code: Number(process.exitCode ?? 0), out, err };
  } finally {
    process.exitCode = before;
  }
}

describe('cli: ssh-harness trace import', () => {
  let dir: string;
  let pcap: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'trace-cli-'));
    pcap = join(dir, 'session.pcap');
    const w = PcapWriter.toFile(pcap);
    const c = w.connection();
    c.chunk('c2s', bannerBytes('SSH-2.0-cli_client'), 1000);
    c.chunk('s2c', bannerBytes('SSH-2.0-cli_server\u001b[31m'), 1001); // an escape sequence must not reach the terminal raw
    c.chunk('c2s', framePacket(kexInitPayload(new Uint8Array(16))), 1002);
    c.close(1003);
    w.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes <name>.jsonl and <name>.corpus.json and prints a summary (exit 0)', async () => {
    const out = join(dir, 'out');
    const r = await cli(['trace', 'import', pcap, '--out', out]);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.match(/imported .*session\.pcap: \d+ records, 1 connection\(s\), 1 messages\n/);
    expect(r.out).to.include('server "SSH-2.0-cli_server\\u001b[31m"');
    expect(r.out).to.not.include('\u001b');
    const lines = readFileSync(join(out, 'session.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { name: string });
    expect(lines.map((l) => l.name)).to.deep.equal(['SSH_MSG_KEXINIT']);
    const corpus: unknown = JSON.parse(readFileSync(join(out, 'session.corpus.json'), 'utf8'));
    expect(isTraceCorpusEntry(corpus)).to.equal(true);
  });

  it('--json summary, --keylog note; partial imports exit 1; non-pcap input exits 2 with the offset', async () => {
    const keylog = join(dir, 'k.keylog');
    writeFileSync(keylog, `${'ab'.repeat(16)} ${'01'.repeat(32)}\n${'ab'.repeat(16)} SHARED_SECRET 0102\nnot a line\n`);
    const j = await cli(['trace', 'import', pcap, '--out', join(dir, 'o2'), '--json', '--keylog', keylog]);
    expect(j.code, j.err).to.equal(0);
    const summary = JSON.parse(j.out) as { partial: boolean; note: string; connections: unknown[] };
    expect(summary.partial).to.equal(false);
    expect(summary.note).to.match(/2 entries read, 1 lines ignored/);

    const bytes = readFileSync(pcap);
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 10));
    const p = await cli(['trace', 'import', cut, '--out', join(dir, 'o3')]);
    expect(p.code).to.equal(1);
    expect(p.out).to.match(/\(PARTIAL\)/);
    expect(p.out).to.match(/truncated-file at offset \d+: file ends inside record/);
    expect((await cli(['trace', 'import', cut, '--out', join(dir, 'o4'), '--strict'])).code).to.equal(2);

    const bad = join(dir, 'bad.pcap');
    writeFileSync(bad, Buffer.alloc(100, 0x41));
    const b = await cli(['trace', 'import', bad, '--out', join(dir, 'o5')]);
    expect(b.code).to.equal(2);
    expect(b.err).to.match(/unknown magic number 0x41414141 at offset 0/);
    const missing = await cli(['trace', 'import', join(dir, 'nope.pcap'), '--out', join(dir, 'o6')]);
    expect(missing.code).to.equal(2);
    expect((await cli(['trace', 'import', pcap, '--out', join(dir, 'o7'), '--server-port', 'x'])).code).to.equal(2);
  });
});
