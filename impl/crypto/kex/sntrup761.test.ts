import { expect } from 'chai';
import { createCipheriv, createHash } from 'node:crypto';
import { KexError } from '../../errors.js';
import { seededRng, toHex } from '../test-util.js';
import {
  __tests, CIPHERTEXT_BYTES, P, PUBLIC_KEY_BYTES, Q, SECRET_KEY_BYTES, sntrup761Decapsulate, sntrup761Encapsulate, sntrup761Keypair,
} from './sntrup761.js';
import { sntrup761x25519Sha512, sntrup761x25519Sha512Openssh } from './sntrup761x25519.js';

/** NIST's AES-256 CTR_DRBG randombytes from the PQC KAT generator (rng.c), for reproducing KAT files. */
class NistKatDrbg {
  private key = Buffer.alloc(32);
  private v = Buffer.alloc(16);
  constructor(entropy: Uint8Array) { this.update(entropy); }
  private block(): Buffer {
    for (let j = 15; j >= 0; j--) { if (this.v[j] === 0xff) this.v[j] = 0; else { this.v[j]!++; break; } }
    const c = createCipheriv('aes-256-ecb', this.key, null);
    c.setAutoPadding(false);
    return c.update(this.v);
  }
  private update(provided?: Uint8Array): void {
    const t = Buffer.concat([this.block(), this.block(), this.block()]);
    if (provided) for (let i = 0; i < 48; i++) t[i]! ^= provided[i]!;
    this.key = t.subarray(0, 32);
    this.v = Buffer.from(t.subarray(32, 48));
  }
  readonly randombytes = (n: number): Uint8Array => {
    const out = Buffer.alloc(n);
    for (let o = 0; o < n; o += 16) this.block().copy(out, o, 0, Math.min(16, n - o));
    this.update();
    return new Uint8Array(out);
  };
}

const HEX = (b: Uint8Array): string => toHex(b).toUpperCase();
const { freezeQSmall, freeze3Small, recip, multSmall, rqEncode, rqDecode, roundedEncode, roundedDecode, smallEncode, smallDecode, fq, f3 } = __tests;

function randomSmall(rng: (n: number) => Uint8Array): Int8Array {
  return Int8Array.from(rng(P), (b) => (b % 3) - 1);
}

