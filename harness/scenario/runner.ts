/**
 * Runs checks against one target: a bounded number at a time, each with its own deterministic seed and a
 * timeout, retried only when the infrastructure failed (never because of a verdict). Results come back in
 * check order whatever order they finished in, so two runs can be compared line by line.
 */
import { cipherAlgorithms, compressionAlgorithms, kexAlgorithms, macAlgorithms, signatureAlgorithms } from '../../impl/crypto/registry.js';
import { CheckContext, type TraceOptions } from './context.js';
import { checkSeed } from './seed.js';
import type { Check, CheckResult, Level, Requirements, RunSummary, TargetInfo, Verdict, VerdictCounts } from './types.js';
import { InfraError, isVerdictSignal } from './verdict.js';
import { LEVELS, VERDICTS } from './types.js';

export interface RunnerOptions {
  readonly target: TargetInfo;
  readonly seed: string;
  /** Checks in flight at once. Default 6 (most of a check is waiting on the peer). */
  readonly concurrency?: number;
  /** Per-check limit (ms) unless the check sets its own. Default 20 000. */
  readonly timeoutMs?: number;
  /** Extra attempts after an InfraError. Default 2. */
  readonly infraRetries?: number;
  readonly trace?: TraceOptions;
  /** Documented departures of this target (scenarios/KNOWN.md): check id → explanation. */
  readonly known?: (id: string) => string | undefined;
  onStart?(check: Check): void;
  onResult?(result: CheckResult): void;
}

/** Why the peer (or our client) cannot run a check; undefined when it can. */
export function unmetRequirement(req: Requirements | undefined, target: TargetInfo): string | undefined {
  if (!req) return undefined;
  const k = target.kexInit;
  const kinds: [keyof Requirements, ReadonlyMap<string, unknown>, readonly string[] | undefined][] = [
    ['kex', kexAlgorithms, k?.kex], ['hostKey', signatureAlgorithms, k?.hostKey],
    ['cipher', cipherAlgorithms, k && [...k.cipherC2S].filter((c) => k.cipherS2C.includes(c))],
    ['mac', macAlgorithms, k && [...k.macC2S].filter((c) => k.macS2C.includes(c))],
    ['compression', compressionAlgorithms, k && [...k.compC2S].filter((c) => k.compS2C.includes(c))],
  ];
  for (const [kind, registry, offered] of kinds) {
    const want = req[kind] as readonly string[] | undefined;
    if (!want?.length) continue;
    const ours = want.filter((n) => registry.has(n));
    if (ours.length === 0) return `our client implements none of ${kind} ${want.join(', ')}`;
    if (offered && !ours.some((n) => offered.includes(n))) return `the peer offers none of ${kind} ${ours.join(', ')} (it offers ${offered.join(', ')})`;
  }
  for (const a of req.auth ?? []) {
    if (a === 'password' && target.credentials.password === undefined) return 'no password for the target (give --password)';
    if (a === 'publickey' && !target.credentials.privateKeyPath) return 'no private key for the target (give --identity)';
  }
  return undefined;
}

