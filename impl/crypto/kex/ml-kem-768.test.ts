import { expect } from 'chai';
import fc from 'fast-check';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { decapsulate, encapsulate, keygen, ML_KEM_768, MlKemError } from './ml-kem-768.js';

const eq = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

/** Runs `fn` with the native samplers (impl/native/src/mlkem.c, when built) or with the TypeScript ones. */
function withSampling<T>(native: boolean, fn: () => T): T {
  const before = process.env.SSH_HARNESS_NO_NATIVE;
  if (native) delete process.env.SSH_HARNESS_NO_NATIVE;
  else process.env.SSH_HARNESS_NO_NATIVE = '1';
  try {
    return fn();
  } finally {
    if (before === undefined) delete process.env.SSH_HARNESS_NO_NATIVE;
    else process.env.SSH_HARNESS_NO_NATIVE = before;
  }
}

describe('crypto/kex ML-KEM-768 (FIPS 203) against @noble/post-quantum as the oracle', function () {
  this.timeout(60_000);

  for (const native of [true, false]) it(`keygen, encapsulate, decapsulate give the same bytes for the same randomness; implicit rejection matches (${native ? 'native' : 'TypeScript'} sampling)`, () => withSampling(native, () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat({ max: 1087 }), fc.integer({ min: 1, max: 255 }),
      (seed, m, at, flip) => {
        const ours = keygen(seed), theirs = ml_kem768.keygen(seed);
        expect(eq(ours.publicKey, theirs.publicKey), 'ek').to.equal(true);
        expect(eq(ours.secretKey, theirs.secretKey), 'dk').to.equal(true);
        const e = encapsulate(ours.publicKey, m), f = ml_kem768.encapsulate(theirs.publicKey, m);
        expect(eq(e.cipherText, f.cipherText), 'ct').to.equal(true);
        expect(eq(e.sharedSecret, f.sharedSecret), 'K').to.equal(true);
        expect(eq(decapsulate(e.cipherText, ours.secretKey), e.sharedSecret), 'decaps').to.equal(true);
        // a key object this process did not make (no cached Â): noble's, and a copy of ours
        expect(eq(decapsulate(e.cipherText, theirs.secretKey), e.sharedSecret), 'decaps, foreign dk').to.equal(true);
        expect(eq(decapsulate(e.cipherText, Uint8Array.from(ours.secretKey)), e.sharedSecret), 'decaps, copied dk').to.equal(true);
        const bad = Uint8Array.from(e.cipherText);
        bad[at] ^= flip;
        const rejected = decapsulate(bad, ours.secretKey);
        expect(eq(rejected, ml_kem768.decapsulate(bad, theirs.secretKey)), 'implicit rejection').to.equal(true);
        expect(eq(rejected, e.sharedSecret)).to.equal(false);
      }), { numRuns: 64 });
  }));

  it('a decapsulation key overwritten in place with another key decapsulates with that key, not the Â its keygen expanded', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), fc.uint8Array({ minLength: 64, maxLength: 64 }), fc.uint8Array({ minLength: 32, maxLength: 32 }),
      (seed1, seed2, m) => {
        fc.pre(!eq(seed1.subarray(0, 32), seed2.subarray(0, 32)));
        const dk = keygen(seed1).secretKey; // the object whose Â is cached
        const other = keygen(seed2);
        dk.set(other.secretKey);
        const e = encapsulate(other.publicKey, m);
        // a stale Â re-encrypts to a different ciphertext, so the result would be the implicit rejection value
        expect(eq(decapsulate(e.cipherText, dk), e.sharedSecret)).to.equal(true);
      }), { numRuns: 10 });
  });

  it('extreme inputs decapsulate as noble does: all-0x00/0xff ciphertexts, and a dk_PKE whose every coefficient is ≥ q (taken mod q)', () => {
    const k = keygen(new Uint8Array(64).fill(9)), theirs = ml_kem768.keygen(new Uint8Array(64).fill(9));
    const odd = Uint8Array.from(k.secretKey);
    odd.fill(0xff, 0, 384 * 3); // ByteDecode_12 gives 4095 ≡ 766: §7.3 checks only H(ek), so this key is accepted
    for (const c of [new Uint8Array(1088), new Uint8Array(1088).fill(0xff), encapsulate(k.publicKey, new Uint8Array(32).fill(1)).cipherText]) {
      expect(eq(decapsulate(c, k.secretKey), ml_kem768.decapsulate(c, theirs.secretKey))).to.equal(true);
      expect(eq(decapsulate(c, odd), ml_kem768.decapsulate(c, Uint8Array.from(odd)))).to.equal(true);
    }
  });

  it('the §7.2 modulus check refuses any coefficient ≥ q, wherever it is', () => {
    const ek0 = keygen(new Uint8Array(64).fill(7)).publicKey;
    fc.assert(fc.property(fc.nat({ max: 3 * 256 - 1 }), fc.integer({ min: 3329, max: 4095 }), (i, v) => {
      const ek = Uint8Array.from(ek0);
      const p = (i >> 1) * 3; // ByteEncode_12: coefficients 2k, 2k+1 in bytes 3k..3k+2
      if (i & 1) { ek[p + 1] = (ek[p + 1]! & 0x0f) | ((v & 0x0f) << 4); ek[p + 2] = v >> 4; } else { ek[p] = v & 0xff; ek[p + 1] = (ek[p + 1]! & 0xf0) | (v >> 8); }
      expect(() => encapsulate(ek, new Uint8Array(32))).to.throw(MlKemError, /modulus check/);
      expect(() => ml_kem768.encapsulate(ek, new Uint8Array(32))).to.throw();
    }), { numRuns: 50 });
  });

  it('sizes are FIPS 203 Table 3', () => {
    const k = keygen(new Uint8Array(64));
    expect([k.publicKey.length, k.secretKey.length]).to.deep.equal([1184, 2400]);
    expect(encapsulate(k.publicKey, new Uint8Array(32)).cipherText.length).to.equal(ML_KEM_768.cipherTextLength).and.equal(1088);
  });

  it('rejects an encapsulation key with a coefficient ≥ q (§7.2 modulus check) and wrong lengths', () => {
    const ek = Uint8Array.from(keygen(new Uint8Array(64).fill(3)).publicKey);
    ek[0] = 0xff;
    ek[1] |= 0x0f; // first 12-bit coefficient = 4095 ≥ 3329
    expect(() => encapsulate(ek, new Uint8Array(32))).to.throw(MlKemError, /modulus check/);
    expect(() => ml_kem768.encapsulate(ek, new Uint8Array(32))).to.throw(); // the oracle agrees
    expect(() => encapsulate(ek.subarray(1), new Uint8Array(32))).to.throw(MlKemError, /1184 bytes/);
    expect(() => encapsulate(keygen(new Uint8Array(64)).publicKey, new Uint8Array(31))).to.throw(MlKemError, /32 bytes/);
    expect(() => keygen(new Uint8Array(63))).to.throw(MlKemError, /64 bytes/);
    const k = keygen(new Uint8Array(64).fill(5));
    const c = encapsulate(k.publicKey, new Uint8Array(32)).cipherText;
    expect(() => decapsulate(c.subarray(1), k.secretKey)).to.throw(MlKemError, /1088 bytes/);
    const dk = Uint8Array.from(k.secretKey);
    dk[768 * 3 + 40] ^= 1; // inside H(ek)
    expect(() => decapsulate(c, dk)).to.throw(MlKemError, /hash check/);
  });
});
