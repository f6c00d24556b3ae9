import { expect } from 'chai';
import { poly1305 as noblePoly1305 } from '@noble/ciphers/_poly1305.js';
import { hex, seededRng, toHex } from '../test-util.js';
import { poly1305 } from './poly1305.js';

describe('crypto/cipher/poly1305 (WebAssembly kernel)', () => {
  it('matches the RFC 8439 §2.5.2 test vector', () => {
    const key = hex('85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b');
    const msg = new TextEncoder().encode('Cryptographic Forum Research Group');
    expect(toHex(poly1305(key, msg))).to.equal('a8061dc1305136c6c22b8baf0c0127a9');
  });

  it('matches RFC 8439 Appendix A.3 edge cases (h ≥ p, carries through 2^130 - 5)', () => {
    // A.3 #6: r = 2, s = 0, m = 2^128 - 1 → tag 3
    const k6 = hex('02000000000000000000000000000000' + '00000000000000000000000000000000');
    expect(toHex(poly1305(k6, new Uint8Array(16).fill(0xff)))).to.equal('03000000000000000000000000000000');
    // A.3 #7: r = 1, s = 0 → tag 5
    const k7 = hex('01000000000000000000000000000000' + '00000000000000000000000000000000');
    const m7 = hex('ffffffffffffffffffffffffffffffff' + 'f0ffffffffffffffffffffffffffffff' + '11000000000000000000000000000000');
    expect(toHex(poly1305(k7, m7))).to.equal('05000000000000000000000000000000');
    // A.3 #10
    const m10 = hex('e33594d7505e43b900000000000000003394d7505e4379cd01000000000000000000000000000000000000000000000001000000000000000000000000000000');
    const k10 = hex('01000000000000000400000000000000' + '00000000000000000000000000000000');
    expect(toHex(poly1305(k10, m10))).to.equal('14000000000000005500000000000000');
  });

  it('agrees with @noble/ciphers for every length 0..80, split parts, and long messages', () => {
    const rng = seededRng('poly');
    for (let n = 0; n <= 80; n++) {
      const key = rng(32);
      const msg = rng(n);
      expect(toHex(poly1305(key, msg.subarray(0, n >> 1), msg.subarray(n >> 1))), `length ${n}`).to.equal(toHex(noblePoly1305(msg, key)));
    }
    for (const n of [32 * 1024 + 4, 256 * 1024 + 7, 70_000]) {
      const key = rng(32);
      const msg = rng(n);
      expect(toHex(poly1305(key, msg)), `length ${n}`).to.equal(toHex(noblePoly1305(msg, key)));
    }
    // all-ones keys and messages push every limb to its maximum
    const ones = new Uint8Array(1000).fill(0xff);
    expect(toHex(poly1305(new Uint8Array(32).fill(0xff), ones))).to.equal(toHex(noblePoly1305(ones, new Uint8Array(32).fill(0xff))));
  });
});