function describeError(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

async function runOnce(check: Check, o: RunnerOptions, attempt: number): Promise<CheckResult | InfraError> {
  const seed = checkSeed(o.seed, check.id, attempt);
  const ctx = new CheckContext(o.target, check, attempt === 0 ? o.seed : `${o.seed}/${attempt}`, o.trace);
  const started = Date.now();
  let verdict: Verdict = 'pass';
  let reason = 'every expectation was met';
  const limit = check.timeoutMs ?? o.timeoutMs ?? 20_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    const unmet = unmetRequirement(check.requires, o.target);
    if (unmet) ctx.notApplicable(unmet);
    const run = check.run(ctx);
    run.catch(() => { /* settled below or abandoned after a timeout */ });
    await Promise.race([run, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new InfraTimeout(limit)), limit); })]);
  } catch (e) {
    if (isVerdictSignal(e)) {
      verdict = e.verdict;
      reason = e.reason;
    } else if (e instanceof InfraError) {
      ctx.cleanup();
      return e;
    } else if (e instanceof InfraTimeout) {
      verdict = 'inconclusive';
      reason = `the check did not finish within ${limit} ms`;
      ctx.note(reason);
    } else {
      verdict = 'inconclusive';
      reason = `harness error: ${describeError(e)}`;
      ctx.note(`${reason}${e instanceof Error && e.stack ? `\n${e.stack.split('\n').slice(1, 4).join('\n')}` : ''}`);
    }
  } finally {
    clearTimeout(timer);
  }
  const traces = ctx.cleanup();
  const known = verdict === 'fail' || verdict === 'inconclusive' ? o.known?.(check.id) : undefined;
  return {
    id: check.id, ...(check.client ? { client: check.client } : {}), title: check.title, level: check.level, role: check.role, area: check.area, suites: check.suites,
    spec: check.spec, source: check.source, verdict, reason, evidence: ctx.evidence.snapshot(),
    durationMs: Date.now() - started, attempts: attempt + 1, seed,
    ...(traces ? { traces } : {}), ...(known ? { known } : {}),
  };
}

class InfraTimeout extends Error {
  constructor(readonly ms: number) { super(`timeout ${ms} ms`); }
}

async function runCheck(check: Check, o: RunnerOptions): Promise<CheckResult> {
  // client peers are processes of their own: give their wrappers one more chance
  const retries = o.infraRetries ?? (check.role === 'client' ? 3 : 2);
  let last: InfraError | undefined;
  for (let attempt = 0; attempt <= retries; attempt++) {
    const r = await runOnce(check, o, attempt);
    if (!(r instanceof InfraError)) return attempt > 0 ? r : r;
    last = r;
    await new Promise((res) => setTimeout(res, 100 * (attempt + 1)));
  }
  return {
    id: check.id, title: check.title, level: check.level, role: check.role, area: check.area, suites: check.suites,
    spec: check.spec, source: check.source, verdict: 'inconclusive', reason: `infrastructure: ${last?.message ?? 'unknown'}`,
    evidence: [], durationMs: 0, attempts: retries + 1, seed: checkSeed(o.seed, check.id, 0),
  };
}

/** Runs `checks` with at most `concurrency` in flight; results in the order of `checks`. */
export async function runChecks(checks: readonly Check[], o: RunnerOptions): Promise<CheckResult[]> {
  const results: CheckResult[] = new Array(checks.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < checks.length; i = next++) {
      const c = checks[i]!;
      o.onStart?.(c);
      results[i] = await runCheck(c, o);
      o.onResult?.(results[i]!);
    }
  };
  const n = Math.max(1, Math.min(o.concurrency ?? 6, checks.length));
  await Promise.all(Array.from({ length: n }, worker));
  return results;
}

export function countVerdicts(results: readonly CheckResult[]): VerdictCounts {
  const c = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
  for (const r of results) c[r.verdict]++;
  return { ...c, total: results.length };
}

/** README.md: 1 when a check failed, or a MUST check stayed inconclusive, unless scenarios/KNOWN.md explains it. */
export function exitCodeFor(results: readonly CheckResult[]): 0 | 1 {
  return results.some((r) => !r.known && (r.verdict === 'fail' || (r.verdict === 'inconclusive' && r.level === 'MUST'))) ? 1 : 0;
}

export function summarize(input: { runId: string; target: TargetInfo; clientTargets?: readonly string[]; suites: readonly string[]; seed: string; startedAt: Date; results: readonly CheckResult[] }): RunSummary {
  const byLevel = Object.fromEntries(LEVELS.map((l) => [l, countVerdicts(input.results.filter((r) => r.level === l))])) as Record<Level, VerdictCounts>;
  return {
    runId: input.runId, target: input.target.name, ...(input.target.version ? { targetVersion: input.target.version } : {}),
    clientTargets: input.clientTargets ?? [], suites: input.suites, seed: input.seed, startedAt: input.startedAt.toISOString(),
    durationMs: Date.now() - input.startedAt.getTime(), results: input.results, counts: countVerdicts(input.results), byLevel,
    exitCode: exitCodeFor(input.results),
  };
}
