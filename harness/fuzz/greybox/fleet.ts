/**
 * Grey-box campaigns. Coverage is read per case, so a server instance runs one case at a time; parallelism comes
 * from a fleet of instances of the same instrumented server (each with its own coverage file), one campaign shard
 * each (`k/N` of the same seed: disjoint cases), all feeding one ledger (edges, queue, series). Black-box mode runs
 * the usual single campaign on one instance at the target's concurrency and only measures its coverage.
 */
import { runCampaign, type CampaignOptions, type CampaignProgress, type CampaignResult, type FindingRecord, type Shard } from '../campaign.js';
import type { FuzzTarget } from '../link.js';
import type { State } from '../executor.js';
import { CoverageLedger, CoverageSession, type CoverageSummary } from './session.js';
import { ConnectionGovernor, type BackoffStats } from '../backoff.js';
import { loadEdgeSources } from './edge-sources.js';

export interface CoverageCampaignOptions {
  readonly mode: 'greybox' | 'blackbox';
  /** Grey-box: server instances (= connections at once); black-box: connections at once on one instance. */
  readonly parallel: number;
  /** Starts one more instance of the target (grey-box fleets); each is closed at the end. */
  readonly another: () => Promise<FuzzTarget>;
  readonly queueDir?: string;
  /** `shard`: the user's (--shard K/N); a grey-box fleet splits it further between its instances (instanceShard). */
  readonly campaign: Omit<CampaignOptions, 'caseHooks' | 'concurrency'>;
}

export async function runCoverageCampaign(o: CoverageCampaignOptions): Promise<{ result: CampaignResult; coverage: CoverageSummary }> {
  const primary = o.campaign.target;
  if (!primary.coverageMapPath) throw new TypeError(`${primary.name} is not instrumented (no coverage map)`);
  const ledger = new CoverageLedger(o.mode, o.queueDir, { target: primary.name, targetVersion: primary.version });
  // read while the campaign runs (objdump of a fresh build takes seconds; cached after)
  const sources = primary.coverageBinary ? loadEdgeSources(primary.coverageBinary).catch(() => undefined) : Promise.resolve(undefined);
  const report = o.campaign.onProgress;
  if (o.mode === 'blackbox') {
    const s = new CoverageSession(primary.coverageMapPath, ledger, primary.dictionary, primary.algorithmOffer);
    try {
      const onProgress = report && ((p: CampaignProgress): void => report({ ...p, coverage: { edges: ledger.feedback.edges, queue: ledger.queue.size } }));
      const result = await runCampaign({ ...o.campaign, concurrency: o.parallel, caseHooks: s, ...(onProgress ? { onProgress } : {}) });
      s.close();
      return { result, coverage: ledger.summary(await sources) };
    } finally {
      s.close();
    }
  }
  const n = Math.max(1, o.parallel);
  const extra = await Promise.all(Array.from({ length: n - 1 }, () => o.another()));
  const targets = [primary, ...extra];
  const sessions = targets.map((t) => new CoverageSession(t.coverageMapPath!, ledger, t.dictionary, t.algorithmOffer));
  // connection limits are per server process: each instance backs off on its own (one shared governor let one
  // instance's refusal throttle the whole fleet); the caller's governor, which its peer watch reads, is the first's
  const g = o.campaign.governor;
  const governors = targets.map((_, i) => (!g || i === 0 ? g : new ConnectionGovernor({ parallelism: 1, graceMs: g.graceMs })));
  const progress = report && fleetProgress(n, report, () => ({ edges: ledger.feedback.edges, queue: ledger.queue.size }));
  // one finding book for the fleet: 16 OpenSSH instances each shrank and confirmed the same known behaviours
  const findings = new Map<string, FindingRecord>((o.campaign.known ?? []).map((f) => [f.signature, f]));
  try {
    const results = await Promise.all(targets.map((t, i) => runCampaign({
      ...o.campaign, target: t, concurrency: 1, shard: instanceShard(o.campaign.shard, i, n), caseHooks: sessions[i]!, sharedFindings: findings,
      ...(progress ? { onProgress: progress(i) } : {}),
      ...(governors[i] ? { governor: governors[i] } : {}),
      // only the first instance is the peer the caller watches
      ...(i === 0 ? {} : { afterCase: undefined }),
    })));
    for (const s of sessions) s.close();
    // every instance's result lists the shared book: take it once, not summed
    return { result: { ...mergeResults(results), shard: o.campaign.shard ?? { k: 1, n: 1 }, findings: [...findings.values()] }, coverage: ledger.summary(await sources) };
  } finally {
    for (const s of sessions) s.close();
    await Promise.all(extra.map((t) => t.close()));
  }
}

