import { expect } from 'chai';
import { MacError } from '../../errors.js';
import { makeOpener, makeSealer } from '../protect.js';
import { cipherAlgorithms } from '../registry.js';
import { buildPacket, seededRng, toHex } from '../test-util.js';
import { poly64Step, Umac, umacKdf } from './umac-hash.js';
import { nhKernel } from './umac-nh.js';
import { umac128, umac128Etm, umac64, umac64Etm } from './umac.js';

const K = Buffer.from('abcdefghijklmnop');
const N = Buffer.from('bcdefghi');
const rep = (s: string, n: number): Uint8Array => new Uint8Array(Buffer.from(s.repeat(n)));
const tagHex = (tagLen: 4 | 8 | 12 | 16, msg: Uint8Array, kernel: 'simd' | 'js' = 'simd'): string =>
  toHex(new Umac(K, tagLen, kernel).tag(N, [msg])).toUpperCase();

/**
 * RFC 4418 Appendix, "Test Vectors": K = "abcdefghijklmnop", Nonce = "bcdefghi"; 32-, 64- and 96-bit tags.
 * The 'a' * 2^25 row is the corrected one of RFC 4418 erratum 3507 (the published row is wrong).
 * 128-bit tags are not in the RFC: these are the ones nettle's testsuite checks (their first 12 bytes are the
 * 96-bit tag: same UHASH iterations, same pad block).
 */
const vectors: readonly { name: string; msg: () => Uint8Array; t32: string; t64: string; t96: string; t128: string; slow?: true }[] = [
  { name: '<empty>', msg: () => new Uint8Array(0), t32: '113145FB', t64: '6E155FAD26900BE1', t96: '32FEDB100C79AD58F07FF764', t128: '32FEDB100C79AD58F07FF7643CC60465' },
  { name: "'a' * 3", msg: () => rep('a', 3), t32: '3B91D102', t64: '44B5CB542F220104', t96: '185E4FE905CBA7BD85E4C2DC', t128: '185E4FE905CBA7BD85E4C2DC3D117D8D' },
  { name: "'a' * 2^10", msg: () => rep('a', 1 << 10), t32: '599B350B', t64: '26BF2F5D60118BD9', t96: '7A54ABE04AF82D60FB298C3C', t128: '7A54ABE04AF82D60FB298C3CBD195BCB' },
  { name: "'a' * 2^15", msg: () => rep('a', 1 << 15), t32: '58DCF532', t64: '27F8EF643B0D118D', t96: '7B136BD911E4B734286EF2BE', t128: '7B136BD911E4B734286EF2BE501F2C3C' },
  { name: "'a' * 2^20", msg: () => rep('a', 1 << 20), t32: 'DB6364D1', t64: 'A4477E87E9F55853', t96: 'F8ACFA3AC31CFEEA047F7B11', t128: 'F8ACFA3AC31CFEEA047F7B115B03BEF5' },
  { name: "'a' * 2^25 (erratum 3507)", msg: () => rep('a', 1 << 25), t32: '85EE5CAE', t64: 'FACA46F856E9B45F', t96: 'A621C2457C0012E64F3FDAE9', t128: 'A621C2457C0012E64F3FDAE9E7E1870C', slow: true },
  { name: "'abc' * 1", msg: () => rep('abc', 1), t32: 'ABF3A3A0', t64: 'D4D7B9F6BD4FBFCF', t96: '883C3D4B97A61976FFCF2323', t128: '883C3D4B97A61976FFCF232308CBA5A5' },
  { name: "'abc' * 500", msg: () => rep('abc', 500), t32: 'ABEB3C8B', t64: 'D4CF26DDEFD5C01A', t96: '8824A260C53C66A36C9260A6', t128: '8824A260C53C66A36C9260A62CB83AA1' },
];

const P64 = (1n << 64n) - 59n;
const limbs = (v: bigint): Float64Array => Float64Array.of(...[0n, 16n, 32n, 48n].map((s) => Number((v >> s) & 0xffffn)));
const fromLimbs = (y: Float64Array): bigint => y.reduce((acc, l, i) => acc + (BigInt(l) << BigInt(16 * i)), 0n);

