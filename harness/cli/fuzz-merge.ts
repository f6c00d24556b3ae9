/**
 * `ssh-harness fuzz merge DIR… [--out DIR] [--json]`: one result from the shards of a campaign (harness/campaign/merge.ts):
 * findings deduplicated by signature, the corpus minimised, a combined report (JSON, Markdown, HTML, JUnit XML) with
 * per-shard figures. Exit codes: 0 nothing found, 1 must-level findings, 2 usage error or unreadable inputs (the
 * merge is then written all the same, without them, and says which).
 */
import type { Command } from 'commander';
import { join } from 'node:path';
import { mergeCampaigns, MergeInputError } from '../campaign/merge.js';
import { mergeJson, writeMerge } from '../campaign/merge-report.js';

interface MergeCliOptions {
  readonly out?: string;
  readonly json?: boolean;
}

export function registerMerge(fuzz: Command): void {
  fuzz
    .command('merge')
    .description('merge shard outputs (fuzz --out directories, fuzz report directories, corpora): findings deduplicated, corpus minimised, one report')
    .argument('<dirs...>', 'shard or campaign directories to read (not changed)')
    .option('--out <dir>', 'where the merged report and minimised corpus go (default reports/fuzz-merge-<time>)')
    .option('--json', 'print the merged report JSON on stdout')
    .action((dirs: string[], opts: MergeCliOptions, cmd: Command) => {
      const out = cmd.configureOutput();
      const say = (s: string): void => (out.writeOut ?? ((x: string) => process.stdout.write(x)))(s);
      const warn = (s: string): void => (out.writeErr ?? ((x: string) => process.stderr.write(x)))(s);
      process.exitCode = runMerge(dirs, opts, say, warn);
    });
}

export function runMerge(dirs: readonly string[], opts: MergeCliOptions, say: (s: string) => void, warn: (s: string) => void): number {
  let m;
  try {
    m = mergeCampaigns(dirs);
  } catch (e) {
    if (!(e instanceof MergeInputError)) throw e;
    warn(`ssh-harness fuzz merge: ${e.message}\n`);
    return 2;
  }
  const outDir = opts.out ?? join('reports', `fuzz-merge-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const files = writeMerge(m, outDir);
  for (const w of m.warnings) warn(`warning: ${w}\n`);
  for (const p of m.problems) warn(`unreadable input: ${p}\n`);
  const must = m.findings.filter((f) => f.severity === 'must').length;
  if (opts.json) {
    const { corpusFiles, ...reportFiles } = files;
    say(JSON.stringify({ ...mergeJson(m, corpusFiles), reportFiles }, null, 2) + '\n');
  } else {
    const t = m.totals;
    say(`${m.shards.length} shards, ${t.cases} cases${t.casesPerSecond !== undefined ? ` (${t.casesPerSecond.toFixed(0)} cases/s over ${(t.wallMs! / 1000).toFixed(1)} s)` : ''}: `
      + `${m.entries.filter((e) => e.signature).length} finding entries → ${m.findings.length} distinct (${must} must-level); corpus ${m.entries.length} → ${m.kept.length}\n`);
    for (const s of m.shards) say(`  ${s.target} ${s.shard}: ${s.cases} cases, ${(s.cases / Math.max(s.elapsedMs / 1000, 1e-9)).toFixed(0)}/s, ${s.findings} findings${s.restarts ? `, ${s.restarts} restart(s)` : ''}${s.finished ? '' : ', NOT FINISHED'}\n`);
    say(`report: ${files.markdown}\n`);
  }
  return m.problems.length ? 2 : must > 0 ? 1 : 0;
}
