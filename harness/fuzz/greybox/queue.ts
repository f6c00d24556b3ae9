/**
 * The grey-box corpus: cases that reached code no earlier case reached, kept with their executed steps so they
 * replay exactly (`ssh-harness replay <corpus>/<target>/queue/<id>.json`) and are mutated further. Entries are
 * written as `greybox-seed` JSON next to the findings; `fuzz --seeds` and `replay` read them.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../campaign/atomic-write.js';
import { CorpusFormatError, type EntryCoverage } from '../corpus.js';
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
  v.steps.forEach((st, i) => checkQueueStep(file, st, i));
  return v;
}

const STEP_OPS = new Set(['start', 'kexinit', 'bytes', 'send', 'deviate', 'service', 'auth', 'open', 'exec', 'global', 'rekey']);

function checkQueueStep(file: string, s: unknown, i: number): void {
  const o = s as Record<string, unknown> | null;
  if (typeof o !== 'object' || o === null || !STEP_OPS.has(o.op as string)) throw new CorpusFormatError(file, `steps[${i}] is not a step`);
  if (o.op === 'send' && typeof (o.msg as Record<string, unknown> | undefined)?.type !== 'string') throw new CorpusFormatError(file, `steps[${i}].msg.type must be a string`);
  if (o.op === 'bytes' && !(o.data instanceof Uint8Array)) throw new CorpusFormatError(file, `steps[${i}].data must be {"$hex": ...}`);
}

const MAX_QUEUE = 4096;

export class GreyboxQueue {
  readonly entries: QueueEntry[] = [];

  constructor(private readonly dir?: string, private readonly meta: { target: string; targetVersion: string } = { target: '?', targetVersion: '?' }) {}

  get size(): number { return this.entries.length; }

  add(e: Omit<QueueEntry, 'id' | 'picks' | 'file'>, counters?: readonly string[]): QueueEntry | undefined {
    if (this.entries.length >= MAX_QUEUE) return undefined;
    const id = createHash('sha256').update(JSON.stringify([e.start, toJson(e.steps)])).digest('hex').slice(0, 12);
    const entry: QueueEntry = { ...e, id, picks: 0 };
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

  /**
   * A parent for the next mutant from a fast-check integer: among four candidates, the least picked (new entries
   * get their turn), an entry's credit growing with the edges it found (8 edges = one pick).
   */
  pick(n: number): QueueEntry {
    const len = this.entries.length;
    let best = this.entries[n % len]!;
    for (let k = 1; k < 4; k++) {
      const c = this.entries[Math.floor(n / (k * 7919)) % len]!;
      if (c.picks - c.newEdges / 8 < best.picks - best.newEdges / 8) best = c;
    }
    best.picks++;
    return best;
  }
}

