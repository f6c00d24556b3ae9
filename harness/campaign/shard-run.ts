/**
 * `fuzz --out DIR`: what the fuzz command does differently when it is one task of an orchestrated campaign —
 * resume from the shard's checkpoint, checkpoint after batches, write the report into the shard directory
 * atomically with the figures of every attempt. See shard-state.ts for the directory layout.
 */
import { join } from 'node:path';
import type { CampaignResult, FindingRecord, Shard } from '../fuzz/campaign.js';
import type { Finding } from '../fuzz/oracles.js';
import { coverageMarkdown, reportHtml, reportJUnit, reportJson, reportMarkdown } from '../fuzz/report.js';
import type { CoverageSummary } from '../fuzz/greybox/session.js';
import { probe } from '../targets/banner.js';
import { parseTcpUrl } from '../targets/tcp.js';
import { writeFileAtomic } from './atomic-write.js';
import { knownFindings, readShardState, shardDirName, ShardCheckpoint, totalsAsResult, type ShardState } from './shard-state.js';
import { existsSync } from 'node:fs';

export interface ShardRunInput {
  readonly out: string;
  readonly shard: Shard;
  readonly target: string;
  readonly targetVersion: string;
  readonly seed: number;
  readonly plan: Readonly<Record<string, string | number | boolean | null>>;
  /** The campaign's --time: the budget of all attempts together. */
  readonly timeSeconds?: number;
}

export interface ShardRun {
  readonly dir: string;
  readonly corpusDir: string;
  readonly attempt: number;
  readonly firstBatch: number;
  readonly known: readonly FindingRecord[];
  /** Set when an earlier attempt ran the shard to its end: nothing is left to do. */
  readonly finishedBefore?: ShardState;
  /** What is left of --time after the earlier attempts. */
  readonly timeSeconds?: number;
  onBatchDone(nextBatch: number, snapshot: () => CampaignResult): void;
  /**
   * Writes the state and the report (figures over all attempts; the coverage of an instrumented target's
   * campaign, with its HTML plots, is this attempt's); returns the report files and that result.
   */
  finish(r: CampaignResult, notes: readonly string[], peerFindings: readonly Finding[], coverage?: readonly CoverageSummary[]): { files: string[]; total: CampaignResult; state: ShardState };
}

/** The seed of a restarted shard is the one its first attempt chose (a random default would start another campaign). */
export function priorSeed(out: string, shard: Shard): number | undefined {
  const file = join(out, shardDirName(shard), 'state.json');
  return existsSync(file) ? readShardState(file).seed : undefined;
}

export function openShardRun(i: ShardRunInput): ShardRun {
  const dir = join(i.out, shardDirName(i.shard));
  const cp = new ShardCheckpoint({ dir, target: i.target, targetVersion: i.targetVersion, seed: i.seed, shard: i.shard, plan: i.plan });
  const known = knownFindings(cp.corpusDir, cp.prior);
  let nextBatch = cp.firstBatch;
  const left = i.timeSeconds !== undefined ? i.timeSeconds - cp.priorTotals.elapsedMs / 1000 : undefined;
  return {
    dir, corpusDir: cp.corpusDir, attempt: cp.attempt, firstBatch: cp.firstBatch, known,
    ...(cp.finishedBefore ? { finishedBefore: cp.prior! } : {}),
    // a positive sliver lets the campaign start and stop at once, by time, when the budget is spent
    ...(left !== undefined ? { timeSeconds: Math.max(left, 0.001) } : {}),
    onBatchDone(b, snapshot) {
      nextBatch = b;
      cp.checkpoint(b, snapshot);
    },
    finish(r, notes, peerFindings, coverage = []) {
      const state = cp.finish(nextBatch, r);
      const total = totalsAsResult(r, state.totals);
      const extra = {
        notes, peerFindings, shardDir: dir, attempts: state.attempts, restarts: state.attempts.length - 1,
        startedAt: state.attempts[0]?.startedAt, finishedAt: state.finished?.at, ...(coverage.length ? { greybox: coverage } : {}),
      };
      const json = join(dir, 'report.json');
      const md = join(dir, 'report.md');
      const html = join(dir, 'report.html');
      writeFileAtomic(json, JSON.stringify(reportJson(total, extra), null, 2) + '\n');
      const restarts = state.attempts.length > 1 ? [`${state.attempts.length - 1} restart(s): attempts resumed at batches ${state.attempts.map((a) => a.firstBatch).join(', ')}`] : [];
      writeFileAtomic(md, reportMarkdown(total, [...notes, ...restarts], peerFindings) + (coverage.length ? '\n' + coverageMarkdown(coverage) : ''));
      writeFileAtomic(html, reportHtml(total, coverage, peerFindings));
      const junit = join(dir, 'junit.xml');
      writeFileAtomic(junit, reportJUnit(total, peerFindings, coverage));
      return { files: [json, md, html, junit], total, state };
    },
  };
}

/** Waits until a tcp:// target answers with an SSH banner; returns why not after `timeoutMs`. */
export async function waitForTcpTarget(url: string, timeoutMs: number): Promise<string | undefined> {
  let host, port;
  try {
    ({ host, port } = parseTcpUrl(url));
  } catch (e) {
    return (e as Error).message;
  }
  const deadline = performance.now() + timeoutMs;
  let last = '';
  while (performance.now() < deadline) {
    try {
      await probe(host, port, { timeoutMs: Math.min(3000, Math.max(100, deadline - performance.now())) });
      return undefined;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return `${url} did not answer within ${Math.round(timeoutMs / 1000)} s (${last})`;
}
