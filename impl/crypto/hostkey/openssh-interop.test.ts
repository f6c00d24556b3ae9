/**
 * Interop with OpenSSH's ssh-keygen (a real peer): public key blobs must match its .pub files, its SSHSIG
 * signatures (OpenSSH PROTOCOL.sshsig) must verify with our SignatureAlgorithms, and ours must pass
 * `ssh-keygen -Y check-novalidate`.
 */
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Reader, Writer } from '../../wire/index.js';
import { toHex } from '../test-util.js';
import type { SignatureAlgorithm } from '../types.js';
import {
  ecdsaSha2Nistp256, ecdsaSha2Nistp384, ecdsaSha2Nistp521, generateHostKey, publicKeyBlob, publicKeyFromBlob,
  rsaSha2512, sshEd25519, type HostKeyType,
} from './index.js';

const haveKeygen = spawnSync('ssh-keygen', ['-?'], { stdio: 'ignore' }).error === undefined;

const cases: [HostKeyType, string[], SignatureAlgorithm][] = [
  ['ssh-ed25519', ['-t', 'ed25519'], sshEd25519],
  ['ecdsa-sha2-nistp256', ['-t', 'ecdsa', '-b', '256'], ecdsaSha2Nistp256],
  ['ecdsa-sha2-nistp384', ['-t', 'ecdsa', '-b', '384'], ecdsaSha2Nistp384],
  ['ecdsa-sha2-nistp521', ['-t', 'ecdsa', '-b', '521'], ecdsaSha2Nistp521],
  ['ssh-rsa', ['-t', 'rsa', '-b', '2048'], rsaSha2512],
];

const NAMESPACE = 'ssh-harness-test';
const message = new TextEncoder().encode('signed by one, verified by the other\n');

/** PROTOCOL.sshsig: the bytes that are actually signed. */
function sshsigSignedData(hashAlg: 'sha512'): Uint8Array {
  const h = createHash(hashAlg).update(message).digest();
  return new Writer().raw(new TextEncoder().encode('SSHSIG')).string(NAMESPACE).string(new Uint8Array(0)).string(hashAlg).string(h).finish();
}

function parseArmoredSshsig(text: string): { publicKey: Uint8Array; signature: Uint8Array } {
  const b64 = text.replace(/-----(BEGIN|END) SSH SIGNATURE-----/g, '').replace(/\s+/g, '');
  const r = new Reader(new Uint8Array(Buffer.from(b64, 'base64')));
  expect(new TextDecoder().decode(r.bytes(6))).to.equal('SSHSIG');
  expect(r.uint32()).to.equal(1);
  const publicKey = r.string();
  expect(r.ascii()).to.equal(NAMESPACE);
  r.string();
  expect(r.ascii()).to.equal('sha512');
  const signature = r.string();
  r.end('SSHSIG');
  return { publicKey, signature };
}

function armor(publicKey: Uint8Array, signature: Uint8Array): string {
  const blob = new Writer().raw(new TextEncoder().encode('SSHSIG')).uint32(1).string(publicKey).string(NAMESPACE)
    .string(new Uint8Array(0)).string('sha512').string(signature).finish();
  const b64 = Buffer.from(blob).toString('base64').match(/.{1,70}/g)!.join('\n');
  return `-----BEGIN SSH SIGNATURE-----\n${b64}\n-----END SSH SIGNATURE-----\n`;
}

describe('crypto/hostkey interop with ssh-keygen', function () {
  let dir = '';
  before(function () {
    if (!haveKeygen) {
      if (process.env.CI === 'true') throw new Error('ssh-keygen (openssh-client) is required in CI');
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'crypto-keygen-'));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const [type, args, alg] of cases) {
    it(`${type}: blobs and signatures agree both ways`, () => {
      const file = join(dir, type);
      execFileSync('ssh-keygen', [...args, '-q', '-N', '', '-C', '', '-f', file]);
      const pubLine = readFileSync(`${file}.pub`, 'utf8').trim().split(/\s+/);
      expect(pubLine[0]).to.equal(type);
      const blob = new Uint8Array(Buffer.from(pubLine[1]!, 'base64'));
      // their blob → our KeyObject → our blob; and their PKCS#8/SPKI export → our blob
      expect(toHex(publicKeyBlob(publicKeyFromBlob(blob).keyObject))).to.equal(toHex(blob));
      if (type !== 'ssh-ed25519') { // OpenSSH 9.2 cannot export Ed25519 as PKCS#8
        const spki = execFileSync('ssh-keygen', ['-e', '-m', 'PKCS8', '-f', `${file}.pub`], { encoding: 'utf8' });
        expect(toHex(publicKeyBlob(createPublicKey(spki)))).to.equal(toHex(blob));
      }

      // their signature, our verify
      writeFileSync(join(dir, 'msg'), message);
      execFileSync('ssh-keygen', ['-Y', 'sign', '-q', '-f', file, '-n', NAMESPACE, join(dir, 'msg')]);
      const theirs = parseArmoredSshsig(readFileSync(join(dir, 'msg.sig'), 'utf8'));
      rmSync(join(dir, 'msg.sig'));
      expect(toHex(theirs.publicKey)).to.equal(toHex(blob));
      expect(alg.verify(blob, sshsigSignedData('sha512'), theirs.signature)).to.equal(true);
      expect(alg.verify(blob, message, theirs.signature)).to.equal(false);

      // our signature (fresh key of the same type), their verify
      const ours = generateHostKey(type, { rsaBits: 2048 });
      const sig = ours.sign(alg.name, sshsigSignedData('sha512'));
      writeFileSync(join(dir, 'ours.sig'), armor(ours.publicKey.blob, sig));
      const check = spawnSync('ssh-keygen', ['-Y', 'check-novalidate', '-n', NAMESPACE, '-s', join(dir, 'ours.sig')], { input: message, encoding: 'utf8' });
      expect(check.status, check.stderr + check.stdout).to.equal(0);
      const tampered = spawnSync('ssh-keygen', ['-Y', 'check-novalidate', '-n', NAMESPACE, '-s', join(dir, 'ours.sig')], { input: Buffer.from('x'), encoding: 'utf8' });
      expect(tampered.status).to.not.equal(0);
    });
  }
});
