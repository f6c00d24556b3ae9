/**
 * `learn diff A B`: the shortest input words on which two models answer differently, over the inputs both
 * alphabets have (breadth-first over the product; one word per pair of states where they first part, so a
 * single early difference does not hide later ones of another kind).
 */
import type { Mealy } from './mealy.js';

export interface Difference {
  readonly inputs: readonly string[];
  readonly a: readonly string[];
  readonly b: readonly string[];
}

function restrict(m: Mealy, inputs: readonly string[]): Mealy {
  const idx = inputs.map((x) => m.inputs.indexOf(x));
  return { inputs: [...inputs], next: m.next.map((row) => idx.map((i) => row[i]!)), out: m.out.map((row) => idx.map((i) => row[i]!)) };
}

export function differences(a0: Mealy, b0: Mealy, max = 10): { common: string[]; onlyA: string[]; onlyB: string[]; diffs: Difference[] } {
  const common = a0.inputs.filter((x) => b0.inputs.includes(x));
  const onlyA = a0.inputs.filter((x) => !b0.inputs.includes(x));
  const onlyB = b0.inputs.filter((x) => !a0.inputs.includes(x));
  const a = restrict(a0, common), b = restrict(b0, common);
  const diffs: Difference[] = [];
  const seen = new Set<string>(['0,0']);
  const queue: { p: number; q: number; w: string[]; oa: string[]; ob: string[] }[] = [{ p: 0, q: 0, w: [], oa: [], ob: [] }];
  while (queue.length && diffs.length < max) {
    const { p, q, w, oa, ob } = queue.shift()!;
    for (let i = 0; i < common.length && diffs.length < max; i++) {
      const x = common[i]!;
      const xa = a.out[p]![i]!, xb = b.out[q]![i]!;
      if (xa !== xb) { diffs.push({ inputs: [...w, x], a: [...oa, xa], b: [...ob, xb] }); continue; }
      const np = a.next[p]![i]!, nq = b.next[q]![i]!;
      const k = `${np},${nq}`;
      if (!seen.has(k)) { seen.add(k); queue.push({ p: np, q: nq, w: [...w, x], oa: [...oa, xa], ob: [...ob, xb] }); }
    }
  }
  return { common, onlyA, onlyB, diffs };
}