describe('crypto/kex/sntrup761', function () {
  this.timeout(60_000);

  it('reproduces the NIST KAT (count 0): the KAT text hashes to the nistkat-sha256 PQClean publishes', () => {
    // PQClean crypto_kem/sntrup761/META.yml: nistkat-sha256 of the text its test/crypto_kem/nistkat.c prints
    const entropy = Uint8Array.from({ length: 48 }, (_, i) => i);
    const seed = new NistKatDrbg(entropy).randombytes(48);
    expect(HEX(seed)).to.equal('061550234D158C5EC95595FE04EF7A25767F2E24CC2BC479D09D86DC9ABCFDE7056A8C266F9EF97ED08541DBD2E1FFA1');
    const rng = new NistKatDrbg(seed).randombytes;
    const kp = sntrup761Keypair(rng);
    const enc = sntrup761Encapsulate(kp.publicKey, rng);
    const text = `count = 0\nseed = ${HEX(seed)}\npk = ${HEX(kp.publicKey)}\nsk = ${HEX(kp.secretKey)}\nct = ${HEX(enc.cipherText)}\nss = ${HEX(enc.sharedSecret)}\n`;
    expect(createHash('sha256').update(text).digest('hex')).to.equal('afc42c3a5b10f4ef69654250097ebda9b9564570f4086744b24a6daf2bd1f89a');
    expect(HEX(sntrup761Decapsulate(enc.cipherText, kp.secretKey))).to.equal(HEX(enc.sharedSecret));
  });

  it('the int32 reductions equal plain centred mod over their whole input range', () => {
    const bound = 2 * 2295 * 2295; // |f0·g - g0·f| for reduced f0, g0, f, g
    const xs = [0, 1, -1, 2295, 2296, -2295, -2296, bound, -bound, bound - 1, -bound + 1];
    const rng = seededRng('freeze');
    for (let i = 0; i < 20000; i++) xs.push(new DataView(rng(4).buffer).getInt32(0) % (bound + 1));
    for (let x = -20000; x <= 20000; x++) xs.push(x);
    expect(xs.filter((x) => freezeQSmall(x) !== fq(x))).to.deep.equal([]);
    const small: number[] = [];
    for (let x = -16383; x < 16384; x++) if (freeze3Small(x) !== f3(x)) small.push(x);
    expect(small).to.deep.equal([]);
  });

  it('encodings: sizes 1158 / 1007 / 191, and decode(encode(x)) = x', () => {
    const rng = seededRng('enc');
    for (let t = 0; t < 5; t++) {
      const words = new Uint32Array(rng(4 * P).buffer.slice(0));
      const h = Int32Array.from(words, (w) => (w % Q) - (Q - 1) / 2);
      const pk = rqEncode(h);
      expect(pk.length).to.equal(PUBLIC_KEY_BYTES);
      expect(Array.from(rqDecode(pk))).to.deep.equal(Array.from(h));
      const rounded = Int32Array.from(h, (x) => x - f3(x));
      const c = roundedEncode(h);
      expect(c.length).to.equal(CIPHERTEXT_BYTES - 32);
      expect(Array.from(roundedDecode(c))).to.deep.equal(Array.from(rounded));
      const s = randomSmall(rng);
      expect(smallEncode(s).length).to.equal(191);
      expect(Array.from(smallDecode(smallEncode(s)))).to.deep.equal(Array.from(s));
    }
  });

  it('reciprocals: a · (1/a) = 1 in R/3, and 3a · (1/(3a)) = 1 in R/q; a non-invertible input gives null', () => {
    const rng = seededRng('recip');
    const one = (n: Int32Array): boolean => n[0] === 1 && n.subarray(1).every((x) => x === 0);
    for (let t = 0; t < 3; t++) {
      const a = randomSmall(rng);
      const inv3 = recip(a, 3, 1);
      if (inv3) expect(one(multSmall(inv3, a, f3))).to.equal(true);
      const invq = recip(a, Q, 1);
      expect(invq).to.not.equal(null); // x^p - x - 1 is irreducible mod q: every nonzero a is a unit
      expect(one(multSmall(invq!, a, fq))).to.equal(true);
      const inv3a = recip(a, Q, recipOf3())!;
      expect(one(Int32Array.from(multSmall(inv3a, a, fq), (x) => fq(3 * x)))).to.equal(true);
    }
    // x^p - x - 1 ≡ 0, so the polynomial 0 (and any multiple of a non-unit) has no inverse
    expect(recip(new Int8Array(P), 3, 1)).to.equal(null);
    expect(recip(new Int8Array(P), Q, 1)).to.equal(null);
  });

  it('decapsulation of a tampered ciphertext does not throw and yields the implicit-rejection key', () => {
    const rng = seededRng('reject');
    const kp = sntrup761Keypair(rng);
    const enc = sntrup761Encapsulate(kp.publicKey, rng);
    for (const at of [0, 500, CIPHERTEXT_BYTES - 1]) {
      const bad = enc.cipherText.slice();
      bad[at]! ^= 0x01;
      const k1 = sntrup761Decapsulate(bad, kp.secretKey);
      expect(toHex(k1)).to.not.equal(toHex(enc.sharedSecret));
      expect(toHex(sntrup761Decapsulate(bad, kp.secretKey)), 'deterministic').to.equal(toHex(k1));
    }
  });

  it('refuses wrong-size keys and ciphertexts', () => {
    const rng = seededRng('sizes');
    const kp = sntrup761Keypair(rng);
    expect(kp.secretKey.length).to.equal(SECRET_KEY_BYTES);
    expect(() => sntrup761Encapsulate(kp.publicKey.subarray(1), rng)).to.throw(RangeError);
    expect(() => sntrup761Decapsulate(new Uint8Array(CIPHERTEXT_BYTES - 1), kp.secretKey)).to.throw(RangeError);
    expect(() => sntrup761Decapsulate(new Uint8Array(CIPHERTEXT_BYTES), kp.secretKey.subarray(1))).to.throw(RangeError);
  });

  describe('sntrup761x25519-sha512 (draft-josefsson-ntruprime-ssh)', () => {
    for (const alg of [sntrup761x25519Sha512, sntrup761x25519Sha512Openssh]) {
      it(`${alg.name}: both sides agree on K = string(SHA-512(...)); Q_C 1190 bytes, Q_S 1071`, () => {
        expect([alg.hash, alg.shape, alg.legacy]).to.deep.equal(['sha512', 'ecdh', false]);
        const rng = seededRng(alg.name);
        const client = alg.clientStart(rng);
        expect(client.publicValue.length).to.equal(1190);
        const server = alg.serverRespond(rng, client.publicValue);
        expect(server.publicValue.length).to.equal(1071);
        const k = client.finish(server.publicValue);
        expect(toHex(k)).to.equal(toHex(server.sharedSecret));
        expect(k.length).to.equal(4 + 64);
        expect(new DataView(k.buffer, k.byteOffset).getUint32(0)).to.equal(64);
      });
    }

    it('rejects wrong-length public values and a zero X25519 point with KexError', () => {
      const alg = sntrup761x25519Sha512;
      const rng = seededRng('bad');
      const client = alg.clientStart(rng);
      expect(() => alg.serverRespond(rng, client.publicValue.subarray(0, 1189))).to.throw(KexError);
      expect(() => alg.serverRespond(rng, new Uint8Array(1191))).to.throw(KexError);
      expect(() => alg.serverRespond(rng, new Uint8Array(1190))).to.throw(KexError); // all-zero X25519 half
      const server = alg.serverRespond(rng, client.publicValue);
      expect(() => client.finish(server.publicValue.subarray(0, 1070))).to.throw(KexError);
      expect(() => client.finish(new Uint8Array(1072))).to.throw(KexError);
      const zeroX = server.publicValue.slice();
      zeroX.fill(0, CIPHERTEXT_BYTES);
      expect(() => client.finish(zeroX)).to.throw(KexError);
    });

    it('a tampered ciphertext gives the client a different K (the host key signature then fails the kex)', () => {
      const alg = sntrup761x25519Sha512;
      const rng = seededRng('tamper');
      const client = alg.clientStart(rng);
      const server = alg.serverRespond(rng, client.publicValue);
      const bad = server.publicValue.slice();
      bad[10]! ^= 0x80;
      expect(toHex(client.finish(bad))).to.not.equal(toHex(server.sharedSecret));
    });
  });
});

function recipOf3(): number {
  // 3 · 1531 = 4593 ≡ 2 (mod 4591), so 1/3 = 1531 · (1/2) = 1531 · 2296 mod q
  return (1531 * 2296) % Q;
}