describe('crypto/mac/umac', function () {
  this.timeout(30_000);

  describe('RFC 4418 Appendix test vectors', () => {
    for (const v of vectors) {
      it(`${v.name}: ${v.slow ? '64/128-bit tags (32 MiB: the 128-bit L2 stage)' : '32/64/96/128-bit tags'}`, () => {
        const msg = v.msg();
        // the 32 MiB row runs the 8- and 16-byte tags only; the 16-byte one also yields the 96-bit prefix
        if (!v.slow) {
          expect(tagHex(4, msg), 'UMAC-32').to.equal(v.t32);
          expect(tagHex(12, msg), 'UMAC-96').to.equal(v.t96);
        }
        expect(tagHex(8, msg), 'UMAC-64').to.equal(v.t64);
        const t128 = tagHex(16, msg);
        expect(t128, 'UMAC-128').to.equal(v.t128);
        expect(t128.slice(0, 24)).to.equal(v.t96);
      });
    }

    it('the portable NH kernel gives the same vectors', () => {
      for (const v of vectors.filter((x) => !x.slow)) {
        const msg = v.msg();
        expect([tagHex(4, msg, 'js'), tagHex(8, msg, 'js'), tagHex(12, msg, 'js'), tagHex(16, msg, 'js')], v.name)
          .to.deep.equal([v.t32, v.t64, v.t96, v.t128]);
      }
    });
  });

  it('KDF (§3.2.1) is AES-128 of uint64 index || uint64 counter, truncated', () => {
    const a = umacKdf(K, 1, 40);
    expect(a.length).to.equal(40);
    expect(toHex(umacKdf(K, 1, 16))).to.equal(toHex(a.subarray(0, 16)));
    expect(toHex(umacKdf(K, 2, 16))).to.not.equal(toHex(a.subarray(0, 16)));
  });

  it('SIMD and portable NH kernels agree on every length around the 32-byte and 1 KiB boundaries', () => {
    const rng = seededRng('nh');
    const lengths = [...Array.from({ length: 70 }, (_, i) => i), 1023, 1024, 1025, 2047, 2048, 2049, 32 * 1024, 32 * 1024 + 5, 256 * 1024, 256 * 1024 + 100];
    for (const iters of [1, 2, 3, 4]) {
      const key = new Uint32Array(rng(4 * (256 + 4 * (iters - 1))).buffer.slice(0));
      const simd = nhKernel(iters, key, 'simd');
      const js = nhKernel(iters, key, 'js');
      for (const len of lengths.filter((l) => l <= 256 * 1024)) {
        const msg = rng(len);
        simd.message(len).set(msg);
        js.message(len).set(msg);
        simd.run(len);
        js.run(len);
        const n = 2 * iters * Math.max(1, Math.ceil(len / 1024));
        expect(Array.from(simd.results().subarray(0, n)), `iters ${iters} len ${len}`).to.deep.equal(Array.from(js.results().subarray(0, n)));
      }
    }
  });

  it('whole tags agree between kernels, including messages fed in several parts and over 256 KiB', () => {
    const rng = seededRng('tags');
    for (const tagLen of [8, 16] as const) {
      const key = rng(16);
      const a = new Umac(key, tagLen, 'simd'), b = new Umac(key, tagLen, 'js');
      for (const len of [0, 1, 31, 32, 33, 1000, 1024, 1025, 5000, 300 * 1024 + 7]) {
        const msg = rng(len);
        const nonce = rng(8);
        const whole = toHex(a.tag(nonce, [msg]));
        expect(toHex(b.tag(nonce, [msg])), `len ${len}`).to.equal(whole);
        const cut = Math.floor(len / 3);
        expect(toHex(a.tag(nonce, [msg.subarray(0, cut), new Uint8Array(0), msg.subarray(cut)])), `parts, len ${len}`).to.equal(whole);
      }
    }
  });

  it('POLY over 2^64 - 59 (§5.3) matches BigInt arithmetic, including values next to p and 2^64', () => {
    const rng = seededRng('poly');
    const big = (b: Uint8Array): bigint => BigInt('0x' + toHex(b));
    const edge = [0n, 1n, P64 - 1n, P64 - 2n, (1n << 64n) - (1n << 32n) - 1n, (1n << 63n)];
    for (let i = 0; i < 300; i++) {
      const k = i < 36 ? [0n, 0x01ffffff01ffffffn, 1n, 0x0100000001000000n, 0x01ffffff01ffffffn, 7n][i % 6]! : big(rng(8)) & 0x01ffffff01ffffffn;
      const y = i < 36 ? edge[Math.floor(i / 6)]! : big(rng(8)) % P64;
      const m = i % 2 === 0 ? big(rng(8)) : (1n << 64n) - (1n << 32n) - 1n - BigInt(i);
      const ys = limbs(y);
      poly64Step(limbs(k), ys, 0, Number(m >> 48n), Number((m >> 32n) & 0xffffn), Number((m >> 16n) & 0xffffn), Number(m & 0xffffn));
      expect(fromLimbs(ys), `k=${k} y=${y} m=${m}`).to.equal((k * y + m) % P64);
    }
  });

  describe('OpenSSH MAC objects', () => {
    it('have the wire facts: 16-byte keys, 8/16-byte tags, EtM flags', () => {
      expect([umac64, umac128, umac64Etm, umac128Etm].map((m) => [m.name, m.keyLen, m.macLen, m.etm, m.legacy])).to.deep.equal([
        ['umac-64@openssh.com', 16, 8, false, false], ['umac-128@openssh.com', 16, 16, false, false],
        ['umac-64-etm@openssh.com', 16, 8, true, false], ['umac-128-etm@openssh.com', 16, 16, true, false],
      ]);
    });

    it('use the sequence number as the big-endian uint64 nonce, and not as MAC input', () => {
      const rng = seededRng('nonce');
      const key = rng(16);
      const data = rng(300);
      for (const [mac, tagLen] of [[umac64, 8], [umac128, 16]] as const) {
        const f = mac.create(key);
        for (const seq of [0, 1, 2, 0x7fffffff, 0x80000000, 0xffffffff]) {
          const nonce = new Uint8Array(8);
          new DataView(nonce.buffer).setUint32(4, seq);
          expect(toHex(f(seq, data.subarray(0, 7), data.subarray(7))), `${mac.name} seq ${seq}`).to.equal(toHex(new Umac(key, tagLen).tag(nonce, [data])));
        }
        // consecutive nonces 2k, 2k+1 share a PDF block for 8-byte tags (the cache must not leak across them)
        expect(toHex(f(10, data))).to.not.equal(toHex(f(11, data)));
        expect(toHex(f(10, data))).to.equal(toHex(mac.create(key)(10, data)));
      }
    });

    it('refuse keys of the wrong length', () => {
      expect(() => umac64.create(new Uint8Array(15))).to.throw(RangeError);
      expect(() => umac128Etm.create(new Uint8Array(32))).to.throw(RangeError);
    });

    for (const mac of [umac64, umac128, umac64Etm, umac128Etm]) {
      it(`${mac.name} with aes128-ctr: seal → open, and a flipped tag bit is a MacError`, () => {
        const cipher = cipherAlgorithms.get('aes128-ctr')!;
        const rng = seededRng(mac.name);
        const keys = { encKey: rng(16), iv: rng(16), macKey: rng(16) };
        const s = makeSealer(cipher, mac, keys), o = makeOpener(cipher, mac, keys);
        expect(s.macLen).to.equal(mac.macLen);
        let seq = 0xfffffffe;
        for (const n of [0, 17, 1500, 32 * 1024]) {
          const packet = buildPacket(rng(n), s.blockSize, s.lengthExcluded);
          const plain = packet.slice();
          const wire = s.seal(seq, packet);
          const len = o.packetLength(seq, wire.subarray(0, o.headerLen));
          expect(4 + len + o.macLen).to.equal(wire.length);
          expect(toHex(o.open(seq, wire))).to.equal(toHex(plain.subarray(4)));
          seq = (seq + 1) >>> 0;
        }
        const packet = buildPacket(rng(64), s.blockSize, s.lengthExcluded);
        const wire = s.seal(seq, packet);
        wire[wire.length - 1]! ^= 1;
        o.packetLength(seq, wire.subarray(0, o.headerLen));
        expect(() => o.open(seq, wire)).to.throw(MacError);
      });
    }
  });
});
