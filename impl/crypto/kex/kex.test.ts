import { expect } from 'chai';
import { KexError } from '../../errors.js';
import { bigintFromBytes, bigintToBytes } from '../bytes.js';
import { fixedRng, hex, seededRng, toHex } from '../test-util.js';
import type { KexAlgorithm } from '../types.js';
import { curve25519Sha256, curve25519Sha256Libssh } from './curve25519.js';
import { dhGroup14Sha1, dhGroup14Sha256, dhGroup16Sha512, dhGroup18Sha512, dhGroup1Sha1, modpGroup14 } from './dh-groups.js';
import { ecdhSha2Nistp256, ecdhSha2Nistp384, ecdhSha2Nistp521 } from './ecdh-nist.js';
import { mlkem768x25519Sha256 } from './mlkem-hybrid.js';

function agreeBothWays(alg: KexAlgorithm, seed: string): { k: Uint8Array; clientPublic: Uint8Array; serverPublic: Uint8Array } {
  const rng = seededRng(seed);
  const client = alg.clientStart(rng);
  const server = alg.serverRespond(rng, client.publicValue);
  const k = client.finish(server.publicValue);
  expect(toHex(k)).to.equal(toHex(server.sharedSecret));
  return { k, clientPublic: client.publicValue, serverPublic: server.publicValue };
}

/** K must be a well-formed mpint with its uint32 length (RFC 4251 §5). */
function expectMpint(k: Uint8Array): void {
  const len = new DataView(k.buffer, k.byteOffset).getUint32(0);
  expect(len).to.equal(k.length - 4);
  expect(k[4]! & 0x80, 'positive').to.equal(0);
  if (len > 1) expect(k[4] === 0 && (k[5]! & 0x80) === 0, 'minimal').to.equal(false);
}

