/**
 * Two trace judges: Debian 12's tshark 4.0 (host) and Debian 13's 4.4 (image local/tshark:trixie, built by
 * `peers setup`) open impl ↔ impl traces with our keylog. Every row of wireshark-support.ts is recorded and judged
 * by decoded fields (service name, user name, method, channel data lengths), so a tshark that decrypts more or
 * less than the table says fails here. Each matrix is one capture with one connection per row: one tshark run per
 * judge. Our own importer decrypts every connection of the kex matrix, and every key exchange of the rekey session.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateHostKey } from '../../impl/crypto/hostkey/index.js';
import { kexAlgorithms } from '../../impl/crypto/registry.js';
import { keylogDecryptor } from './decrypt.js';
import { importPcap } from './import.js';
import { parseKeylog } from './keylog.js';
import { coverage, decodedArgs, PairTraceSet, parseDecoded, type Decoded, type PairRun } from './pair-trace.test-util.js';
import { containerJudge, hostJudge, requireTshark, requireTshark44 } from './tshark.js';
import { CIPHER_SUPPORT, KEX_SUPPORT, TSHARK_VERSIONS, type TsharkVersion } from './wireshark-support.js';

type Judged = Record<TsharkVersion, Map<number, Decoded>>;

describe('trace: what tshark 4.0 (host) and 4.4 (Debian 13, in a container) decrypt of our traces', function () {
  this.timeout(180_000);
  let dir: string;
  const kexNames = [...kexAlgorithms.keys()];
  let kexRun: PairRun, cipherRun: PairRun, rekeyRun: PairRun, serverSideRun: PairRun;
  const judged: Record<string, Judged> = {};

  before(async function () {
    requireTshark(this);
    await requireTshark44(this);
    dir = mkdtempSync(join(tmpdir(), 'tshark-judges-'));
    const hostKey = generateHostKey('ssh-ed25519');
    const kexSet = new PairTraceSet(dir, 'kex', hostKey);
    for (const kex of kexNames) kexSet.add({ kex, cipher: 'aes128-gcm@openssh.com', side: 'client' });
    kexRun = kexSet.close();
    const cipherSet = new PairTraceSet(dir, 'cipher', hostKey);
    for (const r of CIPHER_SUPPORT) cipherSet.add({ cipher: r.cipher, ...(r.mac ? { mac: r.mac } : {}), strictKex: r.strictKex, side: 'client' });
    cipherRun = cipherSet.close();
    // two rekeys (one by each side) after the first data; strict kex; the keylog from either side
    const rekeySet = new PairTraceSet(dir, 'rekey', hostKey);
    rekeySet.add({ cipher: 'aes128-gcm@openssh.com', side: 'client', rekey: true });
    rekeySet.add({ cipher: 'chacha20-poly1305@openssh.com', strictKex: false, side: 'server', rekey: true });
    rekeySet.add({ kex: 'diffie-hellman-group-exchange-sha256', cipher: 'aes256-gcm@openssh.com', side: 'server', rekey: true });
    rekeyRun = rekeySet.close();
    // the keylog written by the server side (its own cookie) decrypts as well
    const serverSet = new PairTraceSet(dir, 'server-side', hostKey);
    serverSet.add({ cipher: 'chacha20-poly1305@openssh.com', side: 'server' });
    serverSet.add({ kex: 'diffie-hellman-group16-sha512', cipher: 'aes128-gcm@openssh.com', side: 'server' });
    serverSet.add({ kex: 'diffie-hellman-group-exchange-sha256', cipher: 'aes128-gcm@openssh.com', side: 'server' });
    serverSideRun = serverSet.close();
    const runs = { kex: kexRun, cipher: cipherRun, rekey: rekeyRun, server: serverSideRun };
    const jobs = Object.values(runs).map(decodedArgs);
    const [h, c] = await Promise.all([hostJudge().run(jobs), containerJudge([dir]).run(jobs)]);
    Object.keys(runs).forEach((name, i) => {
      for (const [v, out] of [['4.0', h[i]!], ['4.4', c[i]!]] as const) {
        if (out.code !== 0) throw new Error(`tshark ${v} failed on ${name}: ${out.stderr.slice(0, 500)}`);
      }
      judged[name] = { '4.0': parseDecoded(h[i]!.stdout), '4.4': parseDecoded(c[i]!.stdout) };
    });
  });
  after(() => { if (dir && !process.env.KEEP_TRACE_TMP) rmSync(dir, { recursive: true, force: true }); });

  const seen = (name: string, conn: number) => Object.fromEntries(TSHARK_VERSIONS.map((v) => [v, coverage(judged[name]![v].get(conn))]));

  it('the table has a row for every key exchange impl implements', () => {
    expect(Object.keys(KEX_SUPPORT)).to.have.members(kexNames);
  });

  for (const [i, kex] of [...kexAlgorithms.keys()].entries()) {
    const want = KEX_SUPPORT[kex];
    it(`${kex} (aes128-gcm, strict kex): 4.0 ${want?.['4.0']}, 4.4 ${want?.['4.4']}`, () => {
      expect(seen('kex', i), JSON.stringify({ '4.0': judged.kex!['4.0'].get(i), '4.4': judged.kex!['4.4'].get(i) })).to.deep.equal(want);
    });
  }

  for (const [i, r] of CIPHER_SUPPORT.entries()) {
    it(`${r.cipher}${r.mac ? ` + ${r.mac}` : ''}${r.strictKex ? ' under strict kex' : ' without strict kex'}: 4.0 ${r.support['4.0']}, 4.4 ${r.support['4.4']}`, () => {
      expect(seen('cipher', i), JSON.stringify({ '4.0': judged.cipher!['4.0'].get(i), '4.4': judged.cipher!['4.4'].get(i) })).to.deep.equal(r.support);
    });
  }

  it('4.4, chacha20-poly1305 under strict kex: all but the first three packets of each direction after NEWKEYS', () => {
    const row = CIPHER_SUPPORT.findIndex((r) => r.cipher === 'chacha20-poly1305@openssh.com' && r.strictKex);
    const d = judged.cipher!['4.4'].get(row)!;
    // after NEWKEYS: c2s SERVICE_REQUEST, USERAUTH_REQUEST, DATA 100 | DATA 101, DATA 102; s2c EXT_INFO, SERVICE_ACCEPT, DATA | DATA, DATA
    expect(d.dataLengths).to.deep.equal({ c2s: [101, 102], s2c: [5000, 5000] });
    expect(d.c2s.filter((x) => !['20', '30', '21'].includes(x))).to.deep.equal(['94', '94']);
  });

  it('a session with two rekeys: both decrypt up to the first rekey, neither after it; our importer decrypts all three key exchanges', async () => {
    for (const conn of [0, 1, 2]) {
      for (const v of TSHARK_VERSIONS) {
        const d = judged.rekey![v].get(conn)!;
        const label = `conn ${conn}, tshark ${v}: ${JSON.stringify(d)}`;
        expect(coverage(d), label).to.equal(v === '4.0' && conn === 2 ? 'none' : 'full'); // 4.0 does not follow group exchange
        // CHANNEL_DATA 77 and 10 (c2s) and 20000 (s2c) go after the first and second rekey
        for (const n of [77, 10]) expect(d.dataLengths.c2s, label).to.not.include(n);
        expect(d.dataLengths.s2c, label).to.not.include(20_000);
      }
    }
    const { entries } = parseKeylog(readFileSync(rekeyRun.index.files.keylog!, 'utf8'));
    const res = await importPcap(rekeyRun.index.files.pcap!, { collectLines: true, decryptor: keylogDecryptor(entries) });
    expect(res.corpus.partial, JSON.stringify(res.corpus.connections.map((c) => c.issues))).to.equal(false);
    for (const conn of [0, 1, 2]) {
      const lines = res.lines!.filter((l) => l.conn === conn);
      expect(lines.filter((l) => l.name === 'SSH_MSG_KEXINIT'), `conn ${conn}`).to.have.length(6);
      const data = (dirn: string) => lines.filter((l) => l.name === 'SSH_MSG_CHANNEL_DATA' && l.direction === dirn).length;
      expect(data('c2s'), `conn ${conn}`).to.equal(5);
      expect(data('s2c'), `conn ${conn}`).to.equal(4);
    }
  });

  it('a keylog written by the server side decrypts too (chacha20 strict, DH group16, group exchange)', () => {
    expect(seen('server', 0)).to.deep.equal({ '4.0': 'none', '4.4': 'partial' });
    expect(seen('server', 1)).to.deep.equal({ '4.0': 'full', '4.4': 'full' });
    expect(seen('server', 2)).to.deep.equal({ '4.0': 'none', '4.4': 'full' });
  });

  it('our importer decrypts the session of every key exchange, mlkem768x25519 and sntrup761x25519 included', async () => {
    const { entries } = parseKeylog(readFileSync(kexRun.index.files.keylog!, 'utf8'));
    const res = await importPcap(kexRun.index.files.pcap!, { collectLines: true, decryptor: keylogDecryptor(entries) });
    for (const [i, kex] of kexNames.entries()) {
      const c = res.corpus.connections.find((x) => x.client.port === 40000 + i)!;
      expect(c.issues, kex).to.deep.equal([]);
      const names = res.lines!.filter((l) => l.conn === c.id).map((l) => l.name);
      expect(names, kex).to.include.members(['SSH_MSG_SERVICE_REQUEST', 'SSH_MSG_USERAUTH_REQUEST', 'SSH_MSG_CHANNEL_DATA']);
      expect(names.filter((n) => n === 'SSH_MSG_CHANNEL_DATA'), kex).to.have.length(6);
    }
  });
});
