import type { Command } from 'commander';
import { BENCH_GROUPS, runBench } from '../bench/main.js';
import { MiB } from '../bench/throughput.js';

/** `ssh-harness bench [--json] [--only groups] [--mib N]` (the command-line contract in README.md). */
export function register(program: Command): void {
  program
    .command('bench')
    .description('throughput and handshake benchmarks against real peers, printed as ratios measured in the same run')
    .option('--json', 'print the results as JSON on stdout')
    .option('--only <groups>', `comma-separated subset: ${BENCH_GROUPS.join(', ')}`)
    .option('--mib <n>', 'MiB per throughput measurement', (v) => Number.parseInt(v, 10))
    .action(async (f: { json?: boolean; only?: string; mib?: number }) => {
      if (f.mib !== undefined && !(Number.isInteger(f.mib) && f.mib > 0 && f.mib <= 65536)) {
        process.stderr.write(`ssh-harness bench: --mib must be an integer in 1..65536\n`);
        process.exitCode = 2;
        return;
      }
      const only = f.only?.split(',').map((g) => g.trim());
      const unknown = only?.filter((g) => !(BENCH_GROUPS as readonly string[]).includes(g)) ?? [];
      if (unknown.length > 0) {
        process.stderr.write(`ssh-harness bench: unknown group ${unknown.map((g) => JSON.stringify(g)).join(', ')}; known: ${BENCH_GROUPS.join(', ')}\n`);
        process.exitCode = 2;
        return;
      }
      const rows = await runBench({ ...(only ? { only } : {}), ...(f.mib ? { bytes: f.mib * MiB } : {}) });
      if (f.json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
    });
}
