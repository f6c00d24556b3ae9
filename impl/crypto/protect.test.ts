import { expect } from 'chai';
import { poly1305 as noblePoly1305 } from '@noble/ciphers/_poly1305.js';
import { cbc as nobleCbc, ctr as nobleCtr, gcm as nobleGcm } from '@noble/ciphers/aes.js';
import { chacha20orig } from '@noble/ciphers/chacha.js';
import { hmac as nobleHmac } from '@noble/hashes/hmac.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { MacError } from '../errors.js';
import { incrementInvocationCounter } from './cipher/aes-gcm.js';
import { makeOpener, makeSealer } from './protect.js';
import { cipherAlgorithms, macAlgorithms } from './registry.js';
import { buildPacket, seededRng, toHex } from './test-util.js';
import type { CipherAlgorithm, DirectionKeys, MacAlgorithm, Opener, Sealer } from './types.js';

const u32 = (n: number): Uint8Array => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n >>> 0); return b; };
const cat = (...p: Uint8Array[]): Uint8Array => { const o = new Uint8Array(p.reduce((n, x) => n + x.length, 0)); let i = 0; for (const x of p) { o.set(x, i); i += x.length; } return o; };

function keysFor(cipher: CipherAlgorithm, mac: MacAlgorithm | null, seed: string): DirectionKeys {
  const rng = seededRng(seed);
  // Buffers, as deriveSessionKeys returns them (hash digests): a Buffer's slice() is a view, not a copy
  return { encKey: Buffer.from(rng(cipher.keyLen)), iv: Buffer.from(rng(cipher.ivLen)), macKey: Buffer.from(rng(mac?.keyLen ?? 0)) };
}

/** What the engine does on receive: header, length, then exactly 4 + length + macLen bytes. */
function receive(o: Opener, seq: number, wire: Uint8Array): Uint8Array {
  const len = o.packetLength(seq, wire.subarray(0, o.headerLen));
  expect(4 + len + o.macLen, 'packet_length').to.equal(wire.length);
  return o.open(seq, wire);
}

const combos: [CipherAlgorithm, MacAlgorithm | null][] = [];
for (const c of cipherAlgorithms.values()) {
  if (c.aead) combos.push([c, null]);
  else for (const m of macAlgorithms.values()) combos.push([c, m]);
}
const label = (c: CipherAlgorithm, m: MacAlgorithm | null): string => (m ? `${c.name} + ${m.name}` : c.name);
const payloadSizes = [0, 1, 15, 16, 17, 100, 4096 + 3];

