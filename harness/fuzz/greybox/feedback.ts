/**
 * Novelty from edge counters, as AFL does it: each edge's hit count goes into one of eight buckets (1, 2, 3,
 * 4-7, 8-15, 16-31, 32-127, 128+); a case is novel when it sets a bucket bit no earlier case set for that edge.
 * A new edge is also counted on its own: `edges` (distinct edges ever hit) is the figure campaigns compare.
 */
const BUCKET = new Uint8Array(256);
for (let i = 1; i < 256; i++) BUCKET[i] = i === 1 ? 1 : i === 2 ? 2 : i === 3 ? 4 : i < 8 ? 8 : i < 16 ? 16 : i < 32 ? 32 : i < 128 ? 64 : 128;

export interface Novelty {
  /** Edges no earlier case reached. */
  readonly newEdges: number;
  /** (edge, hit-count bucket) pairs no earlier case reached (new edges included). */
  readonly newFeatures: number;
}

export class EdgeFeedback {
  private seen = new Uint8Array(0);
  edges = 0;
  features = 0;

  /** Merges one case's counters; says what was new. */
  observe(counters: Uint8Array): Novelty {
    if (this.seen.length < counters.length) {
      const grown = new Uint8Array(counters.length);
      grown.set(this.seen);
      this.seen = grown;
    }
    let newEdges = 0;
    let newFeatures = 0;
    const seen = this.seen;
    for (let i = 0; i < counters.length; i++) {
      const c = counters[i]!;
      if (c === 0) continue;
      const b = BUCKET[c]!;
      const s = seen[i]!;
      if ((s & b) !== 0) continue;
      if (s === 0) newEdges++;
      newFeatures++;
      seen[i] = s | b;
    }
    this.edges += newEdges;
    this.features += newFeatures;
    return { newEdges, newFeatures };
  }

  /** The numbers of every edge reached so far. */
  *reached(): Generator<number> {
    const seen = this.seen;
    for (let i = 0; i < seen.length; i++) if (seen[i] !== 0) yield i;
  }
}
