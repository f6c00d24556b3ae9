import { expect } from 'chai';
import fc from 'fast-check';
import { allCodecs, decodeMessage, encodeMessage, type MessageInput } from '../../../impl/messages/index.js';
import { encodeFuzzMessage, type FuzzMessage } from '../wire-encode.js';
import { isChannelRef, isRaw } from '../value.js';
import { messageArb, messageArbFor } from './messages.js';
import { stepArb } from './steps.js';

const dict = { users: ['fuzz'], passwords: ['pw'], keyBlobs: [Uint8Array.of(0, 0, 0, 3, 0x61, 0x62, 0x63)] };

/** No raw fields and no channel references anywhere: a value the typed codec can encode. */
function plain(v: unknown): boolean {
  if (isRaw(v) || isChannelRef(v)) return false;
  if (Array.isArray(v)) return v.every(plain);
  if (v && typeof v === 'object' && !(v instanceof Uint8Array)) return Object.values(v).every(plain);
  return true;
}

describe('fuzz arbitraries (one per message type, from the impl/messages schemas)', () => {
  it('cover every codec of allCodecs', () => {
    for (const c of allCodecs) expect(() => messageArbFor(c.name, { dict, brokenOdds: 0 }), c.name).not.to.throw();
  });

  it('valid values encode byte for byte like the typed codec, and decode back', () => {
    for (const c of allCodecs) {
      const arb = messageArbFor(c.name, { dict, brokenOdds: 0 });
      fc.assert(fc.property(arb, (m: FuzzMessage) => {
        // booleans drawn as non-zero bytes and names the codec refuses are near-valid by design
        fc.pre(plain(m) && Object.values(m).every((x) => typeof x !== 'number' || Number.isInteger(x)));
        let typed: Uint8Array;
        try { typed = encodeMessage(m as unknown as MessageInput); } catch { fc.pre(false); return; }
        expect(Buffer.from(encodeFuzzMessage(m)).equals(Buffer.from(typed)), c.name).to.equal(true);
      }), { numRuns: 40, seed: 4253 });
    }
  });

  it('near-valid values always encode (the walker never throws) and carry the message number', () => {
    fc.assert(fc.property(messageArb({ dict, brokenOdds: 3 }), (m) => {
      const b = encodeFuzzMessage(m, () => 7);
      expect(b.length).to.be.greaterThan(0);
      if (m.type !== 'unknown') expect(b[0]).to.equal(allCodecs.find((c) => c.name === m.type)!.id);
    }), { numRuns: 500, seed: 1 });
  });

  it('produce decode errors, not crashes, when decoded by the reference codecs', () => {
    fc.assert(fc.property(messageArb({ dict, brokenOdds: 3 }), (m) => {
      const b = encodeFuzzMessage(m, () => 0);
      try { decodeMessage(b); } catch (e) { expect((e as Error).name).to.equal('DecodeError'); }
    }), { numRuns: 500, seed: 2 });
  });

  it('steps are data: every generated step survives a JSON round trip unchanged', async () => {
    const { toJson, fromJson } = await import('../value.js');
    fc.assert(fc.property(stepArb({ dict }), (s) => {
      const back = fromJson(JSON.parse(JSON.stringify(toJson(s)))) as typeof s;
      expect(toJson(back)).to.deep.equal(toJson(s));
      if (s.op === 'send' && back.op === 'send') expect(Buffer.from(encodeFuzzMessage(back.msg)).equals(Buffer.from(encodeFuzzMessage(s.msg)))).to.equal(true);
    }), { numRuns: 300, seed: 3 });
  });
});