/**
 * The fleet's progress as one campaign's: each instance reports its own shard, the caller sees the sums (cases,
 * rate), the shared findings and coverage and the union of states, reported when the first instance reports.
 */
export function fleetProgress(n: number, report: (p: CampaignProgress) => void, coverage: () => { edges: number; queue: number }): (i: number) => (p: CampaignProgress) => void {
  const last: (CampaignProgress | undefined)[] = new Array(n).fill(undefined);
  return (i) => (p) => {
    last[i] = p;
    if (i !== 0) return;
    const all = last.filter((x): x is CampaignProgress => x !== undefined);
    report({
      cases: all.reduce((k, x) => k + x.cases, 0), elapsedMs: p.elapsedMs,
      casesPerSecond: all.reduce((k, x) => k + x.cases, 0) / Math.max(p.elapsedMs / 1000, 1e-9),
      // the instances share one finding book (each reports its size)
      findings: Math.max(...all.map((x) => x.findings)), states: [...new Set(all.flatMap((x) => x.states))],
      unreached: all.reduce((k, x) => k + x.unreached, 0), coverage: coverage(),
    });
  };
}

const sumMaps = <K>(maps: readonly ReadonlyMap<K, number>[]): Map<K, number> => {
  const out = new Map<K, number>();
  for (const m of maps) for (const [k, v] of m) out.set(k, (out.get(k) ?? 0) + v);
  return out;
};

/** The fleet's back-offs: counts and times summed, the longest outage, the first instance's parallelism. */
export function mergeBackoff(bs: readonly BackoffStats[]): BackoffStats | undefined {
  const first = bs[0];
  if (!first || bs.length === 1) return first;
  const byKind: Record<string, number> = {};
  for (const b of bs) for (const [k, v] of Object.entries(b.byKind)) byKind[k] = (byKind[k] ?? 0) + (v ?? 0);
  return {
    ...first, refusals: bs.reduce((n, b) => n + b.refusals, 0), byKind, backoffs: bs.reduce((n, b) => n + b.backoffs, 0),
    totalBackoffMs: bs.reduce((n, b) => n + b.totalBackoffMs, 0), longestOutageMs: Math.max(...bs.map((b) => b.longestOutageMs)),
  };
}

/**
 * The campaign shard of fleet instance `i` (of `n`) within the user's shard K/N: (K−1)·n + i + 1 of N·n. The fleet
 * covers exactly the user's share, so N machines each running `--shard K/N` with grey-box fleets of the same size
 * still run disjoint cases that together are the whole campaign (before, every fleet ran shards 1..n of n: the
 * same cases on every machine).
 */
export function instanceShard(user: Shard | undefined, i: number, n: number): Shard {
  const u = user ?? { k: 1, n: 1 };
  return { k: (u.k - 1) * n + i + 1, n: u.n * n };
}

/** One result for the fleet's shards: counts summed, wall time the longest, findings deduplicated by signature. */
export function mergeResults(rs: readonly CampaignResult[]): CampaignResult {
  const first = rs[0]!;
  if (rs.length === 1) return first;
  const findings = new Map<string, FindingRecord>();
  for (const r of rs) for (const f of r.findings) {
    const prev = findings.get(f.signature);
    findings.set(f.signature, prev ? { ...prev, occurrences: prev.occurrences + f.occurrences } : f);
  }
  const cases = rs.reduce((n, r) => n + r.cases, 0);
  const elapsedMs = Math.max(...rs.map((r) => r.elapsedMs));
  const down = rs.find((r) => r.peerDown);
  return {
    ...first, shard: { k: 1, n: 1 }, cases, elapsedMs, casesPerSecond: cases / Math.max(elapsedMs / 1000, 1e-9),
    // each shard measured this process's CPU over the same wall time
    cpuMs: Math.max(...rs.map((r) => r.cpuMs)),
    freshConnections: rs.reduce((n, r) => n + r.freshConnections, 0), reusedCases: rs.reduce((n, r) => n + r.reusedCases, 0),
    findings: [...findings.values()], coverage: sumMaps(rs.map((r) => r.coverage)), states: sumMaps<State>(rs.map((r) => r.states)),
    unreached: rs.reduce((n, r) => n + r.unreached, 0), closedByPeer: rs.reduce((n, r) => n + r.closedByPeer, 0),
    stoppedBy: down ? 'peer-down' : first.stoppedBy, ...(down?.peerDown ? { peerDown: down.peerDown } : {}),
    ...(first.backoff ? { backoff: mergeBackoff(rs.flatMap((r) => (r.backoff ? [r.backoff] : [])))! } : {}),
  };
}
