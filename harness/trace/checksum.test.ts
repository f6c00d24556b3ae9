import { expect } from 'chai';
import fc from 'fast-check';
import { nativeBinding } from '../../impl/native/binding.js';
import { copyAndSumWords, fold, internetChecksum, sumWords, sumWordsJs } from './checksum.js';

/** The RFC 1071 definition, byte by byte, as the reference. */
function reference(b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < b.length; i += 2) s += (b[i]! << 8) | (b[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

describe('trace/checksum', () => {
  it('matches the RFC 1071 worked example and edge cases', () => {
    // RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2, checksum 220d
    expect(internetChecksum(Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7))).to.equal(0x220d);
    expect(internetChecksum(Uint8Array.of(0x12, 0x34, 0x56))).to.equal(0x97cb); // odd length: 0x1234 + 0x5600
    expect(internetChecksum(new Uint8Array(0))).to.equal(0xffff);
    expect(fold(0xffff * 3)).to.equal(0xffff);
  });

  it('agrees with the byte-by-byte definition at every alignment and length', () => {
    const big = new Uint8Array(5000);
    let x = 12345;
    for (let i = 0; i < big.length; i++) { x = (x * 1103515245 + 12345) >>> 0; big[i] = x >>> 24; }
    for (const len of [0, 1, 2, 3, 63, 64, 65, 66, 67, 100, 1001, 4096, 4993]) {
      for (let off = 0; off < 7; off++) {
        const b = big.subarray(off, off + len);
        expect(internetChecksum(b), `len ${len} offset ${off}`).to.equal(reference(b));
      }
    }
    const ff = new Uint8Array(4000).fill(0xff);
    expect(internetChecksum(ff.subarray(1, 3001))).to.equal(reference(ff.subarray(1, 3001)));
    // partial sums compose when the first part has an even length
    expect(~fold(sumWords(big.subarray(100, 3000), sumWords(big.subarray(0, 100)))) & 0xffff).to.equal(reference(big.subarray(0, 3000)));
  });

  it('the native sum (when built) and the JavaScript sum agree for any bytes at any offset', function () {
    const native = nativeBinding();
    if (!native) {
      if (process.env.CI) throw new Error('the native addon is not built in CI (npm run setup builds it)');
      this.skip();
    }
    fc.assert(fc.property(fc.uint8Array({ maxLength: 3000 }), fc.nat({ max: 7 }), fc.nat({ max: 0xffff }), (bytes, off, initial) => {
      const b = Uint8Array.from([...new Uint8Array(off), ...bytes]).subarray(off);
      expect(fold(initial + native.inetSum(b))).to.equal(fold(sumWordsJs(b, initial)));
      expect(~fold(sumWords(b, initial)) & 0xffff).to.equal(~fold(sumWordsJs(b, initial)) & 0xffff);
    }), { numRuns: 3000 });
    const ff = new Uint8Array(1 << 20).fill(0xff);
    expect(fold(native.inetSum(ff))).to.equal(fold(sumWordsJs(ff)));
  });

  it('copyAndSumWords copies exactly and sums as sumWords does, for any source and destination alignment', function () {
    const native = nativeBinding();
    if (!native) {
      if (process.env.CI) throw new Error('the native addon is not built in CI (npm run setup builds it)');
      this.skip();
    }
    // destination offsets 0..40 cover every position against the 32-byte store alignment, odd and even
    fc.assert(fc.property(fc.uint8Array({ maxLength: 5000 }), fc.nat({ max: 7 }), fc.nat({ max: 40 }), fc.nat({ max: 0xffff }), (bytes, srcOff, dstOff, initial) => {
      const src = Uint8Array.from([...new Uint8Array(srcOff), ...bytes]).subarray(srcOff);
      const frame = new Uint8Array(dstOff + src.length + 8).fill(0xa5);
      const dst = frame.subarray(dstOff, dstOff + src.length);
      const sum = copyAndSumWords(dst, src, initial);
      expect(fold(sum)).to.equal(fold(sumWordsJs(src, initial)));
      expect(Buffer.compare(dst, src)).to.equal(0);
      // nothing written outside dst
      expect(frame.subarray(0, dstOff).every((x) => x === 0xa5) && frame.subarray(dstOff + src.length).every((x) => x === 0xa5)).to.equal(true);
    }), { numRuns: 2000 });
    // 32-bit lanes are flushed before they could overflow: 8 MiB of 0xff
    const ff = new Uint8Array(8 << 20).fill(0xff);
    const out = new Uint8Array(ff.length + 1).subarray(1);
    expect(fold(native.inetCopySum(out, ff))).to.equal(fold(sumWordsJs(ff)));
    expect(fold(native.inetSum(ff))).to.equal(fold(sumWordsJs(ff)));
    expect(() => native.inetCopySum(new Uint8Array(3), new Uint8Array(4))).to.throw(RangeError, /same length/);
    const shared = new Uint8Array(600);
    expect(() => native.inetCopySum(shared.subarray(0, 300), shared.subarray(100, 400))).to.throw(RangeError, /overlap/);
  });
});