describe('crypto/protect', () => {
  describe('seal → open round trip, every cipher × MAC', () => {
    for (const [c, m] of combos) {
      it(label(c, m), () => {
        const keys = keysFor(c, m, label(c, m));
        const s: Sealer = makeSealer(c, m, keys);
        const o: Opener = makeOpener(c, m, keys);
        expect(s.macLen).to.equal(m ? m.macLen : 16);
        expect(s.lengthExcluded).to.equal(c.aead || (m?.etm ?? false));
        const rng = seededRng('payloads');
        let seq = 0xfffffffd; // crosses the uint32 wrap (RFC 4253 §6.4)
        for (const n of payloadSizes) {
          const payload = rng(n);
          const packet = buildPacket(payload, s.blockSize, s.lengthExcluded);
          const plain = packet.slice();
          const wire = s.seal(seq, packet);
          expect(wire.length).to.equal(plain.length + s.macLen);
          if (s.lengthExcluded && !c.name.startsWith('chacha20')) expect(toHex(wire.subarray(0, 4)), 'length in clear').to.equal(toHex(plain.subarray(0, 4)));
          expect(toHex(receive(o, seq, wire))).to.equal(toHex(plain.subarray(4)));
          seq = (seq + 1) >>> 0;
        }
      });
    }
  });

  describe('any flipped bit → MacError (and nothing else)', () => {
    for (const [c, m] of combos) {
      it(label(c, m), () => {
        const rng = seededRng('flip');
        const packet = buildPacket(rng(40), Math.max(8, c.blockSize), c.aead || (m?.etm ?? false));
        const keys = keysFor(c, m, 'flip');
        const wire = makeSealer(c, m, keys).seal(7, packet.slice());
        for (const at of [0, 3, 4, 5, 20, wire.length - (m?.macLen ?? 16) - 1, wire.length - 1]) {
          const bad = wire.slice();
          bad[at]! ^= 0x10;
          const o = makeOpener(c, m, keys);
          o.packetLength(7, bad.subarray(0, o.headerLen));
          expect(() => o.open(7, bad), `byte ${at}`).to.throw(MacError);
        }
        const o = makeOpener(c, m, keys);
        o.packetLength(8, wire.subarray(0, o.headerLen));
        expect(() => o.open(8, wire), 'wrong sequence number').to.throw(MacError);
        for (let i = 0; i < 20; i++) {
          const o2 = makeOpener(c, m, keys);
          const junk = rng(wire.length);
          o2.packetLength(7, junk.subarray(0, o2.headerLen));
          expect(() => o2.open(7, junk)).to.throw(MacError);
        }
      });
    }
  });

  describe('known answers from independent implementations (@noble)', () => {
    const rng = seededRng('kat');
    const payloads = [rng(33), rng(0), rng(1000)];

    it('aes128-gcm@openssh.com: nonce = fixed || counter+i, AAD = packet_length, tag appended (RFC 5647 §7)', () => {
      const c = cipherAlgorithms.get('aes128-gcm@openssh.com')!;
      const keys = keysFor(c, null, 'gcm');
      // counter near 2^64 to check the 64-bit increment leaves the fixed field alone
      const iv = keys.iv.slice();
      iv.fill(0xff, 4, 12);
      iv[11] = 0xfe;
      const s = makeSealer(c, null, { ...keys, iv });
      const nonce = iv.slice();
      for (const p of payloads) {
        const packet = buildPacket(p, 16, true);
        const expected = cat(packet.subarray(0, 4), nobleGcm(keys.encKey, nonce.slice(), packet.subarray(0, 4)).encrypt(packet.subarray(4)));
        expect(toHex(s.seal(0, packet.slice()))).to.equal(toHex(expected));
        incrementInvocationCounter(nonce);
      }
      expect(toHex(nonce.subarray(0, 4))).to.equal(toHex(iv.subarray(0, 4)));
      expect(toHex(nonce.subarray(4))).to.equal('0000000000000001');
    });

    it('chacha20-poly1305@openssh.com: K_1 length, K_2 block 0 Poly1305 key, payload from block 1 (PROTOCOL.chacha20poly1305)', () => {
      const c = cipherAlgorithms.get('chacha20-poly1305@openssh.com')!;
      const keys = keysFor(c, null, 'chacha');
      const k2 = keys.encKey.subarray(0, 32);
      const k1 = keys.encKey.subarray(32, 64);
      const s = makeSealer(c, null, keys);
      for (const [i, p] of payloads.entries()) {
        const seq = [0, 1, 0xffffffff][i]!;
        const nonce = cat(u32(0), u32(seq)); // uint64 big-endian sequence number
        const packet = buildPacket(p, 8, true);
        const encLen = chacha20orig(k1, nonce, packet.subarray(0, 4), undefined, 0);
        const polyKey = chacha20orig(k2, nonce, new Uint8Array(32), undefined, 0);
        const ct = chacha20orig(k2, nonce, packet.subarray(4), undefined, 1);
        const expected = cat(encLen, ct, noblePoly1305(cat(encLen, ct), polyKey));
        expect(toHex(s.seal(seq, packet.slice()))).to.equal(toHex(expected));
      }
    });

    it('aes256-ctr + hmac-sha2-256 (MtE): stream continues across packets; MAC over seq || plaintext', () => {
      const c = cipherAlgorithms.get('aes256-ctr')!;
      const m = macAlgorithms.get('hmac-sha2-256')!;
      const keys = keysFor(c, m, 'ctr');
      const s = makeSealer(c, m, keys);
      const packets = payloads.map((p) => buildPacket(p, 16, false));
      const stream = nobleCtr(keys.encKey, keys.iv).encrypt(cat(...packets));
      let at = 0;
      packets.forEach((p, seq) => {
        const expected = cat(stream.subarray(at, at + p.length), nobleHmac(sha256, keys.macKey, cat(u32(seq), p)));
        at += p.length;
        expect(toHex(s.seal(seq, p.slice()))).to.equal(toHex(expected));
      });
    });

    it('aes128-ctr + hmac-sha2-512-etm@openssh.com: length in clear; MAC over seq || length || ciphertext', () => {
      const c = cipherAlgorithms.get('aes128-ctr')!;
      const m = macAlgorithms.get('hmac-sha2-512-etm@openssh.com')!;
      const keys = keysFor(c, m, 'etm');
      const s = makeSealer(c, m, keys);
      const packets = payloads.map((p) => buildPacket(p, 16, true));
      const stream = nobleCtr(keys.encKey, keys.iv).encrypt(cat(...packets.map((p) => p.subarray(4))));
      let at = 0;
      packets.forEach((p, seq) => {
        const ct = cat(p.subarray(0, 4), stream.subarray(at, at + p.length - 4));
        at += p.length - 4;
        expect(toHex(s.seal(seq, p.slice()))).to.equal(toHex(cat(ct, nobleHmac(sha512, keys.macKey, cat(u32(seq), ct)))));
      });
    });

    it('aes128-cbc + hmac-sha2-256: CBC chains across packets (RFC 4253 §6.3)', () => {
      const c = cipherAlgorithms.get('aes128-cbc')!;
      const m = macAlgorithms.get('hmac-sha2-256')!;
      const keys = keysFor(c, m, 'cbc');
      const s = makeSealer(c, m, keys);
      const packets = payloads.map((p) => buildPacket(p, 16, false));
      const stream = nobleCbc(keys.encKey, keys.iv, { disablePadding: true }).encrypt(cat(...packets));
      let at = 0;
      packets.forEach((p, seq) => {
        const expected = cat(stream.subarray(at, at + p.length), nobleHmac(sha256, keys.macKey, cat(u32(seq), p)));
        at += p.length;
        expect(toHex(s.seal(seq, p.slice()))).to.equal(toHex(expected));
      });
    });
  });

  it('refuses a non-AEAD cipher without a MAC and foreign cipher objects', () => {
    const c = cipherAlgorithms.get('aes128-ctr')!;
    expect(() => makeSealer(c, null, keysFor(c, null, 'x'))).to.throw(TypeError);
    expect(() => makeOpener({ ...c, stream: undefined } as unknown as CipherAlgorithm, macAlgorithms.get('hmac-sha1')!, keysFor(c, null, 'x'))).to.throw(TypeError);
  });
});
