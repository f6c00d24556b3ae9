/** The schema machinery itself: definition checks, conditional fields, variants, bounds and edge-of-type values. */
import { expect } from 'chai';
import { DecodeError } from '../errors.js';
import { defineMessage, defineStruct } from './define-message.js';
import { ascii, boolean, byte, bytes, list, mpint, nameList, repeat, rest, string, uint32, uint64, utf8, when } from './fields.js';
import { ChannelData, KexDhInit, KexInit, UserauthRequest } from './index.js';

const hex = (u: Uint8Array): string => Buffer.from(u).toString('hex');
const b = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

function decodeError(fn: () => unknown): DecodeError {
  try { fn(); } catch (e) { expect(e).to.be.instanceOf(DecodeError); return e as DecodeError; }
  expect.fail('expected a DecodeError');
}

describe('messages: define-message', () => {
  describe('definitions are checked once, at import', () => {
    it('rest and repeat only as the last field', () => {
      expect(() => defineStruct({ name: 't', spec: 'x', fields: { a: rest, b: uint32 } })).to.throw(TypeError, /last field/);
      expect(() => defineStruct({ name: 't', spec: 'x', fields: { a: repeat(string), b: uint32 } })).to.throw(TypeError, /last field/);
      expect(() => defineStruct({ name: 't', spec: 'x', fields: { a: list({ r: rest }, { max: 1 }) } })).to.throw(TypeError, /last field/);
    });
    it('when() names an earlier unconditional boolean', () => {
      expect(() => defineStruct({ name: 't', spec: 'x', fields: { a: when('f', string), f: boolean } })).to.throw(TypeError, /earlier/);
      expect(() => defineStruct({ name: 't', spec: 'x', fields: { f: uint32, a: when('f', string) } })).to.throw(TypeError, /boolean/);
      expect(() => defineStruct({ name: 't', spec: 'x', fields: { a: when('nope', string) } })).to.throw(TypeError);
    });
    it('reserves the discriminator name and rejects clashing variant fields', () => {
      expect(() => defineMessage({ id: 200, name: 'T', spec: 'x', fields: { type: uint32 } })).to.throw(TypeError, /taken/);
      expect(() => defineMessage({ id: 200, name: 'T', spec: 'x', fields: { m: ascii }, variants: { on: 'm', cases: { a: { m: uint32 } } } }))
        .to.throw(TypeError, /taken/);
    });
    it('variants switch on an ascii/utf8 field, ids are bytes, repeated items take space', () => {
      expect(() => defineMessage({ id: 200, name: 'T', spec: 'x', fields: { m: uint32 }, variants: { on: 'm', cases: {} } })).to.throw(TypeError, /variants.on/);
      expect(() => defineMessage({ id: 256, name: 'T', spec: 'x', fields: {} })).to.throw(RangeError);
      expect(() => defineStruct({ name: 't', spec: 'x', fields: { a: repeat({ f: boolean, x: when('f', string) }) } })).to.not.throw();
      expect(() => defineStruct({ name: 't', spec: 'x', fields: { a: repeat({}) } })).to.throw(TypeError, /at least one byte/);
    });
    it('exposes the schema as frozen data', () => {
      expect(KexInit.fields.cookie).to.deep.equal({ kind: 'bytes', length: 16 });
      expect(Object.isFrozen(KexInit.fields.cookie)).to.equal(true);
      expect(Object.isFrozen(KexInit)).to.equal(true);
      expect(UserauthRequest.variants.on).to.equal('method');
      expect(Object.keys(UserauthRequest.variants.cases)).to.deep.equal(['none', 'password', 'publickey', 'keyboard-interactive', 'hostbased']);
    });
  });

  describe('conditional fields: when(flag)', () => {
    const base = { user: 'u', service: 'ssh-connection', method: 'publickey', algorithm: 'ssh-ed25519', key: b('01') } as const;
    it('are on the wire iff the flag is true, and absent (not undefined) from decoded values', () => {
      const query = UserauthRequest.decode(UserauthRequest.encode({ ...base, hasSignature: false }));
      expect(Object.hasOwn(query, 'signature')).to.equal(false);
      const signed = UserauthRequest.decode(UserauthRequest.encode({ ...base, hasSignature: true, signature: b('ff') }));
      expect(signed).to.deep.include({ hasSignature: true, signature: b('ff') });
    });
    it('encode refuses a missing or a stray conditional value', () => {
      expect(() => UserauthRequest.encode({ ...base, hasSignature: true } as never)).to.throw(TypeError, /signature: missing/);
      expect(() => UserauthRequest.encode({ ...base, hasSignature: false, signature: b('ff') } as never)).to.throw(TypeError, /absent/);
    });
  });

  describe('counted lists and repeats', () => {
    const T = defineStruct({ name: 'T', spec: 'x', fields: { xs: list({ a: uint32, s: string }, { max: 3 }) } });
    const Big = defineStruct({ name: 'Big', spec: 'x', fields: { xs: list(uint32, { max: 0xffffffff }) } });
    it('round-trip', () => {
      const v = { xs: [{ a: 1, s: b('aa') }, { a: 2, s: b('') }] };
      expect(hex(T.encode(v))).to.equal('00000002' + '00000001' + '00000001aa' + '00000002' + '00000000');
      expect(T.decode(T.encode(v))).to.deep.equal(v);
    });
    it('a count past max → DecodeError at the count', () => {
      expect(decodeError(() => T.decode(b('00000004'))).offset).to.equal(0);
    });
    it('a count past the bytes left fails before allocating', () => {
      const e = decodeError(() => Big.decode(b('ffffffff 00000001')));
      expect(e.offset).to.equal(0);
      expect(e.message).to.match(/needs at least/);
    });
    it('repeat reads items to the end', () => {
      const R = defineStruct({ name: 'R', spec: 'x', fields: { n: byte, keys: repeat(string) } });
      expect(R.decode(b('07 00000001aa 00000000'))).to.deep.equal({ n: 7, keys: [b('aa'), b('')] });
      expect(decodeError(() => R.decode(b('07 00000002aa'))).offset).to.equal(1);
    });
  });

  describe('RFC 4251 §5 edge values', () => {
    const S = defineStruct({ name: 'S', spec: 'x', fields: { f: boolean, u: utf8, a: ascii, n: nameList } });
    it('boolean: any non-zero byte is TRUE; we write 1', () => {
      const v = S.decode(b('02 00000000 00000000 00000000'));
      expect(v.f).to.equal(true);
      expect(hex(S.encode(v)).slice(0, 2)).to.equal('01');
    });
    it('utf8: invalid UTF-8 → DecodeError at the string; a leading BOM survives the round trip', () => {
      expect(decodeError(() => S.decode(b('00 00000002c328 00000000 00000000'))).offset).to.equal(1);
      const bom = b('00 00000004efbbbf41 00000000 00000000');
      const v = S.decode(bom);
      expect(v.u).to.equal('\ufeffA');
      expect(hex(S.encode(v))).to.equal(hex(bom));
    });
    it('utf8: a lone surrogate cannot be encoded', () => {
      expect(() => S.encode({ f: false, u: '\ud800', a: '', n: [] })).to.throw(RangeError, /surrogate/);
    });
    it('ascii: bytes >0x7f survive as latin1; characters beyond U+00FF cannot be encoded', () => {
      const raw = b('00 00000000 00000002ff80 00000000');
      expect(hex(S.encode(S.decode(raw)))).to.equal(hex(raw));
      expect(() => S.encode({ f: false, u: '', a: 'ā', n: [] })).to.throw(RangeError);
    });
    it('name-list: empty names and commas are refused both ways', () => {
      expect(decodeError(() => S.decode(b('00 00000000 00000000 00000003612c2c'))).offset).to.equal(9);
      expect(decodeError(() => S.decode(b('00 00000000 00000000 000000012c'))).offset).to.equal(9);
      expect(() => S.encode({ f: false, u: '', a: '', n: ['a,b'] })).to.throw(RangeError);
      expect(() => S.encode({ f: false, u: '', a: '', n: [''] })).to.throw(RangeError);
    });
    it('mpint: RFC 4251 §5 examples are byte-exact', () => {
      const M = defineStruct({ name: 'M', spec: 'x', fields: { v: mpint } });
      const cases: [bigint, string][] = [
        [0n, '00000000'], [0x9a378f9b2e332a7n, '0000000809a378f9b2e332a7'], [0x80n, '000000020080'],
        [-0x1234n, '00000002edcc'], [-0xdeadbeefn, '00000005ff21524111'],
      ];
      for (const [v, h] of cases) {
        expect(hex(M.encode({ v }))).to.equal(h);
        expect(M.decode(b(h)).v).to.equal(v);
      }
    });
    it('mpint: non-minimal encodings are rejected (RFC 4251 §5)', () => {
      for (const h of ['000000020001', '00000002ffff', '0000000100', '00000003000080']) {
        expect(decodeError(() => KexDhInit.decode(b('1e' + h))).offset, h).to.equal(1);
      }
    });
    it('uint32/uint64 are big-endian, full range (RFC 4251 §5)', () => {
      const W = defineStruct({ name: 'W', spec: 'x', fields: { a: uint32, b: uint64 } });
      const v = { a: 0xfedcba98, b: 0xfedcba9876543210n };
      expect(hex(W.encode(v))).to.equal('fedcba98fedcba9876543210');
      expect(W.decode(W.encode(v))).to.deep.equal(v);
      expect(hex(W.encode({ a: 0, b: 2n ** 64n - 1n }))).to.equal('00000000ffffffffffffffff');
    });
    it('encode names the field and the problem', () => {
      const U = defineStruct({ name: 'U', spec: 'x', fields: { a: byte, b: uint32, c: uint64, d: bytes(2), e: string } });
      const ok = { a: 1, b: 2, c: 3n, d: b('0000'), e: b('') };
      expect(() => U.encode({ ...ok, a: 256 })).to.throw(RangeError, /U\.a/);
      expect(() => U.encode({ ...ok, b: -1 })).to.throw(RangeError, /U\.b/);
      expect(() => U.encode({ ...ok, b: 1.5 })).to.throw(TypeError, /U\.b/);
      expect(() => U.encode({ ...ok, c: 2n ** 64n })).to.throw(RangeError, /U\.c/);
      expect(() => U.encode({ ...ok, c: 1 as unknown as bigint })).to.throw(TypeError, /U\.c/);
      expect(() => U.encode({ ...ok, d: b('00') })).to.throw(RangeError, /U\.d: expected 2 bytes/);
      expect(() => U.encode({ ...ok, e: 'text' as unknown as Uint8Array })).to.throw(TypeError, /U\.e/);
      expect(() => U.encode(null as never)).to.throw(TypeError);
      expect(() => KexInit.encode({} as never)).to.throw(TypeError, /SSH_MSG_KEXINIT\.cookie: missing/);
    });
  });

  describe('bounds', () => {
    it('a string length past the bytes left → DecodeError at its length field', () => {
      const e = decodeError(() => ChannelData.decode(b('5e 00000001 000003e8 6869')));
      expect(e.offset).to.equal(5);
      expect(e.message).to.match(/SSH_MSG_CHANNEL_DATA\.data/);
    });
    it('limits cap strings and name-lists', () => {
      const p = ChannelData.encode({ recipientChannel: 0, data: new Uint8Array(100) });
      expect(decodeError(() => ChannelData.decode(p, { maxString: 99, maxNames: 256 })).offset).to.equal(5);
      const S = defineStruct({ name: 'S', spec: 'x', fields: { n: nameList } });
      expect(() => S.decode(S.encode({ n: ['a', 'b', 'c'] }), { maxString: 1024, maxNames: 2 })).to.throw(DecodeError);
    });
    it('an empty payload → DecodeError at 0', () => {
      expect(decodeError(() => ChannelData.decode(new Uint8Array(0))).offset).to.equal(0);
    });
  });

  describe('SSH_MSG_CHANNEL_DATA hot path', () => {
    it('decode returns a view of the payload (no copy)', () => {
      const payload = ChannelData.encode({ recipientChannel: 9, data: new Uint8Array(4096).fill(7) });
      const m = ChannelData.decode(payload);
      expect(m.data.buffer).to.equal(payload.buffer);
      expect(m.data.byteOffset).to.equal(payload.byteOffset + 9);
      expect(m.data.length).to.equal(4096);
    });
    it('encode makes one exact allocation and copies the data once', () => {
      const data = new Uint8Array(4096).fill(7);
      const out = ChannelData.encode({ recipientChannel: 9, data });
      expect(out.length).to.equal(1 + 4 + 4 + 4096);
      expect(out.buffer.byteLength).to.equal(out.length);
      data[0] = 1; // the output owns its bytes
      expect(out[9]).to.equal(7);
    });
  });
});
