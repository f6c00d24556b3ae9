/**
 * Corpus minimisation for `fuzz merge`: from the entries of every shard, keep few and small ones that lose
 * nothing. Two things must survive:
 *
 * - every distinct finding (signature): its smallest entry is kept;
 * - every coverage feature reached by any entry (grey-box campaigns): for each feature, the smallest entry that
 *   reaches it is kept — the rule of afl-cmin, deterministic and one pass over the features.
 *
 * Entries without coverage are thereby deduplicated by signature alone. "Smaller" means fewer messages on the
 * wire, then fewer steps, then the lower id (so the result does not depend on the order shards are read).
 */

export interface MinimiseInput {
  /** Unique key of the entry (its file path). */
  readonly key: string;
  readonly id: string;
  readonly messages: number;
  readonly steps: number;
  /** Finding signature; undefined for coverage-only entries (grey-box seeds). */
  readonly signature?: string;
  /** Coverage features, already qualified by their source (`source\u0000feature`). */
  readonly features?: readonly string[];
}

export interface MinimiseResult {
  /** Keys kept, smallest first. */
  readonly kept: readonly string[];
  /** Why each kept entry is kept: the finding it is the smallest for and/or how many features it was chosen for. */
  readonly reasons: ReadonlyMap<string, { readonly forSignature?: string; readonly features: number }>;
  readonly features: number;
  readonly withCoverage: number;
}

function smaller(a: MinimiseInput, b: MinimiseInput): number {
  return a.messages - b.messages || a.steps - b.steps || (a.id < b.id ? -1 : a.id > b.id ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

export function minimiseCorpus(entries: readonly MinimiseInput[]): MinimiseResult {
  const sorted = [...entries].sort(smaller);
  const reasons = new Map<string, { forSignature?: string; features: number }>();
  const bestForFeature = new Map<string, string>();
  let withCoverage = 0;
  for (const e of sorted) {
    if (!e.features?.length) continue;
    withCoverage++;
    // in size order, the first entry that reaches a feature is its smallest
    for (const f of e.features) if (!bestForFeature.has(f)) bestForFeature.set(f, e.key);
  }
  for (const key of bestForFeature.values()) {
    const r = reasons.get(key) ?? { features: 0 };
    r.features++;
    reasons.set(key, r);
  }
  const signatureDone = new Set<string>();
  for (const e of sorted) {
    if (e.signature === undefined || signatureDone.has(e.signature)) continue;
    signatureDone.add(e.signature);
    const r = reasons.get(e.key) ?? { features: 0 };
    r.forSignature = e.signature;
    reasons.set(e.key, r);
  }
  const kept = sorted.filter((e) => reasons.has(e.key)).map((e) => e.key);
  return { kept, reasons, features: bestForFeature.size, withCoverage };
}
