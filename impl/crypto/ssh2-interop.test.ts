/**
 * Cross-check of packet protection against the `ssh2` package's independent implementation (its OpenSSL
 * binding and its pure node:crypto path), which interoperates with OpenSSH in practice: packets we seal must
 * open there and theirs must open here, for every cipher × MAC both of us implement.
 */
import { expect } from 'chai';
import { createRequire } from 'node:module';
import { makeOpener, makeSealer } from './protect.js';
import { cipherAlgorithms, macAlgorithms } from './registry.js';
import { buildPacket, seededRng, toHex } from './test-util.js';
import type { CipherAlgorithm, MacAlgorithm } from './types.js';

interface Ssh2Cipher { allocPacket(n: number): Buffer; encrypt(packet: Buffer): void }
interface Ssh2Decipher { decrypt(data: Buffer, p: number, len: number): void }
interface Ssh2Crypto {
  CIPHER_INFO: Record<string, unknown>;
  MAC_INFO: Record<string, unknown>;
  init: Promise<void>;
  createCipher(config: object): Ssh2Cipher;
  createDecipher(config: object): Ssh2Decipher;
}

const require = createRequire(import.meta.url);
const ssh2 = require('ssh2/lib/protocol/crypto.js') as Ssh2Crypto;

const combos: [CipherAlgorithm, MacAlgorithm | null][] = [];
for (const c of cipherAlgorithms.values()) {
  if (!(c.name in ssh2.CIPHER_INFO)) continue;
  if (c.aead) combos.push([c, null]);
  else for (const m of macAlgorithms.values()) if (m.name in ssh2.MAC_INFO) combos.push([c, m]);
}

describe('crypto/protect interop with ssh2 (independent implementation)', () => {
  before(async () => { await ssh2.init; });

  it('covers every cipher and the common MACs', () => {
    expect(combos.length).to.be.greaterThan(40);
    for (const n of ['chacha20-poly1305@openssh.com', 'aes128-gcm@openssh.com', 'aes256-ctr', '3des-cbc']) expect(combos.some(([c]) => c.name === n), n).to.equal(true);
  });

  for (const forceNative of [false, true]) {
    for (const [c, m] of combos) {
      it(`${c.name}${m ? ` + ${m.name}` : ''}${forceNative ? ' (ssh2 node:crypto path)' : ''}`, () => {
        const rng = seededRng(`${c.name}/${m?.name}`);
        const keys = { encKey: rng(c.keyLen), iv: rng(c.ivLen), macKey: rng(m?.keyLen ?? 0) };
        const common = {
          cipherInfo: ssh2.CIPHER_INFO[c.name], macInfo: m ? ssh2.MAC_INFO[m.name] : undefined, seqno: 0xfffffffe, forceNative,
        };
        const payloads = [rng(1), rng(100), rng(33_000), new Uint8Array(0)];

        // ours → ssh2
        const sealer = makeSealer(c, m, keys);
        const got: string[] = [];
        const decipher = ssh2.createDecipher({ inbound: {
          ...common, decipherInfo: common.cipherInfo, decipherKey: Buffer.from(keys.encKey), decipherIV: Buffer.from(keys.iv),
          macKey: Buffer.from(keys.macKey), onPayload: (p: Buffer) => { got.push(toHex(p)); },
        } });
        let seq = 0xfffffffe;
        for (const p of payloads) {
          const wire = Buffer.from(sealer.seal(seq, buildPacket(p, sealer.blockSize, sealer.lengthExcluded)));
          decipher.decrypt(wire, 0, wire.length);
          seq = (seq + 1) >>> 0;
        }
        expect(got).to.deep.equal(payloads.map(toHex));

        // ssh2 → ours
        const wires: Buffer[] = [];
        const cipher = ssh2.createCipher({ outbound: {
          ...common, cipherKey: Buffer.from(keys.encKey), cipherIV: Buffer.from(keys.iv), macKey: Buffer.from(keys.macKey),
          onWrite: (b: Buffer) => { wires.push(Buffer.from(b)); },
        } });
        const opener = makeOpener(c, m, keys);
        seq = 0xfffffffe;
        for (const p of payloads) {
          wires.length = 0;
          const packet = cipher.allocPacket(p.length);
          packet.set(p, 5);
          cipher.encrypt(packet);
          const wire = Buffer.concat(wires);
          const len = opener.packetLength(seq, wire.subarray(0, opener.headerLen));
          expect(4 + len + opener.macLen).to.equal(wire.length);
          const body = opener.open(seq, wire);
          expect(toHex(body.subarray(1, 1 + p.length))).to.equal(toHex(p));
          expect(body.length - 1 - body[0]!).to.equal(p.length);
          seq = (seq + 1) >>> 0;
        }
      });
    }
  }
});
