/**
 * `ssh-harness fuzz merge DIR…`: gathers what the shards of one or more campaigns wrote — shard directories of
 * `fuzz --out` (state.json), report directories of plain `fuzz` runs (report.json, e.g. CI matrix artifacts) and
 * corpus entries anywhere below — into one result:
 *
 * - findings deduplicated by signature: the peer, the oracle with its message normalised (numbers, hex and quoted
 *   peer strings blanked, as within a campaign), and the message path of the minimal case (the messages and step
 *   kinds it sends, in order; not the start phase the reference walk reached first: two shards often shrink the
 *   same bug to the same messages from different phases) — the same bug found by two shards is one finding;
 * - the corpus minimised (minimise.ts: by coverage when entries carry it, else one entry per finding);
 * - per-shard figures and their sum: cases, time, cases/s, CPU, restarts, states and message × state coverage.
 *
 * Inputs are read, never changed. Unreadable files are reported with the reason and the rest is merged.
 */
import { lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { signatureOf } from '../fuzz/campaign.js';
import { checkCoverage, CorpusFormatError, readEntry, type EntryCoverage, type FuzzCorpusEntry } from '../fuzz/corpus.js';
import type { Step } from '../fuzz/steps.js';
import { isTempName } from './atomic-write.js';
import { minimiseCorpus, type MinimiseInput } from './minimise.js';
import { readShardState, ShardStateError, type ShardAttempt, type ShardState } from './shard-state.js';

const MAX_DEPTH = 10;
const MAX_FILES = 200_000;
const MAX_ENTRY_BYTES = 64 << 20;

export class MergeInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MergeInputError';
  }
}

/** One shard as the merge sees it (from its state.json, or from a plain campaign's report.json). */
export interface MergedShard {
  readonly dir: string;
  readonly source: 'state' | 'report';
  readonly target: string;
  readonly targetVersion: string;
  readonly seed: number;
  readonly shard: string;
  readonly cases: number;
  readonly elapsedMs: number;
  readonly cpuMs: number;
  readonly restarts: number;
  readonly finished: boolean;
  readonly stoppedBy?: string;
  readonly startedAt?: string;
  readonly endedAt?: string;
  readonly findings: number;
  readonly states: Readonly<Record<string, number>>;
  readonly coverage: Readonly<Record<string, number>>;
}

/** A corpus entry found under the inputs. */
export interface MergedEntry {
  readonly file: string;
  readonly shardDir?: string;
  readonly kind: string;
  readonly id: string;
  readonly peer: string;
  readonly signature?: string;
  readonly entry?: FuzzCorpusEntry;
  readonly coverage?: EntryCoverage;
  readonly messages: number;
  readonly steps: number;
  readonly occurrences: number;
}

export interface FindingGroup {
  readonly signature: string;
  readonly peer: string;
  readonly oracle: string;
  readonly severity: 'must' | 'should';
  readonly message: string;
  readonly path: string;
  /** The smallest entry: the one the merged corpus keeps. */
  readonly representative: MergedEntry;
  readonly entries: readonly MergedEntry[];
  readonly shards: readonly string[];
  readonly occurrences: number;
}

export interface MergeResult {
  readonly inputs: readonly string[];
  readonly shards: readonly MergedShard[];
  readonly entries: readonly MergedEntry[];
  readonly findings: readonly FindingGroup[];
  /** Entries the minimised corpus keeps, with the reason for each. */
  readonly kept: readonly { readonly entry: MergedEntry; readonly forSignature?: string; readonly features: number }[];
  readonly coverageFeatures: number;
  readonly entriesWithCoverage: number;
  readonly totals: {
    readonly cases: number;
    readonly cpuMs: number;
    /** Earliest shard start to latest shard end (wall clock of the campaign). */
    readonly wallMs?: number;
    readonly casesPerSecond?: number;
    /** Sum of each shard's own cases/s. */
    readonly sumShardRates: number;
    readonly states: Readonly<Record<string, number>>;
    readonly coverage: Readonly<Record<string, number>>;
  };
  readonly problems: readonly string[];
  readonly warnings: readonly string[];
}

