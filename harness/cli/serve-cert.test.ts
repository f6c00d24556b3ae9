// `serve --trusted-ca / --host-cert` judged by OpenSSH's ssh client: a user certificate from the trusted CA logs in,
// the host certificate is trusted through @cert-authority with StrictHostKeyChecking=yes, and a certificate's
// force-command replaces the command the client asked for (PROTOCOL.certkeys, as sshd does).
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certifiedPrivateKey, formatPublicKeyLine, generateKey, parsePrivateKey, signCertificate, writeOpenSSHPrivateKey } from '../../impl/keys/index.js';
import { startServe, type RunningServer } from './serve.js';

describe('serve with certificates ↔ OpenSSH ssh (PROTOCOL.certkeys)', function () {
  this.timeout(60000);
  let dir = '';
  let server: RunningServer | undefined;
  const ca = parsePrivateKey(writeOpenSSHPrivateKey(generateKey('ed25519').privateKey)).toPrivateKey();
  const user = parsePrivateKey(writeOpenSSHPrivateKey(generateKey('ed25519').privateKey));

  before(async function () {
    if (spawnSync('ssh', ['-V'], { stdio: 'ignore' }).error) {
      if (process.env.CI === 'true') throw new Error('ssh (openssh-client) is required under CI');
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'ssh-harness-serve-cert-'));
    const host = parsePrivateKey(writeOpenSSHPrivateKey(generateKey('ecdsa-p256').privateKey)).toPrivateKey();
    const hostCert = signCertificate(ca, { publicKey: host.publicKey.blob, kind: 'host', keyId: 'serve', principals: ['127.0.0.1'] });
    server = await startServe({ host: '127.0.0.1', port: 0, hostKeys: [certifiedPrivateKey(host, hostCert), host], trustedUserCAs: [ca.publicKey.blob] });
    writeFileSync(join(dir, 'id'), writeOpenSSHPrivateKey(user.keyObject), { mode: 0o600 });
    writeFileSync(join(dir, 'known_hosts'), `@cert-authority [127.0.0.1]:${server.port} ${formatPublicKeyLine(ca.publicKey.blob)}\n`);
  });

  after(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function ssh(cert: Uint8Array, command: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
    writeFileSync(join(dir, 'id-cert.pub'), `${formatPublicKeyLine(cert)}\n`);
    return new Promise((resolve) => {
      const p = spawn('ssh', ['-F', '/dev/null', '-i', join(dir, 'id'), '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes',
        '-o', `UserKnownHostsFile=${join(dir, 'known_hosts')}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-p', String(server!.port), 'carol@127.0.0.1', command],
      { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '', stderr = '';
      p.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      const timer = setTimeout(() => p.kill('SIGTERM'), 30000);
      p.once('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
    });
  }

  const cert = (principals: string[], criticalOptions?: Record<string, string>) =>
    signCertificate(ca, { publicKey: user.publicBlob, kind: 'user', keyId: 'carol', principals, ...(criticalOptions ? { criticalOptions } : {}) });

  it('logs in with a user certificate; refuses another principal', async () => {
    const ok = await ssh(cert(['carol']), 'echo with-cert');
    expect(ok.stdout, ok.stderr).to.equal('with-cert\n');
    const no = await ssh(cert(['dave']), 'echo with-cert');
    expect(no.status, no.stderr).to.equal(255);
  });

  it('runs the force-command of the certificate instead of the requested command', async () => {
    const r = await ssh(cert(['carol'], { 'force-command': 'echo forced' }), 'echo asked-for');
    expect(r.stdout, r.stderr).to.equal('forced\n');
  });
});