describe('crypto/kex', () => {
  describe('curve25519-sha256 (RFC 8731)', () => {
    // RFC 7748 §6.1
    const alicePriv = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
    const alicePub = '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a';
    const bobPriv = hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
    const bobPub = 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f';
    const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';

    it('matches the RFC 7748 §6.1 vector, with K as an mpint', () => {
      const client = curve25519Sha256.clientStart(fixedRng(alicePriv));
      expect(toHex(client.publicValue)).to.equal(alicePub);
      expect(toHex(client.privateKey)).to.equal(toHex(alicePriv));
      const server = curve25519Sha256.serverRespond(fixedRng(bobPriv), client.publicValue);
      expect(toHex(server.publicValue)).to.equal(bobPub);
      // 0x4a has the top bit clear: no sign byte
      expect(toHex(server.sharedSecret)).to.equal('00000020' + shared);
      expect(toHex(client.finish(server.publicValue))).to.equal('00000020' + shared);
    });

    it('adds the mpint sign byte and strips leading zeros (RFC 8731 §3.1)', () => {
      // search a few seeds for secrets with a high first bit and with a leading zero byte
      let sawSign = false;
      let sawZero = false;
      for (let i = 0; i < 3000 && !(sawSign && sawZero); i++) {
        const { k } = agreeBothWays(curve25519Sha256, `x25519-${i}`);
        expectMpint(k);
        if (k.length === 37) sawSign = true;
        if (k.length < 36) sawZero = true;
      }
      expect(sawSign && sawZero).to.equal(true);
    });

    it('refuses wrong-length and low-order public values with KexError', () => {
      const client = curve25519Sha256.clientStart(seededRng('a'));
      expect(() => client.finish(new Uint8Array(31))).to.throw(KexError);
      expect(() => client.finish(new Uint8Array(33))).to.throw(KexError);
      expect(() => client.finish(new Uint8Array(32))).to.throw(KexError, /zero/);
      const one = new Uint8Array(32); one[0] = 1;
      expect(() => client.finish(one)).to.throw(KexError);
      expect(() => curve25519Sha256Libssh.serverRespond(seededRng('b'), new Uint8Array(31))).to.throw(KexError);
      expect(() => curve25519Sha256Libssh.serverRespond(seededRng('b'), new Uint8Array(32))).to.throw(KexError);
    });

    it('is reproducible under a seeded rng', () => {
      expect(agreeBothWays(curve25519Sha256Libssh, 's').k).to.deep.equal(agreeBothWays(curve25519Sha256Libssh, 's').k);
    });
  });

  describe('ecdh-sha2-nistp* (RFC 5656 §4)', () => {
    for (const [alg, len] of [[ecdhSha2Nistp256, 32], [ecdhSha2Nistp384, 48], [ecdhSha2Nistp521, 66]] as const) {
      it(`${alg.name}: agrees both ways with uncompressed points and an mpint K`, () => {
        const { k, clientPublic, serverPublic } = agreeBothWays(alg, alg.name);
        expect(clientPublic.length).to.equal(1 + 2 * len);
        expect(clientPublic[0]).to.equal(4);
        expect(serverPublic.length).to.equal(1 + 2 * len);
        expectMpint(k);
        expect(k.length).to.be.at.most(4 + len + 1);
      });

      it(`${alg.name}: refuses invalid points with KexError`, () => {
        const { clientPublic } = agreeBothWays(alg, 'p');
        const client = alg.clientStart(seededRng('q'));
        const offCurve = clientPublic.slice();
        offCurve[offCurve.length - 1]! ^= 1;
        expect(() => client.finish(offCurve)).to.throw(KexError, /curve/);
        const compressed = clientPublic.slice(0, 1 + len);
        compressed[0] = 2 + (clientPublic[clientPublic.length - 1]! & 1);
        expect(() => client.finish(compressed)).to.throw(KexError);
        expect(() => client.finish(new Uint8Array([0]))).to.throw(KexError);
        expect(() => client.finish(new Uint8Array(1 + 2 * len).fill(0, 1).fill(4, 0, 1))).to.throw(KexError);
        expect(() => client.finish(new Uint8Array(0))).to.throw(KexError);
        expect(() => alg.serverRespond(seededRng('r'), offCurve)).to.throw(KexError);
      });
    }
  });

  describe('diffie-hellman-group* (RFC 4253 §8, RFC 8268)', () => {
    it('group14 is the RFC 3526 §3 2048-bit MODP prime', () => {
      const p = modpGroup14.p;
      const h = p.toString(16);
      expect(h.length).to.equal(512);
      // 2^2048 - 2^1984 - 1 + 2^64 * (floor(2^1918 pi) + 124476): top and bottom 64 bits set, then pi's digits
      expect(h.slice(0, 24)).to.equal('ffffffffffffffffc90fdaa2');
      expect(h.slice(-16)).to.equal('ffffffffffffffff');
      expect(h.slice(-24, -16)).to.equal('8aacaa68');
      expect(modpGroup14.g).to.equal(2n);
    });

    for (const alg of [dhGroup14Sha256, dhGroup14Sha1, dhGroup1Sha1, dhGroup16Sha512]) {
      it(`${alg.name}: agrees both ways and e = g^x mod p`, () => {
        const rng = seededRng(alg.name);
        const client = alg.clientStart(rng);
        const p = alg.group!.p;
        let e = 1n, b = 2n, x = bigintFromBytes(client.privateKey);
        for (; x > 0n; x >>= 1n, b = (b * b) % p) if (x & 1n) e = (e * b) % p;
        expect(bigintFromBytes(client.publicValue)).to.equal(e);
        expect(client.publicValue[0], 'no leading zero').to.not.equal(0);
        const server = alg.serverRespond(rng, client.publicValue);
        expect(toHex(client.finish(server.publicValue))).to.equal(toHex(server.sharedSecret));
        expectMpint(server.sharedSecret);
      });
    }

    it('group18 agrees both ways', () => {
      agreeBothWays(dhGroup18Sha512, 'g18');
    });

    it('refuses 0, 1, p-1, p and oversized values with KexError', () => {
      const p = modpGroup14.p;
      const client = dhGroup14Sha256.clientStart(seededRng('c'));
      for (const bad of [0n, 1n, p - 1n, p, p + 5n]) {
        const v = bigintToBytes(bad);
        expect(() => client.finish(v), `f=${bad}`).to.throw(KexError);
        expect(() => dhGroup14Sha256.serverRespond(seededRng('d'), v), `e=${bad}`).to.throw(KexError);
      }
      expect(() => client.finish(new Uint8Array(0))).to.throw(KexError);
      expect(() => client.finish(new Uint8Array(300).fill(0xff))).to.throw(KexError);
      // leading zero bytes (as in an mpint body) are fine
      const server = dhGroup14Sha256.serverRespond(seededRng('e'), Uint8Array.from([0, ...client.publicValue]));
      expect(toHex(client.finish(Uint8Array.from([0, ...server.publicValue])))).to.equal(toHex(server.sharedSecret));
      expect(() => client.finish(bigintToBytes(2n))).to.not.throw();
      expect(() => client.finish(bigintToBytes(p - 2n))).to.not.throw();
    });
  });
});

