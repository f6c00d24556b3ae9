/**
 * Import of a capture we did not write: a real OpenSSH `ssh` ↔ `sshd` session on loopback, captured by tshark
 * (`-F pcap`: pcap-parser reads classic pcap only). The sshd is ours (temp config and host key, 127.0.0.1, a free
 * port) and auth is left to fail, so the session has banners, both KEXINITs, the kex and encrypted traffic.
 */
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importPcap } from './import.js';
import { TSHARK, tsharkFields } from './tshark.js';

const SSHD = '/usr/sbin/sshd', SSH = '/usr/bin/ssh', KEYGEN = '/usr/bin/ssh-keygen';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** Resolves when `re` shows up on the child's stderr; rejects on exit or after `ms`. */
function waitForStderr(child: ChildProcess, re: RegExp, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re} in: ${seen}`)), ms);
    child.stderr!.on('data', (d: Buffer) => {
      seen += d.toString();
      if (re.test(seen)) { clearTimeout(timer); resolve(); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`exited (${code}) before ${re}: ${seen}`)); });
  });
}

function waitExit(child: ChildProcess, ms: number): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => { child.kill('SIGKILL'); resolve(null); }, ms);
    child.once('exit', (code) => { clearTimeout(timer); resolve(code); });
  });
}

async function probeUntilCaptured(cap: ChildProcess, port: number): Promise<void> {
  let out = '';
  cap.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  const sock = createSocket('udp4');
  try {
    for (let i = 0; i < 200; i++) {
      sock.send('probe', port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 100));
      if (out.includes(`→ ${port}`) || out.includes(` ${port} `)) return;
    }
    throw new Error(`the capture never saw a probe: ${out}`);
  } finally {
    sock.close();
  }
}

describe('trace/import of a real OpenSSH session captured with tshark', function () {
  this.timeout(60_000);
  let dir: string;
  const started: ChildProcess[] = [];

  before(function () {
    const missing = [SSHD, SSH, KEYGEN, TSHARK].filter((p) => !existsSync(p));
    if (missing.length) {
      if (process.env.CI === 'true') throw new Error(`missing peers: ${missing.join(', ')} (apt-get install openssh-server openssh-client tshark)`);
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'trace-openssh-'));
  });

  after(async () => {
    // only the processes this test started, by PID
    for (const c of started) if (c.exitCode === null && c.signalCode === null) { c.kill('SIGTERM'); await waitExit(c, 5000); }
    if (dir && !process.env.KEEP_TRACE_TMP) rmSync(dir, { recursive: true, force: true });
  });

  it('finds both version strings and both KEXINIT algorithm lists, as tshark dissects them', async () => {
    const port = await freePort();
    const hostKey = join(dir, 'host_ed25519');
    const kg = spawnSync(KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey], { timeout: 20_000 });
    expect(kg.status, String(kg.stderr)).to.equal(0);
    const cfg = join(dir, 'sshd_config');
    writeFileSync(cfg, [
      `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${hostKey}`, `PidFile ${join(dir, 'sshd.pid')}`,
      'UsePAM no', 'StrictModes no', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'AuthorizedKeysFile none', '',
    ].join('\n'));
    mkdirSync('/run/sshd', { recursive: true }); // sshd's privilege separation directory

    const sshd = spawn(SSHD, ['-D', '-e', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    started.push(sshd);
    await waitForStderr(sshd, /Server listening on 127\.0\.0\.1 port/, 10_000);

    const pcap = join(dir, 'openssh.pcap');
    const probePort = await freePort();
    // -P -l: print summaries while writing, so we can see when the capture really runs (after "Capturing on",
    // the filter may not be attached yet): UDP probes go out until one shows up.
    const cap = spawn(TSHARK, ['-i', 'lo', '-F', 'pcap', '-w', pcap, '-P', '-l', '-f', `tcp port ${port} or udp port ${probePort}`, '-a', 'duration:50'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    started.push(cap);
    await waitForStderr(cap, /Capturing on/, 20_000);
    await probeUntilCaptured(cap, probePort);

    const ssh = spawn(SSH, ['-F', '/dev/null', '-p', String(port), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
      '-o', 'BatchMode=yes', '-o', 'PubkeyAuthentication=no', '-o', 'ConnectTimeout=10', 'nobody@127.0.0.1', 'true'], { stdio: ['ignore', 'ignore', 'pipe'] });
    started.push(ssh);
    let sshErr = '';
    ssh.stderr!.on('data', (d: Buffer) => { sshErr += d.toString(); });
    const code = await waitExit(ssh, 20_000);
    expect(code, sshErr).to.equal(255); // auth fails, as intended
    expect(sshErr).to.match(/Permission denied/);

    // give the capture a moment to see the FINs, then stop it (tshark flushes the file on SIGINT)
    await new Promise((r) => setTimeout(r, 700));
    cap.kill('SIGINT');
    expect(await waitExit(cap, 15_000)).to.not.equal(null);

    const res = await importPcap(pcap, { collectLines: true });
    expect(res.header.linkType).to.equal(1); // Ethernet on Linux lo
    expect(res.corpus.connections).to.have.length(1);
    expect(res.stats.skippedFrames).to.be.greaterThan(0); // the UDP probes
    const c = res.corpus.connections[0]!;
    expect(c.server).to.deep.equal({ ip: '127.0.0.1', port });
    expect(c.banners.client).to.match(/^SSH-2\.0-OpenSSH_\d/);
    expect(c.banners.server).to.match(/^SSH-2\.0-OpenSSH_\d/);
    expect(c.partial, JSON.stringify(c.issues)).to.equal(false);
    expect(c.encryptedBytes.c2s).to.be.greaterThan(0);
    expect(c.encryptedBytes.s2c).to.be.greaterThan(0);

    const lines = res.lines!;
    const kexinits = lines.filter((l) => l.name === 'SSH_MSG_KEXINIT');
    expect(kexinits.map((l) => l.direction)).to.have.members(['c2s', 's2c']);
    for (const k of kexinits) {
      const f = k.fields!;
      for (const list of ['kexAlgorithms', 'serverHostKeyAlgorithms', 'encryptionC2S', 'encryptionS2C', 'macC2S', 'macS2C', 'compressionC2S', 'compressionS2C']) {
        expect(f[list], list).to.be.an('array').that.is.not.empty;
      }
      expect(f.kexAlgorithms).to.include('curve25519-sha256');
    }
    // the kex messages decode once the negotiated method is known (ecdh family)
    expect(lines.map((l) => `${l.direction}:${l.name}`)).to.include.members(['c2s:SSH_MSG_KEX_ECDH_INIT', 's2c:SSH_MSG_KEX_ECDH_REPLY', 'c2s:SSH_MSG_NEWKEYS', 's2c:SSH_MSG_NEWKEYS']);
    expect(lines.every((l) => !l.error), JSON.stringify(lines.find((l) => l.error))).to.equal(true);

    // tshark's own dissection of the same file agrees on the lists
    const rows = tsharkFields(pcap, ['ssh.kex_algorithms', 'ssh.encryption_algorithms_client_to_server'], ['-d', `tcp.port==${port},ssh`, '-Y', 'ssh.message_code == 20']);
    expect(rows.map((r) => r[0])).to.deep.equal(kexinits.map((k) => (k.fields!.kexAlgorithms as string[]).join(',')));
    expect(rows.map((r) => r[1])).to.deep.equal(kexinits.map((k) => (k.fields!.encryptionC2S as string[]).join(',')));
  });
});
