import { expect } from 'chai';
import { createPublicKey } from 'node:crypto';
import { publicKeyFromBlob } from '../crypto/hostkey/index.js';
import { Writer } from '../wire/index.js';
import {
  KeyFormatError, decodePublicBlob, encodePublicBlob, fingerprintMD5, fingerprintSHA256, formatPublicKeyLine, generateKey, keyTypeOf,
  parsePublicKeyLine, peekBlobType, type GenerateKind,
} from './index.js';

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

describe('impl/keys public key blobs and lines (RFC 4253 §6.6, RFC 5656 §3.1, RFC 8709)', () => {
  const kinds: [GenerateKind, string][] = [
    ['ed25519', 'ssh-ed25519'], ['ecdsa-p256', 'ecdsa-sha2-nistp256'], ['ecdsa-p384', 'ecdsa-sha2-nistp384'],
    ['ecdsa-p521', 'ecdsa-sha2-nistp521'], ['rsa', 'ssh-rsa'],
  ];
  for (const [kind, type] of kinds) {
    it(`${type}: KeyObject → blob → KeyObject → line → blob`, () => {
      const { privateKey, publicKey } = generateKey(kind, 2048);
      const blob = encodePublicBlob(privateKey);
      expect(encodePublicBlob(publicKey)).to.deep.equal(blob);
      expect(keyTypeOf(privateKey)).to.equal(type);
      expect(peekBlobType(blob)).to.equal(type);
      const back = decodePublicBlob(blob);
      expect(back.type).to.equal(type);
      expect(back.keyObject.equals(publicKey)).to.equal(true);
      expect(publicKeyFromBlob(blob).keyObject.equals(publicKey)).to.equal(true); // same codec as the engine
      const line = formatPublicKeyLine(blob, 'me@host  two spaces');
      expect(line).to.equal(`${type} ${b64(blob)} me@host  two spaces`);
      const parsed = parsePublicKeyLine(`  ${line}\n`);
      expect(parsed).to.include({ type, comment: 'me@host  two spaces', supported: true });
      expect(parsed.blob).to.deep.equal(blob);
      expect(parsed.keyObject!.equals(publicKey)).to.equal(true);
      expect(parsePublicKeyLine(`${type}\t${b64(blob)}`).comment).to.equal('');
    });
  }

  it('encodes the ed25519 blob byte for byte (RFC 8709 §4)', () => {
    const x = Buffer.alloc(32, 0xab);
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: x.toString('base64url') }, format: 'jwk' });
    expect(Buffer.from(encodePublicBlob(key)).toString('hex')).to.equal('0000000b7373682d65643235353139' + '00000020' + x.toString('hex'));
  });

  it('carries unsupported-but-well-formed types (certificates, sk-) as opaque blobs', () => {
    const cert = new Writer().string('ssh-ed25519-cert-v01@openssh.com').string(new Uint8Array(32)).finish();
    const p = parsePublicKeyLine(`ssh-ed25519-cert-v01@openssh.com ${b64(cert)} c`);
    expect(p).to.include({ type: 'ssh-ed25519-cert-v01@openssh.com', supported: false, comment: 'c' });
    expect(p.keyObject).to.equal(undefined);
    expect(() => decodePublicBlob(cert)).to.throw(KeyFormatError).with.property('kind', 'unsupported');
  });

  it('refuses malformed lines and blobs with typed errors', () => {
    const good = encodePublicBlob(generateKey('ed25519').publicKey);
    const ec = encodePublicBlob(generateKey('ecdsa-p256').publicKey);
    const bad: [string, RegExp][] = [
      ['', /expected "type base64/],
      ['ssh-ed25519', /expected "type base64/],
      [`ssh-rsa ${b64(good)}`, /blob says "ssh-ed25519"/],
      [`ssh-ed25519 ${b64(good).slice(0, -4)}`, /public key blob/],
      [`ssh-ed25519 ${b64(good)}x`, /base64/],
      [`ssh-ed25519 ${b64(new Uint8Array([...good, 0]))}`, /trailing/],
      [`"quoted" ${b64(good)}`, /not a key type name/],
      // a point not on P-256 (y flipped)
      [`ecdsa-sha2-nistp256 ${b64(new Uint8Array([...ec.subarray(0, ec.length - 1), ec[ec.length - 1]! ^ 1]))}`, /invalid/],
      // compressed point
      [`ecdsa-sha2-nistp256 ${b64(new Writer().string('ecdsa-sha2-nistp256').string('nistp256').string(new Uint8Array(33).fill(2)).finish())}`, /uncompressed/],
      // curve identifier disagrees with the type
      [`ecdsa-sha2-nistp256 ${b64(new Writer().string('ecdsa-sha2-nistp256').string('nistp384').string(ec.subarray(ec.length - 65)).finish())}`, /curve/],
      [`ssh-ed25519 ${b64(new Uint8Array(20000))}`, /limit/],
    ];
    for (const [line, re] of bad) expect(() => parsePublicKeyLine(line), line.slice(0, 40)).to.throw(KeyFormatError, re);
    expect(() => formatPublicKeyLine(good, 'two\nlines')).to.throw(KeyFormatError);
  });

  it('fingerprints: SHA256 unpadded base64, MD5 colon hex', () => {
    const blob = new TextEncoder().encode('abc');
    expect(fingerprintSHA256(blob)).to.equal('SHA256:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0');
    expect(fingerprintMD5(blob)).to.equal('MD5:90:01:50:98:3c:d2:4f:b0:d6:96:3f:7d:28:e1:7f:72');
  });
});