describe('crypto/kex mlkem768x25519-sha256', () => {
  it('agrees both ways; K = string(SHA-256(K_PQ || K_CL)) rebuilt from the parts', async () => {
    const { ml_kem768 } = await import('@noble/post-quantum/ml-kem.js');
    const { createHash } = await import('node:crypto');
    const rng = seededRng('mlkem');
    const client = mlkem768x25519Sha256.clientStart(rng);
    expect(client.publicValue.length).to.equal(1184 + 32);
    const server = mlkem768x25519Sha256.serverRespond(rng, client.publicValue);
    expect(server.publicValue.length).to.equal(1088 + 32);
    const k = client.finish(server.publicValue);
    expect(toHex(k)).to.equal(toHex(server.sharedSecret));
    expect(toHex(k.subarray(0, 4))).to.equal('00000020'); // a string of 32 bytes, even with a leading zero or high bit
    // rebuild K independently: the same seeded rng yields the same ML-KEM keys, encapsulation and X25519 keys
    const rng2 = seededRng('mlkem');
    const kem = ml_kem768.keygen(rng2(64));
    const cX = curve25519Sha256.clientStart(rng2);
    const enc = ml_kem768.encapsulate(kem.publicKey, rng2(32));
    const sX = curve25519Sha256.serverRespond(rng2, cX.publicValue);
    expect(toHex(server.publicValue)).to.equal(toHex(enc.cipherText) + toHex(sX.publicValue));
    // K_CL is the raw X25519 output: the mpint's value, left-padded back to 32 bytes
    const kCl = bigintToBytes(bigintFromBytes(sX.sharedSecret.subarray(4)), 32);
    expect(toHex(k.subarray(4))).to.equal(createHash('sha256').update(enc.sharedSecret).update(kCl).digest('hex'));
  });

  it('refuses wrong sizes, a bad ML-KEM key and a low-order X25519 point with KexError', () => {
    const rng = seededRng('mlkem-bad');
    const client = mlkem768x25519Sha256.clientStart(rng);
    expect(() => mlkem768x25519Sha256.serverRespond(rng, client.publicValue.subarray(1))).to.throw(KexError);
    const badKem = client.publicValue.slice();
    badKem.fill(0xff, 0, 384); // coefficients ≥ q fail the FIPS 203 modulus check
    expect(() => mlkem768x25519Sha256.serverRespond(rng, badKem)).to.throw(KexError, /ML-KEM/);
    const lowOrder = client.publicValue.slice();
    lowOrder.fill(0, 1184);
    expect(() => mlkem768x25519Sha256.serverRespond(rng, lowOrder)).to.throw(KexError);
    expect(() => client.finish(new Uint8Array(1088 + 31))).to.throw(KexError);
    const server = mlkem768x25519Sha256.serverRespond(rng, client.publicValue);
    const zeroX = server.publicValue.slice();
    zeroX.fill(0, 1088);
    expect(() => client.finish(zeroX)).to.throw(KexError);
  });
});
