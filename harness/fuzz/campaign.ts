/**
 * A fuzz campaign: batches of cases numbered 0, 1, 2, …; batch b is one fast-check check of `batchSize` runs
 * with a seed derived from (campaign seed, b), so any case reproduces from those numbers alone (or from the
 * fast-check seed and path in its corpus entry), and `--shard K/N` takes the batches with b ≡ K-1 (mod N):
 * disjoint, deterministic shards that together are the unsharded campaign.
 * A failing case is shrunk by fast-check, re-run on a fresh connection to confirm, and written to the corpus.
 * Bounded by --runs and/or --time; concurrency runs several connections at once (network targets).
 */
import fc from 'fast-check';
import { join } from 'node:path';
import { runTracedCase } from './case-trace.js';
import { CaseRun, runCase, type State } from './executor.js';
import { countMessages, entryId, writeEntry, type FuzzCorpusEntry } from './corpus.js';
import type { FuzzTarget, Link } from './link.js';
import { caseArb, runCommands, type CaseArbOptions, type CaseValue } from './model.js';
import { FindingError, type Finding, type OracleName } from './oracles.js';
import { LinkPool } from './pool.js';
import type { BackoffStats, ConnectionGovernor } from './backoff.js';
import { networkStartArb } from './arb/steps.js';
import { messageName } from '../../impl/messages/index.js';
import type { Phase, Step } from './steps.js';
import type { AlgorithmPreferences } from '../../impl/transport/types.js';
import type { CaseHooks } from './greybox/session.js';

export interface Shard { readonly k: number; readonly n: number }

export interface CampaignOptions {
  readonly target: FuzzTarget;
  readonly seed: number;
  /** Stop after this many cases (of this shard). */
  readonly runs?: number;
  /** Stop after this many seconds. At least one of runs/time must be set. */
  readonly timeSeconds?: number;
  readonly shard?: Shard;
  /** Cases in flight at once (separate connections); 1 for in-process targets. */
  readonly concurrency?: number;
  /** Where findings go (`<corpusDir>/<target>/<id>.json`); no corpus writes when undefined. */
  readonly corpusDir?: string;
  /** Stop at the first finding (tests). */
  readonly stopOnFinding?: boolean;
  /**
   * Ends the campaign early (the CLI's first Ctrl-C): no new case starts, the cases in flight finish, a finding
   * being recorded is saved without further minimising, and the result says 'interrupted'.
   */
  readonly signal?: AbortSignal;
  /** Shrinking budget per finding. Default 30 s. */
  readonly shrinkTimeMs?: number;
  readonly arb?: Omit<CaseArbOptions, 'dict'>;
  /** Called about once a second, and once at the end. */
  readonly onProgress?: (p: CampaignProgress) => void;
  /** Runs per fast-check check (default 64 in-process, 8 over the network); part of what a seed means. */
  readonly batchSize?: number;
  /** Called for every distinct finding once it is shrunk and saved. */
  readonly onFinding?: (f: FindingRecord) => void;
  /** The replay command line for a corpus file (goes into the entry). */
  readonly replayCommand?: (file: string) => string;
  /**
   * Cases run first, once each, before the generated ones: the seed corpus (earlier findings as regressions,
   * imported traces). A seed that fires an oracle is a finding like any other (with `file` pointing at it).
   */
  readonly seeds?: readonly SeedCase[];
  /**
   * Record the confirming run of every finding (issue 9): `dir` gets `<corpus id>.pcap` and `.jsonl` when `pcap`,
   * `.keylog` when `keylog`. That run is the minimal case on a fresh connection, as replay repeats it.
   */
  readonly traceFindings?: { readonly dir: string; readonly pcap: boolean; readonly keylog: boolean };
  /** Called after every case (peer health watching); a returned message stops the campaign (peer down). */
  readonly afterCase?: () => Promise<string | undefined> | string | undefined;
  /**
   * Resuming a shard after a restart (harness/campaign/shard-state.ts): start at this batch of the shard (the
   * `nextBatch` of the last checkpoint) instead of 0, so cases already run are not run again.
   */
  readonly firstBatch?: number;
  /** Findings saved by an earlier attempt of this campaign: seen again, they count as occurrences, not new findings. */
  readonly known?: readonly FindingRecord[];
  /**
   * The findings by signature, shared by the instances of a grey-box fleet (fleet.ts): a finding one instance
   * recorded, or is minimising, is known to the others, which count it instead of shrinking and confirming it
   * again. `known` is not read when this is given (the owner fills it).
   */
  readonly sharedFindings?: Map<string, FindingRecord>;
  /**
   * Called after every batch with the batch to resume from (every batch below it has finished) and the result so
   * far (built only when called): the hook for checkpoints.
   */
  readonly onBatchDone?: (nextBatch: number, snapshot: () => CampaignResult) => void;
  /** Backs off from the peer's connection limits and lowers the parallelism of fresh connections (backoff.ts). */
  readonly governor?: ConnectionGovernor;
  /** Grey-box coverage (harness/fuzz/greybox/session.ts): may replace the case arbitrary, and sees every case. */
  readonly caseHooks?: CaseHooks;
}

