import { expect } from 'chai';
import { createHmac } from 'node:crypto';
import { gcm as nobleGcm } from '@noble/ciphers/aes.js';
import { poly1305 as noblePoly1305 } from '@noble/ciphers/_poly1305.js';
import { chacha20orig } from '@noble/ciphers/chacha.js';
import { MacError } from '../errors.js';
import { makeOpener, makeSealer } from '../crypto/protect.js';
import { cipherAlgorithms, macAlgorithms } from '../crypto/registry.js';
import { buildPacket, seededRng, toHex } from '../crypto/test-util.js';
import type { CipherAlgorithm, DirectionKeys, MacAlgorithm, Opener, Sealer } from '../crypto/types.js';
import { nativeBinding } from './binding.js';
import { nativeOpener, nativeSealer, nativeStatus } from './index.js';

/** Runs `fn` with SSH_HARNESS_NO_NATIVE set or cleared, restoring the caller's value. */
function withNoNative<T>(on: boolean, fn: () => T): T {
  const before = process.env.SSH_HARNESS_NO_NATIVE;
  if (on) process.env.SSH_HARNESS_NO_NATIVE = '1';
  else delete process.env.SSH_HARNESS_NO_NATIVE;
  try {
    return fn();
  } finally {
    if (before === undefined) delete process.env.SSH_HARNESS_NO_NATIVE;
    else process.env.SSH_HARNESS_NO_NATIVE = before;
  }
}

interface Side { sealer(c: CipherAlgorithm, m: MacAlgorithm | null, k: DirectionKeys): Sealer; opener(c: CipherAlgorithm, m: MacAlgorithm | null, k: DirectionKeys): Opener }
/** impl/crypto's node:crypto path, even once protect.ts itself prefers the addon. */
const pure: Side = {
  sealer: (c, m, k) => withNoNative(true, () => makeSealer(c, m, k)),
  opener: (c, m, k) => withNoNative(true, () => makeOpener(c, m, k)),
};
const native: Side = {
  sealer: (c, m, k) => withNoNative(false, () => nativeSealer(c, m, k)) ?? expect.fail(`no native sealer for ${c.name}`),
  opener: (c, m, k) => withNoNative(false, () => nativeOpener(c, m, k)) ?? expect.fail(`no native opener for ${c.name}`),
};

const u32 = (n: number): Uint8Array => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n >>> 0); return b; };
const cat = (...p: Uint8Array[]): Uint8Array => { const o = new Uint8Array(p.reduce((n, x) => n + x.length, 0)); let i = 0; for (const x of p) { o.set(x, i); i += x.length; } return o; };

function keysFor(c: CipherAlgorithm, m: MacAlgorithm | null, seed: string): DirectionKeys {
  const rng = seededRng(seed);
  return { encKey: rng(c.keyLen), iv: rng(c.ivLen), macKey: rng(m?.keyLen ?? 0) };
}

/** What the engine's PacketReader does: header, packet_length, then exactly 4 + length + macLen bytes. */
function receive(o: Opener, seq: number, wire: Uint8Array): Uint8Array {
  const len = o.packetLength(seq, wire.subarray(0, o.headerLen));
  expect(4 + len + o.macLen, 'packet_length').to.equal(wire.length);
  return o.open(seq, wire);
}

