/**
 * "Coverage by source file" for the reports: per file of the instrumented server, its edges and how many each
 * mode reached (and, beside a black-box half, what grey-box reached more or less). Files no mode reached are
 * left out of the tables (report.json keeps them).
 */
import type { CoverageSummary } from './session.js';
import type { ArmTotals } from './arms.js';

export interface FileTable {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** Files with reached edges beyond the rows shown. */
  readonly more: number;
}

const pct = (n: number, of: number): string => `${n} (${(100 * n / Math.max(1, of)).toFixed(0)} %)`;

/** The files most reached by any mode, at most `limit`; undefined when no run has per-file figures. */
export function fileTable(runs: readonly CoverageSummary[], limit = 40): FileTable | undefined {
  const withFiles = runs.filter((r) => r.files?.length);
  if (!withFiles.length) return undefined;
  const edges = new Map<string, number>();
  const reached = withFiles.map((r) => new Map(r.files!.map((f) => { edges.set(f.file, f.edges); return [f.file, f.reached]; })));
  const grey = withFiles.findIndex((r) => r.mode === 'greybox');
  const black = withFiles.findIndex((r) => r.mode === 'blackbox');
  const diff = grey >= 0 && black >= 0;
  const best = (f: string): number => Math.max(...reached.map((m) => m.get(f) ?? 0));
  const files = [...edges.keys()].filter((f) => best(f) > 0).sort((a, b) => best(b) - best(a) || a.localeCompare(b));
  const rows = files.slice(0, limit).map((f) => [
    f, String(edges.get(f)), ...reached.map((m) => pct(m.get(f) ?? 0, edges.get(f)!)),
    ...(diff ? [signed((reached[grey]!.get(f) ?? 0) - (reached[black]!.get(f) ?? 0))] : []),
  ]);
  return { header: ['source file', 'edges', ...withFiles.map((r) => `${r.mode} reached`), ...(diff ? ['grey − black'] : [])], rows, more: Math.max(0, files.length - limit) };
}

const signed = (n: number): string => (n > 0 ? `+${n}` : String(n));

/** One sentence on the grey-box split between fresh cases and mutants (greybox/arms.ts). */
export function armsLine(a: NonNullable<CoverageSummary['arms']>): string {
  const one = (n: ArmTotals): string => `${n.cases} (${n.novel} reached new edges, ${(100 * n.novel / Math.max(1, n.cases)).toFixed(1)} %)`;
  return `Grey-box cases: fresh ${one(a.fresh)}, mutants of queue entries ${one(a.mutant)}.`;
}
