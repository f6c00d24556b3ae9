/**
 * The grey-box corpus: cases that reached code no earlier case reached, kept with their executed steps so they
 * replay exactly (`ssh-harness replay <corpus>/<target>/queue/<id>.json`) and are mutated further. Entries are
 * written as `greybox-seed` JSON next to the findings; `fuzz --seeds` and `replay` read them.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../campaign/atomic-write.js';
import { checkStep, CorpusFormatError, type EntryCoverage } from '../corpus.js';
import { PHASES, type Phase, type Step } from '../steps.js';
import { fromJson, toJson } from '../value.js';
import type { AlgorithmPreferences } from '../../../impl/transport/types.js';

export interface QueueEntry {
  readonly id: string;
  readonly start: Phase;
  readonly algorithms: AlgorithmPreferences;
  readonly steps: readonly Step[];
  readonly newEdges: number;
  readonly newFeatures: number;
  /** Campaign case number that added it. */
  readonly caseIndex: number;
  /** Times it was picked as a parent (fewer picks, more likely next). */
  picks: number;
  /** Edge ids (counter indices) the case executed, for rarity (bounded: MAX_ENTRY_EDGES). */
  readonly edges?: Uint32Array;
  file?: string;
}

export interface GreyboxSeedEntry {
  readonly kind: 'greybox-seed';
  readonly version: 1;
  readonly id: string;
  readonly target: string;
  readonly targetVersion: string;
  readonly createdAt: string;
  readonly start: Phase;
  readonly algorithms: AlgorithmPreferences;
  readonly steps: readonly Step[];
  readonly newEdges: number;
  readonly newFeatures: number;
  readonly caseIndex: number;
  readonly coverage: EntryCoverage;
}

export function isGreyboxSeed(v: unknown): v is { kind: 'greybox-seed' } {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'greybox-seed';
}

/** Reads a queue file: the step list is checked the way fuzz findings are (a corrupted file is a CorpusFormatError). */
export function readGreyboxSeed(file: string): GreyboxSeedEntry {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CorpusFormatError(file, (e as Error).message);
  }
  if (!isGreyboxSeed(raw)) throw new CorpusFormatError(file, 'kind must be "greybox-seed"');
  const v = fromJson(raw) as GreyboxSeedEntry;
  if (!PHASES.includes(v.start)) throw new CorpusFormatError(file, `start must be one of ${PHASES.join(', ')}`);
  if (!Array.isArray(v.steps)) throw new CorpusFormatError(file, 'steps must be an array');
  v.steps.forEach((st, i) => checkStep(file, st, i));
  return v;
}

const MAX_QUEUE = 4096;
/** Edges kept per entry for rarity: more than a case of either server executes (a few thousand). */
const MAX_ENTRY_EDGES = 1 << 15;

/** Indices of the non-zero counters (bounded). */
export function edgeIds(counters: Uint8Array, limit = MAX_ENTRY_EDGES): Uint32Array {
  let n = 0;
  for (let i = 0; i < counters.length; i++) if (counters[i]) n++;
  const out = new Uint32Array(Math.min(n, limit));
  for (let i = 0, k = 0; i < counters.length && k < out.length; i++) if (counters[i]) out[k++] = i;
  return out;
}

export class GreyboxQueue {
  readonly entries: QueueEntry[] = [];
  /** Per edge: how many entries executed it (FairFuzz's rare edges are the ones few entries hit). */
  private hits = new Uint32Array(0);
  private readonly rarityCache = new Map<string, { size: number; value: number }>();

  constructor(private readonly dir?: string, private readonly meta: { target: string; targetVersion: string } = { target: '?', targetVersion: '?' }) {}

  get size(): number { return this.entries.length; }

  add(e: Omit<QueueEntry, 'id' | 'picks' | 'file'>, counters?: readonly string[]): QueueEntry | undefined {
    if (this.entries.length >= MAX_QUEUE) return undefined;
    const id = createHash('sha256').update(JSON.stringify([e.start, toJson(e.steps)])).digest('hex').slice(0, 12);
    const entry: QueueEntry = { ...e, id, picks: 0 };
    if (e.edges) this.countEdges(e.edges);
    if (this.dir) {
      mkdirSync(this.dir, { recursive: true });
      const rec: GreyboxSeedEntry = {
        kind: 'greybox-seed', version: 1, id, target: this.meta.target, targetVersion: this.meta.targetVersion, createdAt: new Date().toISOString(),
        start: e.start, algorithms: e.algorithms, steps: e.steps, newEdges: e.newEdges, newFeatures: e.newFeatures, caseIndex: e.caseIndex,
        coverage: { source: 'sancov-edges', features: counters ?? [] },
      };
      const file = join(this.dir, `${id}.json`);
      writeFileAtomic(file, JSON.stringify(toJson(rec), null, 1) + '\n');
      entry.file = file;
    }
    this.entries.push(entry);
    return entry;
  }

  private countEdges(edges: Uint32Array): void {
    let max = 0;
    for (const e of edges) if (e > max) max = e;
    if (this.hits.length <= max) {
      const grown = new Uint32Array(Math.max(max + 1, this.hits.length * 2));
      grown.set(this.hits);
      this.hits = grown;
    }
    for (const e of edges) this.hits[e]!++;
  }

  /**
   * How much of the queue's coverage only this entry (or few others) has: the sum over its edges of
   * 1 / (entries that hit the edge). An entry that alone reaches 40 edges scores at least 40; one whose edges every
   * entry shares scores near edges / size. Cached until the queue grows.
   */
  rarity(e: QueueEntry): number {
    if (!e.edges) return 0;
    const c = this.rarityCache.get(e.id);
    if (c && c.size === this.entries.length) return c.value;
    let v = 0;
    for (const x of e.edges) v += 1 / Math.max(1, this.hits[x]!);
    this.rarityCache.set(e.id, { size: this.entries.length, value: v });
    return v;
  }

  /**
   * A parent for the next mutant from a fast-check integer: among four candidates, the one with the most energy,
   * rarity (above) plus a credit for the edges it found when queued, divided by the picks it already had (new
   * and rare entries get their turn; one mutated often and found nothing since fades).
   */
  pick(n: number): QueueEntry {
    const len = this.entries.length;
    const energy = (c: QueueEntry): number => (1 + this.rarity(c) + c.newEdges / 8) / (1 + c.picks);
    let best = this.entries[n % len]!;
    let bestEnergy = energy(best);
    for (let k = 1; k < 4; k++) {
      const c = this.entries[Math.floor(n / (k * 7919)) % len]!;
      const en = energy(c);
      if (en > bestEnergy) { best = c; bestEnergy = en; }
    }
    best.picks++;
    return best;
  }
}