/** The kinds of messages and steps a case sends, in order: `SSH_MSG_CHANNEL_DATA deviate:skip`. */
export function messagePath(steps: readonly Step[]): string {
  const parts = steps.map((s) => {
    switch (s.op) {
      case 'send': return s.msg.type === 'unknown' ? `msg${String(s.msg.id)}` : s.msg.type;
      case 'deviate': return `deviate:${s.deviation.kind}`;
      case 'auth': return `auth:${s.method}`;
      default: return s.op;
    }
  });
  return parts.length ? parts.join(' ') : '(no steps)';
}

export function mergeSignature(e: FuzzCorpusEntry): string {
  return `${e.target} | ${signatureOf(e.finding)} | ${messagePath(e.steps)}`;
}

interface Found { states: string[]; reports: string[]; jsons: string[] }

function walk(root: string, found: Found, problems: string[]): void {
  const visit = (dir: string, depth: number): void => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch (e) {
      problems.push(`${dir}: cannot list: ${(e as Error).message}`);
      return;
    }
    for (const name of names) {
      if (name.startsWith('.')) continue; // temporaries of atomic writes, hidden files
      const p = join(dir, name);
      const st = lstatSync(p);
      if (st.isSymbolicLink()) continue;
      if (st.isDirectory()) {
        if (depth < MAX_DEPTH) visit(p, depth + 1);
        else problems.push(`${p}: deeper than ${MAX_DEPTH} levels, not read`);
        continue;
      }
      if (!st.isFile() || !name.endsWith('.json') || isTempName(name)) continue;
      if (found.states.length + found.reports.length + found.jsons.length >= MAX_FILES) throw new MergeInputError(`more than ${MAX_FILES} JSON files under ${root}: give the campaign directories, not a whole disk`);
      if (name === 'state.json') found.states.push(p);
      else if (name === 'report.json') found.reports.push(p);
      else found.jsons.push(p);
    }
  };
  visit(root, 0);
}

function shardFromState(file: string, s: ShardState): MergedShard {
  const last: ShardAttempt | undefined = s.attempts[s.attempts.length - 1];
  return {
    dir: dirname(file), source: 'state', target: s.target, targetVersion: s.targetVersion, seed: s.seed, shard: s.shard,
    cases: s.totals.cases, elapsedMs: s.totals.elapsedMs, cpuMs: s.totals.cpuMs, restarts: Math.max(0, s.attempts.length - 1),
    finished: s.finished !== undefined, ...(s.finished ? { stoppedBy: s.finished.stoppedBy } : {}),
    ...(s.attempts[0] ? { startedAt: s.attempts[0].startedAt } : {}), ...(s.finished?.at ?? last?.updatedAt ? { endedAt: s.finished?.at ?? last!.updatedAt } : {}),
    findings: s.findings.length, states: s.totals.states, coverage: s.totals.coverage,
  };
}

/** A plain campaign's report.json (`fuzz --report`): the figures of one shard that ran to its end. */
function shardFromReport(file: string): MergedShard | string {
  let r: Record<string, unknown>;
  try {
    if (statSync(file).size > MAX_ENTRY_BYTES) return `${file}: larger than ${MAX_ENTRY_BYTES} bytes`;
    r = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    return `${file}: cannot read: ${(e as Error).message}`;
  }
  if (typeof r !== 'object' || r === null || typeof r.target !== 'string' || typeof r.cases !== 'number' || typeof r.shard !== 'string') {
    return `${file}: not a fuzz campaign report (target, shard and cases expected)`;
  }
  const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
  const counts = (v: unknown): Record<string, number> => (typeof v === 'object' && v !== null && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v).filter(([, x]) => typeof x === 'number' && Number.isFinite(x) && x >= 0)) as Record<string, number> : {});
  const mtime = statSync(file).mtime;
  return {
    dir: dirname(file), source: 'report', target: r.target, targetVersion: typeof r.targetVersion === 'string' ? r.targetVersion : 'unknown',
    seed: num(r.seed), shard: r.shard, cases: num(r.cases), elapsedMs: num(r.elapsedMs), cpuMs: num(r.cpuMs),
    restarts: num(r.restarts), finished: true, ...(typeof r.stoppedBy === 'string' ? { stoppedBy: r.stoppedBy } : {}),
    startedAt: new Date(mtime.getTime() - num(r.elapsedMs)).toISOString(), endedAt: mtime.toISOString(),
    findings: Array.isArray(r.findings) ? r.findings.length : 0, states: counts(r.states), coverage: counts(r.coverage),
  };
}

