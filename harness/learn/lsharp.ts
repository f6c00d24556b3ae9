/**
 * L# (Vaandrager, Garhewal, Rot, Wißmann: "A New Approach for Active Automata Learning Based on Apartness",
 * TACAS 2022): learning a Mealy machine on the observation tree alone. Basis nodes are known-distinct
 * states; frontier nodes (their one-input successors) are either apart from every basis node (a new state:
 * promotion), or ambiguous (a separating query: the witness that splits two candidates), or identified
 * with exactly one basis node. When every frontier node is identified, the hypothesis is read off the tree
 * and checked — first against the tree itself, then by the equivalence oracle; a counterexample is cut down
 * by binary search to a frontier node that becomes apart from its candidate.
 *
 * Queries of one round (every missing basis extension, every separating query) go to the teacher as one
 * batch, so a system behind parallel connections answers them concurrently.
 */
import { type Mealy, run, type Word } from './mealy.js';
import type { TreeNode } from './observation-tree.js';
import type { Teacher } from './teacher.js';

export interface EquivalenceOracle {
  /** A word on which the system differs from `h` (already asked through the teacher), or undefined. */
  findCounterexample(h: Mealy, teacher: Teacher): Promise<Word | undefined>;
}

export interface LearnProgress {
  readonly rounds: number;
  readonly states: number;
  readonly hypotheses: number;
}

export interface LSharpResult {
  readonly model: Mealy;
  readonly rounds: number;
  readonly hypotheses: number;
  /** Counterexamples the equivalence oracle found (words). */
  readonly counterexamples: readonly Word[];
}

export class LSharp {
  private basis: TreeNode[] = [];
  private rounds = 0;
  private hypotheses = 0;
  private readonly counterexamples: Word[] = [];

  constructor(private readonly teacher: Teacher, private readonly eq: EquivalenceOracle, private readonly onProgress?: (p: LearnProgress) => void) {}

  private get tree() { return this.teacher.tree; }
  private get n(): number { return this.tree.inputs.length; }

  async learn(): Promise<LSharpResult> {
    this.reset();
    for (;;) {
      this.rounds++;
      if (this.teacher.rewritten) { this.teacher.rewritten = false; this.reset(); }
      this.onProgress?.({ rounds: this.rounds, states: this.basis.length, hypotheses: this.hypotheses });
      if (this.promote()) continue;
      if (await this.extend()) continue;
      if (await this.separate()) continue;
      if (this.teacher.rewritten) continue;
      const h = this.hypothesis();
      this.hypotheses++;
      let cex = this.inconsistency(h);
      if (!cex) cex = await this.eq.findCounterexample(h, this.teacher);
      if (this.teacher.rewritten) continue;
      if (!cex) return { model: h, rounds: this.rounds, hypotheses: this.hypotheses, counterexamples: this.counterexamples };
      this.counterexamples.push(cex);
      await this.processCounterexample(h, cex);
    }
  }

  /** A vote rewrote stored answers: start again from the root (the tree, i.e. every answer, is kept). */
  private reset(): void {
    this.basis = [this.tree.root];
  }

  private isBasis(node: TreeNode): boolean {
    return this.basis.includes(node);
  }

  private frontier(): TreeNode[] {
    const f: TreeNode[] = [];
    for (const b of this.basis) for (const e of b.children) if (e && !this.isBasis(e.node)) f.push(e.node);
    return f;
  }

  private candidates(f: TreeNode): TreeNode[] {
    return this.basis.filter((b) => !this.tree.apart(f, b));
  }

  /** Rule 1: a frontier node apart from every basis node is a new state. */
  private promote(): boolean {
    for (const f of this.frontier()) {
      if (this.candidates(f).length === 0) { this.basis.push(f); return true; }
    }
    return false;
  }

  /** Rule 2: every basis node gets a child for every input. */
  private async extend(): Promise<boolean> {
    const words: Word[] = [];
    for (const b of this.basis) {
      const acc = this.tree.access(b);
      for (let i = 0; i < this.n; i++) if (!b.children[i]) words.push([...acc, this.tree.inputs[i]!]);
    }
    if (words.length === 0) return false;
    await this.teacher.outputs(words);
    return true;
  }

