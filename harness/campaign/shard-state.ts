/**
 * One shard's output directory on the shared volume, and its checkpoint (`fuzz --out DIR`):
 *
 *   DIR/shard-K-of-N/state.json        progress (the batch to resume from) and figures over every attempt
 *   DIR/shard-K-of-N/corpus/<target>/  findings, one entry each, written as they are found
 *   DIR/shard-K-of-N/report.{json,md}  the shard's report, when it ends
 *
 * Every file is written atomically (temp + rename), so a shard killed at any moment leaves a consistent directory:
 * entries it had written stay, and the state names a batch below which every case has run. When the orchestrator
 * restarts the task, the same command finds the state and resumes there: the cases of batches that were in flight
 * run again (they are deterministic), earlier findings count as known, and the figures add up over the attempts.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, relative } from 'node:path';
import { signatureOf, type CampaignResult, type FindingRecord, type Shard } from '../fuzz/campaign.js';
import { CorpusFormatError, readEntry } from '../fuzz/corpus.js';
import type { State } from '../fuzz/executor.js';
import { isTempName, writeFileAtomic } from './atomic-write.js';

export const SHARD_STATE_VERSION = 1;
const MAX_STATE_BYTES = 16 << 20;

export class ShardStateError extends Error {
  constructor(file: string, why: string) {
    super(`${file}: ${why}`);
    this.name = 'ShardStateError';
  }
}

export interface ShardTotals {
  readonly cases: number;
  readonly elapsedMs: number;
  readonly cpuMs: number;
  readonly freshConnections: number;
  readonly reusedCases: number;
  readonly unreached: number;
  readonly closedByPeer: number;
  readonly states: Readonly<Record<string, number>>;
  readonly coverage: Readonly<Record<string, number>>;
}

export interface ShardAttempt {
  readonly host: string;
  readonly pid: number;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly firstBatch: number;
  /** Cases this attempt ran, as of updatedAt. */
  readonly cases: number;
}

export interface ShardFindingSummary {
  readonly signature: string;
  readonly oracle: string;
  readonly severity: 'must' | 'should';
  readonly message: string;
  readonly occurrences: number;
  /** Corpus entry, relative to the shard directory. */
  readonly file?: string;
}

export interface ShardState {
  readonly kind: 'fuzz-shard';
  readonly version: typeof SHARD_STATE_VERSION;
  readonly target: string;
  readonly targetVersion: string;
  readonly seed: number;
  /** `K/N`. */
  readonly shard: string;
  /** What the command asked for (runs, time, mode, …): a restart must ask for the same, or it is another campaign. */
  readonly plan: Readonly<Record<string, string | number | boolean | null>>;
  /** Every batch of this shard below this one has run. */
  readonly nextBatch: number;
  readonly attempts: readonly ShardAttempt[];
  readonly totals: ShardTotals;
  readonly findings: readonly ShardFindingSummary[];
  readonly finished?: { readonly at: string; readonly stoppedBy: string; readonly peerDown?: string };
}

export const EMPTY_TOTALS: ShardTotals = {
  cases: 0, elapsedMs: 0, cpuMs: 0, freshConnections: 0, reusedCases: 0, unreached: 0, closedByPeer: 0, states: {}, coverage: {},
};

export function shardDirName(s: Shard): string {
  return `shard-${s.k}-of-${s.n}`;
}

function addCounts(a: Readonly<Record<string, number>>, b: Iterable<readonly [string, number]>): Record<string, number> {
  const out: Record<string, number> = { ...a };
  for (const [k, v] of b) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** Figures of earlier attempts plus this attempt's result so far. */
export function addResult(prior: ShardTotals, r: CampaignResult): ShardTotals {
  return {
    cases: prior.cases + r.cases, elapsedMs: prior.elapsedMs + r.elapsedMs, cpuMs: prior.cpuMs + r.cpuMs,
    freshConnections: prior.freshConnections + r.freshConnections, reusedCases: prior.reusedCases + r.reusedCases,
    unreached: prior.unreached + r.unreached, closedByPeer: prior.closedByPeer + r.closedByPeer,
    states: addCounts(prior.states, r.states), coverage: addCounts(prior.coverage, r.coverage),
  };
}

/** The shard's figures as a CampaignResult (for the standard report writers). */
export function totalsAsResult(r: CampaignResult, t: ShardTotals): CampaignResult {
  return {
    ...r, cases: t.cases, elapsedMs: t.elapsedMs, casesPerSecond: t.cases / Math.max(t.elapsedMs / 1000, 1e-9), cpuMs: t.cpuMs,
    freshConnections: t.freshConnections, reusedCases: t.reusedCases, unreached: t.unreached, closedByPeer: t.closedByPeer,
    states: new Map(Object.entries(t.states) as Array<[State, number]>), coverage: new Map(Object.entries(t.coverage)),
  };
}

function isCounts(v: unknown): v is Record<string, number> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0);
}