const addon = () => withNoNative(false, nativeBinding) ?? expect.fail('native addon not loaded');
const cipher = (name: string): CipherAlgorithm => cipherAlgorithms.get(name) ?? expect.fail(`no cipher ${name}`);
const mac = (name: string): MacAlgorithm => macAlgorithms.get(name) ?? expect.fail(`no MAC ${name}`);
/** Everything the addon covers. */
const covered: [CipherAlgorithm, MacAlgorithm | null][] = [
  [cipher('aes128-gcm@openssh.com'), null],
  [cipher('aes256-gcm@openssh.com'), null],
  [cipher('chacha20-poly1305@openssh.com'), null],
  ...['aes128-ctr', 'aes192-ctr', 'aes256-ctr'].flatMap((c) =>
    ['hmac-sha2-256', 'hmac-sha2-512', 'hmac-sha1', 'hmac-sha1-96'].flatMap((m): [CipherAlgorithm, MacAlgorithm][] => [
      [cipher(c), mac(m)], [cipher(c), mac(`${m}-etm@openssh.com`)],
    ])),
];
const label = (c: CipherAlgorithm, m: MacAlgorithm | null): string => (m ? `${c.name} + ${m.name}` : c.name);
/** 0..64 byte payloads, odd sizes around blocks, and 32 KiB+ (the bulk-transfer size). */
const payloadSizes = [...Array.from({ length: 65 }, (_, i) => i), 255, 4093, 32768, 32768 + 13, 65536 + 7, 256 * 1024];