export interface CampaignProgress {
  readonly cases: number;
  readonly elapsedMs: number;
  readonly casesPerSecond: number;
  readonly findings: number;
  /** States (phases) the connections were in when steps ran. */
  readonly states: readonly State[];
  /** Cases whose start phase the peer never reached (reference prefix failed: peer down or refusing). */
  readonly unreached: number;
  /** Coverage campaigns: distinct edges so far and the grey-box queue's size. */
  readonly coverage?: { readonly edges: number; readonly queue: number };
}

export interface FindingRecord {
  readonly signature: string;
  readonly finding: Finding;
  readonly start: Phase;
  readonly algorithms: AlgorithmPreferences;
  readonly steps: readonly Step[];
  readonly caseIndex: number;
  readonly seed: number;
  readonly path: string;
  readonly occurrences: number;
  readonly reproduced: boolean;
  readonly file?: string;
  /** The confirming run's pcap, JSONL and keylog (with `traceFindings`). */
  readonly traceFiles?: readonly string[];
  readonly shrinks: number;
  /** Time from the campaign start to this finding being saved (finding-power checks). */
  readonly foundAfterMs: number;
}

export interface CampaignResult {
  readonly target: string;
  readonly targetVersion: string;
  readonly seed: number;
  readonly shard: Shard;
  readonly cases: number;
  readonly elapsedMs: number;
  readonly casesPerSecond: number;
  /** CPU time of this process (user + system): cases per CPU-second is the per-core rate on a busy machine. */
  readonly cpuMs: number;
  readonly freshConnections: number;
  readonly reusedCases: number;
  readonly findings: readonly FindingRecord[];
  /** `SSH_MSG_X@state` → times sent (coverage of message types × states reached). */
  readonly coverage: ReadonlyMap<string, number>;
  readonly states: ReadonlyMap<State, number>;
  readonly unreached: number;
  /** Cases that ended with the peer closing the connection (for tuning: most fuzz cases should). */
  readonly closedByPeer: number;
  readonly stoppedBy: 'runs' | 'time' | 'finding' | 'peer-down' | 'interrupted';
  /** Why the peer stopped accepting connections, when it did (stoppedBy 'peer-down'). */
  readonly peerDown?: string;
  /** Refusals by the peer's connection limits and how the campaign backed off (with a governor). */
  readonly backoff?: BackoffStats;
}

/** The global batch number of a shard's `local`-th batch: shards take every N-th batch, offset K-1. */
export function batchOf(local: number, shard: Shard): number {
  return local * shard.n + (shard.k - 1);
}

/** splitmix32 of (seed, index): independent 32-bit seeds per case. */
export function caseSeed(seed: number, index: number): number {
  let z = (Math.imul(seed | 0, 0x9e3779b9) + Math.imul(index + 1, 0x85ebca6b)) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) | 0;
}

/** Findings that are the same bug: oracle + message with quoted peer strings, numbers and hex blanked. */
export function signatureOf(f: Finding): string {
  return `${f.oracle}: ${f.message.replace(/"(?:[^"\\]|\\.)*"/g, 'S').replace(/0x[0-9a-f]+|\d+/gi, 'N').slice(0, 160)}`;
}

export interface SeedCase {
  readonly file: string;
  readonly start: Phase;
  readonly algorithms: AlgorithmPreferences;
  readonly steps: readonly Step[];
}

