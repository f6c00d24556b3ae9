import { expect } from 'chai';
import { hmac as nobleHmac } from '@noble/hashes/hmac.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { hex, seededRng, toHex } from '../test-util.js';
import { hmacMd5, hmacMd596, hmacSha1, hmacSha196, hmacSha2256, hmacSha2256Etm, hmacSha2512, hmacSha2512Etm } from './hmac.js';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
/** The MAC input is `uint32 seq || data` (RFC 4253 §6.4); split a test message that way. */
function macOf(create: (k: Uint8Array) => (seq: number, ...d: Uint8Array[]) => Uint8Array, key: Uint8Array, msg: Uint8Array): Uint8Array {
  const seq = new DataView(msg.buffer, msg.byteOffset).getUint32(0);
  return create(key)(seq, msg.subarray(4, 6), msg.subarray(6));
}

describe('crypto/mac/hmac', () => {
  it('matches RFC 4231 test cases 1 and 2 (SHA-256, SHA-512)', () => {
    const k1 = new Uint8Array(20).fill(0x0b);
    expect(toHex(macOf(hmacSha2256.create, k1, ascii('Hi There')))).to.equal('b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7');
    expect(toHex(macOf(hmacSha2512.create, k1, ascii('Hi There')))).to.equal(
      '87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854');
    const k2 = ascii('Jefe');
    const m2 = ascii('what do ya want for nothing?');
    expect(toHex(macOf(hmacSha2256Etm.create, k2, m2))).to.equal('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
    expect(toHex(macOf(hmacSha2512Etm.create, k2, m2))).to.equal(
      '164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737');
  });

  it('matches RFC 2202 test case 2 (SHA-1, MD5) and truncates the -96 forms', () => {
    const k = ascii('Jefe');
    const m = ascii('what do ya want for nothing?');
    expect(toHex(macOf(hmacSha1.create, k, m))).to.equal('effcdf6ae5eb2fa2d27416d5f184df9c259a7c79');
    expect(toHex(macOf(hmacSha196.create, k, m))).to.equal('effcdf6ae5eb2fa2d27416d5');
    expect(toHex(macOf(hmacMd5.create, k, m))).to.equal('750c783e6ab0b503eaa86e310a5db738');
    expect(toHex(macOf(hmacMd596.create, k, m))).to.equal('750c783e6ab0b503eaa86e31');
  });

  it('agrees with @noble/hashes over seq || parts, including seq ≥ 2^31', () => {
    const rng = seededRng('hmac');
    const key = rng(64);
    const data = rng(1000);
    for (const seq of [0, 1, 0x7fffffff, 0x80000000, 0xffffffff]) {
      const seqBytes = hex(seq.toString(16).padStart(8, '0'));
      const msg = Uint8Array.from([...seqBytes, ...data]);
      expect(toHex(hmacSha2512.create(key)(seq, data.subarray(0, 10), data.subarray(10)))).to.equal(toHex(nobleHmac(sha512, key, msg)));
      expect(toHex(hmacSha2256.create(key.subarray(0, 32))(seq, data))).to.equal(toHex(nobleHmac(sha256, key.subarray(0, 32), msg)));
    }
  });

  it('declares key and MAC lengths (RFC 6668 §2, RFC 4253 §6.4)', () => {
    expect([hmacSha2256.keyLen, hmacSha2256.macLen, hmacSha2256.etm]).to.deep.equal([32, 32, false]);
    expect([hmacSha2512Etm.keyLen, hmacSha2512Etm.macLen, hmacSha2512Etm.etm]).to.deep.equal([64, 64, true]);
    expect([hmacSha196.keyLen, hmacSha196.macLen, hmacSha196.legacy]).to.deep.equal([20, 12, true]);
    expect([hmacMd5.keyLen, hmacMd5.macLen, hmacMd5.legacy]).to.deep.equal([16, 16, true]);
  });
});