/** Reads and checks a state file; a ShardStateError names what is wrong. */
export function readShardState(file: string): ShardState {
  let raw: unknown;
  try {
    if (statSync(file).size > MAX_STATE_BYTES) throw new Error(`larger than ${MAX_STATE_BYTES} bytes`);
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ShardStateError(file, `cannot read the shard state: ${(e as Error).message}`);
  }
  const v = raw as Record<string, unknown>;
  const bad = (why: string): never => { throw new ShardStateError(file, `not a shard state: ${why}`); };
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad('expected an object');
  if (v.kind !== 'fuzz-shard') bad(`kind must be "fuzz-shard", got ${JSON.stringify(v.kind)}`);
  if (v.version !== SHARD_STATE_VERSION) bad(`unsupported version ${JSON.stringify(v.version)}`);
  if (typeof v.target !== 'string' || typeof v.targetVersion !== 'string') bad('target and targetVersion must be strings');
  if (typeof v.seed !== 'number' || !Number.isInteger(v.seed)) bad('seed must be an integer');
  if (typeof v.shard !== 'string' || !/^\d+\/\d+$/.test(v.shard)) bad('shard must be "K/N"');
  if (typeof v.nextBatch !== 'number' || !Number.isInteger(v.nextBatch) || v.nextBatch < 0) bad('nextBatch must be a non-negative integer');
  if (typeof v.plan !== 'object' || v.plan === null) bad('plan must be an object');
  if (!Array.isArray(v.attempts)) bad('attempts must be an array');
  if (!Array.isArray(v.findings)) bad('findings must be an array');
  const t = v.totals as Record<string, unknown> | undefined;
  if (typeof t !== 'object' || t === null) bad('totals must be an object');
  for (const k of ['cases', 'elapsedMs', 'cpuMs', 'freshConnections', 'reusedCases', 'unreached', 'closedByPeer'] as const) {
    if (typeof t![k] !== 'number' || !Number.isFinite(t![k]) || (t![k] as number) < 0) bad(`totals.${k} must be a non-negative number`);
  }
  if (!isCounts(t!.states) || !isCounts(t!.coverage)) bad('totals.states and totals.coverage must map names to counts');
  return v as unknown as ShardState;
}

/** Findings an earlier attempt saved: the corpus entries under `corpusDir` (the durable record), with the state's counts. */
export function knownFindings(corpusDir: string, state: ShardState | undefined): FindingRecord[] {
  const occurrences = new Map((state?.findings ?? []).map((f) => [f.signature, f.occurrences]));
  const out = new Map<string, FindingRecord>();
  if (!existsSync(corpusDir)) return [];
  for (const sub of readdirSync(corpusDir, { withFileTypes: true })) {
    if (!sub.isDirectory()) continue;
    for (const name of readdirSync(join(corpusDir, sub.name))) {
      if (!name.endsWith('.json') || isTempName(name)) continue;
      const file = join(corpusDir, sub.name, name);
      let e;
      try {
        e = readEntry(file);
      } catch (err) {
        if (err instanceof CorpusFormatError) continue; // not ours to judge here: `fuzz merge` reports it
        throw err;
      }
      const signature = signatureOf(e.finding);
      if (out.has(signature)) continue;
      out.set(signature, {
        signature, finding: e.finding, start: e.start, algorithms: e.algorithms, steps: e.steps, caseIndex: e.campaign.caseIndex,
        seed: e.seed, path: e.path, occurrences: occurrences.get(signature) ?? 1, reproduced: e.reproduced, file, shrinks: 0, foundAfterMs: 0,
      });
    }
  }
  return [...out.values()];
}

