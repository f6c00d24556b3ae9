/**
 * Survey files. A run writes `<base>/<runId>/survey.{json,md,html}` beside the peers' own reports and the interop
 * matrix. A snapshot (for the repository's docs) is self-contained: the table (README.md, survey.html), the report
 * JSON, one evidence page per row (evidence/<peer>-<role>.md, every failure with its last evidence lines and its
 * triage) and the interop matrix as Markdown; `--readme` also replaces the table between the markers
 * `<!-- survey:begin -->` and `<!-- survey:end -->` of a README.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { toMarkdown as matrixMarkdown } from '../interop/matrix/report-markdown.js';
import type { MatrixReport } from '../interop/matrix/types.js';
import { evidenceMarkdown, firstSentence, fullRunLinks, LEGEND, snapshotLinks, surveyHtml, surveyMarkdown, tableMarkdown } from './render.js';
import { peerDir, surveyDir } from './run-survey.js';
import type { SurveyReport } from './types.js';

export interface SurveyFiles { readonly dir: string; readonly json: string; readonly markdown: string; readonly html: string }

export function writeSurvey(r: SurveyReport, base: string): SurveyFiles {
  const dir = surveyDir({ base, runId: r.runId });
  mkdirSync(dir, { recursive: true });
  const files = { dir, json: join(dir, 'survey.json'), markdown: join(dir, 'survey.md'), html: join(dir, 'survey.html') };
  writeFileSync(files.json, `${JSON.stringify(r, null, 1)}\n`);
  writeFileSync(files.markdown, surveyMarkdown(r, fullRunLinks));
  writeFileSync(files.html, surveyHtml(r, fullRunLinks));
  return files;
}

export const README_BEGIN = '<!-- survey:begin -->';
export const README_END = '<!-- survey:end -->';

/** The README block: the table with links into the snapshot directory. */
export function readmeBlock(r: SurveyReport, snapshotDir: string, readme: string): string {
  const prefix = relative(dirname(readme), snapshotDir).split('\\').join('/');
  const links = {
    cell: (row: Parameters<typeof snapshotLinks.cell>[0], area: Parameters<typeof snapshotLinks.cell>[1]) => `${prefix}/${snapshotLinks.cell(row, area)}`,
    row: (row: Parameters<typeof snapshotLinks.row>[0]) => `${prefix}/${snapshotLinks.row(row)}`,
  };
  const t = r.totals;
  return [
    README_BEGIN,
    `Measured by \`ssh-harness survey\` (run ${r.runId}, ${(r.durationMs / 1000).toFixed(0)} s on ${r.machine.cpus} cores): ${t.servers} servers and ${t.clients} clients, `
      + `${t.implementations} distinct implementations, ${t.checks} checks, ${t.must} MUST and ${t.should} SHOULD failures, ${t.untriaged} untriaged. `
      + `Every failure links to its evidence; [${prefix}/README.md](${prefix}/README.md) has the whole snapshot and the interop matrix.`,
    '',
    tableMarkdown(r, links),
    '',
    LEGEND,
    README_END,
  ].join('\n');
}

/**
 * The committed JSON: every failure with its reason and the first sentence of its triage, without the evidence
 * lines (they are on the evidence pages) or the whole KNOWN.md text repeated per failure.
 */
export function compact(r: SurveyReport): SurveyReport {
  return {
    ...r,
    rows: r.rows.map((row) => ({
      ...row,
      failures: row.failures.map((f) => ({
        ...f, evidence: [], reason: f.reason.slice(0, 400), spec: f.spec.map((x) => ({ rfc: x.rfc, section: x.section })),
        ...(f.known ? { known: firstSentence(f.known) } : {}),
      })),
    })),
  };
}

export function writeSnapshot(r: SurveyReport, matrix: MatrixReport | undefined, dir: string, readme?: string): string[] {
  mkdirSync(join(dir, 'evidence'), { recursive: true });
  // a row that left the survey must not leave a stale page behind
  for (const f of readdirSync(join(dir, 'evidence'))) rmSync(join(dir, 'evidence', f), { force: true });
  const written: string[] = [];
  const put = (file: string, text: string): void => { writeFileSync(file, text); written.push(file); };
  put(join(dir, 'README.md'), surveyMarkdown(r, snapshotLinks));
  put(join(dir, 'survey.html'), surveyHtml(r, snapshotLinks));
  put(join(dir, 'survey.json'), `${JSON.stringify(compact(r), null, 1)}\n`);
  for (const row of r.rows) put(join(dir, 'evidence', `${peerDir(row.peer)}-${row.role}.md`), evidenceMarkdown(row, r.areas));
  if (matrix) put(join(dir, 'interop.md'), matrixMarkdown(matrix));
  if (readme) {
    if (!existsSync(readme)) throw new Error(`--readme ${readme}: no such file`);
    const text = readFileSync(readme, 'utf8');
    const a = text.indexOf(README_BEGIN);
    const b = text.indexOf(README_END);
    if (a < 0 || b < a) throw new Error(`--readme ${readme}: no ${README_BEGIN} … ${README_END} block to replace`);
    put(readme, text.slice(0, a) + readmeBlock(r, dir, readme) + text.slice(b + README_END.length));
  }
  return written;
}
