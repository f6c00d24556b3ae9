/**
 * Deterministic, input-enabled Mealy machines over string symbols: what the learner infers, what the
 * equivalence oracle tests against, what `learn diff` compares. States are 0..n-1 and 0 is initial.
 */
import type { Rng } from './random.js';

export type Word = readonly string[];

export interface Mealy {
  readonly inputs: readonly string[];
  /** next[state][inputIndex] */
  readonly next: readonly (readonly number[])[];
  /** out[state][inputIndex] */
  readonly out: readonly (readonly string[])[];
}

export function stateCount(m: Mealy): number {
  return m.next.length;
}

export function inputIndex(m: Mealy, input: string): number {
  const i = m.inputs.indexOf(input);
  if (i < 0) throw new RangeError(`input ${JSON.stringify(input)} is not in the machine's alphabet`);
  return i;
}

/** The state reached from `from` after `w`. */
export function reach(m: Mealy, w: Word, from = 0): number {
  let s = from;
  for (const x of w) s = m.next[s]![inputIndex(m, x)]!;
  return s;
}

/** Outputs of `w` from `from`. */
export function run(m: Mealy, w: Word, from = 0): string[] {
  const o: string[] = [];
  let s = from;
  for (const x of w) {
    const i = inputIndex(m, x);
    o.push(m.out[s]![i]!);
    s = m.next[s]![i]!;
  }
  return o;
}

/** Shortest access sequence of every state, breadth-first in input order (unreachable states get none). */
export function accessSequences(m: Mealy): (string[] | undefined)[] {
  const acc: (string[] | undefined)[] = new Array(stateCount(m)).fill(undefined);
  acc[0] = [];
  const queue = [0];
  while (queue.length) {
    const s = queue.shift()!;
    m.inputs.forEach((x, i) => {
      const t = m.next[s]![i]!;
      if (acc[t] === undefined) { acc[t] = [...acc[s]!, x]; queue.push(t); }
    });
  }
  return acc;
}

/**
 * The shortest word on which state `p` of `a` and state `q` of `b` give different outputs (breadth-first
 * over the product), or undefined when they are equivalent. Both machines must share the input alphabet.
 */
export function distinguish(a: Mealy, b: Mealy, p = 0, q = 0): string[] | undefined {
  const inputs = a.inputs;
  const seen = new Map<string, string[]>();
  const key = (x: number, y: number): string => `${x},${y}`;
  seen.set(key(p, q), []);
  const queue: [number, number][] = [[p, q]];
  while (queue.length) {
    const [x, y] = queue.shift()!;
    const w = seen.get(key(x, y))!;
    for (let i = 0; i < inputs.length; i++) {
      const j = inputIndex(b, inputs[i]!);
      if (a.out[x]![i] !== b.out[y]![j]) return [...w, inputs[i]!];
      const nx = a.next[x]![i]!, ny = b.next[y]![j]!;
      if (!seen.has(key(nx, ny))) { seen.set(key(nx, ny), [...w, inputs[i]!]); queue.push([nx, ny]); }
    }
  }
  return undefined;
}

/** Equivalent up to renaming of states (same alphabet, same behaviour from the initial states). */
export function equivalent(a: Mealy, b: Mealy): boolean {
  return sameAlphabet(a, b) && distinguish(a, b) === undefined;
}

export function sameAlphabet(a: Mealy, b: Mealy): boolean {
  return a.inputs.length === b.inputs.length && a.inputs.every((x) => b.inputs.includes(x));
}

/**
 * The minimal machine with the same behaviour: unreachable states dropped, equivalent states merged
 * (partition refinement), states numbered in breadth-first order of their access sequences, so two runs that
 * learn the same behaviour print the same model.
 */
export function minimize(m: Mealy): Mealy {
  const acc = accessSequences(m);
  const reachable = acc.map((a, s) => (a ? s : -1)).filter((s) => s >= 0);
  // partition refinement: start from the output rows, split by successor blocks until the count is stable
  const split = (key: (s: number) => string): Map<number, number> => {
    const ids = new Map<string, number>();
    const b = new Map<number, number>();
    for (const s of reachable) {
      const k = key(s);
      if (!ids.has(k)) ids.set(k, ids.size);
      b.set(s, ids.get(k)!);
    }
    return b;
  };
  const count = (b: Map<number, number>): number => new Set(b.values()).size;
  let block = split((s) => m.out[s]!.join('\u0000'));
  for (;;) {
    const prev = block;
    block = split((s) => `${prev.get(s)}|${m.next[s]!.map((t) => prev.get(t)).join(',')}`);
    if (count(block) === count(prev)) break;
  }
  // renumber blocks breadth-first from the initial state
  const order = new Map<number, number>();
  const rep = new Map<number, number>();
  const queue = [0];
  order.set(block.get(0)!, 0);
  rep.set(0, 0);
  while (queue.length) {
    const s = queue.shift()!;
    for (const t of m.next[s]!) {
      const b = block.get(t)!;
      if (!order.has(b)) { order.set(b, order.size); rep.set(order.get(b)!, t); queue.push(t); }
    }
  }
  const n = order.size;
  const next: number[][] = [], out: string[][] = [];
  for (let k = 0; k < n; k++) {
    const s = rep.get(k)!;
    next.push(m.next[s]!.map((t) => order.get(block.get(t)!)!));
    out.push([...m.out[s]!]);
  }
  return { inputs: [...m.inputs], next, out };
}

/** A random machine for tests: `n` states, all reachable (a spanning tree first), outputs from `outputs`. */
export function randomMealy(rng: Rng, n: number, inputs: readonly string[], outputs: readonly string[]): Mealy {
  const next: number[][] = [], out: string[][] = [];
  for (let s = 0; s < n; s++) {
    next.push(inputs.map(() => rng.int(n)));
    out.push(inputs.map(() => outputs[rng.int(outputs.length)]!));
  }
  // every state s > 0 gets an incoming tree edge from an earlier state (edges never reused), so all are reachable
  const used = new Set<string>();
  for (let s = 1; s < n; s++) {
    for (;;) {
      const p = rng.int(s), i = rng.int(inputs.length);
      if (used.has(`${p},${i}`)) continue;
      used.add(`${p},${i}`);
      next[p]![i] = s;
      break;
    }
  }
  return { inputs: [...inputs], next, out };
}
