import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { FileSink } from './byte-sink.js';

/** Deterministic chunks of varying sizes (some larger than a block). */
function chunks(n: number, seed: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const len = ((seed * (i + 7)) % 9000) + (i % 50 === 0 ? 70_000 : 1);
    out.push(new Uint8Array(len).fill((seed + i) & 0xff));
  }
  return out;
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('trace/byte-sink FileSink', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'sink-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  for (const mode of ['event loop turning', 'tight loop (pool never answers before close)'] as const) {
    it(`the file holds every byte in order after a synchronous close, with background writes (${mode})`, async () => {
      const path = join(dir, 'f');
      const sink = new FileSink(path, 64 * 1024, 3);
      const all = chunks(400, mode.length);
      for (let i = 0; i < all.length; i++) {
        if (i % 2) sink.write(all[i]!);
        else { const r = sink.reserve(all[i]!.length); r.set(all[i]!); sink.commit(all[i]!.length); }
        if (mode === 'event loop turning' && i % 10 === 0) await turn();
      }
      sink.close();
      const expected = Buffer.concat(all);
      expect(sink.bytesWritten).to.equal(expected.length);
      const got = readFileSync(path);
      expect(got.length).to.equal(expected.length);
      expect(sha(got)).to.equal(sha(expected));
      await turn(); // the descriptor closes once the pool returns; closing again is a no-op
      sink.close();
    });
  }

  it('a failing background write is reported by a later call, not lost', async () => {
    const sink = new FileSink('/dev/full', 64 * 1024, 8);
    let error: unknown;
    try {
      for (let i = 0; i < 100 && !error; i++) {
        sink.write(new Uint8Array(64 * 1024));
        await turn();
      }
      sink.close();
    } catch (e) { error = e; }
    expect(String(error)).to.match(/\/dev\/full: .*(ENOSPC|no space)/i);
    sink.close();
  });

  for (const direct of [true, false]) {
    it(`blocks ${direct ? 'bypass the page cache (O_DIRECT) where the file system allows it' : 'through the page cache'}: whole disk blocks out, the rest carried, the tail at close`, async () => {
      const path = join(dir, `d${direct}`);
      const sink = new FileSink(path, 64 * 1024, 2, direct);
      if (!direct) expect(sink.direct).to.equal(false); // (with `direct`, whether O_DIRECT is taken depends on the file system)
      const all = chunks(300, direct ? 7 : 8).map((c, i) => (i % 97 === 0 ? new Uint8Array(140_000).fill(i & 0xff) : c)); // some larger than a block
      for (let i = 0; i < all.length; i++) {
        sink.write(all[i]!);
        if (i % 7 === 0) await turn();
      }
      sink.close();
      const expected = Buffer.concat(all);
      expect(sha(readFileSync(path)), `${expected.length} bytes`).to.equal(sha(expected));
    });
  }

  it('replaces what an existing file held (it is truncated only when not empty: see the constructor)', () => {
    const path = join(dir, 'old');
    writeFileSync(path, Buffer.alloc(100_000, 9));
    const sink = new FileSink(path);
    sink.write(Uint8Array.of(1, 2, 3));
    sink.close();
    expect(readFileSync(path)).to.deep.equal(Buffer.of(1, 2, 3));
  });

  it('a failing write on the synchronous path (the pool busy: no turn of the event loop) names the file as well', () => {
    const sink = new FileSink('/dev/full', 64 * 1024, 2);
    let error: unknown;
    try {
      for (let i = 0; i < 20 && !error; i++) sink.write(new Uint8Array(64 * 1024));
      sink.close();
    } catch (e) { error = e; }
    expect(String(error)).to.match(/\/dev\/full: .*(ENOSPC|no space)/i);
    sink.close();
  });

  it('refuses writes after close', () => {
    const sink = new FileSink(join(dir, 'g'));
    sink.write(Uint8Array.of(1));
    sink.close();
    expect(() => sink.write(Uint8Array.of(2))).to.throw(/closed/);
    expect(readFileSync(join(dir, 'g'))).to.deep.equal(Buffer.of(1));
  });
});