interface Capture { start: Phase; algorithms: AlgorithmPreferences; executed: Step[]; finding: Finding }
interface CaptureState { last?: Capture; known?: boolean; shrinkDeadline?: number }

function harnessError(e: unknown): Finding {
  return {
    oracle: 'exception', severity: 'must', message: `harness error: ${e instanceof Error ? e.message : String(e)}`,
    ...(e instanceof Error && e.stack ? { detail: e.stack } : {}),
  };
}

export async function runCampaign(o: CampaignOptions): Promise<CampaignResult> {
  if (o.runs === undefined && o.timeSeconds === undefined) throw new RangeError('a campaign needs --runs or --time');
  const shard = o.shard ?? { k: 1, n: 1 };
  const target = o.target;
  const network = target.kind === 'network';
  // fc.commands keeps per-check replay state: every batch gets its own arbitrary (cheap: built lazily)
  const makeArb = (): fc.Arbitrary<CaseValue> => {
    const base = caseArb({
      ...(network && o.arb?.mode !== 'deep' ? { start: networkStartArb, maxSteps: 3 } : {}),
      ...o.arb, dict: target.dictionary, ...(target.profiles ? { profiles: target.profiles } : {}),
    });
    return o.caseHooks?.arbitrary ? o.caseHooks.arbitrary(base) : base;
  };
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const deadline = o.timeSeconds !== undefined ? t0 + o.timeSeconds * 1000 : Infinity;
  const coverage = new Map<string, number>();
  const states = new Map<State, number>();
  const findings = o.sharedFindings ?? new Map<string, FindingRecord>((o.known ?? []).map((f) => [f.signature, f]));
  let cases = 0;
  let nextLocal = o.firstBatch ?? 0;
  // batches started and not finished: the resume point is the lowest of them
  const inFlight = new Set<number>();
  // in-process cases take ~1 ms: batches amortise fast-check's per-check setup; network cases keep batches short
  const batchSize = o.batchSize ?? (target.kind === 'in-process' ? 64 : 8);
  let unreached = 0;
  let closedByPeer = 0;
  let stop: CampaignResult['stoppedBy'] | undefined;
  let peerDown: string | undefined;
  const notes: Capture[] = [];
  let lastProgress = t0;
  const pool = new LinkPool(target, target.budgets.probeMs, o.governor);
  // shrinking, minimising and confirming connect outside the pool, but under the same connection limits
  const aside = pool.governed();

  const progress = (): CampaignProgress => {
    const elapsedMs = performance.now() - t0;
    return { cases, elapsedMs, casesPerSecond: cases / Math.max(elapsedMs / 1000, 1e-9), findings: findings.size, states: [...states.keys()], unreached };
  };

  const property = (capture: CaptureState) => fc.asyncProperty(makeArb(), async ([start, algorithms, cmds]: CaseValue) => {
    // runs after the first failure are shrinking: bounded in time (past the budget every candidate "passes",
    // which ends the shrink quickly), skipped at once when the failure is one we already have
    const shrinking = capture.last !== undefined;
    // interrupted: the rest of the batch, and any shrinking, passes at once, uncounted (no connection is made)
    if (o.signal?.aborted) return;
    if (shrinking) {
      capture.shrinkDeadline ??= performance.now() + (capture.known ? 0 : (o.shrinkTimeMs ?? 30_000));
      if (performance.now() > capture.shrinkDeadline) return;
    }
    let link: Link;
    if (!shrinking) o.caseHooks?.beforeCase();
    try {
      link = shrinking ? await aside.connect(algorithms, undefined, start) : await pool.acquire(algorithms, start);
    } catch (e) {
      // the peer no longer accepts connections: not a property of this case; the campaign stops
      peerDown ??= `cannot connect: ${(e as Error).message}`;
      return;
    }
    const run = new CaseRun(link, target);
    let failed = true;
    try {
      if (!(await run.reach(start))) { if (!shrinking) unreached++; return; }
      await runCommands(run, cmds);
      await run.finish();
      failed = false;
      // should-level findings do not fail the property (the batch goes on); they are minimised after it
      const note = run.record.note;
      if (note && !shrinking && !findings.has(signatureOf(note)) && notes.length < 16) notes.push({ start, algorithms, executed: [...run.record.executed], finding: note });
    } catch (e) {
      if (e instanceof FindingError) {
        if (!shrinking) capture.known = findings.has(signatureOf(e.finding));
        capture.last = { start, algorithms, executed: [...run.record.executed], finding: e.finding };
      } else if (!shrinking) {
        capture.last = { start, algorithms, executed: [...run.record.executed], finding: harnessError(e) };
      }
      throw e;
    } finally {
      if (shrinking) link.close(); else await pool.release(link, algorithms, run.record, failed, start);
      if (!shrinking) {
        o.caseHooks?.afterCase({ start, algorithms, executed: run.record.executed, reached: run.record.reached });
        cases++;
        for (const [id, st] of run.record.sent) { const k = `${messageName(id)}@${st}`; coverage.set(k, (coverage.get(k) ?? 0) + 1); }
        for (const st of run.record.states) states.set(st, (states.get(st) ?? 0) + 1);
        if (link.client.closed?.byPeer || (link.client.closed && !link.client.closed.byUs)) closedByPeer++;
        if (o.onProgress && performance.now() - lastProgress >= 1000) { lastProgress = performance.now(); o.onProgress(progress()); }
      }
    }
  });

  /**
   * One batch: `fc.check` over BATCH runs from the batch's seed (fast-check's own seed + path replay works on
   * it), stopping at the first failure, which fast-check then shrinks.
   */
  const oneBatch = async (local: number, size: number): Promise<void> => {
    const batch = batchOf(local, shard);
    const seed = caseSeed(o.seed, batch);
    const capture: CaptureState = {};
    const prop = property(capture);
    const left = deadline - performance.now();
    // in-process, most cases end in SSHErrors the peer raises on purpose; capturing their stacks costs more than
    // the rest of the error (~17 µs each): no stacks while generating, full ones when confirming a finding
    const limit = Error.stackTraceLimit;
    if (!network) Error.stackTraceLimit = 0;
    let details;
    try {
      details = await fc.check(prop, {
        seed, numRuns: size, endOnFailure: false,
        ...(Number.isFinite(left) ? { interruptAfterTimeLimit: Math.max(1, left), markInterruptAsFailure: false } : {}),
      });
    } finally {
      Error.stackTraceLimit = limit;
    }
    for (const n of notes.splice(0)) await record(n.finding, n.start, n.algorithms, n.executed, { seed, path: '', index: batch * batchSize, shrinks: 0 });
    // fast-check reports a batch interrupted by the time limit before any run finished as "failed"
    if (!details.failed || (details.interrupted && capture.last === undefined)) return;
    const last = capture.last;
    const finding: Finding = last?.finding ?? harnessError(details.errorInstance);
    const start = last?.start ?? (details.counterexample?.[0]?.[0] as Phase | undefined) ?? 'pre-kex';
    // fast-check needs the commands' replayPath, besides seed and path, to walk the same shrink steps
    const cmds = details.counterexample?.[0]?.[2];
    const replayPath = /replayPath="([^"]*)"/.exec(String(cmds ?? ''))?.[1];
    await record(finding, start, last?.algorithms ?? {}, last?.executed ?? [],
      { seed, path: details.counterexamplePath ?? '', index: batch * batchSize + details.numRuns - 1, shrinks: details.numShrinks, ...(replayPath ? { replayPath } : {}) });
  };

  /** Deduplicates, minimises, confirms on a fresh connection and saves one finding. */
  const record = async (found: Finding, start: Phase, algorithms: AlgorithmPreferences, executed: readonly Step[], at: { seed: number; path: string; index: number; shrinks: number; replayPath?: string }): Promise<void> => {
    let finding = found;
    const { seed, index } = at;
    const sig = signatureOf(finding);
    const prev = findings.get(sig);
    if (prev) { findings.set(sig, { ...prev, occurrences: prev.occurrences + 1 }); return; }
    // held while it is minimised and confirmed: the same failure elsewhere meanwhile counts, not shrinks again
    const t1 = performance.now() - t0;
    findings.set(sig, { signature: sig, finding, start, algorithms, steps: [...executed], caseIndex: index, seed, path: at.path, occurrences: 1, reproduced: false, shrinks: at.shrinks, foundAfterMs: t1 });
    // fast-check's command shrinker never drops the last command (it assumes the failure happens there), but
    // our oracles often fire at the final probe: finish with one-at-a-time removal, then confirm on a fresh
    // connection, outside fast-check, exactly as replay will run it
    const steps = await minimizeSteps(aside, start, algorithms, executed, finding, performance.now() + (o.shrinkTimeMs ?? 30_000), o.signal);
    // the corpus entry's id (oracle, start and steps: the detail added below does not change it) names the trace too
    const id = entryId(target.name, finding, start, steps);
    const tf = o.traceFindings;
    // a confirmation the peer no longer lets connect is an unconfirmed finding, not the end of the campaign
    const again = await runTracedCase(aside, id, start, steps, algorithms,
      { ...(tf?.pcap ? { dir: tf.dir } : {}), ...(tf?.keylog ? { keylogPath: join(tf.dir, `${id}.keylog`) } : {}) })
      .catch(() => ({ finding: undefined, files: [] as readonly string[] }));
    const traceFiles = again.files.length ? again.files : undefined;
    const reproduced = again.finding?.oracle === finding.oracle;
    // the confirming run had stack traces on: keep its detail (e.g. where an exception escaped)
    if (reproduced && again.finding?.detail) finding = { ...finding, detail: again.finding.detail };
    let rec: FindingRecord = {
      signature: sig, finding, start, algorithms, steps, caseIndex: index, seed, path: at.path,
      occurrences: findings.get(sig)?.occurrences ?? 1, reproduced, shrinks: at.shrinks, foundAfterMs: t1, ...(traceFiles ? { traceFiles } : {}),
    };
    if (o.corpusDir) {
      const dir = `${o.corpusDir}/${target.name}`;
      const file = `${dir}/${id}.json`;
      const entry: FuzzCorpusEntry = {
        kind: 'fuzz-finding', version: 1, id, target: target.name, targetVersion: target.version, createdAt: new Date().toISOString(),
        finding, seed, path: rec.path, ...(at.replayPath ? { replayPath: at.replayPath } : {}), campaign: { seed: o.seed, caseIndex: index, shard: `${shard.k}/${shard.n}` },
        start, algorithms, steps, messages: countMessages(steps), reproduced,
        replay: o.replayCommand?.(file) ?? `npx ssh-harness replay ${file} --target ${target.name}`,
      };
      rec = { ...rec, file: writeEntry(dir, entry) };
    }
    findings.set(sig, rec);
    o.onFinding?.(rec);
    if (o.stopOnFinding && finding.severity === 'must') stop ??= 'finding';
  };

  const worker = async (): Promise<void> => {
    for (;;) {
      if (o.signal?.aborted) stop ??= 'interrupted';
      if (stop) return;
      const size = o.runs !== undefined ? Math.min(batchSize, o.runs - nextLocal * batchSize) : batchSize;
      if (size <= 0) { stop ??= 'runs'; return; }
      if (performance.now() >= deadline) { stop ??= 'time'; return; }
      const local = nextLocal++;
      inFlight.add(local);
      await oneBatch(local, size);
      inFlight.delete(local);
      o.onBatchDone?.(inFlight.size ? Math.min(...inFlight) : nextLocal, snapshot);
      // in-process every await resolves at once, so the event loop never turns by itself; native resources
      // (impl/native's OpenSSL contexts) are released by finalizers Node runs from the event loop: without this
      // yield a long campaign grew ~6 KB of RSS per connection (2 GB after 500 000 cases)
      await new Promise((r) => setImmediate(r));
      const down = peerDown ?? (await o.afterCase?.());
      if (down) { peerDown = down; stop ??= 'peer-down'; return; }
    }
  };
  // a resumed campaign ran its seeds in the first attempt
  for (const s of o.firstBatch ? [] : o.seeds ?? []) {
    if (o.signal?.aborted) stop ??= 'interrupted';
    if (stop) break;
    let r;
    try {
      r = await runCase(aside, s.start, s.steps, s.algorithms);
    } catch (e) {
      peerDown ??= `cannot connect: ${(e as Error).message}`;
      stop ??= 'peer-down';
      break;
    }
    cases++;
    if (!r.finding) continue;
    const sig = signatureOf(r.finding);
    const prev = findings.get(sig);
    if (prev) { findings.set(sig, { ...prev, occurrences: prev.occurrences + 1 }); continue; }
    const rec: FindingRecord = {
      signature: sig, finding: r.finding, start: s.start, algorithms: s.algorithms, steps: s.steps, caseIndex: -1, seed: 0, path: '',
      occurrences: 1, reproduced: true, shrinks: 0, foundAfterMs: performance.now() - t0, file: s.file,
    };
    findings.set(sig, rec);
    o.onFinding?.(rec);
    if (o.stopOnFinding) stop ??= 'finding';
  }
  const snapshot = (): CampaignResult => {
    const p = progress();
    const cpu = process.cpuUsage(cpu0);
    return {
      target: target.name, targetVersion: target.version, seed: o.seed, shard, cases, elapsedMs: p.elapsedMs, casesPerSecond: p.casesPerSecond,
      cpuMs: (cpu.user + cpu.system) / 1000, freshConnections: pool.freshConnections, reusedCases: pool.reusedCases,
      findings: [...findings.values()], coverage: new Map(coverage), states: new Map(states), unreached, closedByPeer,
      stoppedBy: stop ?? 'runs', ...(peerDown ? { peerDown } : {}), ...(o.governor ? { backoff: o.governor.stats() } : {}),
    };
  };
  const n = target.kind === 'in-process' ? 1 : Math.max(1, o.concurrency ?? 1);
  await Promise.all(Array.from({ length: n }, worker));
  pool.closeAll();
  o.onProgress?.(progress());
  return snapshot();
}

