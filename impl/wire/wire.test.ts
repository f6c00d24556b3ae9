import { expect } from 'chai';
import { DecodeError } from '../errors.js';
import { Reader } from './reader.js';
import { mpintBytes, Writer } from './writer.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('impl/wire (RFC 4251 §5)', () => {
  it('encodes the RFC 4251 §5 mpint examples exactly', () => {
    // the table in RFC 4251 §5
    expect(hex(new Writer().mpint(0n).finish())).to.equal('00000000');
    expect(hex(new Writer().mpint(0x9a378f9b2e332a7n).finish())).to.equal('0000000809a378f9b2e332a7');
    expect(hex(new Writer().mpint(0x80n).finish())).to.equal('000000020080');
    expect(hex(new Writer().mpint(-0x1234n).finish())).to.equal('00000002edcc');
    expect(hex(new Writer().mpint(-0xdeadbeefn).finish())).to.equal('00000005ff21524111');
  });

  it('round-trips every type', () => {
    const w = new Writer(4).byte(7).boolean(true).uint32(0xfffffffe).uint64(2n ** 63n + 5n).string('héllo').nameList(['a', 'b-c@d']).mpint(-0xdeadbeefn).mpint(2n ** 200n);
    const r = new Reader(w.finish());
    expect(r.byte()).to.equal(7);
    expect(r.boolean()).to.equal(true);
    expect(r.uint32()).to.equal(0xfffffffe);
    expect(r.uint64()).to.equal(2n ** 63n + 5n);
    expect(r.utf8()).to.equal('héllo');
    expect(r.nameList()).to.deep.equal(['a', 'b-c@d']);
    expect(r.mpint()).to.equal(-0xdeadbeefn);
    expect(r.mpint()).to.equal(2n ** 200n);
    r.end('test');
  });

  it('bounds every length: past the end, past the limit, trailing bytes', () => {
    expect(() => new Reader(Uint8Array.of(0, 0, 0, 5, 1, 2)).string()).to.throw(DecodeError, /exceeds the 2 bytes left/);
    expect(() => new Reader(Uint8Array.of(0xff, 0xff, 0xff, 0xff)).string()).to.throw(DecodeError, /exceeds limit/);
    expect(() => new Reader(Uint8Array.of(0, 0)).uint32()).to.throw(DecodeError, /at offset 0/);
    const r = new Reader(Uint8Array.of(1, 2));
    r.byte();
    expect(() => r.end('X')).to.throw(DecodeError, /X: 1 trailing bytes at offset 1/);
    const many = new Writer().nameList(Array.from({ length: 40000 }, () => "n")).finish();
    expect(() => new Reader(many).nameList()).to.throw(DecodeError, /exceed limit/);
  });

  it('rejects empty names, invalid UTF-8 and non-minimal mpints', () => {
    expect(() => new Reader(new Writer().string('a,,b').finish()).nameList()).to.throw(DecodeError, /empty name/);
    expect(() => new Reader(new Writer().string(Uint8Array.of(0xc3, 0x28)).finish()).utf8()).to.throw(DecodeError, /UTF-8/);
    expect(() => new Reader(new Writer().string(Uint8Array.of(0, 1)).finish()).mpint()).to.throw(DecodeError, /non-minimal/);
    expect(() => new Reader(new Writer().string(Uint8Array.of(0xff, 0x80)).finish()).mpint()).to.throw(DecodeError, /non-minimal/);
    expect(mpintBytes(-1n)).to.deep.equal(Uint8Array.of(0xff));
    expect(mpintBytes(-128n)).to.deep.equal(Uint8Array.of(0x80));
    expect(mpintBytes(-129n)).to.deep.equal(Uint8Array.of(0xff, 0x7f));
  });
});

describe('impl/wire edge cases', () => {
  it('a zero size hint still grows', () => {
    expect(hex(new Writer(0).uint32(1).finish())).to.equal('00000001');
  });
  it('rejects a lone 0x00 mpint and NUL in names; keeps a BOM in UTF-8', () => {
    expect(() => new Reader(new Writer().string(Uint8Array.of(0)).finish()).mpint()).to.throw(DecodeError, /zero/);
    expect(() => new Reader(new Writer().string('a\0b').finish()).nameList()).to.throw(DecodeError, /NUL/);
    expect(new Reader(new Writer().string('\ufeffx').finish()).utf8()).to.equal('\ufeffx');
  });
});
