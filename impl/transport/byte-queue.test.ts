import { expect } from 'chai';
import { ByteQueue } from './byte-queue.js';

describe('transport/byte-queue', () => {
  it('take() is a view of the head chunk when it fits, a copy when it spans chunks', () => {
    const q = new ByteQueue();
    const a = Uint8Array.of(1, 2, 3, 4), b = Uint8Array.of(5, 6, 7);
    q.push(a);
    q.push(b);
    const first = q.take(2);
    expect(first.buffer).to.equal(a.buffer);
    const spanning = q.take(3);
    expect([...spanning]).to.deep.equal([3, 4, 5]);
    expect(spanning.buffer).to.not.equal(a.buffer);
    expect(q.length).to.equal(2);
  });

  it('lastTakeOwned: only copies and views of chunks pushed as owned may be overwritten', () => {
    const q = new ByteQueue();
    q.push(Uint8Array.of(1, 2, 3, 4)); // not handed over
    q.take(2);
    expect(q.lastTakeOwned).to.equal(false);
    q.push(Uint8Array.of(5, 6), true);
    q.take(3); // spans: a fresh copy
    expect(q.lastTakeOwned).to.equal(true);
    q.take(1); // view of the owned chunk
    expect(q.lastTakeOwned).to.equal(true);
    q.push(Uint8Array.of(7, 8), false);
    q.push(Uint8Array.of(9), true);
    q.take(2); // the whole borrowed chunk
    expect(q.lastTakeOwned).to.equal(false);
    q.take(1);
    expect(q.lastTakeOwned).to.equal(true);
  });

  it('takeSplit(): the two pieces of a span over exactly two chunks, as views; anything else is left alone', () => {
    const q = new ByteQueue();
    const a = Uint8Array.of(1, 2, 3, 4), b = Uint8Array.of(5, 6, 7), c = Uint8Array.of(8, 9);
    q.push(a);
    q.push(b);
    q.push(c);
    q.skip(1);
    expect(q.takeSplit(2), 'within the head chunk').to.equal(undefined);
    expect(q.takeSplit(7), 'over three chunks').to.equal(undefined);
    expect(q.length, 'nothing removed').to.equal(8);
    const [x, y] = q.takeSplit(5)!;
    expect([[...x], [...y]]).to.deep.equal([[2, 3, 4], [5, 6]]);
    expect([x.buffer, y.buffer]).to.deep.equal([a.buffer, b.buffer]);
    expect(q.length).to.equal(3);
    expect([...q.take(3)]).to.deep.equal([7, 8, 9]);
  });

  it('a chunk that continues the previous one in memory joins it: a take across both is a view, not a copy', () => {
    const q = new ByteQueue();
    const arena = new Uint8Array(16).map((_, i) => i);
    q.push(arena.subarray(0, 5), true);
    q.push(arena.subarray(5, 9), true);
    q.push(arena.subarray(10, 12), true); // a gap: not joined
    const across = q.take(8);
    expect([...across]).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(across.buffer).to.equal(arena.buffer);
    expect(q.lastTakeOwned).to.equal(true);
    expect([...q.take(3)]).to.deep.equal([8, 10, 11]);
  });
});
