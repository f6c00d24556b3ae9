import { expect } from 'chai';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { DecodeError } from '../../errors.js';
import { Reader, Writer } from '../../wire/index.js';
import { toBase64Url } from '../bytes.js';
import { hex, toHex } from '../test-util.js';
import type { SignatureAlgorithm } from '../types.js';
import {
  ecdsaSha2Nistp256, ecdsaSha2Nistp384, ecdsaSha2Nistp521, generateHostKey, privateKeyFromNode, publicKeyBlob,
  publicKeyFromBlob, rsaSha2256, rsaSha2512, sshEd25519, sshRsa, type HostKeyType, type NodePrivateKey,
} from './index.js';

const data = new TextEncoder().encode('exchange hash H');

const algorithmsFor: Record<HostKeyType, SignatureAlgorithm[]> = {
  'ssh-ed25519': [sshEd25519],
  'ecdsa-sha2-nistp256': [ecdsaSha2Nistp256],
  'ecdsa-sha2-nistp384': [ecdsaSha2Nistp384],
  'ecdsa-sha2-nistp521': [ecdsaSha2Nistp521],
  'ssh-rsa': [rsaSha2512, rsaSha2256, sshRsa],
};

const keys = new Map<HostKeyType, NodePrivateKey>();
function keyOf(type: HostKeyType): NodePrivateKey {
  let k = keys.get(type);
  if (k === undefined) keys.set(type, (k = generateHostKey(type, { rsaBits: 2048 })));
  return k;
}

function flip(b: Uint8Array, at: number): Uint8Array {
  const c = b.slice();
  c[at]! ^= 0x01;
  return c;
}

