/**
 * Fuzzing speed (issue 8 "Performance"): cases per second against our server in-process (per CPU-second:
 * the per-core rate, honest on a shared machine) for post-kex cases and for the full phase mix, the cost of
 * a fresh in-process connection, and cases per second against OpenSSH over loopback with connection reuse
 * and several connections at once. Run: `npx tsx harness/fuzz/bench.ts [--json] [--peer sshd,openssh:trixie,…]`.
 */
import { runCampaign, type CampaignResult } from './campaign.js';
import { CaseRun } from './executor.js';
import { startArbFrom } from './arb/steps.js';
import { selfTarget } from './self/self-target.js';
import { resolveTarget } from './targets.js';

export interface FuzzBenchResult {
  readonly name: string;
  readonly cases: number;
  readonly wallPerSecond: number;
  readonly perCpuSecond: number;
  readonly freshConnections: number;
  readonly reusedCases: number;
}

function summarise(name: string, r: CampaignResult): FuzzBenchResult {
  return {
    name, cases: r.cases, wallPerSecond: Math.round(r.casesPerSecond), perCpuSecond: Math.round(r.cases / (r.cpuMs / 1000)),
    freshConnections: r.freshConnections, reusedCases: r.reusedCases,
  };
}

/** Fresh in-process connections driven to `authenticated` per CPU-second (the floor of a killed case). */
async function connectionsPerCpuSecond(n: number): Promise<number> {
  const t = selfTarget();
  const algorithms = { kex: ['curve25519-sha256'], cipher: ['chacha20-poly1305@openssh.com'] };
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const link = await t.connect(algorithms);
    if (!(await new CaseRun(link, t).reach('authenticated'))) throw new Error('self did not authenticate');
    link.close();
  }
  const c = process.cpuUsage(c0);
  return Math.round(n / ((c.user + c.system) / 1e6));
}

export async function benchFuzz(opts: { peers?: readonly string[]; selfCases?: number; peerSeconds?: number } = {}): Promise<{ results: FuzzBenchResult[]; selfConnectionsPerCpuSecond: number }> {
  const n = opts.selfCases ?? 5000;
  const results: FuzzBenchResult[] = [];
  // warm-up (JIT, module loading): a process's first ~5000 cases run at ~60 % of the steady rate, the next 5000
  // at ~85-90 %
  await runCampaign({ target: selfTarget(), seed: 1, runs: 300 });
  for (const seed of [2, 3]) await runCampaign({ target: selfTarget(), seed, runs: 5000, arb: { start: startArbFrom(['authenticated', 'channel']) } });
  const selfConnectionsPerCpuSecond = await connectionsPerCpuSecond(500);
  results.push(summarise('self, post-kex cases (start authenticated/channel)', await runCampaign({ target: selfTarget(), seed: 11, runs: n, arb: { start: startArbFrom(['authenticated', 'channel']) } })));
  results.push(summarise('self, post-kex cases, ≤ 2 steps', await runCampaign({ target: selfTarget(), seed: 12, runs: n, arb: { start: startArbFrom(['authenticated', 'channel']), maxSteps: 2 } })));
  results.push(summarise('self, every phase', await runCampaign({ target: selfTarget(), seed: 13, runs: n })));
  results.push(summarise('self, --mode deep (post-auth, valid framing, fuzzed contents)', await runCampaign({ target: selfTarget(), seed: 15, runs: n, arb: { mode: 'deep' } })));
  for (const peer of opts.peers ?? []) {
    const t = await resolveTarget(peer);
    try {
      const c = t.concurrency ?? 16;
      results.push(summarise(`${peer} over loopback, ${c} connections, mixed`, await runCampaign({ target: t, seed: 14, timeSeconds: opts.peerSeconds ?? 30, concurrency: c })));
      results.push(summarise(`${peer} over loopback, ${c} connections, --mode deep`, await runCampaign({ target: t, seed: 16, timeSeconds: opts.peerSeconds ?? 30, concurrency: c, arb: { mode: 'deep' } })));
    } finally {
      await t.close();
    }
  }
  return { results, selfConnectionsPerCpuSecond };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const json = process.argv.includes('--json');
  const i = process.argv.indexOf('--peer');
  const peers = (i >= 0 ? process.argv[i + 1] ?? '' : 'sshd').split(',').filter(Boolean);
  const r = await benchFuzz({ peers });
  if (json) console.log(JSON.stringify(r, null, 2));
  else {
    console.log(`in-process connection to 'authenticated': ${r.selfConnectionsPerCpuSecond} per CPU-second`);
    for (const x of r.results) console.log(`${x.name}: ${x.cases} cases, ${x.wallPerSecond}/s wall, ${x.perCpuSecond} per CPU-second; ${x.freshConnections} fresh connections, ${x.reusedCases} reused`);
  }
}