export interface ShardCheckpointInput {
  readonly dir: string;
  readonly target: string;
  readonly targetVersion: string;
  readonly seed: number;
  readonly shard: Shard;
  readonly plan: Readonly<Record<string, string | number | boolean | null>>;
}

/**
 * The checkpoint writer of one attempt. `open` reads an existing state (a restart) and checks it belongs to the same
 * campaign; `checkpoint` is called after batches (written at most every `intervalMs`), `finish` at the end.
 */
export class ShardCheckpoint {
  readonly file: string;
  readonly corpusDir: string;
  readonly prior: ShardState | undefined;
  private readonly startedAt = new Date().toISOString();
  private lastWrite = 0;

  constructor(readonly input: ShardCheckpointInput, private readonly intervalMs = 1000) {
    this.file = join(input.dir, 'state.json');
    this.corpusDir = join(input.dir, 'corpus');
    this.prior = existsSync(this.file) ? readShardState(this.file) : undefined;
    const p = this.prior;
    if (p) {
      const mine = `${input.shard.k}/${input.shard.n}`;
      const mismatch = p.target !== input.target ? `target ${JSON.stringify(p.target)}`
        : p.seed !== input.seed ? `seed ${p.seed}`
          : p.shard !== mine ? `shard ${p.shard}`
            : JSON.stringify(p.plan) !== JSON.stringify(input.plan) ? `plan ${JSON.stringify(p.plan)}` : undefined;
      if (mismatch) throw new ShardStateError(this.file, `holds another campaign (${mismatch}); give a fresh --out directory or remove it`);
    }
  }

  /** Where to resume (0 for a first attempt). */
  get firstBatch(): number { return this.prior?.nextBatch ?? 0; }
  get priorTotals(): ShardTotals { return this.prior?.totals ?? EMPTY_TOTALS; }
  get attempt(): number { return (this.prior?.attempts.length ?? 0) + 1; }
  get finishedBefore(): boolean { return this.prior?.finished !== undefined; }

  private state(nextBatch: number, r: CampaignResult, finished?: ShardState['finished']): ShardState {
    const now = new Date().toISOString();
    const me: ShardAttempt = { host: hostname(), pid: process.pid, startedAt: this.startedAt, updatedAt: now, firstBatch: this.firstBatch, cases: r.cases };
    return {
      kind: 'fuzz-shard', version: SHARD_STATE_VERSION, target: this.input.target, targetVersion: this.input.targetVersion, seed: this.input.seed,
      shard: `${this.input.shard.k}/${this.input.shard.n}`, plan: this.input.plan, nextBatch,
      attempts: [...(this.prior?.attempts ?? []), me], totals: addResult(this.priorTotals, r),
      findings: r.findings.map((f) => ({
        signature: f.signature, oracle: f.finding.oracle, severity: f.finding.severity, message: f.finding.message, occurrences: f.occurrences,
        ...(f.file ? { file: relative(this.input.dir, f.file) } : {}),
      })),
      ...(finished ? { finished } : {}),
    };
  }

  checkpoint(nextBatch: number, snapshot: () => CampaignResult, force = false): void {
    const now = performance.now();
    if (!force && now - this.lastWrite < this.intervalMs) return;
    this.lastWrite = now;
    writeFileAtomic(this.file, JSON.stringify(this.state(nextBatch, snapshot()), null, 1) + '\n');
  }

  /** The shard's final state; an interrupted attempt is not an end: a restart resumes from `nextBatch`. */
  finish(nextBatch: number, r: CampaignResult): ShardState {
    const ended = r.stoppedBy === 'interrupted' ? undefined : { at: new Date().toISOString(), stoppedBy: r.stoppedBy, ...(r.peerDown ? { peerDown: r.peerDown } : {}) };
    const s = this.state(nextBatch, r, ended);
    writeFileAtomic(this.file, JSON.stringify(s, null, 1) + '\n');
    return s;
  }
}
