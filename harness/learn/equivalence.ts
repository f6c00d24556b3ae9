/**
 * The equivalence oracle: conformance testing of the hypothesis against the system, bounded by count and
 * time. First the alphabet's reference run with an input inserted anywhere (the idea of the
 * "happy flow" oracle in Bäumer et al.'s SSH state learner), then the Wp-method (Fujiwara et al. 1991) for `extraStates` more states than the hypothesis has —
 * every transition, followed by every word of up to `extraStates` inputs, followed by the identification set
 * of the state the hypothesis says it reaches — then seeded random walks. Tests go to the teacher in
 * batches (parallel connections); the cache answers the ones already known for free.
 */
import { accessSequences, distinguish, type Mealy, run, type Word } from './mealy.js';
import type { EquivalenceOracle } from './lsharp.js';
import { seededRng } from './random.js';
import type { Teacher } from './teacher.js';

export interface ConformanceOptions {
  /** States the system may have beyond the hypothesis, for the Wp-method (default 1). */
  readonly extraStates?: number;
  /** Random walks after the Wp suite (default 300). */
  readonly randomWalks?: number;
  /** Mean length of a random walk beyond a random state's access sequence (geometric; default 6). */
  readonly walkLength?: number;
  readonly seed?: number;
  /** Largest Wp suite run; beyond it the suite is sampled (default 20 000). */
  readonly maxTests?: number;
  /** Tests per teacher batch (default 128). */
  readonly batch?: number;
  /**
   * The protocol's reference run over this alphabet (e.g. KEXINIT KEX_ECDH_INIT NEWKEYS SERVICE_REQUEST_AUTH,
   * then a re-exchange): tested first with up to `insertions` inputs inserted anywhere in it (default 1;
   * 2 costs |flow|²·|I|²/2 words, ~2 300 for the handshake alphabet: minutes over TCP).
   * Deviations from the reference run are where implementations differ, and such words are long and
   * specific — random walks rarely hit them.
   */
  readonly happyFlow?: readonly string[];
  readonly insertions?: number;
}

/** `flow` with up to `k` inputs inserted at every position (shortest first; each word once). */
export function happyFlowSuite(flow: readonly string[], inputs: readonly string[], k: number): Word[] {
  const seen = new Set<string>();
  const out: Word[] = [];
  let layer: string[][] = [[...flow]];
  const add = (w: string[]): void => { const key = w.join('\u0000'); if (!seen.has(key)) { seen.add(key); out.push(w); } };
  add([...flow]);
  for (let d = 1; d <= k; d++) {
    const next: string[][] = [];
    for (const w of layer) for (let i = 0; i <= w.length; i++) for (const x of inputs) {
      const v = [...w.slice(0, i), x, ...w.slice(i)];
      const key = v.join('\u0000');
      if (!seen.has(key)) { add(v); next.push(v); }
    }
    layer = next;
  }
  return out;
}

/** For each state, the words that tell it from every other state (its identification set W_q). */
export function identificationSets(h: Mealy): string[][][] {
  const n = h.next.length;
  const sets: string[][][] = Array.from({ length: n }, () => []);
  for (let p = 0; p < n; p++) {
    for (let q = 0; q < n; q++) {
      if (p === q) continue;
      // a word already in W_p that separates p and q is enough
      if (sets[p]!.some((w) => run(h, w, p).join() !== run(h, w, q).join())) continue;
      const w = distinguish(h, h, p, q);
      if (w) sets[p]!.push(w);
    }
  }
  return sets;
}

function* wordsUpTo(inputs: readonly string[], k: number): Generator<string[]> {
  yield [];
  let layer: string[][] = [[]];
  for (let d = 1; d <= k; d++) {
    const nextLayer: string[][] = [];
    for (const w of layer) for (const x of inputs) { const v = [...w, x]; nextLayer.push(v); yield v; }
    layer = nextLayer;
  }
}

/** The Wp test suite: transition cover × I^≤k × W_q of the state reached. */
export function* wpSuite(h: Mealy, extraStates: number): Generator<Word> {
  const acc = accessSequences(h);
  const ids = identificationSets(h);
  for (let s = 0; s < h.next.length; s++) {
    const a = acc[s];
    if (!a) continue;
    for (const x of [undefined, ...h.inputs]) {
      const prefix = x === undefined ? a : [...a, x];
      for (const mid of wordsUpTo(h.inputs, extraStates)) {
        const w = [...prefix, ...mid];
        let t = 0;
        for (const y of w) t = h.next[t]![h.inputs.indexOf(y)]!;
        const suffixes = ids[t]!.length ? ids[t]! : [[]];
        for (const id of suffixes) yield [...w, ...id];
      }
    }
  }
}

export class ConformanceOracle implements EquivalenceOracle {
  /** Tests run (asked of the teacher) over every call. */
  tests = 0;
  private round = 0;

  constructor(private readonly o: ConformanceOptions = {}) {}

  async findCounterexample(h: Mealy, teacher: Teacher): Promise<Word | undefined> {
    this.round++;
    const batch = this.o.batch ?? 128;
    const check = async (words: Word[]): Promise<Word | undefined> => {
      this.tests += words.length;
      const answers = await teacher.outputs(words);
      for (let k = 0; k < words.length; k++) {
        if (answers[k]!.join('\u0000') !== run(h, words[k]!).join('\u0000')) return words[k];
      }
      return undefined;
    };
    const rng = seededRng((this.o.seed ?? 1) * 7919 + this.round);
    if (this.o.happyFlow?.length) {
      const tests = happyFlowSuite(this.o.happyFlow, h.inputs, this.o.insertions ?? 1);
      for (let k = 0; k < tests.length; k += batch) {
        const cex = await check(tests.slice(k, k + batch));
        if (cex) return cex;
        if (teacher.rewritten) return undefined;
      }
    }
    // Wp, shortest tests first (they share prefixes with what the learner asked: the cache answers many)
    const suite = [...wpSuite(h, this.o.extraStates ?? 1)].filter((w) => w.length > 0);
    const max = this.o.maxTests ?? 20_000;
    let tests = suite;
    if (tests.length > max) {
      // too many: a seeded sample that keeps every transition-cover test of length ≤ the access depth + 1
      tests = tests.filter(() => rng.float() < max / suite.length);
    }
    tests.sort((a, b) => a.length - b.length);
    for (let k = 0; k < tests.length; k += batch) {
      const cex = await check(tests.slice(k, k + batch));
      if (cex) return cex;
      if (teacher.rewritten) return undefined;
    }
    // random walks from random states
    const acc = accessSequences(h).filter((a): a is string[] => a !== undefined);
    const walks = this.o.randomWalks ?? 300;
    const mean = this.o.walkLength ?? 6;
    for (let k = 0; k < walks; k += batch) {
      const words: Word[] = [];
      for (let j = k; j < Math.min(walks, k + batch); j++) {
        const w = [...acc[rng.int(acc.length)]!];
        do w.push(h.inputs[rng.int(h.inputs.length)]!); while (rng.float() > 1 / mean);
        words.push(w);
      }
      const cex = await check(words);
      if (cex) return cex;
      if (teacher.rewritten) return undefined;
    }
    return undefined;
  }
}