describe('crypto/hostkey', () => {
  it('ssh-ed25519 matches the RFC 8032 §7.1 TEST 1 vector', () => {
    const seed = hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
    const pub = hex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    const key = privateKeyFromNode(createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: toBase64Url(seed), x: toBase64Url(pub) }, format: 'jwk' }));
    expect(toHex(key.publicKey.blob)).to.equal('0000000b' + toHex(new TextEncoder().encode('ssh-ed25519')) + '00000020' + toHex(pub));
    const sig = key.sign('ssh-ed25519', new Uint8Array(0));
    const r = new Reader(sig);
    expect(r.ascii()).to.equal('ssh-ed25519');
    expect(toHex(r.string())).to.equal('e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b');
    r.end('sig');
    expect(sshEd25519.verify(key.publicKey.blob, new Uint8Array(0), sig)).to.equal(true);
  });

  for (const type of Object.keys(algorithmsFor) as HostKeyType[]) {
    describe(type, () => {
      it('signs and verifies with every algorithm of the key; tampering gives false', () => {
        const key = keyOf(type);
        expect(key.type).to.equal(type);
        expect(key.algorithms).to.deep.equal(algorithmsFor[type].map((a) => a.name));
        for (const alg of algorithmsFor[type]) {
          expect(alg.keyType).to.equal(type);
          const sig = key.sign(alg.name, data);
          expect(alg.verify(key.publicKey.blob, data, sig), `${alg.name} verify`).to.equal(true);
          expect(alg.verify(key.publicKey.blob, flip(data, 3), sig), 'data tampered').to.equal(false);
          expect(alg.verify(key.publicKey.blob, data, flip(sig, sig.length - 2)), 'signature tampered').to.equal(false);
          expect(alg.verify(key.publicKey.blob, data, flip(sig, 6)), 'algorithm name tampered').to.equal(false);
          expect(alg.verify(key.publicKey.blob, data, Uint8Array.from([...sig, 0])), 'trailing byte').to.equal(false);
          expect(alg.verify(key.publicKey.blob, data, sig.subarray(0, sig.length - 1)), 'truncated').to.equal(false);
          expect(alg.verify(keyOf('ssh-ed25519' === type ? 'ecdsa-sha2-nistp256' : 'ssh-ed25519').publicKey.blob, data, sig), 'other key').to.equal(false);
          for (const junk of [new Uint8Array(0), new Uint8Array(7), new Uint8Array(100).fill(0xff)]) {
            expect(alg.verify(junk, data, sig)).to.equal(false);
            expect(alg.verify(key.publicKey.blob, data, junk)).to.equal(false);
          }
        }
        // a signature made for one algorithm does not pass as another
        if (type === 'ssh-rsa') expect(rsaSha2256.verify(key.publicKey.blob, data, key.sign('rsa-sha2-512', data))).to.equal(false);
        expect(() => key.sign('nonsense', data)).to.throw(TypeError);
      });

      it('public key blobs round-trip through publicKeyFromBlob', () => {
        const key = keyOf(type);
        const parsed = publicKeyFromBlob(key.publicKey.blob);
        expect(parsed.type).to.equal(type);
        expect(toHex(publicKeyBlob(parsed.keyObject))).to.equal(toHex(key.publicKey.blob));
        expect(toHex(publicKeyBlob(createPublicKey(key.keyObject)))).to.equal(toHex(key.publicKey.blob));
        expect(() => publicKeyFromBlob(Uint8Array.from([...key.publicKey.blob, 0]))).to.throw(DecodeError, /trailing/);
        expect(() => publicKeyFromBlob(key.publicKey.blob.subarray(0, key.publicKey.blob.length - 1))).to.throw(DecodeError);
      });
    });
  }

  it('ecdsa: refuses off-curve points, compressed points and mismatched curve names', () => {
    const blob = keyOf('ecdsa-sha2-nistp256').publicKey.blob;
    expect(() => publicKeyFromBlob(flip(blob, blob.length - 1))).to.throw(DecodeError, /invalid/);
    const r = new Reader(blob);
    r.ascii(); r.ascii();
    const q = r.string();
    const compressed = new Writer().string('ecdsa-sha2-nistp256').string('nistp256').string(Uint8Array.from([2 + (q[64]! & 1), ...q.subarray(1, 33)])).finish();
    expect(() => publicKeyFromBlob(compressed)).to.throw(DecodeError, /uncompressed/);
    const mismatched = new Writer().string('ecdsa-sha2-nistp256').string('nistp384').string(q).finish();
    expect(() => publicKeyFromBlob(mismatched)).to.throw(DecodeError, /curve/);
    expect(() => publicKeyFromBlob(new Writer().string('ssh-dss').finish())).to.throw(DecodeError, /unsupported/);
  });

  it('ecdsa: r or s of zero or ≥ n is refused', () => {
    const key = keyOf('ecdsa-sha2-nistp256');
    const zero = new Writer().string('ecdsa-sha2-nistp256').string(new Writer().mpint(0n).mpint(5n).finish()).finish();
    expect(ecdsaSha2Nistp256.verify(key.publicKey.blob, data, zero)).to.equal(false);
    const big = new Writer().string('ecdsa-sha2-nistp256').string(new Writer().mpint(1n << 300n).mpint(5n).finish()).finish();
    expect(ecdsaSha2Nistp256.verify(key.publicKey.blob, data, big)).to.equal(false);
  });

  it('rsa: refuses moduli under 1024 bits; accepts left-padding-stripped signatures', () => {
    const small = privateKeyFromNode(generateKeyPairSync('rsa', { modulusLength: 768 }).privateKey);
    expect(rsaSha2256.verify(small.publicKey.blob, data, small.sign('rsa-sha2-256', data))).to.equal(false);
    // 1 in 256 signatures starts with a zero byte; a 1024-bit key keeps the search cheap
    const key = privateKeyFromNode(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey);
    for (let i = 0; i < 3000; i++) {
      const msg = new TextEncoder().encode(`m${i}`);
      const r = new Reader(key.sign('rsa-sha2-256', msg));
      r.ascii();
      const sig = r.string();
      if (sig[0] !== 0) continue;
      const short = new Writer().string('rsa-sha2-256').string(sig.subarray(1)).finish();
      expect(rsaSha2256.verify(key.publicKey.blob, msg, short)).to.equal(true);
      return;
    }
    throw new Error('no signature with a leading zero byte in 3000 tries');
  });

  it('privateKeyFromNode refuses public keys and unsupported curves', () => {
    expect(() => privateKeyFromNode(createPublicKey(keyOf('ssh-ed25519').keyObject))).to.throw(TypeError);
    expect(() => privateKeyFromNode(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey)).to.throw(TypeError);
  });
});
