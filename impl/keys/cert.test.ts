// OpenSSH certificates (PROTOCOL.certkeys) against ssh-keygen: it signs certificates we parse and check, and reads
// the ones we sign (ssh-keygen -L decodes every field, -Y/-s use the same code as sshd).
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CERT_FOREVER, certifiedPrivateKey, checkCertificate, parseCertificate, signCertificate } from './cert.js';
import { generateKey } from './generate.js';
import { parsePrivateKey } from './private-key.js';
import { parsePublicKeyLine, formatPublicKeyLine } from './public-line.js';
import { writeOpenSSHPrivateKey } from './openssh-private.js';
import { KeyFormatError } from './errors.js';
import { signatureAlgorithms } from '../crypto/registry.js';

function haveKeygen(): boolean {
  return spawnSync('ssh-keygen', ['-?'], { stdio: 'ignore' }).error === undefined;
}

describe('impl/keys/cert (OpenSSH PROTOCOL.certkeys)', function () {
  let dir = '';
  before(function () {
    if (!haveKeygen()) {
      if (process.env.CI === 'true') throw new Error('ssh-keygen (openssh-client) is required under CI');
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'ssh-harness-cert-'));
  });
  after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  function keygen(args: string[]): string {
    const r = spawnSync('ssh-keygen', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ssh-keygen ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  for (const [caKind, userKind] of [['ed25519', 'ecdsa'], ['rsa', 'ed25519'], ['ecdsa', 'rsa']] as const) {
    it(`parses and accepts a ${userKind} user certificate ssh-keygen signed with a ${caKind} CA`, function () {
      this.timeout(20000);
      const ca = join(dir, `ca_${caKind}`);
      const user = join(dir, `user_${caKind}_${userKind}`);
      keygen(['-q', '-t', caKind, '-N', '', '-f', ca]);
      keygen(['-q', '-t', userKind, '-N', '', '-f', user]);
      keygen(['-q', '-s', ca, '-I', 'alice@example', '-n', 'alice,bob', '-z', '42', '-V', '-5m:+1h',
        '-O', 'force-command=echo forced', '-O', 'source-address=127.0.0.0/8,::1', `${user}.pub`]);
      const line = parsePublicKeyLine(readFileSync(`${user}-cert.pub`, 'utf8'));
      const cert = parseCertificate(line.blob);
      expect(cert.type).to.equal(line.type);
      expect(cert.kind).to.equal('user');
      expect(cert.keyId).to.equal('alice@example');
      expect(cert.serial).to.equal(42n);
      expect(cert.principals).to.deep.equal(['alice', 'bob']);
      expect(cert.criticalOptions.get('force-command')).to.equal('echo forced');
      expect(cert.criticalOptions.get('source-address')).to.equal('127.0.0.0/8,::1');
      expect(cert.extensions.get('permit-pty')).to.equal(true);
      expect(cert.publicKey).to.deep.equal(parsePublicKeyLine(readFileSync(`${user}.pub`, 'utf8')).blob);
      const caBlob = parsePublicKeyLine(readFileSync(`${ca}.pub`, 'utf8')).blob;
      expect(cert.signatureKey).to.deep.equal(caBlob);
      const base = { kind: 'user' as const, principal: 'alice', trustedCAs: [caBlob], clientAddress: '127.0.0.1' };
      const ok = checkCertificate(cert, base);
      expect(ok).to.deep.include({ ok: true, forceCommand: 'echo forced' });
      expect(checkCertificate(cert, { ...base, clientAddress: '::ffff:127.0.0.9' }).ok).to.equal(true);
      expect(checkCertificate(cert, { ...base, principal: 'mallory' })).to.deep.include({ ok: false });
      expect(checkCertificate(cert, { ...base, clientAddress: '10.0.0.1' })).to.deep.include({ ok: false });
      expect(checkCertificate(cert, { ...base, kind: 'host' })).to.deep.include({ ok: false });
      expect(checkCertificate(cert, { ...base, now: Date.now() + 2 * 3600_000 })).to.deep.include({ ok: false, reason: 'certificate has expired' });
      expect(checkCertificate(cert, { ...base, now: Date.now() - 3600_000 })).to.deep.include({ ok: false, reason: 'certificate is not yet valid' });
      expect(checkCertificate(cert, { ...base, trustedCAs: [cert.publicKey] })).to.deep.include({ ok: false, reason: 'certificate signed by an untrusted CA' });
      // one flipped bit in the signed part breaks the CA signature
      const bad = cert.blob.slice();
      bad[cert.signedData.length - 40]! ^= 1;
      expect(checkCertificate(bad, base).ok).to.equal(false);
    });
  }

  it('writes certificates ssh-keygen reads back field by field (user and host)', function () {
    this.timeout(20000);
    const ca = generateKey('ed25519').privateKey;
    const caKey = parsePrivateKey(writeOpenSSHPrivateKey(ca)).toPrivateKey();
    const subject = parsePrivateKey(writeOpenSSHPrivateKey(generateKey('rsa', 2048).privateKey));
    const now = BigInt(Math.floor(Date.now() / 1000));
    const userCert = signCertificate(caKey, {
      publicKey: subject.publicBlob, kind: 'user', keyId: 'made by us', principals: ['root', 'carol'], serial: 7n,
      validAfter: now - 60n, validBefore: now + 3600n, criticalOptions: { 'source-address': '10.1.0.0/16', 'force-command': '/bin/true' },
    });
    writeFileSync(join(dir, 'ours-cert.pub'), formatPublicKeyLine(userCert, 'ours') + '\n');
    const shown = keygen(['-L', '-f', join(dir, 'ours-cert.pub')]);
    expect(shown).to.match(/Type: ssh-rsa-cert-v01@openssh.com user certificate/);
    expect(shown).to.match(/Key ID: "made by us"/);
    expect(shown).to.match(/Serial: 7/);
    expect(shown).to.match(/Signing CA: ED25519/);
    expect(shown).to.match(/root\s+carol/);
    expect(shown).to.match(/force-command \/bin\/true/);
    expect(shown).to.match(/source-address 10\.1\.0\.0\/16/);
    expect(shown).to.match(/permit-pty/);
    const hostCert = signCertificate(caKey, { publicKey: subject.publicBlob, kind: 'host', keyId: 'host', principals: ['server.example'] });
    writeFileSync(join(dir, 'host-cert.pub'), formatPublicKeyLine(hostCert) + '\n');
    const hostShown = keygen(['-L', '-f', join(dir, 'host-cert.pub')]);
    expect(hostShown).to.match(/host certificate/);
    expect(hostShown).to.match(/Valid: forever/);
    expect(parseCertificate(hostCert).validBefore).to.equal(CERT_FOREVER);
    expect(checkCertificate(hostCert, { kind: 'host', principal: 'server.example', trustedCAs: [caKey.publicKey.blob] }).ok).to.equal(true);
    expect(checkCertificate(hostCert, { kind: 'host', principal: 'other.example', trustedCAs: [caKey.publicKey.blob] }).ok).to.equal(false);
  });

  it('signs with the certified key under the -cert-v01 algorithm names, verifiable through the registry', () => {
    const ca = generateKey('ecdsa-p256').privateKey;
    const caKey = parsePrivateKey(writeOpenSSHPrivateKey(ca)).toPrivateKey();
    const subject = parsePrivateKey(writeOpenSSHPrivateKey(generateKey('rsa', 2048).privateKey)).toPrivateKey();
    const cert = signCertificate(caKey, { publicKey: subject.publicKey.blob, kind: 'user', keyId: 'k', principals: ['u'] });
    const signer = certifiedPrivateKey(subject, cert);
    expect(signer.algorithms).to.deep.equal(['rsa-sha2-512-cert-v01@openssh.com', 'rsa-sha2-256-cert-v01@openssh.com', 'ssh-rsa-cert-v01@openssh.com']);
    const data = new TextEncoder().encode('data');
    const sig = signer.sign('rsa-sha2-256-cert-v01@openssh.com', data);
    expect(signatureAlgorithms.get('rsa-sha2-256-cert-v01@openssh.com')!.verify(cert, data, sig)).to.equal(true);
    expect(signatureAlgorithms.get('rsa-sha2-256-cert-v01@openssh.com')!.verify(cert, new TextEncoder().encode('other'), sig)).to.equal(false);
    const stranger = parsePrivateKey(writeOpenSSHPrivateKey(generateKey('ed25519').privateKey)).toPrivateKey();
    expect(() => certifiedPrivateKey(stranger, cert)).to.throw(KeyFormatError);
  });

  it('refuses malformed certificates with a typed error (every truncation), a certificate as CA, unknown critical options, a missing principal list', () => {
    const caKey = parsePrivateKey(writeOpenSSHPrivateKey(generateKey('ed25519').privateKey)).toPrivateKey();
    const subject = parsePrivateKey(writeOpenSSHPrivateKey(generateKey('ed25519').privateKey)).toPrivateKey();
    const cert = signCertificate(caKey, { publicKey: subject.publicKey.blob, kind: 'user', keyId: 'k', principals: ['u'], criticalOptions: { 'no-such-option': 'x' } });
    for (let n = 0; n < cert.length; n += 7) expect(() => parseCertificate(cert.subarray(0, n))).to.throw(KeyFormatError);
    expect(checkCertificate(cert, { kind: 'user', principal: 'u', trustedCAs: [caKey.publicKey.blob] })).to.deep.include({ ok: false, reason: 'unrecognised critical option "no-such-option"' });
    const anyone = signCertificate(caKey, { publicKey: subject.publicKey.blob, kind: 'user', keyId: 'k', principals: [] });
    expect(checkCertificate(anyone, { kind: 'user', principal: 'u', trustedCAs: [caKey.publicKey.blob] })).to.deep.include({ ok: false, reason: 'certificate lacks a principal list' });
    const certAsCa = certifiedPrivateKey(subject, signCertificate(caKey, { publicKey: subject.publicKey.blob, kind: 'user', keyId: 'k', principals: ['u'] }));
    expect(() => signCertificate(certAsCa, { publicKey: subject.publicKey.blob, kind: 'user', keyId: 'k', principals: ['u'] })).to.throw(KeyFormatError);
  });
});
