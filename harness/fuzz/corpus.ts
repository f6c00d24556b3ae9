/**
 * Corpus entries for fuzz findings: `corpora/<target>/<id>.json`, one minimal case each, with what is needed
 * to reproduce it (start phase and steps, executed as they are by `ssh-harness replay`) and how it was found
 * (campaign seed, case index, fast-check seed and shrink path, target version, oracle).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../campaign/atomic-write.js';
import { ORACLES, type Finding } from './oracles.js';
import { PHASES, type Phase, type Step } from './steps.js';
import { fromJson, toJson, type Json } from './value.js';
import { isSftpPacket } from './sftp.js';
import type { AlgorithmPreferences } from '../../impl/transport/types.js';

export const FUZZ_CORPUS_VERSION = 1;

export interface FuzzCorpusEntry {
  readonly kind: 'fuzz-finding';
  readonly version: typeof FUZZ_CORPUS_VERSION;
  readonly id: string;
  readonly target: string;
  readonly targetVersion: string;
  readonly createdAt: string;
  readonly finding: Finding;
  /** fast-check's seed and counterexample path for this case (`fc.check(prop, { seed, path })`). */
  readonly seed: number;
  readonly path: string;
  /** fast-check's commands replayPath (with seed and path: `replayFastCheckPath`). */
  readonly replayPath?: string;
  readonly campaign: { readonly seed: number; readonly caseIndex: number; readonly shard: string };
  readonly start: Phase;
  /** What our client offered (the case's algorithm profile). */
  readonly algorithms: AlgorithmPreferences;
  readonly steps: readonly Step[];
  /** Messages the steps put on the wire (the shrink goal is ≤ 3). */
  readonly messages: number;
  /** The minimal case reproduced the same oracle when re-run on a fresh connection. */
  readonly reproduced: boolean;
  readonly replay: string;
  /** What the case covered in the target, when the campaign measured it (grey-box); `fuzz merge` minimises by it. */
  readonly coverage?: EntryCoverage;
}

/**
 * Coverage one corpus entry reached: opaque feature ids from one source (e.g. `source: "sancov-edges"`, features
 * `["e:1234", …]`, or `source: "js-branches"`, features `["impl/wire/reader.ts:88:1", …]`). Two entries' features
 * are comparable only when their sources are equal. `fuzz merge` keeps the smallest entries that together still
 * reach every feature (and at least one entry per finding); without coverage it keeps one entry per finding.
 */
export interface EntryCoverage {
  readonly source: string;
  readonly features: readonly string[];
}

/** Bounds on an entry's coverage (a corrupted or hostile file must not make `fuzz merge` allocate without limit). */
export const MAX_COVERAGE_FEATURES = 1 << 20;
const MAX_FEATURE_LENGTH = 512;

/** Validates a `coverage` value read from a file; the error names the field. */
export function checkCoverage(v: unknown): EntryCoverage {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TypeError('coverage must be an object { source, features }');
  const c = v as Record<string, unknown>;
  if (typeof c.source !== 'string' || c.source.length === 0 || c.source.length > 64) throw new TypeError('coverage.source must be a name of 1..64 characters');
  if (!Array.isArray(c.features)) throw new TypeError('coverage.features must be an array of strings');
  if (c.features.length > MAX_COVERAGE_FEATURES) throw new TypeError(`coverage.features has ${c.features.length} entries (at most ${MAX_COVERAGE_FEATURES})`);
  for (const [i, f] of c.features.entries()) {
    if (typeof f !== 'string' || f.length === 0 || f.length > MAX_FEATURE_LENGTH) throw new TypeError(`coverage.features[${i}] must be a string of 1..${MAX_FEATURE_LENGTH} characters`);
  }
  return { source: c.source, features: c.features as string[] };
}

export class CorpusFormatError extends Error {
  constructor(file: string, why: string) {
    super(`${file}: not a valid fuzz corpus entry: ${why}`);
    this.name = 'CorpusFormatError';
  }
}

export function entryId(target: string, finding: Finding, start: Phase, steps: readonly Step[]): string {
  return createHash('sha256').update(JSON.stringify([target, finding.oracle, start, toJson(steps)])).digest('hex').slice(0, 12);
}

