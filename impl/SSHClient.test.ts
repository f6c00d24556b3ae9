// SSHClient against a real OpenSSH sshd (the host's /usr/sbin/sshd on a free port): known_hosts policies, and the
// files we write judged by OpenSSH's own tools (ssh-keygen -F finds the line, ssh accepts the host through it).
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuthError, AutoAddPolicy, HostKeyMismatch, KeyFormatError, parsePrivateKey, RejectPolicy, SSHClient, SSHError, WarningPolicy, WrongPassphraseError,
} from './index.js';

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

function keygen(file: string, type: string, passphrase = ''): void {
  const r = spawnSync('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', passphrase, '-C', '', '-f', file]);
  if (r.status !== 0) throw new Error(`ssh-keygen: ${r.stderr}`);
}

/** `ssh-keygen -lf FILE.pub` → 'SHA256:…' */
function fingerprintOf(pubFile: string): string {
  return spawnSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', pubFile], { encoding: 'utf8' }).stdout.split(' ')[1]!;
}

describe('SSHClient ↔ OpenSSH sshd: known_hosts policies, keys, exec', function () {
  this.timeout(60_000);
  let dir = '';
  let port = 0;
  let sshd: ChildProcess | undefined;
  let sshdLog = '';
  const userKey = () => join(dir, 'id_ed25519');

  before(async function () {
    if (!have('/usr/sbin/sshd') || !have('ssh') || !have('ssh-keygen')) {
      if (process.env.CI === 'true') throw new Error('sshd, ssh and ssh-keygen (openssh-server, openssh-client) are required under CI');
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'sshclient-'));
    mkdirSync('/run/sshd', { recursive: true });
    keygen(join(dir, 'host_ed25519'), 'ed25519');
    keygen(join(dir, 'host_rsa'), 'rsa');
    keygen(userKey(), 'ed25519');
    keygen(join(dir, 'id_encrypted'), 'ed25519', 'open sesame');
    keygen(join(dir, 'id_other'), 'ed25519');
    writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${userKey()}.pub`, 'utf8') + readFileSync(join(dir, 'id_encrypted.pub'), 'utf8'));
    port = await freePort();
    writeFileSync(join(dir, 'sshd_config'), [
      `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${join(dir, 'host_ed25519')}`, `HostKey ${join(dir, 'host_rsa')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`, 'StrictModes no', 'PermitRootLogin prohibit-password', 'PasswordAuthentication no',
      'KbdInteractiveAuthentication no', 'UsePAM no', `PidFile ${join(dir, 'sshd.pid')}`, 'UseDNS no', '',
    ].join('\n'));
    sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
    sshd.stderr!.on('data', (d: Buffer) => { sshdLog += d.toString(); });
    for (let i = 0; i < 100 && !/Server listening/.test(sshdLog); i++) await new Promise((r) => setTimeout(r, 50));
    if (!/Server listening/.test(sshdLog)) throw new Error(`sshd did not start: ${sshdLog}`);
  });

  after(() => {
    sshd?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const connectOpts = () => ({ port, username: 'root', keyFilename: userKey() });

  /** OpenSSH's ssh trusts the host through `knownHosts` only (StrictHostKeyChecking=yes). */
  function sshWith(knownHosts: string, hostKeyAlgorithms = 'ssh-ed25519'): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync('ssh', ['-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${knownHosts}`,
      '-o', 'GlobalKnownHostsFile=/dev/null', '-o', `HostKeyAlgorithms=${hostKeyAlgorithms}`, '-i', userKey(), '-p', String(port), 'root@127.0.0.1', 'echo via-ssh'],
      { encoding: 'utf8', timeout: 20_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it('RejectPolicy (the default): an unknown host fails with HostKeyMismatch carrying the SHA256 fingerprint ssh-keygen prints', async () => {
    const c = new SSHClient();
    const err = await c.connect('127.0.0.1', connectOpts()).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(HostKeyMismatch);
    const e = err as HostKeyMismatch;
    expect(e.code).to.equal('HOST_KEY_MISMATCH');
    expect(e.receivedFingerprint).to.equal(fingerprintOf(join(dir, 'host_ed25519.pub')));
    expect(e.expectedFingerprints).to.deep.equal([]);
    expect(e.host).to.equal('127.0.0.1');
    expect(e.port).to.equal(port);
    expect(e.message).to.match(/unknown host key .*RejectPolicy/);
    expect(c.getTransport()).to.equal(undefined);
  });

  it('AutoAddPolicy appends `[host]:port keytype key` to a new known_hosts (0600); ssh-keygen -F and ssh accept the line; a RejectPolicy client then connects', async () => {
    const file = join(dir, 'new', 'known_hosts');
    const c = new SSHClient();
    c.loadHostKeys(file);
    c.setMissingHostKeyPolicy(new AutoAddPolicy());
    await c.connect('127.0.0.1', connectOpts());
    await c.close();
    const text = readFileSync(file, 'utf8');
    expect(text).to.equal(`[127.0.0.1]:${port} ${readFileSync(join(dir, 'host_ed25519.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ')}\n`);
    expect(statSync(file).mode & 0o777).to.equal(0o600);
    expect(spawnSync('ssh-keygen', ['-F', `[127.0.0.1]:${port}`, '-f', file]).status).to.equal(0);
    expect(sshWith(file)).to.include({ status: 0, stdout: 'via-ssh\n' });

    const again = new SSHClient();
    again.loadHostKeys(file);
    again.setMissingHostKeyPolicy(new RejectPolicy());
    await again.connect('127.0.0.1', connectOpts());
    expect((await again.exec('echo known')).stdout.toString()).to.equal('known\n');
    await again.close();
    expect(readFileSync(file, 'utf8')).to.equal(text); // nothing added twice
  });

  it('AutoAddPolicy({ hash: true }) writes a hashed |1|salt|hash name that ssh-keygen -F and ssh resolve', async () => {
    const file = join(dir, 'known_hosts_hashed');
    writeFileSync(file, '# kept\nother.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl'); // no final newline
    const c = new SSHClient();
    c.loadHostKeys(file);
    c.setMissingHostKeyPolicy(new AutoAddPolicy({ hash: true }));
    await c.connect('127.0.0.1', connectOpts());
    await c.close();
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines[0]).to.equal('# kept');
    expect(lines[2]).to.match(/^\|1\|[A-Za-z0-9+/=]{28}\|[A-Za-z0-9+/=]{28} ssh-ed25519 AAAA/);
    expect(lines[3]).to.equal('');
    expect(spawnSync('ssh-keygen', ['-F', `[127.0.0.1]:${port}`, '-f', file]).status).to.equal(0);
    expect(sshWith(file)).to.include({ status: 0, stdout: 'via-ssh\n' });
  });

  it('reads known_hosts written by ssh-keyscan -H (RSA only) and offers rsa-sha2-* first so the listed key is the one presented', async () => {
    const file = join(dir, 'known_hosts_keyscan');
    const scan = spawnSync('ssh-keyscan', ['-H', '-t', 'rsa', '-p', String(port), '127.0.0.1'], { encoding: 'utf8', timeout: 20_000 });
    expect(scan.stdout).to.match(/ssh-rsa/);
    writeFileSync(file, scan.stdout);
    const c = new SSHClient();
    c.loadSystemHostKeys(file);
    await c.connect('127.0.0.1', connectOpts());
    expect(c.getTransport()!.negotiatedAlgorithms!.hostKey).to.match(/^rsa-sha2-/);
    await c.close();
  });

  it('a changed host key fails with both fingerprints, whatever the policy, and the file is left alone', async () => {
    const file = join(dir, 'known_hosts_changed');
    writeFileSync(file, `[127.0.0.1]:${port} ${readFileSync(join(dir, 'id_other.pub'), 'utf8')}`);
    const before = readFileSync(file, 'utf8');
    const c = new SSHClient();
    c.loadHostKeys(file);
    c.setMissingHostKeyPolicy(new AutoAddPolicy());
    const err = await c.connect('127.0.0.1', { ...connectOpts(), algorithms: { hostKey: ['ssh-ed25519'] } }).catch((e: unknown) => e) as HostKeyMismatch;
    expect(err).to.be.instanceOf(HostKeyMismatch);
    expect(err.message).to.match(/HOST KEY CHANGED/);
    expect(err.expectedFingerprints).to.deep.equal([fingerprintOf(join(dir, 'id_other.pub'))]);
    expect(err.receivedFingerprint).to.equal(fingerprintOf(join(dir, 'host_ed25519.pub')));
    expect(readFileSync(file, 'utf8')).to.equal(before);
  });

  it('a @revoked host key is refused', async () => {
    const file = join(dir, 'known_hosts_revoked');
    writeFileSync(file, `@revoked * ${readFileSync(join(dir, 'host_ed25519.pub'), 'utf8')}`);
    const c = new SSHClient();
    c.loadSystemHostKeys(file);
    c.setMissingHostKeyPolicy(new AutoAddPolicy());
    const err = await c.connect('127.0.0.1', { ...connectOpts(), algorithms: { hostKey: ['ssh-ed25519'] } }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(HostKeyMismatch);
    expect((err as Error).message).to.match(/revoked/);
  });

  it('WarningPolicy connects with a warning and records nothing', async () => {
    const warnings: string[] = [];
    const file = join(dir, 'known_hosts_warning');
    const c = new SSHClient();
    c.loadHostKeys(file);
    c.setMissingHostKeyPolicy(new WarningPolicy((m) => warnings.push(m)));
    await c.connect('127.0.0.1', connectOpts());
    await c.close();
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.include(fingerprintOf(join(dir, 'host_ed25519.pub')));
    expect(() => statSync(file)).to.throw();
  });

  describe('connected', () => {
    let c: SSHClient;
    before(async () => {
      const kh = join(dir, 'known_hosts_exec');
      writeFileSync(kh, spawnSync('ssh-keyscan', ['-p', String(port), '127.0.0.1'], { encoding: 'utf8' }).stdout);
      c = new SSHClient();
      c.loadHostKeys(kh);
      await c.connect('127.0.0.1', connectOpts());
    });
    after(async () => { await c?.close(); });

    it('execCommand: stdin, stdout, stderr streams and the exit status', async () => {
      const { stdin, stdout, stderr, exitStatus } = await c.execCommand('cat; echo oops >&2; exit 3');
      stdin.end('piped through cat\n');
      let out = '';
      let err = '';
      stderr.on('data', (d: Buffer) => { err += d.toString(); });
      for await (const chunk of stdout) out += (chunk as Buffer).toString();
      expect(out).to.equal('piped through cat\n');
      expect(await exitStatus()).to.equal(3);
      expect(err).to.equal('oops\n');
    });

    it('exec collects the output; pty: true asks for a terminal', async () => {
      const r = await c.exec('printf "%s" "$SSH_TTY" | head -c 8; exit 0', { pty: true });
      expect(r.code).to.equal(0);
      expect(r.stdout.toString()).to.match(/^\/dev\/pt/);
    });

    it('a clean close is not an error', async () => {
      const t = c.getTransport()!;
      let closeArg: unknown = 'not emitted';
      t.once('close', (e) => { closeArg = e; });
      await c.close();
      expect(closeArg).to.equal(undefined);
      expect(t.closeError).to.equal(undefined);
      expect(await c.execCommand('true').catch((e: unknown) => e)).to.be.instanceOf(SSHError).with.property('code', 'USAGE');
    });
  });

  describe('keys', () => {
    let kh = '';
    before(() => {
      kh = join(dir, 'known_hosts_keys');
      writeFileSync(kh, spawnSync('ssh-keyscan', ['-p', String(port), '127.0.0.1'], { encoding: 'utf8' }).stdout);
    });
    const client = () => { const c = new SSHClient(); c.loadHostKeys(kh); return c; };

    it('an encrypted key file with its passphrase (keyFilename), the contents as a Buffer or string, parsePrivateKey()\'s result', async () => {
      for (const opts of [
        { keyFilename: join(dir, 'id_encrypted'), passphrase: 'open sesame' },
        { privateKey: readFileSync(join(dir, 'id_encrypted')), passphrase: 'open sesame' },
        { privateKey: readFileSync(userKey(), 'utf8') },
        { privateKey: parsePrivateKey(readFileSync(userKey())) },
      ]) {
        const c = client();
        await c.connect('127.0.0.1', { port, username: 'root', ...opts });
        expect((await c.exec('echo key')).stdout.toString()).to.equal('key\n');
        await c.close();
      }
    });

    it('keys are tried in order: an unauthorized key first, then one that works', async () => {
      const c = client();
      await c.connect('127.0.0.1', { port, username: 'root', keyFilename: [join(dir, 'id_other'), userKey()] });
      await c.close();
    });

    it('a wrong passphrase fails before connecting, naming the file; a missing file is a USAGE error', async () => {
      const wrong = await client().connect('127.0.0.1', { port, username: 'root', keyFilename: join(dir, 'id_encrypted'), passphrase: 'nope' }).catch((e: unknown) => e);
      expect(wrong).to.be.instanceOf(WrongPassphraseError);
      expect((wrong as Error).message).to.include(join(dir, 'id_encrypted'));
      const missing = await client().connect('127.0.0.1', { port, username: 'root', keyFilename: join(dir, 'nope') }).catch((e: unknown) => e);
      expect(missing).to.be.instanceOf(SSHError).with.property('code', 'USAGE');
      const path = await client().connect('127.0.0.1', { port, username: 'root', privateKey: userKey() }).catch((e: unknown) => e);
      expect(path).to.be.instanceOf(KeyFormatError);
      expect((path as Error).message).to.match(/contents, not its path/);
    });

    it('rejected credentials: AuthError saying what was tried and what the server accepts', async () => {
      const err = await client().connect('127.0.0.1', { port, username: 'root', keyFilename: join(dir, 'id_other'), password: 'x' }).catch((e: unknown) => e) as AuthError;
      expect(err).to.be.instanceOf(AuthError);
      expect(err.message).to.match(/tried publickey \(ssh-ed25519 SHA256:[^)]+\)/);
      expect(err.allowedMethods).to.include('publickey');
    });
  });
});
