import { expect } from 'chai';
import { RingConsumer, RingProducer, createRing } from './shared-ring.js';
import { rng } from './fixtures.js';

describe('trace/shared-ring', () => {
  it('delivers records in order across many wrap-arounds (producer and consumer interleaved in one thread)', () => {
    const bufs = createRing(4096);
    const p = new RingProducer(bufs, 0); // no waiting: a full ring answers -1 at once
    const c = new RingConsumer(bufs);
    const data = new Uint8Array(bufs.data);
    const r = rng(3);
    const sent: number[][] = [];
    let next = 0, received = 0;
    for (let step = 0; step < 20_000; step++) {
      if (r() < 0.55) {
        const len = Math.floor(r() * (p.maxRecord + 1));
        const at = p.reserve(len);
        if (at < 0) continue; // full: the consumer's turn
        const rec = Array.from({ length: Math.min(len, 8) }, (_, i) => (next * 31 + i) & 0xff);
        data.fill(next & 0xff, at, at + len);
        data.set(rec, at);
        p.commit();
        sent.push([next++, len]);
      } else if (sent.length > received) {
        const got = c.next()!;
        const [id, len] = sent[received++]!;
        expect(got[1]).to.equal(len);
        const body = data.subarray(got[0], got[0] + got[1]);
        expect(Array.from(body.subarray(0, Math.min(len, 8)))).to.deep.equal(Array.from({ length: Math.min(len, 8) }, (_, i) => (id! * 31 + i) & 0xff));
        if (len > 8) expect(body[len - 1]).to.equal(id! & 0xff);
        c.release();
      }
    }
    expect(next).to.be.greaterThan(2000); // ≫ ring capacity: it wrapped many times
    p.close();
    while (received < sent.length) { c.next(); c.release(); received++; }
    expect(c.next()).to.equal(undefined); // closed and drained
  });

  it('bounds records and reports a failed consumer to the producer', () => {
    const bufs = createRing(8192);
    const p = new RingProducer(bufs, 0);
    expect(() => p.reserve(p.maxRecord + 1)).to.throw(RangeError);
    expect(() => createRing(1000)).to.throw(RangeError);
    new RingConsumer(bufs).fail('disk full');
    expect(p.failed).to.equal(true);
    expect(p.errorText()).to.equal('disk full');
    expect(p.reserve(10)).to.equal(-1);
    expect(p.waitDone(0)).to.equal(false);
  });
});