function readAnyEntry(file: string): { entry?: FuzzCorpusEntry; other?: { kind: string; id: string; target: string; coverage: EntryCoverage; messages: number; steps: number } } | string | undefined {
  if (statSync(file).size > MAX_ENTRY_BYTES) return `${file}: larger than ${MAX_ENTRY_BYTES} bytes`;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    return `${file}: invalid JSON: ${(e as Error).message}`;
  }
  const kind = (raw as { kind?: unknown } | null)?.kind;
  if (kind === 'fuzz-finding') {
    try {
      return { entry: readEntry(file) };
    } catch (e) {
      if (e instanceof CorpusFormatError) return e.message;
      throw e;
    }
  }
  // another kind of corpus input (grey-box seeds): kept only for the coverage it reaches
  const o = raw as Record<string, unknown>;
  if (typeof kind !== 'string' || o.coverage === undefined) return undefined;
  try {
    const coverage = checkCoverage(o.coverage);
    const steps = Array.isArray(o.steps) ? o.steps.length : 0;
    return { other: { kind, id: typeof o.id === 'string' ? o.id : basename(file, '.json'), target: typeof o.target === 'string' ? o.target : 'unknown', coverage, messages: typeof o.messages === 'number' ? o.messages : steps, steps } };
  } catch (e) {
    return `${file}: ${(e as Error).message}`;
  }
}

