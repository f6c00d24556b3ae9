/**
 * One Swarm campaign from start to merged report (`ssh-harness campaign swarm`), and the shard-scaling benchmark
 * (`ssh-harness campaign bench`): the same campaign with 1 and with 2 shards, alternated, cases/s compared.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureHarnessImage } from './image.js';
import { mergeCampaigns, type MergeResult } from './merge.js';
import { writeMerge } from './merge-report.js';
import { SwarmCampaign, type SwarmTask } from './swarm.js';

export interface SwarmRunOptions {
  readonly replicas: number;
  readonly target: string;
  readonly fuzzArgs: readonly string[];
  readonly name: string;
  readonly reportDir: string;
  readonly cpusPerShard?: number;
  readonly timeoutMs: number;
  /** Kill shard 1's container (SIGKILL) this long after it has written its first checkpoint (restart check). */
  readonly killAfterMs?: number;
  readonly volume?: string;
  readonly keepVolume?: boolean;
  readonly progress?: (line: string) => void;
}

export interface SwarmRunResult {
  readonly ok: boolean;
  readonly why?: string;
  readonly image: string;
  readonly merge?: MergeResult;
  readonly files?: ReturnType<typeof writeMerge>;
  readonly tasks: readonly SwarmTask[];
  /** The kill, when asked: which task, and the corpus files shard 1 had written before it. */
  readonly killed?: { readonly task: SwarmTask; readonly atMs: number; readonly entriesBefore: readonly string[] };
  readonly cleanupProblems: readonly string[];
  readonly wallMs: number;
}

function listEntries(dir: string): string[] {
  const corpus = join(dir, 'corpus');
  if (!existsSync(corpus)) return [];
  return readdirSync(corpus, { withFileTypes: true }).filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(join(corpus, d.name)).filter((n) => n.endsWith('.json') && !n.startsWith('.')).map((n) => `${d.name}/${n}`)).sort();
}

export async function runSwarmCampaign(o: SwarmRunOptions): Promise<SwarmRunResult> {
  const t0 = performance.now();
  const say = o.progress ?? (() => {});
  const img = await ensureHarnessImage({ progress: say });
  say(`image ${img.image} (${img.built ? `built in ${(img.buildMs / 1000).toFixed(0)} s` : 'present'})`);
  const c = new SwarmCampaign({
    image: img.image, replicas: o.replicas, name: o.name, target: o.target, fuzzArgs: o.fuzzArgs,
    ...(o.cpusPerShard !== undefined ? { cpusPerShard: o.cpusPerShard } : {}),
    ...(o.volume ? { volume: o.volume } : {}), ...(o.keepVolume ? { keepVolume: true } : {}),
  });
  let killed: SwarmRunResult['killed'];
  try {
    await c.start();
    say(`swarm job ${c.shardsService}: ${o.replicas} shard(s) against ${o.target}, volume ${c.volume}`);
    const volume = await c.volumePath();
    const shard1 = join(volume, 'shards', `shard-1-of-${o.replicas}`);
    let checkpointSeen: number | undefined;
    let lastLine = '';
    const w = await c.wait(o.timeoutMs, async (tasks) => {
      const line = tasks.map((t) => `${t.k}:${t.state}`).sort().join(' ');
      if (line !== lastLine) { lastLine = line; say(`tasks ${line}`); }
      if (o.killAfterMs === undefined || killed) return;
      if (checkpointSeen === undefined && existsSync(join(shard1, 'state.json'))) checkpointSeen = performance.now();
      if (checkpointSeen !== undefined && performance.now() - checkpointSeen >= o.killAfterMs) {
        const entriesBefore = listEntries(shard1);
        const task = await c.killShard(1);
        killed = { task, atMs: performance.now() - t0, entriesBefore };
        say(`killed shard 1 (task ${task.id.slice(0, 12)}, container ${task.containerId?.slice(0, 12)}) with ${entriesBefore.length} corpus entries written`);
      }
    });
    mkdirSync(o.reportDir, { recursive: true });
    writeFileSync(join(o.reportDir, 'shards.log'), await c.logs());
    const merge = mergeCampaigns([join(volume, 'shards')]);
    const files = writeMerge(merge, o.reportDir);
    return { ok: w.ok, ...(w.why ? { why: w.why } : {}), image: img.image, merge, files, tasks: w.tasks, ...(killed ? { killed } : {}), cleanupProblems: await c.cleanup(), wallMs: performance.now() - t0 };
  } catch (e) {
    const cleanupProblems = await c.cleanup();
    if (cleanupProblems.length) (e as Error).message += `; cleanup: ${cleanupProblems.join('; ')}`;
    throw e;
  }
}

export interface BenchRound { readonly replicas: number; readonly cases: number; readonly wallMs: number; readonly casesPerSecond: number }

/** Alternates 1-shard and 2-shard campaigns of the same length; returns every round and the median ratio. */
export async function benchShards(o: { target: string; seconds: number; rounds: number; cpusPerShard?: number; reportDir: string; progress?: (l: string) => void; extra?: readonly string[] }): Promise<{ rounds: BenchRound[]; ratios: number[]; median: number }> {
  const rounds: BenchRound[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < o.rounds; r++) {
    const pair: BenchRound[] = [];
    for (const replicas of [1, 2]) {
      const res = await runSwarmCampaign({
        replicas, target: o.target, name: `ssh-harness-bench${replicas}`, reportDir: join(o.reportDir, `round${r + 1}-${replicas}shard`),
        fuzzArgs: ['--time', String(o.seconds), '--seed', String(1000 + r), ...(o.extra ?? [])], timeoutMs: (o.seconds + 120) * 1000,
        ...(o.cpusPerShard !== undefined ? { cpusPerShard: o.cpusPerShard } : {}), ...(o.progress ? { progress: o.progress } : {}),
      });
      if (!res.ok || !res.merge?.totals.casesPerSecond) throw new Error(`bench round ${r + 1}, ${replicas} shard(s): ${res.why ?? 'no figures'}`);
      const t = res.merge.totals;
      const round = { replicas, cases: t.cases, wallMs: t.wallMs!, casesPerSecond: t.casesPerSecond! };
      pair.push(round);
      rounds.push(round);
      o.progress?.(`round ${r + 1}: ${replicas} shard(s) ${round.cases} cases in ${(round.wallMs / 1000).toFixed(1)} s = ${round.casesPerSecond.toFixed(0)} cases/s`);
    }
    ratios.push(pair[1]!.casesPerSecond / pair[0]!.casesPerSecond);
  }
  const sorted = [...ratios].sort((a, b) => a - b);
  return { rounds, ratios, median: sorted[Math.floor(sorted.length / 2)]! };
}