/** Writes `<dir>/<id>.json` atomically (temp file + rename): a campaign killed mid-write leaves no torn entry. */
export function writeEntry(dir: string, e: FuzzCorpusEntry): string {
  const file = join(dir, `${e.id}.json`);
  writeFileAtomic(file, JSON.stringify(toJson(e), null, 2) + '\n');
  return file;
}

/** Reads and validates an entry; any problem is a CorpusFormatError naming the file and the field. */
export function readEntry(file: string): FuzzCorpusEntry {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CorpusFormatError(file, `cannot read: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text) as Json;
  } catch (e) {
    throw new CorpusFormatError(file, `invalid JSON: ${(e as Error).message}`);
  }
  let v: Record<string, unknown>;
  try {
    v = fromJson(raw) as Record<string, unknown>;
  } catch (e) {
    throw new CorpusFormatError(file, (e as Error).message);
  }
  if (typeof v !== 'object' || v === null) throw new CorpusFormatError(file, 'expected an object');
  if (v.kind !== 'fuzz-finding') throw new CorpusFormatError(file, `kind must be "fuzz-finding", got ${JSON.stringify(v.kind)}`);
  if (v.version !== FUZZ_CORPUS_VERSION) throw new CorpusFormatError(file, `unsupported version ${JSON.stringify(v.version)}`);
  if (!PHASES.includes(v.start as Phase)) throw new CorpusFormatError(file, `start must be one of ${PHASES.join(', ')}`);
  if (!Array.isArray(v.steps)) throw new CorpusFormatError(file, 'steps must be an array');
  v.steps.forEach((s, i) => checkStep(file, s, i));
  const f = v.finding as Finding | undefined;
  if (!f || !ORACLES.includes(f.oracle)) throw new CorpusFormatError(file, 'finding.oracle is missing or unknown');
  if (typeof v.target !== 'string') throw new CorpusFormatError(file, 'target must be a string');
  if (typeof v.algorithms !== 'object' || v.algorithms === null || Array.isArray(v.algorithms)) throw new CorpusFormatError(file, 'algorithms must be an object');
  for (const [k, list] of Object.entries(v.algorithms)) {
    if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) throw new CorpusFormatError(file, `algorithms.${k} must be a list of names`);
  }
  if (v.coverage !== undefined) {
    try {
      checkCoverage(v.coverage);
    } catch (e) {
      throw new CorpusFormatError(file, (e as Error).message);
    }
  }
  return v as unknown as FuzzCorpusEntry;
}

const STEP_OPS = ['start', 'kexinit', 'bytes', 'send', 'deviate', 'service', 'auth', 'open', 'exec', 'sftp', 'global', 'forward', 'rekey'];

/** One stored step's shape (corpus entries and grey-box queue files); a bad one is a CorpusFormatError. */
export function checkStep(file: string, s: unknown, i: number): void {
  const at = `steps[${i}]`;
  if (typeof s !== 'object' || s === null) throw new CorpusFormatError(file, `${at} must be an object`);
  const o = s as Record<string, unknown>;
  if (!STEP_OPS.includes(o.op as string)) throw new CorpusFormatError(file, `${at}.op ${JSON.stringify(o.op)} is not a step`);
  if (o.op === 'send') {
    const m = o.msg as Record<string, unknown> | undefined;
    if (!m || typeof m.type !== 'string') throw new CorpusFormatError(file, `${at}.msg.type must be a string`);
  }
  if (o.op === 'sftp' && !(Array.isArray(o.packets) && o.packets.every(isSftpPacket))) throw new CorpusFormatError(file, `${at}.packets must be SFTP packets ({type, id, args})`);
  if (o.op === 'bytes' && !(o.data instanceof Uint8Array)) throw new CorpusFormatError(file, `${at}.data must be {"$hex": ...}`);
  if (o.op === 'forward' && !((o.kind === 'tcp' || o.kind === 'unix') && o.data instanceof Uint8Array && typeof o.halfClose === 'boolean')) {
    throw new CorpusFormatError(file, `${at} must be {op: "forward", kind: "tcp" | "unix", data: {"$hex": ...}, halfClose: boolean}`);
  }
  if (o.op === 'deviate' && (typeof o.deviation !== 'object' || o.deviation === null)) throw new CorpusFormatError(file, `${at}.deviation must be an object`);
}

/** Messages a list of steps puts on the wire (deviations ride on other messages and do not count). */
export function countMessages(steps: readonly Step[]): number {
  return steps.filter((s) => s.op !== 'deviate').length;
}
