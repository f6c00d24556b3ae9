/**
 * The observation tree: every answer the system gave, as a tree of input words whose edges carry outputs.
 * It is the learner's only store (L#'s data structure) and the query cache at once: a word whose path is in
 * the tree is never asked again, and any answer also answers its prefixes.
 */
import type { Word } from './mealy.js';

export class TreeNode {
  /** children[i]: the edge for input index i (output, child node), when observed. */
  readonly children: ({ readonly out: string; readonly node: TreeNode } | undefined)[];
  constructor(readonly parent: TreeNode | undefined, readonly via: number, inputs: number, readonly depth: number) {
    this.children = new Array(inputs).fill(undefined);
  }
}

export interface Conflict {
  readonly word: Word;
  /** Outputs stored before (the prefix of `word` the tree knew). */
  readonly stored: readonly string[];
  readonly observed: readonly string[];
}

export class ObservationTree {
  readonly root: TreeNode;
  private readonly index: ReadonlyMap<string, number>;
  size = 1;

  constructor(readonly inputs: readonly string[]) {
    this.root = new TreeNode(undefined, -1, inputs.length, 0);
    this.index = new Map(inputs.map((x, i) => [x, i]));
  }

  idx(x: string): number {
    const i = this.index.get(x);
    if (i === undefined) throw new RangeError(`input ${JSON.stringify(x)} is not in the alphabet`);
    return i;
  }

  /** The input word from the root to `n`. */
  access(n: TreeNode): string[] {
    const w: string[] = [];
    for (let m: TreeNode | undefined = n; m && m.parent; m = m.parent) w.push(this.inputs[m.via]!);
    return w.reverse();
  }

  /** The node `w` reaches from `from`, or undefined when the tree does not go that far. */
  get(w: Word, from: TreeNode = this.root): TreeNode | undefined {
    let n: TreeNode | undefined = from;
    for (const x of w) {
      n = n.children[this.idx(x)]?.node;
      if (!n) return undefined;
    }
    return n;
  }

  /** The stored outputs along `w` (as far as the tree goes). */
  outputs(w: Word, from: TreeNode = this.root): string[] {
    const o: string[] = [];
    let n: TreeNode = from;
    for (const x of w) {
      const e = n.children[this.idx(x)];
      if (!e) break;
      o.push(e.out);
      n = e.node;
    }
    return o;
  }

  /** Adds an answer; returns the conflict when it disagrees with what is stored (non-determinism). */
  insert(w: Word, o: readonly string[]): Conflict | undefined {
    if (o.length !== w.length) throw new RangeError(`answer of length ${o.length} for a word of length ${w.length}`);
    let n = this.root;
    for (let k = 0; k < w.length; k++) {
      const i = this.idx(w[k]!);
      const e = n.children[i];
      if (e) {
        if (e.out !== o[k]) return { word: [...w], stored: this.outputs(w), observed: [...o] };
        n = e.node;
        continue;
      }
      const child = new TreeNode(n, i, this.inputs.length, n.depth + 1);
      n.children[i] = { out: o[k]!, node: child };
      this.size++;
      n = child;
    }
    return undefined;
  }

  /** Replaces the outputs along `w` with `o`, dropping every subtree observed below a replaced output. */
  overwrite(w: Word, o: readonly string[]): void {
    let n = this.root;
    for (let k = 0; k < w.length; k++) {
      const i = this.idx(w[k]!);
      const e = n.children[i];
      if (!e || e.out !== o[k]) {
        if (e) this.size -= countNodes(e.node);
        const child = new TreeNode(n, i, this.inputs.length, n.depth + 1);
        n.children[i] = { out: o[k]!, node: child };
        this.size++;
        n = child;
      } else n = e.node;
    }
  }

  /**
   * A word on which the subtrees of `p` and `q` both have answers that differ (L#'s apartness witness), or
   * undefined when they agree wherever both were observed.
   */
  witness(p: TreeNode, q: TreeNode): string[] | undefined {
    const stack: [TreeNode, TreeNode, number][] = [[p, q, -1]];
    const trail: number[] = [];
    while (stack.length) {
      const [a, b, via] = stack.pop()!;
      // trail holds the path to (a, b); depth tells how much of it belongs to this pair
      const depth = a.depth - p.depth;
      trail.length = Math.max(0, depth - 1);
      if (via >= 0) trail.push(via);
      for (let i = 0; i < this.inputs.length; i++) {
        const ea = a.children[i], eb = b.children[i];
        if (!ea || !eb) continue;
        if (ea.out !== eb.out) return [...trail, i].map((k) => this.inputs[k]!);
        stack.push([ea.node, eb.node, i]);
      }
    }
    return undefined;
  }

  apart(p: TreeNode, q: TreeNode): boolean {
    return this.witness(p, q) !== undefined;
  }
}

function countNodes(n: TreeNode): number {
  let c = 0;
  const stack = [n];
  while (stack.length) {
    const m = stack.pop()!;
    c++;
    for (const e of m.children) if (e) stack.push(e.node);
  }
  return c;
}
