import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { KexError } from '../../errors.js';
import { bigintToBytes } from '../bytes.js';
import { seededRng, toHex } from '../test-util.js';
import { dhGexSha1, dhGexSha256, gexExponentBits } from './dh-gex.js';
import { builtinGexGroups, chooseGexGroup, loadModuli, parseModuli, serverGexGroup, type GexGroup } from './moduli.js';

const group = (bits: number, tag = 0): GexGroup => ({ bits, p: (1n << BigInt(bits - 1)) + 1n + BigInt(2 * tag), g: 2n });
const sizes = (gs: readonly (GexGroup | undefined)[]): (number | undefined)[] => gs.map((g) => g?.bits);

/** A real 2048-bit moduli line from OpenSSH's /etc/ssh/moduli (Debian bookworm). */
const LINE_2048 = '20220714110357 2 6 100 2047 2 E98F2A209BA9F4C8C1FFB02490E599A99FBE28F6A053E240A4BD5FEDE80B23FEA8A1476E9EF6605A4B4B41CC74CB945C7E168A91DB112424480A85CBF5853234B9B1F60F030D38F678BA80AE1461F716C463D7396151EB5F037CC88690FEEF8D16A1B67F56C11874DB5AA3D541BEFF390077C79C86434EDBC2B46821D2AE5D2FA4FFF1B086B07669B09498EA11B0FE26C773F79ACA044E085E0BA43BBE1EBE954AA1EC7A465A3232699E54958B1760AB7A04D9627EC1810970706C96B58BF84999EBED8846D8B384CB945BF782141B1BE2B7C0E04D531A2334DB41BBFD1BEA428C5FD22F50BABDBDFCC5B848F64CBA8D039636311F8D844DFFFBD77A429A9923';

