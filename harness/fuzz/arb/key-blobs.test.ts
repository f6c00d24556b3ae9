import { expect } from 'chai';
import fc from 'fast-check';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blobTypeName, keyBlobArb, trustedUserCertArb, wellFormedKeyBlobs } from './key-blobs.js';
import { parseCertificate } from '../../../impl/keys/cert.js';

describe('fuzz: key blobs of every type', () => {
  it('the well-formed variants are keys OpenSSH reads (ssh-keygen -l), and the certificate verifies (ssh-keygen -L)', function () {
    this.timeout(20_000);
    const dir = mkdtempSync(join(tmpdir(), 'key-blobs-'));
    try {
      const blobs = wellFormedKeyBlobs();
      expect(blobs.map(blobTypeName)).to.include.members(['ssh-rsa', 'ssh-dss', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-ed25519',
        'sk-ecdsa-sha2-nistp256@openssh.com', 'sk-ssh-ed25519@openssh.com', 'ssh-ed25519-cert-v01@openssh.com']);
      blobs.forEach((b, i) => {
        const file = join(dir, `k${i}.pub`);
        writeFileSync(file, `${blobTypeName(b)} ${Buffer.from(b).toString('base64')} fuzz\n`);
        const out = execFileSync('ssh-keygen', [blobTypeName(b)!.includes('-cert-') ? '-L' : '-l', '-f', file], { encoding: 'utf8' });
        if (blobTypeName(b)!.includes('-cert-')) expect(out).to.match(/Signing CA: ED25519/).and.match(/source-address 127\.0\.0\.1\/32/);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('certificates for the test account are user certificates OpenSSH verifies, valid now, with sshharness among the principals', function () {
    this.timeout(20_000);
    const dir = mkdtempSync(join(tmpdir(), 'key-blobs-'));
    try {
      let corrupt = 0;
      fc.sample(trustedUserCertArb, { numRuns: 12, seed: 5 }).forEach((b, i) => {
        const file = join(dir, `c${i}.pub`);
        writeFileSync(file, `${blobTypeName(b)} ${Buffer.from(b).toString('base64')} fuzz\n`);
        // ssh-keygen reads (and verifies) the whole certificate before it prints the options; a flag option given a
        // value is deliberately malformed and ends the listing there ("Option corrupt", "parse critical"), as it ends sshd's checks
        const r = spawnSync('ssh-keygen', ['-L', '-f', file], { encoding: 'utf8' });
        if (r.status !== 0) { expect(r.stderr).to.match(/^(Option corrupt|show_options: parse critical)/m); corrupt++; return; }
        expect(r.stdout).to.match(/Type: \S+-cert-v01@openssh.com user certificate/).and.match(/Signing CA: ED25519/).and.match(/Valid: forever/);
        expect(r.stdout.split('Principals:')[1]!.split('Critical Options:')[0]).to.match(/\bsshharness\b/);
      });
      expect(corrupt).to.be.lessThan(8);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the same seed gives the same bytes (campaigns replay by seed); signed certificates parse', () => {
    const a = fc.sample(keyBlobArb, { numRuns: 200, seed: 3 });
    const b = fc.sample(keyBlobArb, { numRuns: 200, seed: 3 });
    expect(a.map((x) => Buffer.from(x).toString('hex'))).to.deep.equal(b.map((x) => Buffer.from(x).toString('hex')));
    const certs = a.filter((x) => /-cert-v01@openssh\.com$/.test(blobTypeName(x) ?? '') && !/^(sk-|ssh-dss)/.test(blobTypeName(x)!));
    let parsed = 0;
    for (const c of certs) {
      try { parseCertificate(c); parsed++; } catch { /* the raw (unsigned, broken) ones */ }
    }
    expect(parsed).to.be.greaterThan(20);
  });
});