describe('impl/native', () => {
  before(function () {
    // these tests pick each path explicitly, so they run even when the suite runs with SSH_HARNESS_NO_NATIVE=1
    const status = withNoNative(false, nativeStatus);
    if (status.loaded) return;
    // CI builds the addon at install (the machine has a compiler): a missing addon there is a failure
    if (process.env.CI === 'true') expect.fail(`native addon not loaded in CI: ${status.detail}`);
    this.skip();
  });

  it('SSH_HARNESS_NO_NATIVE=1 forces the pure path; the addon uses the OpenSSL inside node', () => {
    const [c, m] = covered[0]!;
    expect(withNoNative(true, () => nativeSealer(c, m, keysFor(c, m, 'env')))).to.equal(null);
    expect(withNoNative(true, () => nativeOpener(c, m, keysFor(c, m, 'env')))).to.equal(null);
    expect(withNoNative(true, () => nativeStatus().loaded)).to.equal(false);
    expect(addon().opensslVersion()).to.contain(process.versions.openssl);
  });

  describe('native ⇄ pure: byte-identical wire, each opens the other, in place too (payload 0..64 B, 32 KiB+, seq across 2^32)', () => {
    for (const [c, m] of covered) {
      it(label(c, m), () => {
        const keys = keysFor(c, m, label(c, m));
        const ns = native.sealer(c, m, keys), ps = pure.sealer(c, m, keys);
        const no = native.opener(c, m, keys), po = pure.opener(c, m, keys);
        const nsInPlace = withNoNative(false, () => nativeSealer(c, m, keys)!), noInPlace = withNoNative(false, () => nativeOpener(c, m, keys)!);
        for (const k of ['blockSize', 'lengthExcluded', 'macLen'] as const) {
          expect(ns[k], k).to.equal(ps[k]);
          expect(no[k], k).to.equal(po[k]);
        }
        expect(no.headerLen).to.equal(po.headerLen);
        const rng = seededRng('payloads');
        let seq = 0xffffffff - 30; // RFC 4253 §6.4: the sequence number wraps at 2^32 (chacha nonce, MAC input)
        for (const n of payloadSizes) {
          const packet = buildPacket(rng(n), ns.blockSize, ns.lengthExcluded);
          const plain = toHex(packet.subarray(4));
          const fromNative = ns.seal(seq, packet.slice());
          const fromPure = ps.seal(seq, packet.slice());
          expect(toHex(fromNative), `${n}-byte payload, seq ${seq}`).to.equal(toHex(fromPure));
          expect(toHex(receive(po, seq, fromNative)), 'pure opens native').to.equal(plain);
          expect(toHex(receive(no, seq, fromPure)), 'native opens pure').to.equal(plain);
          const buf = new Uint8Array(packet.length + ns.macLen);
          buf.set(packet);
          const inPlace = nsInPlace.sealInPlace(seq, buf, packet.length);
          expect(inPlace.buffer, 'sealed in place').to.equal(buf.buffer);
          expect(toHex(inPlace), 'sealInPlace').to.equal(toHex(fromPure));
          noInPlace.packetLength(seq, inPlace.subarray(0, noInPlace.headerLen));
          const body = noInPlace.openInPlace(seq, inPlace);
          expect(body.buffer, 'opened in place').to.equal(buf.buffer);
          expect(toHex(body), 'openInPlace').to.equal(plain);
          seq = (seq + 1) >>> 0;
        }
        expect(seq, 'crossed the wrap').to.be.lessThan(100);
      });
    }
  });

  describe('openSplit: a packet in two pieces (spanning two socket reads) opens like the joined wire', () => {
    for (const [c, m] of covered) {
      it(label(c, m), () => {
        const keys = keysFor(c, m, `split ${label(c, m)}`);
        const rng = seededRng('split');
        for (const n of [0, 1, 31, 4093, 32768 + 13]) {
          const seq = 0xfffffffe + n; // across the 2^32 wrap
          // fresh sealer and openers per packet: GCM's invocation counter and CTR's keystream run across packets
          const s = pure.sealer(c, m, keys);
          const packet = buildPacket(rng(n), s.blockSize, s.lengthExcluded);
          const wire = Uint8Array.from(s.seal(seq >>> 0, packet.slice())); // not a Buffer: its slice() would be a view
          const plain = toHex(packet.subarray(4));
          const macStart = wire.length - s.macLen;
          for (const at of new Set([1, 3, 4, 5, 16, 17, wire.length >> 1, macStart - 1, macStart, macStart + 1, wire.length - 1])) {
            if (at <= 0 || at >= wire.length) continue;
            const o = withNoNative(false, () => nativeOpener(c, m, keys)!);
            const a = wire.slice(0, at), b = wire.slice(at);
            const [aHex, bHex] = [toHex(a), toHex(b)];
            o.packetLength(seq >>> 0, wire.subarray(0, o.headerLen));
            expect(toHex(o.openSplit(seq >>> 0, a, b)), `${n}-byte payload split at ${at}`).to.equal(plain);
            expect([toHex(a), toHex(b)], 'pieces untouched').to.deep.equal([aHex, bHex]);
            const bad = wire.slice();
            bad[at - 1]! ^= 0x10;
            const o2 = withNoNative(false, () => nativeOpener(c, m, keys)!);
            o2.packetLength(seq >>> 0, bad.subarray(0, o2.headerLen));
            expect(() => o2.openSplit(seq >>> 0, bad.subarray(0, at), bad.subarray(at)), `flipped byte ${at - 1}`).to.throw(MacError);
          }
        }
        const o = withNoNative(false, () => nativeOpener(c, m, keys)!);
        expect(() => o.openSplit(0, new Uint8Array(3), new Uint8Array(4)), 'shorter than a tag').to.throw(MacError);
      });
    }
  });

  describe('any flipped bit, wrong seq, truncation or junk → MacError, native and pure alike', () => {
    for (const [c, m] of covered) {
      for (const [pathName, side] of [['native', native], ['pure', pure]] as const) {
        it(`${label(c, m)} (${pathName})`, () => {
          const keys = keysFor(c, m, 'flip');
          const s = side.sealer(c, m, keys);
          const rng = seededRng(`flip ${pathName}`);
          const wire = s.seal(7, buildPacket(rng(40), s.blockSize, s.lengthExcluded));
          const positions = new Set([0, 3, 4, 5, 20, wire.length - s.macLen - 1, wire.length - s.macLen, wire.length - 1]);
          for (const at of positions) {
            for (const bit of [0x01, 0x80]) {
              const bad = wire.slice();
              bad[at]! ^= bit;
              const o = side.opener(c, m, keys);
              o.packetLength(7, bad.subarray(0, o.headerLen));
              expect(() => o.open(7, bad), `byte ${at} bit ${bit}`).to.throw(MacError);
            }
          }
          const o = side.opener(c, m, keys);
          o.packetLength(8, wire.subarray(0, o.headerLen));
          expect(() => o.open(8, wire), 'wrong sequence number').to.throw(MacError);
          for (const cut of [1, 15, wire.length - 4, wire.length]) {
            const o2 = side.opener(c, m, keys);
            const short = wire.subarray(0, wire.length - cut);
            if (short.length >= o2.headerLen) o2.packetLength(7, short.subarray(0, o2.headerLen));
            expect(() => o2.open(7, short), `cut ${cut}`).to.throw(MacError);
          }
          for (let i = 0; i < 20; i++) {
            const o3 = side.opener(c, m, keys);
            const junk = rng(wire.length);
            o3.packetLength(7, junk.subarray(0, o3.headerLen));
            expect(() => o3.open(7, junk)).to.throw(MacError);
          }
        });
      }
    }

    it('openInPlace: flipped bits and short wires are MacErrors too', () => {
      for (const [c, m] of covered) {
        const keys = keysFor(c, m, 'flip in place');
        const wire = native.sealer(c, m, keys).seal(3, buildPacket(new Uint8Array(33), c.aead ? c.blockSize : 16, c.aead || (m?.etm ?? false)));
        for (const at of [0, 4, wire.length - 1]) {
          const bad = wire.slice();
          bad[at]! ^= 0x04;
          const o = withNoNative(false, () => nativeOpener(c, m, keys)!);
          o.packetLength(3, bad.subarray(0, o.headerLen));
          expect(() => o.openInPlace(3, bad), `${label(c, m)} byte ${at}`).to.throw(MacError);
        }
        expect(() => withNoNative(false, () => nativeOpener(c, m, keys)!).openInPlace(3, wire.subarray(0, 10)), `${label(c, m)} short`).to.throw(MacError);
      }
    });

    it('MtE: open without packetLength first is a MacError, not a desynchronised decrypt', () => {
      const c = cipher('aes128-ctr'), m = mac('hmac-sha2-256');
      const keys = keysFor(c, m, 'mte');
      const wire = native.sealer(c, m, keys).seal(0, buildPacket(new Uint8Array(10), 16, false));
      expect(() => native.opener(c, m, keys).open(0, wire)).to.throw(MacError);
    });
  });

  describe('known answers from an independent implementation (@noble)', () => {
    it('aes128-gcm@openssh.com: nonce fixed || counter, the 64-bit counter wraps without touching the fixed field', () => {
      const c = cipher('aes128-gcm@openssh.com');
      const keys = keysFor(c, null, 'gcm-kat');
      const iv = keys.iv.slice();
      iv.fill(0xff, 4, 12);
      iv[11] = 0xfe;
      const s = native.sealer(c, null, { ...keys, iv });
      const nonces = [iv.slice(), cat(iv.subarray(0, 4), new Uint8Array(7).fill(0xff), new Uint8Array([0xff])), cat(iv.subarray(0, 4), new Uint8Array(8))];
      for (const [i, nonce] of nonces.entries()) {
        const packet = buildPacket(seededRng(`gcm ${i}`)(100 * i), 16, true);
        const expected = cat(packet.subarray(0, 4), nobleGcm(keys.encKey, nonce, packet.subarray(0, 4)).encrypt(packet.subarray(4)));
        expect(toHex(s.seal(0, packet)), `packet ${i}`).to.equal(toHex(expected));
      }
    });

    it('chacha20-poly1305@openssh.com: K_1 length, Poly1305 key from K_2 block 0, payload from block 1', () => {
      const c = cipher('chacha20-poly1305@openssh.com');
      const keys = keysFor(c, null, 'chacha-kat');
      const k2 = keys.encKey.subarray(0, 32), k1 = keys.encKey.subarray(32, 64);
      const s = native.sealer(c, null, keys);
      for (const seq of [0, 1, 0x01020304, 0xffffffff]) {
        const nonce = cat(u32(0), u32(seq));
        const packet = buildPacket(seededRng(`chacha ${seq}`)(seq % 300), 8, true);
        const encLen = chacha20orig(k1, nonce, packet.subarray(0, 4), undefined, 0);
        const polyKey = chacha20orig(k2, nonce, new Uint8Array(32), undefined, 0);
        const ct = chacha20orig(k2, nonce, packet.subarray(4), undefined, 1);
        expect(toHex(s.seal(seq, packet))).to.equal(toHex(cat(encLen, ct, noblePoly1305(cat(encLen, ct), polyKey))));
      }
    });
  });

  describe('when the pure path must decide', () => {
    it('returns null for algorithms it does not cover, look-alikes and short key material', () => {
      withNoNative(false, () => {
        const cbc = cipher('aes128-cbc'), ctr = cipher('aes128-ctr'), gcm = cipher('aes128-gcm@openssh.com');
        expect(nativeSealer(cbc, mac('hmac-sha2-256'), keysFor(cbc, mac('hmac-sha2-256'), 'x'))).to.equal(null);
        expect(nativeSealer(ctr, mac('hmac-md5'), keysFor(ctr, mac('hmac-md5'), 'x'))).to.equal(null);
        expect(nativeSealer(ctr, null, keysFor(ctr, null, 'x')), 'non-AEAD without a MAC').to.equal(null);
        expect(nativeSealer({ ...gcm, keyLen: 24 }, null, keysFor(gcm, null, 'x')), 'look-alike').to.equal(null);
        expect(nativeSealer({ ...gcm }, null, keysFor(gcm, null, 'x')), 'a copy of the registered object').to.equal(null);
        const hm = mac('hmac-sha2-256');
        expect(nativeOpener(ctr, { ...hm }, keysFor(ctr, hm, 'x')), 'a copy of the registered MAC').to.equal(null);
        expect(nativeOpener(gcm, null, { ...keysFor(gcm, null, 'x'), encKey: new Uint8Array(15) }), 'short key').to.equal(null);
        expect(nativeOpener(ctr, mac('hmac-sha2-512'), { ...keysFor(ctr, mac('hmac-sha2-512'), 'x'), macKey: new Uint8Array(32) }), 'short MAC key').to.equal(null);
      });
    });

    it('uses only the first keyLen/ivLen bytes, as the pure path does', () => {
      const c = cipher('aes256-ctr'), m = mac('hmac-sha2-256-etm@openssh.com');
      const k = keysFor(c, m, 'long');
      const long = { encKey: cat(k.encKey, new Uint8Array(8).fill(1)), iv: cat(k.iv, new Uint8Array(4).fill(2)), macKey: cat(k.macKey, new Uint8Array(32).fill(3)) };
      const packet = buildPacket(new Uint8Array(50), 16, true);
      expect(toHex(native.sealer(c, m, long).seal(3, packet.slice()))).to.equal(toHex(pure.sealer(c, m, k).seal(3, packet.slice())));
    });
  });

  describe('the binding refuses misuse with exceptions (never a crash)', () => {
    it('wrong context kinds, non-byte arguments, wrong lengths, partial overlap', () => {
      const b = addon();
      const g = b.gcmNew(new Uint8Array(16), new Uint8Array(12), true);
      const ch = b.chachaNew(new Uint8Array(64));
      const p = buildPacket(new Uint8Array(11), 16, true);
      const call = (f: () => unknown) => () => f();
      expect(call(() => b.gcmSeal(ch, p, new Uint8Array(p.length + 16)))).to.throw(TypeError);
      expect(call(() => b.chachaSeal(g, 0, p, new Uint8Array(p.length + 16)))).to.throw(TypeError);
      expect(call(() => (b.gcmSeal as (...a: unknown[]) => unknown)({}, p, new Uint8Array(p.length + 16)))).to.throw(TypeError);
      expect(call(() => (b.gcmSeal as (...a: unknown[]) => unknown)(g, [1, 2, 3], new Uint8Array(19)))).to.throw(TypeError);
      expect(call(() => (b.gcmSeal as (...a: unknown[]) => unknown)(g, new Uint16Array(8), new Uint8Array(32)))).to.throw(TypeError);
      expect(call(() => (b.gcmSeal as (...a: unknown[]) => unknown)(g))).to.throw(TypeError);
      expect(call(() => b.gcmSeal(g, p, new Uint8Array(p.length)))).to.throw(RangeError);
      expect(call(() => b.gcmNew(new Uint8Array(17), new Uint8Array(12), true))).to.throw(RangeError);
      expect(call(() => b.ctrHmacNew(new Uint8Array(16), new Uint8Array(16), 'MD5' as 'SHA1', new Uint8Array(16), 16, false))).to.throw(RangeError);
      expect(call(() => b.ctrHmacNew(new Uint8Array(16), new Uint8Array(16), 'SHA256', new Uint8Array(32), 33, false))).to.throw(RangeError);
      const shared = new Uint8Array(p.length + 40);
      shared.set(p, 0);
      expect(call(() => b.gcmSeal(g, shared.subarray(0, p.length), shared.subarray(8, 8 + p.length + 16))), 'partial overlap').to.throw(RangeError);
      const wire = new Uint8Array(64);
      expect(call(() => b.gcmOpenSplit(g, wire.subarray(0, 30), wire.subarray(30), wire.subarray(4, 48))), 'split: out over a piece').to.throw(RangeError, /overlaps/);
      expect(call(() => b.chachaOpenSplit(ch, 0, wire.subarray(0, 30), new Uint8Array(34), wire.subarray(10, 54))), 'split: out over a piece').to.throw(RangeError, /overlaps/);
      expect(call(() => b.gcmOpenSplit(g, wire.subarray(0, 30), wire.subarray(30), new Uint8Array(10))), 'split: wrong out length').to.throw(RangeError, /out.length/);
      expect(call(() => b.gcmOpen(g, wire, wire.subarray(8, 52))), 'whole: out neither in place nor apart').to.throw(RangeError, /overlaps/);
      expect(b.chachaLength(ch, 0, new Uint8Array(4))).to.be.a('number');
      expect(call(() => b.chachaLength(ch, 0, new Uint8Array(3)))).to.throw(RangeError);
    });

    it('HMAC with any key length (RFC 2104 §2: long keys hashed first) matches node:crypto', () => {
      const b = addon();
      const packet = buildPacket(seededRng('hmac')(77), 16, true);
      for (const [digest, hash] of [['SHA1', 'sha1'], ['SHA256', 'sha256'], ['SHA512', 'sha512']] as const) {
        for (const keyLen of [1, 20, 63, 64, 65, 128, 129, 200]) {
          const macKey = seededRng(`k${keyLen}`)(keyLen), macLen = { SHA1: 20, SHA256: 32, SHA512: 64 }[digest];
          const ctx = b.ctrHmacNew(new Uint8Array(16), new Uint8Array(16), digest, macKey, macLen, true);
          const out = new Uint8Array(packet.length + macLen);
          expect(b.ctrHmacSeal(ctx, 0x01020304, packet, out)).to.equal(0);
          const expected = createHmac(hash, macKey).update(u32(0x01020304)).update(out.subarray(0, packet.length)).digest();
          expect(toHex(out.subarray(packet.length)), `${digest} key ${keyLen}`).to.equal(toHex(expected));
        }
      }
    });

    it('works in place: seal over the packet with room for the tag, open into wire + 4', () => {
      const b = addon();
      const c = cipher('aes128-gcm@openssh.com');
      const keys = keysFor(c, null, 'inplace');
      const packet = buildPacket(seededRng('inplace')(1000), 16, true);
      const expected = pure.sealer(c, null, keys).seal(0, packet.slice());
      const buf = new Uint8Array(packet.length + 16);
      buf.set(packet);
      expect(b.gcmSeal(b.gcmNew(keys.encKey, keys.iv, true), buf.subarray(0, packet.length), buf)).to.equal(0);
      expect(toHex(buf)).to.equal(toHex(expected));
      expect(b.gcmOpen(b.gcmNew(keys.encKey, keys.iv, false), buf, buf.subarray(4, buf.length - 16))).to.equal(0);
      expect(toHex(buf.subarray(4, packet.length))).to.equal(toHex(packet.subarray(4)));
    });
  });
});