function addInto(into: Record<string, number>, from: Readonly<Record<string, number>>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

export function mergeCampaigns(inputs: readonly string[]): MergeResult {
  if (inputs.length === 0) throw new MergeInputError('give at least one directory to merge');
  const found: Found = { states: [], reports: [], jsons: [] };
  const problems: string[] = [];
  const warnings: string[] = [];
  for (const dir of inputs) {
    let st;
    try { st = statSync(dir); } catch { throw new MergeInputError(`${dir}: no such directory`); }
    if (!st.isDirectory()) throw new MergeInputError(`${dir}: not a directory`);
    walk(dir, found, problems);
  }

  const shards: MergedShard[] = [];
  const shardStates = new Map<string, ShardState>();
  for (const f of found.states) {
    try {
      const s = readShardState(f);
      shardStates.set(dirname(f), s);
      shards.push(shardFromState(f, s));
    } catch (e) {
      if (!(e instanceof ShardStateError)) throw e;
      problems.push(e.message);
    }
  }
  for (const f of found.reports) {
    if (shardStates.has(dirname(f))) continue; // the shard's own report: its state has the figures
    const s = shardFromReport(f);
    if (typeof s === 'string') problems.push(s); else shards.push(s);
  }
  shards.sort((a, b) => a.target.localeCompare(b.target) || a.seed - b.seed || a.shard.localeCompare(b.shard, undefined, { numeric: true }) || a.dir.localeCompare(b.dir));

  const shardDirOf = (file: string): string | undefined => {
    for (let d = dirname(file); d !== dirname(d); d = dirname(d)) if (shardStates.has(d) || shards.some((s) => s.dir === d)) return d;
    return undefined;
  };
  const entries: MergedEntry[] = [];
  for (const f of found.jsons) {
    const r = readAnyEntry(f);
    if (r === undefined) continue;
    if (typeof r === 'string') { problems.push(r); continue; }
    const shardDir = shardDirOf(f);
    if (r.entry) {
      const e = r.entry;
      const st = shardDir ? shardStates.get(shardDir) : undefined;
      const rel = shardDir ? relative(shardDir, f).split(sep).join('/') : undefined;
      const occ = st?.findings.find((x) => x.file === rel)?.occurrences ?? 1;
      entries.push({
        file: f, ...(shardDir ? { shardDir } : {}), kind: e.kind, id: e.id, peer: e.target, signature: mergeSignature(e), entry: e,
        ...(e.coverage ? { coverage: e.coverage } : {}), messages: e.messages, steps: e.steps.length, occurrences: occ,
      });
    } else if (r.other) {
      const o = r.other;
      entries.push({ file: f, ...(shardDir ? { shardDir } : {}), kind: o.kind, id: o.id, peer: o.target, coverage: o.coverage, messages: o.messages, steps: o.steps, occurrences: 0 });
    }
  }

  // shards that are the same campaign (target, seed, N) should each appear once and all be there
  const campaigns = new Map<string, MergedShard[]>();
  for (const s of shards) {
    const key = `${s.target} seed ${s.seed} of ${s.shard.split('/')[1]}`;
    campaigns.set(key, [...(campaigns.get(key) ?? []), s]);
  }
  for (const [key, list] of campaigns) {
    const n = Number(list[0]!.shard.split('/')[1]);
    const ks = list.map((s) => Number(s.shard.split('/')[0]));
    const missing = Array.from({ length: n }, (_, i) => i + 1).filter((k) => !ks.includes(k));
    if (missing.length) warnings.push(`${key}: shard(s) ${missing.map((k) => `${k}/${n}`).join(', ')} missing`);
    const twice = [...new Set(ks.filter((k, i) => ks.indexOf(k) !== i))];
    for (const k of twice) warnings.push(`${key}: shard ${k}/${n} appears more than once (${list.filter((s) => s.shard === `${k}/${n}`).map((s) => s.dir).join(', ')})`);
    for (const s of list) if (!s.finished) warnings.push(`${s.dir}: shard ${s.shard} has not finished (killed and not restarted, or still running); its figures are as of its last checkpoint`);
  }
  if (campaigns.size > 1) warnings.push(`${campaigns.size} campaigns merged: ${[...campaigns.keys()].join('; ')}`);

  // findings: one group per merge signature, represented by its smallest entry
  const groups = new Map<string, MergedEntry[]>();
  for (const e of entries) if (e.signature) groups.set(e.signature, [...(groups.get(e.signature) ?? []), e]);
  const byKey = new Map(entries.map((e) => [e.file, e]));
  const min = minimiseCorpus(entries.map((e): MinimiseInput => ({
    key: e.file, id: e.id, messages: e.messages, steps: e.steps, ...(e.signature ? { signature: e.signature } : {}),
    ...(e.coverage ? { features: e.coverage.features.map((f) => `${e.coverage!.source}\u0000${f}`) } : {}),
  })));
  const findings: FindingGroup[] = [...groups].map(([signature, list]) => {
    const rep = byKey.get(min.kept.find((k) => min.reasons.get(k)?.forSignature === signature)!)!;
    const f = rep.entry!.finding;
    const shardsOf = [...new Set(list.map((e) => shardLabel(e, shardStates)))].sort();
    return {
      signature, peer: rep.peer, oracle: f.oracle, severity: f.severity, message: f.message, path: `${rep.entry!.start}: ${messagePath(rep.entry!.steps)}`,
      representative: rep, entries: list, shards: shardsOf, occurrences: list.reduce((n, e) => n + e.occurrences, 0),
    };
  }).sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'must' ? -1 : 1) || a.peer.localeCompare(b.peer) || a.signature.localeCompare(b.signature));

  const states: Record<string, number> = {};
  const coverage: Record<string, number> = {};
  for (const s of shards) { addInto(states, s.states); addInto(coverage, s.coverage); }
  const starts = shards.map((s) => s.startedAt).filter((x): x is string => !!x).map(Date.parse).filter(Number.isFinite);
  const ends = shards.map((s) => s.endedAt).filter((x): x is string => !!x).map(Date.parse).filter(Number.isFinite);
  const wallMs = starts.length && ends.length ? Math.max(...ends) - Math.min(...starts) : undefined;
  const cases = shards.reduce((n, s) => n + s.cases, 0);
  return {
    inputs, shards, entries, findings,
    kept: min.kept.map((k) => ({ entry: byKey.get(k)!, ...min.reasons.get(k)! })),
    coverageFeatures: min.features, entriesWithCoverage: min.withCoverage,
    totals: {
      cases, cpuMs: shards.reduce((n, s) => n + s.cpuMs, 0),
      ...(wallMs !== undefined && wallMs > 0 ? { wallMs, casesPerSecond: cases / (wallMs / 1000) } : {}),
      sumShardRates: shards.reduce((n, s) => n + s.cases / Math.max(s.elapsedMs / 1000, 1e-9), 0),
      states, coverage,
    },
    problems, warnings,
  };
}

function shardLabel(e: MergedEntry, states: ReadonlyMap<string, ShardState>): string {
  const s = e.shardDir ? states.get(e.shardDir) : undefined;
  return s ? `${s.target} ${s.shard}` : e.entry ? `${e.entry.target} ${e.entry.campaign.shard}` : e.peer;
}