/**
 * Removes steps one at a time (last first) while the same oracle still fires on a fresh connection: the
 * classic delta-debugging pass (bounded: at most steps² runs, by `deadline`, and by `signal`).
 */
export async function minimizeSteps(target: FuzzTarget, start: Phase, algorithms: AlgorithmPreferences, steps: readonly Step[], finding: Finding, deadline: number, signal?: AbortSignal): Promise<Step[]> {
  let cur = [...steps];
  for (let changed = true; changed && cur.length > 0;) {
    changed = false;
    for (let i = cur.length - 1; i >= 0 && performance.now() < deadline && !signal?.aborted; i--) {
      const candidate = [...cur.slice(0, i), ...cur.slice(i + 1)];
      let r;
      try {
        r = await runCase(target, start, candidate, algorithms);
      } catch {
        return cur; // the peer stopped accepting connections: keep what is minimised so far
      }
      if (r.finding?.oracle === finding.oracle) { cur = candidate; changed = true; }
    }
  }
  return cur;
}

/** Parses `K/N` (1 ≤ K ≤ N). */
export function parseShard(s: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(s);
  const k = Number(m?.[1]);
  const n = Number(m?.[2]);
  if (!m || !(n >= 1) || !(k >= 1) || k > n) throw new RangeError(`--shard expects K/N with 1 ≤ K ≤ N, got ${JSON.stringify(s)}`);
  return { k, n };
}

