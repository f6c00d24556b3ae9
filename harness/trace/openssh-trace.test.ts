/**
 * impl ↔ OpenSSH traced end to end: OpenSSH's `ssh` client → `ssh-harness serve` (startServe) with --pcap DIR and
 * --keylog FILE through the trace factory, exec `cat` with data and forced rekeys. tshark 4.0 decrypts the
 * traffic of the first key exchange with our keylog (it does not switch keys at a rekey), and our importer reads
 * the same pcap.
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateHostKey } from '../../impl/crypto/hostkey/index.js';
import { parseAuthorizedKeys } from '../../impl/keys/authorized-keys.js';
import { setTraceFactory, startServe, type RunningServer } from '../cli/serve.js';
import { keylogDecryptor } from './decrypt.js';
import { importPcap } from './import.js';
import { parseKeylog } from './keylog.js';
import type { TraceLine } from './jsonl.js';
import { createTraceFactory } from './trace-factory.js';
import { TSHARK, tshark40CanDecrypt, tsharkFields } from './tshark.js';

const SSH = '/usr/bin/ssh', KEYGEN = '/usr/bin/ssh-keygen';

describe('trace: OpenSSH ssh → ssh-harness serve, recorded with --pcap/--keylog', function () {
  this.timeout(90_000);
  let dir: string;
  let server: RunningServer | undefined;

  before(function () {
    const missing = [SSH, KEYGEN, TSHARK].filter((p) => !existsSync(p));
    if (missing.length) {
      if (process.env.CI === 'true') throw new Error(`missing: ${missing.join(', ')} (apt-get install openssh-client tshark)`);
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'trace-openssh-serve-'));
  });
  after(async () => {
    await server?.close();
    setTraceFactory(undefined);
    if (dir && !process.env.KEEP_TRACE_TMP) rmSync(dir, { recursive: true, force: true });
  });

  it('exec + data + rekey: the pcap opens clean, the keylog decrypts userauth, exec and data, import finds the kex', async () => {
    const key = join(dir, 'id_ed25519');
    expect(spawnSync(KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-f', key], { timeout: 20_000 }).status).to.equal(0);
    const pcapDir = join(dir, 'pcap');
    const keylog = join(dir, 'run.keylog');
    setTraceFactory(createTraceFactory());
    server = await startServe({
      host: '127.0.0.1', port: 0, hostKeys: [generateHostKey('ssh-ed25519')], user: 'tester',
      authorizedKeys: parseAuthorizedKeys(readFileSync(`${key}.pub`, 'utf8')), pcapDir, keylog,
    });

    const port = server.port;
    const input = Buffer.alloc(3_000_000);
    for (let i = 0; i < input.length; i++) input[i] = (i * 131) & 0xff;
    const ssh = spawn(SSH, ['-F', '/dev/null', '-p', String(port), '-i', key, '-o', 'IdentitiesOnly=yes',
      '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes',
      '-c', 'aes128-gcm@openssh.com', '-o', 'KexAlgorithms=curve25519-sha256', '-o', 'RekeyLimit=1M', 'tester@127.0.0.1', 'cat'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    ssh.stdout.on('data', (d: Buffer) => out.push(d));
    ssh.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    ssh.stdin.end(input);
    const code = await new Promise<number | null>((resolve) => {
      const t = setTimeout(() => { ssh.kill('SIGKILL'); resolve(null); }, 60_000);
      ssh.once('exit', (c) => { clearTimeout(t); resolve(c); });
    });
    expect(code, err).to.equal(0);
    expect(createHash('sha256').update(Buffer.concat(out)).digest('hex')).to.equal(createHash('sha256').update(input).digest('hex'));
    await server.close();
    server = undefined;

    const files = readdirSync(pcapDir);
    const pcap = join(pcapDir, files.find((f) => f.endsWith('.pcap'))!);
    const jsonl = join(pcapDir, files.find((f) => f.endsWith('.jsonl'))!);
    // TCP/IP: no bad checksums, no TCP analysis warnings
    expect(tsharkFields(pcap, ['frame.number'], ['-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-Y', 'tcp.analysis.flags || ip.checksum.status == 0 || tcp.checksum.status == 0'])).to.deep.equal([]);

    // recorded JSONL: everything, rekeys included
    const lines = readFileSync(jsonl, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TraceLine);
    const kexinits = lines.filter((l) => l.name === 'SSH_MSG_KEXINIT');
    expect(kexinits.length).to.be.greaterThan(2); // the initial kex and at least one rekey, both sides
    const execReq = lines.find((l) => l.name === 'SSH_MSG_CHANNEL_REQUEST' && (l.fields as { requestType?: string }).requestType === 'exec');
    expect(execReq?.direction).to.equal('c2s');

    // tshark with the keylog: the first key exchange's traffic decrypts (4.0 does not follow rekeys)
    // real endpoints are recorded, so the port is not 22: tell tshark it is SSH
    const rows = tsharkFields(pcap, ['tcp.srcport', 'ssh.message_code'], ['-d', `tcp.port==${port},ssh`, '-o', `ssh.keylog_file:${keylog}`, '-Y', 'ssh']);
    const codes = (fromServer: boolean) => rows.filter((r) => (Number(r[0]) === port) === fromServer).flatMap((r) => (r[1] ? r[1].split(',') : []));
    if (tshark40CanDecrypt(readFileSync(keylog, 'utf8'))) {
      expect(codes(false), JSON.stringify(rows.slice(0, 40))).to.include.members(['5', '50', '90', '98', '94']);
      expect(codes(true), JSON.stringify(rows.slice(0, 40))).to.include.members(['6', '52', '91', '99', '94']);
    } else { // 1 run in 256: the documented 4.0 failure; our importer below still has to decrypt everything
      expect(codes(false), JSON.stringify(rows.slice(0, 40))).to.not.include('50');
    }
    // Malformed frames with the keylog only where tshark 4.0 itself falls short (README "What tshark 4.0
    // decrypts"): it does not follow a rekey; its dissector fails on a publickey query and on PK_OK (50/60) and on
    // our hostkeys-00@openssh.com announcement (80: strings repeated to the end, OpenSSH PROTOCOL §2.5); and
    // it loses track in segments holding several packets, which the peer's bytes have (we record them as the
    // socket delivered them; our own side is one packet per segment).
    const rekeyAt = kexinits[2]!.time / 1000 - 0.002;
    const malformed = tsharkFields(pcap, ['frame.number', 'frame.time_epoch', 'tcp.srcport', 'ssh.message_code'], ['-d', `tcp.port==${port},ssh`, '-o', `ssh.keylog_file:${keylog}`, '-Y', '_ws.malformed']);
    for (const [n, t, src, c] of malformed) {
      const explained = Number(t) >= rekeyAt || /(^|,)(50|60|80)(,|$)/.test(c ?? '') || Number(src) !== port;
      expect(explained, `frame ${n} (from port ${src}, codes ${c})`).to.equal(true);
    }

    // and the importer reads the capture: banners, both KEXINIT lists; with the keylog, every message of every
    // key exchange, identical to the JSONL recorded live
    const res = await importPcap(pcap, { collectLines: true });
    const c = res.corpus.connections[0]!;
    expect(c.banners.client).to.match(/^SSH-2\.0-OpenSSH_/);
    expect(c.banners.server).to.match(/^SSH-2\.0-/);
    expect(res.lines!.filter((l) => l.name === 'SSH_MSG_KEXINIT').map((l) => l.direction)).to.have.members(['c2s', 's2c']);
    const dec = await importPcap(pcap, { collectLines: true, decryptor: keylogDecryptor(parseKeylog(readFileSync(keylog, 'utf8')).entries) });
    expect(dec.corpus.connections[0]!.issues).to.deep.equal([]);
    for (const d of ['c2s', 's2c']) {
      const got = dec.lines!.filter((l) => l.direction === d), want = lines.filter((l) => l.direction === d);
      const i = want.findIndex((w, k) => JSON.stringify(w) !== JSON.stringify(got[k]));
      expect(i, `${d} line ${i}: ${JSON.stringify(got[i])?.slice(0, 300)} vs ${JSON.stringify(want[i])?.slice(0, 300)} (${got.length} vs ${want.length})`).to.equal(-1);
      expect(got.length).to.equal(want.length);
    }
  });
});
