/**
 * Startup benchmark for the peers (issue 6 "Performance"): container start → ready (median of N, cached
 * image), and one full start/stop cycle of every server peer, sequentially, with the total.
 *   node --import tsx harness/targets/bench-startup.ts [--n 10] [--json]
 * Bars: container start→ready median ≤ 0.5 s; all server peers start+stop ≤ 10 s.
 */
import { getTarget, targetNames } from './registry.js';
import { formatTable } from './peer-list.js';
import { stopAll } from './cleanup.js';

interface Row { readonly peer: string; readonly startMs: number; readonly stopMs: number; readonly note: string }

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const n = Math.max(1, Math.min(100, Number(arg('--n') ?? 10)));
const json = process.argv.includes('--json');

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function cycle(name: string): Promise<Row> {
  const t = await getTarget(name);
  const a = await t.availability();
  if (!a.available) return { peer: name, startMs: NaN, stopMs: NaN, note: `unavailable: ${a.reason}` };
  const t0 = performance.now();
  const r = await t.start();
  const t1 = performance.now();
  await r.stop();
  const t2 = performance.now();
  return { peer: name, startMs: t1 - t0, stopMs: t2 - t1, note: r.version ?? '' };
}

async function main(): Promise<void> {
  const containers: Record<string, { firstMs: number; medianMs: number; samples: number[] }> = {};
  for (const name of ['openssh:bookworm', 'openssh:trixie']) {
    const t = await getTarget(name);
    if (!(await t.availability()).available) continue;
    const samples: number[] = [];
    for (let i = 0; i <= n; i++) { // sample 0 is the warm-up (testcontainers discovers the daemon once per process)
      const t0 = performance.now();
      const r = await t.start();
      samples.push(performance.now() - t0);
      await r.stop();
    }
    containers[name] = { firstMs: samples[0]!, medianMs: median(samples.slice(1)), samples: samples.slice(1) };
  }
  const servers = targetNames().filter((x) => x !== 'openssh'); // `openssh` is openssh:bookworm again
  const rows: Row[] = [];
  const c0 = performance.now();
  for (const name of servers) rows.push(await cycle(name));
  const totalMs = performance.now() - c0;

  if (json) {
    process.stdout.write(JSON.stringify({ n, containers, cycle: rows, cycleTotalMs: totalMs }, null, 2) + '\n');
    return;
  }
  const ms = (x: number): string => (Number.isNaN(x) ? '-' : `${x.toFixed(0)} ms`);
  console.log(`container start -> ready (cached image, host network; median of ${n} after one warm-up start)`);
  console.log(formatTable(['image', 'first start', 'median', 'min', 'max'],
    Object.entries(containers).map(([k, v]) => [k, ms(v.firstMs), ms(v.medianMs), ms(Math.min(...v.samples)), ms(Math.max(...v.samples))])));
  console.log('');
  console.log('full start/stop cycle of every server peer (sequential, one process)');
  console.log(formatTable(['peer', 'start -> ready', 'stop', 'version / note'], rows.map((r) => [r.peer, ms(r.startMs), ms(r.stopMs), r.note])));
  console.log(`total: ${(totalMs / 1000).toFixed(2)} s`);
}

main().catch(async (e: unknown) => {
  process.stderr.write(`bench-startup: ${e instanceof Error ? e.message : String(e)}\n`);
  await stopAll();
  process.exitCode = 2;
});