  /** Rule 3: a frontier node compatible with two basis nodes is asked the witness that splits them. */
  private async separate(): Promise<boolean> {
    const words: Word[] = [];
    for (const f of this.frontier()) {
      const c = this.candidates(f);
      if (c.length < 2) continue;
      const w = this.tree.witness(c[0]!, c[1]!)!;
      words.push([...this.tree.access(f), ...w]);
    }
    if (words.length === 0) return false;
    await this.teacher.outputs(words);
    return true;
  }

  /** Rule 4's hypothesis: basis nodes are states; a frontier edge goes to its one candidate. */
  private hypothesis(): Mealy {
    const index = new Map(this.basis.map((b, k) => [b, k]));
    const next: number[][] = [], out: string[][] = [];
    for (const b of this.basis) {
      const nx: number[] = [], ox: string[] = [];
      for (let i = 0; i < this.n; i++) {
        const e = b.children[i]!;
        ox.push(e.out);
        nx.push(index.get(e.node) ?? index.get(this.candidates(e.node)[0]!)!);
      }
      next.push(nx);
      out.push(ox);
    }
    return { inputs: [...this.tree.inputs], next, out };
  }

  /** A stored word the hypothesis answers differently (free counterexample), breadth-first. */
  private inconsistency(h: Mealy): Word | undefined {
    const queue: [TreeNode, number][] = [[this.tree.root, 0]];
    while (queue.length) {
      const [node, s] = queue.shift()!;
      for (let i = 0; i < this.n; i++) {
        const e = node.children[i];
        if (!e) continue;
        if (e.out !== h.out[s]![i]) return this.tree.access(e.node);
        queue.push([e.node, h.next[s]![i]!]);
      }
    }
    return undefined;
  }

  private access(h: Mealy, w: Word): number {
    let s = 0;
    for (const x of w) s = h.next[s]![this.tree.idx(x)]!;
    return s;
  }

  /**
   * Cuts the counterexample to the first output on which the hypothesis is wrong, then (L#'s ProcCounterEx)
   * halves the part after the frontier until the node it reaches is in the basis or the frontier: there it is
   * apart from the state the hypothesis sent it to, and the rules above make progress.
   */
  private async processCounterexample(h: Mealy, cex: Word): Promise<void> {
    const o = await this.teacher.output(cex);
    const predicted = run(h, cex);
    const k = o.findIndex((x, i) => x !== predicted[i]);
    if (k < 0) return; // not a counterexample after all (a vote rewrote it)
    await this.proc(h, cex.slice(0, k + 1));
  }

  /** `sigma`'s tree node is apart from the basis node of the state `h` reaches on it, with the last input as the separating step. */
  private async proc(h: Mealy, full: Word): Promise<void> {
    // work on sigma = full minus its last input: node(sigma) # access(h(sigma)) by the last input
    let sigma = full.slice(0, -1);
    let eta: Word = full.slice(-1);
    for (let guard = 0; guard < 64; guard++) {
      if (this.teacher.rewritten) return;
      const r = this.tree.get(sigma)!;
      if (this.isBasis(r) || (r.parent && this.isBasis(r.parent))) return;
      // the unique prefix of sigma whose node is in the frontier
      let rho = 0;
      while (this.isBasis(this.tree.get(sigma.slice(0, rho))!)) rho++;
      const half = Math.floor((rho + sigma.length) / 2);
      const s1 = sigma.slice(0, half), s2 = sigma.slice(half);
      const q1 = this.basis[this.access(h, s1)]!;
      const q = this.basis[this.access(h, sigma)]!;
      eta = this.tree.witness(r, q) ?? eta;
      const acc1 = this.tree.access(q1);
      await this.teacher.output([...acc1, ...s2, ...eta]);
      if (this.tree.apart(this.tree.get(s1)!, q1)) sigma = s1;
      else sigma = [...acc1, ...s2];
    }
  }
}