export type { OracleName };

/**
 * Replays a corpus entry's fast-check `seed` and `path` through fast-check itself (the same case arbitrary,
 * a fresh connection per run): the counterexample fast-check reached, and the finding it raised. This is the
 * fast-check view of a corpus entry; `ssh-harness replay` runs the stored minimal steps instead.
 */
export async function replayFastCheckPath(target: FuzzTarget, seed: number, path: string, replayPath?: string, arb: Omit<CaseArbOptions, 'dict'> = {}): Promise<Finding | undefined> {
  const caseArbitrary = caseArb({
    ...(target.kind === 'network' ? { start: networkStartArb, maxSteps: 3 } : {}),
    ...arb, dict: target.dictionary, ...(target.profiles ? { profiles: target.profiles } : {}), ...(replayPath ? { replayPath } : {}),
  });
  let found: Finding | undefined;
  const prop = fc.asyncProperty(caseArbitrary, async ([start, algorithms, cmds]: CaseValue) => {
    const link = await target.connect(algorithms);
    const run = new CaseRun(link, target);
    try {
      if (!(await run.reach(start))) return;
      await runCommands(run, cmds);
      await run.finish();
    } catch (e) {
      if (e instanceof FindingError) found = e.finding;
      throw e;
    } finally {
      link.close();
    }
  });
  const details = await fc.check(prop, { seed, path, endOnFailure: true });
  return details.failed ? found : undefined;
}
