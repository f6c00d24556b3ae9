import { expect } from 'chai';
import { ConformanceOracle, wpSuite } from './equivalence.js';
import { LSharp } from './lsharp.js';
import { distinguish, equivalent, type Mealy, minimize, randomMealy, run, type Word } from './mealy.js';
import { seededRng } from './random.js';
import { NonDeterminismError, type SystemUnderLearning, Teacher } from './teacher.js';

/** A system that is a known machine (optionally lying now and then). */
function simulated(m: Mealy, opts: { flaky?: (w: Word, run: number) => string[] | undefined; sink?: string } = {}): SystemUnderLearning & { runs: number } {
  const sul = {
    inputs: m.inputs,
    runs: 0,
    query: async (words: readonly Word[]) => words.map((w) => { sul.runs++; return opts.flaky?.(w, sul.runs) ?? run(m, w); }),
    ...(opts.sink ? { isSink: (o: string) => o === opts.sink, sinkOutput: opts.sink } : {}),
  };
  return sul;
}

async function learn(sul: SystemUnderLearning, seed = 1): Promise<{ model: Mealy; teacher: Teacher }> {
  const teacher = new Teacher(sul);
  const r = await new LSharp(teacher, new ConformanceOracle({ extraStates: 1, randomWalks: 200, seed })).learn();
  return { model: r.model, teacher };
}

/** A small SSH-handshake-like machine: KEXINIT, then KEX, then NEWKEYS; anything out of order closes. */
const handshake: Mealy = {
  inputs: ['KEXINIT', 'KEX', 'NEWKEYS', 'IGNORE'],
  //        KEXINIT              KEX                       NEWKEYS          IGNORE
  next: [[1, 3, 3, 3], [3, 2, 3, 3], [3, 3, 4, 3], [3, 3, 3, 3], [4, 4, 4, 4]],
  out: [
    ['NO_RESP', 'CLOSED', 'CLOSED', 'CLOSED'],
    ['CLOSED', 'REPLY+NEWKEYS', 'CLOSED', 'CLOSED'],
    ['CLOSED', 'CLOSED', 'NO_RESP', 'CLOSED'],
    ['CLOSED', 'CLOSED', 'CLOSED', 'CLOSED'],
    ['KEXINIT', 'UNIMPL', 'UNIMPL', 'NO_RESP'],
  ],
};

describe('learn: Mealy machines', () => {
  it('minimize merges equivalent states and numbers them breadth-first', () => {
    const m: Mealy = { inputs: ['a', 'b'], next: [[1, 2], [0, 2], [2, 2]], out: [['x', 'y'], ['x', 'y'], ['z', 'z']] };
    const min = minimize(m);
    expect(min.next.length).to.equal(2);
    expect(equivalent(m, min)).to.equal(true);
  });

  it('distinguish finds the shortest word on which two machines differ', () => {
    const other: Mealy = { ...handshake, out: handshake.out.map((row, s) => (s === 4 ? ['KEXINIT', 'UNIMPL', 'UNIMPL', 'X'] : row)) };
    expect(distinguish(handshake, other)).to.deep.equal(['KEXINIT', 'KEX', 'NEWKEYS', 'IGNORE']);
    expect(distinguish(handshake, handshake)).to.equal(undefined);
  });

  it('the Wp suite of a machine contains a test per transition', () => {
    const tests = [...wpSuite(handshake, 0)];
    expect(tests.length).to.be.greaterThan(handshake.next.length * handshake.inputs.length - 1);
  });
});

describe('learn: L#', () => {
  it('learns the handshake machine exactly', async () => {
    const { model } = await learn(simulated(handshake));
    expect(model.next.length).to.equal(5);
    expect(equivalent(model, handshake)).to.equal(true);
  });

  it('learns 30 random machines (2–12 states, 2–5 inputs) up to equivalence', async () => {
    const rng = seededRng(42);
    for (let k = 0; k < 30; k++) {
      const inputs = ['a', 'b', 'c', 'd', 'e'].slice(0, 2 + rng.int(4));
      const target = minimize(randomMealy(rng, 2 + rng.int(11), inputs, ['0', '1', '2']));
      const { model } = await learn(simulated(target), k);
      expect(equivalent(model, target), `machine ${k}: ${JSON.stringify(distinguish(model, target))}`).to.equal(true);
      expect(model.next.length).to.equal(target.next.length);
    }
  });

  it('answers from the cache and the sink rule instead of asking again', async () => {
    const sul = simulated(handshake, { sink: 'CLOSED' });
    const { teacher } = await learn(sul);
    expect(teacher.stats.cacheHits).to.be.greaterThan(0);
    // a word that runs into the sink is answered without the system
    const before = sul.runs;
    expect(await teacher.output(['KEX', 'KEXINIT', 'KEXINIT', 'KEX', 'NEWKEYS'])).to.deep.equal(new Array(5).fill('CLOSED'));
    expect(sul.runs).to.equal(before);
  });

  it('settles a rare wrong answer by majority vote and reports the divergence', async () => {
    let lied = false;
    const sul = simulated(handshake, {
      flaky: (w) => {
        // the third time KEXINIT KEX is asked it answers late (what a too short timeout would show)
        if (!lied && w.length >= 2 && w[0] === 'KEXINIT' && w[1] === 'KEX') { lied = true; return ['NO_RESP', 'NO_RESP', ...run(handshake, w).slice(2)]; }
        return undefined;
      },
    });
    const teacher = new Teacher(sul);
    await teacher.output(['KEXINIT', 'KEX']); // the lie is stored first
    const r = await new LSharp(teacher, new ConformanceOracle({ seed: 3 })).learn();
    expect(equivalent(r.model, handshake)).to.equal(true);
    expect(teacher.stats.divergences.length).to.be.greaterThan(0);
    expect(teacher.stats.divergences[0]!.kept).to.deep.equal(['NO_RESP', 'REPLY+NEWKEYS']);
  });

  it('stops with NonDeterminismError when no answer wins a majority', async () => {
    const sul = simulated(handshake, { flaky: (w, n) => (w[0] === 'KEXINIT' && w.length > 1 ? [n % 2 ? 'NO_RESP' : 'X', ...run(handshake, w).slice(1)] : undefined) });
    let error: unknown;
    try { await learn(sul); } catch (e) { error = e; }
    expect(error).to.be.instanceOf(NonDeterminismError);
    expect((error as NonDeterminismError).divergence.answers.length).to.be.greaterThan(1);
  });
});
