// OpenSSH certificates between us and OpenSSH (PROTOCOL.certkeys), both directions, with the host's OpenSSH:
// - our SSHClient logs into sshd (TrustedUserCAKeys, HostCertificate) with a user certificate and trusts sshd's host
//   certificate only through an @cert-authority known_hosts line;
// - ssh(1) logs into our SSHServer (trustedUserCAKeys, a certified host key) with a user certificate and
//   StrictHostKeyChecking=yes, trusting our host certificate through @cert-authority.
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthError, HostKeyMismatch, SSHClient, SSHServer, Transport, insecureAcceptAnyHostKey, type PublicKey } from '../index.js';
import { certifiedPrivateKey, signCertificate } from './cert.js';
import { generateKey } from './generate.js';
import { writeOpenSSHPrivateKey } from './openssh-private.js';
import { parsePrivateKey } from './private-key.js';
import { formatPublicKeyLine, parsePublicKeyLine } from './public-line.js';

function have(cmd: string): boolean {
  return spawnSync(cmd, ['-V'], { stdio: 'ignore' }).error === undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function keygen(args: string[]): void {
  const r = spawnSync('ssh-keygen', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssh-keygen ${args.join(' ')}: ${r.stderr}`);
}

describe('OpenSSH certificates ↔ OpenSSH sshd and ssh (PROTOCOL.certkeys)', function () {
  this.timeout(60000);
  let dir = '';
  let port = 0;
  let sshd: ChildProcess | undefined;
  let caPub = '';
  let caKey = parsePrivateKey(writeOpenSSHPrivateKey(generateKey('ed25519').privateKey));
  const userKey = parsePrivateKey(writeOpenSSHPrivateKey(generateKey('ecdsa-p256').privateKey));

  before(async function () {
    if (!have('/usr/sbin/sshd') || !have('ssh') || !have('ssh-keygen')) {
      if (process.env.CI === 'true') throw new Error('sshd, ssh and ssh-keygen (openssh-server, openssh-client) are required under CI');
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'ssh-harness-cert-sshd-'));
    mkdirSync('/run/sshd', { recursive: true });
    keygen(['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'ca')]);
    caPub = readFileSync(join(dir, 'ca.pub'), 'utf8').trim();
    caKey = parsePrivateKey(readFileSync(join(dir, 'ca')));
    keygen(['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host')]);
    keygen(['-q', '-s', join(dir, 'ca'), '-h', '-I', 'sshd host', '-n', '127.0.0.1,localhost', join(dir, 'host.pub')]);
    port = await freePort();
    writeFileSync(join(dir, 'sshd_config'), [
      `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${join(dir, 'host')}`, `HostCertificate ${join(dir, 'host-cert.pub')}`,
      `TrustedUserCAKeys ${join(dir, 'ca.pub')}`, 'AuthorizedKeysFile none', 'StrictModes no', 'PermitRootLogin prohibit-password',
      'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no', `PidFile ${join(dir, 'sshd.pid')}`, 'UseDNS no', '',
    ].join('\n'));
    sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config'), '-o', 'LogLevel=INFO'], { stdio: ['ignore', 'ignore', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      let log = '';
      const timer = setTimeout(() => reject(new Error(`sshd did not start: ${log}`)), 15000);
      sshd!.stderr!.on('data', (d: Buffer) => {
        log += d.toString();
        if (/Server listening/.test(log)) { clearTimeout(timer); resolve(); }
      });
      sshd!.once('exit', (code) => { clearTimeout(timer); reject(new Error(`sshd exited ${code}: ${log}`)); });
    });
  });

  after(() => {
    if (sshd?.pid !== undefined && sshd.exitCode === null) sshd.kill('SIGTERM'); // only the sshd this test started
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const userCert = (principals: string[], extra: { criticalOptions?: Record<string, string> } = {}): Uint8Array =>
    signCertificate(caKey.toPrivateKey(), { publicKey: userKey.publicBlob, kind: 'user', keyId: 'test user', principals, validAfter: BigInt(Math.floor(Date.now() / 1000) - 300), validBefore: BigInt(Math.floor(Date.now() / 1000) + 3600), ...extra });

  function client(knownHosts: string): SSHClient {
    const file = join(dir, `kh-${Math.random().toString(36).slice(2)}`);
    writeFileSync(file, knownHosts);
    const c = new SSHClient();
    c.loadHostKeys(file);
    return c;
  }

  it('our client logs into sshd with a user certificate and trusts its host certificate through @cert-authority', async () => {
    const c = client(`@cert-authority [127.0.0.1]:${port} ${caPub}\n`);
    try {
      await c.connect('127.0.0.1', { port, username: 'root', privateKey: userKey, certificate: userCert(['root']) });
      expect(c.getTransport()!.negotiatedAlgorithms!.hostKey).to.equal('ssh-ed25519-cert-v01@openssh.com');
      const r = await c.exec('echo certified');
      expect(r.stdout.toString()).to.equal('certified\n');
    } finally {
      await c.close();
    }
  });

  it("sshd announces its host keys after authentication (hostkeys-00) and our client has them proven (hostkeys-prove-00)", async () => {
    const t = new Transport(['127.0.0.1', port], { verifyHostKey: insecureAcceptAnyHostKey });
    try {
      const announced = new Promise<PublicKey[]>((resolve) => t.once('hostKeys', resolve));
      await t.startClient();
      await t.authPublicKey('root', certifiedPrivateKey(userKey.toPrivateKey(), userCert(['root'])));
      const keys = await announced;
      expect(keys.map((k) => k.type)).to.deep.equal(['ssh-ed25519']);
      expect(await t.proveHostKeys(keys)).to.deep.equal(keys);
    } finally {
      await t.close();
    }
  });

  it('sshd refuses our certificate for another principal; our client refuses a host certificate from an untrusted CA', async () => {
    const c = client(`@cert-authority [127.0.0.1]:${port} ${caPub}\n`);
    let err: unknown;
    try { await c.connect('127.0.0.1', { port, username: 'root', privateKey: userKey, certificate: userCert(['someone-else']) }); } catch (e) { err = e; }
    await c.close();
    expect(err).to.be.instanceOf(AuthError);
    const other = parsePrivateKey(writeOpenSSHPrivateKey(generateKey('ed25519').privateKey));
    const c2 = client(`@cert-authority [127.0.0.1]:${port} ${formatPublicKeyLine(other.publicBlob)}\n`);
    err = undefined;
    try { await c2.connect('127.0.0.1', { port, username: 'root', privateKey: userKey, certificate: userCert(['root']) }); } catch (e) { err = e; }
    await c2.close();
    expect(err).to.be.instanceOf(HostKeyMismatch);
    expect((err as Error).message).to.match(/untrusted CA/);
  });

  it('ssh(1) logs into our SSHServer with a user certificate and trusts our host certificate (StrictHostKeyChecking=yes)', async () => {
    const hostKey = parsePrivateKey(writeOpenSSHPrivateKey(generateKey('ed25519').privateKey));
    const hostCert = signCertificate(caKey.toPrivateKey(), { publicKey: hostKey.publicBlob, kind: 'host', keyId: 'our host', principals: ['127.0.0.1'] });
    const server = new SSHServer({
      hostKeys: [certifiedPrivateKey(hostKey.toPrivateKey(), hostCert)],
      trustedUserCAKeys: [parsePublicKeyLine(caPub).blob],
      policy: { allowedAuths: () => ['publickey'], checkChannelExecRequest: () => true },
    }, (t) => {
      t.on('channel', (ch) => ch.once('exec', (command) => { ch.end(`ran ${command}\n`); void ch.exit(0); }));
    });
    const { port: ourPort } = await server.listen(0, '127.0.0.1');
    const idFile = join(dir, 'id_user');
    writeFileSync(idFile, writeOpenSSHPrivateKey(userKey.keyObject), { mode: 0o600 });
    const kh = join(dir, 'kh-ours');
    writeFileSync(kh, `@cert-authority [127.0.0.1]:${ourPort} ${caPub}\n`);
    const ssh = (cert: Uint8Array): Promise<{ status: number | null; stdout: string; stderr: string }> => {
      writeFileSync(`${idFile}-cert.pub`, `${formatPublicKeyLine(cert)}\n`);
      return new Promise((resolve) => {
        const p = spawn('ssh', ['-F', '/dev/null', '-i', idFile, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes',
          '-o', `UserKnownHostsFile=${kh}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=10', '-o', 'LogLevel=ERROR', '-p', String(ourPort), 'alice@127.0.0.1', 'hello'],
        { stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '', stderr = '';
        p.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
        p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
        const timer = setTimeout(() => p.kill('SIGTERM'), 30000);
        p.once('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
      });
    };
    try {
      const good = await ssh(userCert(['alice']));
      expect(good.stdout, good.stderr).to.equal('ran hello\n');
      expect(good.status).to.equal(0);
      const wrong = await ssh(userCert(['bob']));
      expect(wrong.status, wrong.stderr).to.equal(255);
      const forced = await ssh(userCert(['alice'], { criticalOptions: { 'force-command': 'only-this' } }));
      expect(forced.stdout).to.equal('');
      expect(forced.status).to.not.equal(0);
      const elsewhere = await ssh(userCert(['alice'], { criticalOptions: { 'source-address': '10.9.9.0/24' } }));
      expect(elsewhere.status, elsewhere.stderr).to.equal(255);
    } finally {
      await server.close();
    }
  });
});
