/**
 * Finding power (issue 7): run the suite against our reference server and against each deliberately broken
 * variant (variants.ts). Score = variants flagged / variants; the reference server must pass every MUST check.
 * A variant is flagged when at least one check fails (or a MUST check is inconclusive) that passes on `self`.
 */
import { runChecks } from './runner.js';
import { startTarget } from './session.js';
import { newSeed } from './seed.js';
import type { Check, CheckResult } from './types.js';
import { VARIANTS } from './variants.js';

export interface VariantScore {
  readonly variant: string;
  readonly description: string;
  readonly caught: boolean;
  /** Checks that flag it (fail, or MUST inconclusive) while passing on the reference server. */
  readonly flaggedBy: readonly string[];
  readonly durationMs: number;
}

export interface FindingPower {
  readonly reference: { readonly mustFailures: readonly string[]; readonly durationMs: number };
  readonly variants: readonly VariantScore[];
  readonly caught: number;
  readonly total: number;
}

const flags = (r: CheckResult) => r.verdict === 'fail' || (r.verdict === 'inconclusive' && r.level === 'MUST');

async function runAgainst(target: string, checks: readonly Check[], seed: string, concurrency: number): Promise<{ results: CheckResult[]; durationMs: number }> {
  const t0 = Date.now();
  const { running, info } = await startTarget(target);
  try {
    return { results: await runChecks(checks, { target: info, seed, concurrency }), durationMs: Date.now() - t0 };
  } finally {
    await running.stop();
  }
}

export async function findingPower(checks: readonly Check[], o: { seed?: string; concurrency?: number; variants?: readonly string[]; onVariant?: (v: VariantScore) => void } = {}): Promise<FindingPower> {
  const seed = o.seed ?? newSeed();
  const concurrency = o.concurrency ?? 4;
  const ref = await runAgainst('self', checks, seed, concurrency);
  const passingOnRef = new Set(ref.results.filter((r) => r.verdict === 'pass').map((r) => r.id));
  const variants: VariantScore[] = [];
  for (const v of VARIANTS.filter((x) => !o.variants || o.variants.includes(x.name))) {
    const run = await runAgainst(`self:${v.name}`, checks, seed, concurrency);
    const flaggedBy = run.results.filter((r) => flags(r) && passingOnRef.has(r.id)).map((r) => r.id);
    const score = { variant: v.name, description: v.description, caught: flaggedBy.length > 0, flaggedBy, durationMs: run.durationMs };
    variants.push(score);
    o.onVariant?.(score);
  }
  return {
    reference: { mustFailures: ref.results.filter((r) => r.level === 'MUST' && flags(r)).map((r) => r.id), durationMs: ref.durationMs },
    variants, caught: variants.filter((v) => v.caught).length, total: variants.length,
  };
}