describe('crypto/kex/dh-gex and moduli (RFC 4419, RFC 8270)', function () {
  this.timeout(30_000);

  describe('parseModuli (moduli(5))', () => {
    it('accepts a real safe-prime line: size field is bits - 1', () => {
      const { groups, rejected } = parseModuli(`# Time Type Tests Tries Size Generator Modulus\n\n${LINE_2048}\n`);
      expect(rejected).to.deep.equal([]);
      expect(groups.length).to.equal(1);
      expect(groups[0]!.bits).to.equal(2048);
      expect(groups[0]!.g).to.equal(2n);
      expect(groups[0]!.p.toString(2).length).to.equal(2048);
    });

    it('rejects non-safe, composite, untested, mis-sized and malformed lines, saying why', () => {
      const f = LINE_2048.split(' ');
      const variant = (i: number, v: string): string => f.map((x, j) => (j === i ? v : x)).join(' ');
      const text = [
        variant(1, '1'), // type: not a safe prime
        variant(2, '7'), // tests: composite bit set
        variant(2, '0'), // tests: nothing tested
        variant(4, '2048'), // size does not match the modulus
        variant(5, 'zz'), // generator not hex
        variant(6, 'E98F'), // modulus of the wrong size
        f.slice(0, 6).join(' '), // 6 fields
        variant(5, '1'), // generator 1
      ].join('\n');
      const { groups, rejected } = parseModuli(text);
      expect(groups).to.deep.equal([]);
      expect(rejected.map((r) => r.line)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(rejected[0]!.reason).to.match(/safe prime/);
      expect(rejected[3]!.reason).to.match(/wrong size/);
    });

    it('reads the host /etc/ssh/moduli when present: every line accepted, sizes 2048..8192', function () {
      if (!existsSync('/etc/ssh/moduli')) {
        if (process.env.CI === 'true') throw new Error('/etc/ssh/moduli is missing (openssh-server): run npm run setup');
        this.skip();
      }
      const { groups, rejected } = loadModuli('/etc/ssh/moduli');
      expect(rejected).to.deep.equal([]);
      expect(groups.length).to.be.greaterThan(100);
      const bits = new Set(groups.map((g) => g.bits));
      for (const b of [2048, 3072, 4096, 6144, 7680, 8192]) expect(bits.has(b), `${b}`).to.equal(true);
    });
  });

  describe('built-in groups', () => {
    it('are the RFC 3526 MODP primes 14..18 (and RFC 2409 group 2), generator 2, of their stated sizes', () => {
      expect(builtinGexGroups.map((g) => g.bits)).to.deep.equal([1024, 2048, 3072, 4096, 6144, 8192]);
      for (const g of builtinGexGroups) {
        expect(g.p.toString(2).length).to.equal(g.bits);
        expect(g.g).to.equal(2n);
        // RFC 3526 §1 / RFC 2409 §6: p = 2^b - 2^(b-64) - 1 + 2^64·(⌊2^(b-130)·π⌋ + k): both ends are all ones
        const hex = g.p.toString(16);
        expect(hex.slice(0, 24)).to.equal('ffffffffffffffffc90fdaa2');
        expect(hex.slice(-16)).to.equal('ffffffffffffffff');
      }
    });
  });

  describe('chooseGexGroup (OpenSSH choose_dh)', () => {
    const list = [group(2048), group(3072), group(3072, 1), group(4096), group(8192), group(1024)];

    it('takes the smallest size ≥ n within [min, max], else the largest that fits', () => {
      expect(sizes([
        chooseGexGroup(list, 2048, 3072, 8192),
        chooseGexGroup(list, 2048, 3000, 8192),
        chooseGexGroup(list, 2048, 5000, 8192),
        chooseGexGroup(list, 2048, 8192, 8192),
        chooseGexGroup(list, 2048, 7000, 6000),
        chooseGexGroup(list, 2048, 2048, 2048),
      ])).to.deep.equal([3072, 3072, 8192, 8192, undefined, 2048]);
      expect(chooseGexGroup(list, 2048, 5000, 6000)?.bits).to.equal(4096); // nothing ≥ n: the largest ≤ max
    });

    it('RFC 8270: never below 2048 bits unless legacy; requests are clamped to [2048, 8192] like OpenSSH', () => {
      expect(chooseGexGroup(list, 1024, 1024, 1024)).to.equal(undefined);
      expect(chooseGexGroup(list, 1024, 1024, 2048)?.bits).to.equal(2048);
      expect(chooseGexGroup(list, 1024, 1024, 1024, { legacy: true })?.bits).to.equal(1024);
      expect(chooseGexGroup(list, 2048, 16384, 16384)?.bits).to.equal(8192);
      expect(chooseGexGroup(list, 4096, 3072, 8192)).to.equal(undefined); // n < min: inconsistent (RFC 4419 §3)
    });

    it('picks among several groups of one size with the injected rng', () => {
      const seen = new Set<bigint>();
      const rng = seededRng('pick');
      for (let i = 0; i < 40; i++) seen.add(chooseGexGroup(list, 2048, 3072, 8192, { rng })!.p);
      expect(seen.size).to.equal(2);
      expect(chooseGexGroup(list, 2048, 3072, 8192)!.p).to.equal(list[1]!.p); // no rng: the first
    });

    it('serverGexGroup falls back to the built-in groups when the moduli have nothing suitable', () => {
      expect(serverGexGroup([], 2048, 3072, 8192)?.bits).to.equal(3072);
      expect(serverGexGroup([group(2048)], 4096, 4096, 8192)?.bits).to.equal(4096);
      expect(serverGexGroup([], 1024, 1024, 1024)).to.equal(undefined);
    });
  });

  describe('diffie-hellman-group-exchange-sha256 / -sha1', () => {
    it('facts: shape dh-gex, no fixed group, sha1 is legacy', () => {
      expect([dhGexSha256.shape, dhGexSha256.hash, dhGexSha256.legacy, dhGexSha256.group]).to.deep.equal(['dh-gex', 'sha256', false, undefined]);
      expect([dhGexSha1.shape, dhGexSha1.hash, dhGexSha1.legacy]).to.deep.equal(['dh-gex', 'sha1', true]);
      expect([2048, 3072, 4096, 8192, 1024].map(gexExponentBits)).to.deep.equal([512, 512, 1024, 1024, 320]);
    });

    for (const [label, grp] of [['RFC 3526 group 14', builtinGexGroups[1]!], ['a moduli(5) group', parseModuli(LINE_2048).groups[0]!]] as const) {
      it(`client and server agree on K over ${label}`, () => {
        const rng = seededRng(label);
        const c = dhGexSha256.clientStart(rng, grp);
        const s = dhGexSha256.serverRespond(rng, c.publicValue, grp);
        expect(toHex(c.finish(s.publicValue))).to.equal(toHex(s.sharedSecret));
      });
    }

    it('public values and K match plain BigInt arithmetic (e = g^x mod p, K = f^x mod p as mpint)', () => {
      const grp = parseModuli(LINE_2048).groups[0]!;
      const modpow = (b: bigint, x: bigint, m: bigint): bigint => {
        let r = 1n;
        for (b %= m; x > 0n; x >>= 1n, b = (b * b) % m) if (x & 1n) r = (r * b) % m;
        return r;
      };
      const big = (u: Uint8Array): bigint => BigInt('0x' + (toHex(u) || '0'));
      const rng = seededRng('bigint');
      const c = dhGexSha256.clientStart(rng, grp);
      const x = big(c.privateKey);
      expect(x.toString(2).length).to.equal(512);
      expect(big(c.publicValue)).to.equal(modpow(grp.g, x, grp.p));
      const s = dhGexSha256.serverRespond(rng, c.publicValue, grp);
      const k = modpow(big(s.publicValue), x, grp.p);
      const kHex = k.toString(16).padStart(2, '0');
      const body = (kHex.length % 2 ? '0' : '') + kHex;
      const mp = (parseInt(body.slice(0, 2), 16) & 0x80 ? '00' : '') + body;
      expect(toHex(c.finish(s.publicValue))).to.equal((mp.length / 2).toString(16).padStart(8, '0') + mp);
    });

    it('agrees over the 8192-bit group too (no primality test per connection)', () => {
      const grp = builtinGexGroups[5]!;
      const rng = seededRng('8192');
      const c = dhGexSha256.clientStart(rng, grp);
      const s = dhGexSha256.serverRespond(rng, c.publicValue, grp);
      expect(toHex(c.finish(s.publicValue))).to.equal(toHex(s.sharedSecret));
    });

    it('refuses e and f of 0, 1, p-1 and p (RFC 4419 §3), and a missing or broken group, with KexError', () => {
      const grp = builtinGexGroups[1]!;
      const rng = seededRng('bad');
      const c = dhGexSha256.clientStart(rng, grp);
      for (const v of [0n, 1n, grp.p - 1n, grp.p]) {
        const bytes = bigintToBytes(v);
        expect(() => dhGexSha256.serverRespond(rng, bytes, grp), `e=${v === grp.p ? 'p' : v}`).to.throw(KexError);
        expect(() => c.finish(bytes), `f=${v === grp.p ? 'p' : v}`).to.throw(KexError);
      }
      expect(() => dhGexSha256.clientStart(rng)).to.throw(KexError);
      expect(() => dhGexSha256.serverRespond(rng, c.publicValue)).to.throw(KexError);
      expect(() => dhGexSha256.clientStart(rng, { p: grp.p - 1n, g: 2n })).to.throw(KexError); // even modulus
      expect(() => dhGexSha256.clientStart(rng, { p: grp.p, g: 1n })).to.throw(KexError);
      expect(() => dhGexSha256.clientStart(rng, { p: (1n << 9000n) + 1n, g: 2n })).to.throw(KexError); // > 8192 bits
    });
  });
});
