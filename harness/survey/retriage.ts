/**
 * Triage is documentation, not measurement: `survey --from` applies today's scenarios/KNOWN.md to the failures of an
 * earlier run (explanations added or changed since), so a snapshot states what is explained now. Verdicts, evidence
 * and counts of failures stay as measured; only `known` and the untriaged counts follow the file.
 */
import { knownFor } from '../scenario/known.js';
import type { AreaCell, Failure, SurveyReport, SurveyRow } from './types.js';

function retriageRow(row: SurveyRow, md: string | undefined): SurveyRow {
  const explain = knownFor(row.peer, row.version, md);
  const failures = row.failures.map((f): Failure => {
    const { known: _old, ...rest } = f;
    const known = explain(f.id);
    return known ? { ...rest, known } : rest;
  });
  const untriagedIds = new Set(failures.filter((f) => !f.known).map((f) => f.id));
  const cells: Partial<Record<keyof SurveyRow['cells'], AreaCell>> = {};
  for (const [area, c] of Object.entries(row.cells) as [keyof SurveyRow['cells'], AreaCell][]) {
    cells[area] = { ...c, untriaged: c.failures.filter((id) => untriagedIds.has(id)).length };
  }
  return { ...row, failures, cells };
}

/** The report with every failure's `known` (and the untriaged counts) taken from `md` (default: scenarios/KNOWN.md). */
export function retriage(r: SurveyReport, md?: string): SurveyReport {
  const rows = r.rows.map((row) => retriageRow(row, md));
  const untriaged = rows.reduce((n, row) => n + row.failures.filter((f) => !f.known).length, 0);
  return { ...r, rows, totals: { ...r.totals, untriaged } };
}
