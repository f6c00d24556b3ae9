/** Writes `<base>/<runId>/interop/matrix.{json,md,html}` and renders the console summary. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatTable } from '../../targets/peer-list.js';
import { printable } from './offer.js';
import { toHtml } from './report-html.js';
import { counts, toMarkdown } from './report-markdown.js';
import type { MatrixReport } from './types.js';

export interface MatrixFiles {
  readonly dir: string;
  readonly json: string;
  readonly markdown: string;
  readonly html: string;
}

export function matrixDir(base: string, runId: string): string {
  return join(base, runId, 'interop');
}

export function writeMatrixReport(r: MatrixReport, base: string): MatrixFiles {
  const dir = matrixDir(base, r.runId);
  mkdirSync(dir, { recursive: true });
  const files = { dir, json: join(dir, 'matrix.json'), markdown: join(dir, 'matrix.md'), html: join(dir, 'matrix.html') };
  writeFileSync(files.json, `${JSON.stringify(r, null, 2)}\n`);
  writeFileSync(files.markdown, toMarkdown(r));
  writeFileSync(files.html, toHtml(r));
  return files;
}

/** Terminal-safe: control characters escaped, bounded. */
function safe(s: string, max = 240): string {
  return printable(s.length > max ? `${s.slice(0, max)}…` : s);
}

export function summaryTable(r: MatrixReport): string {
  const rows = r.peers.map((p) => {
    const c = counts(r, p);
    return [
      p.name, p.direction === 'client' ? 'our client → peer' : 'peer → our server', safe(p.version ?? '', 40),
      p.setupError ? '-' : String(c.pass), p.setupError ? '-' : String(c.fail), p.setupError ? '-' : String(c.unsupported),
      `${(p.durationMs / 1000).toFixed(1)} s`, p.setupError ? `SETUP ERROR: ${safe(p.setupError, 160)}` : '',
    ];
  });
  const s = r.summary;
  const lines = [
    formatTable(['peer', 'side', 'version', 'pass', 'fail', 'unsupported', 'time', ''], rows),
    '',
    `${r.cells.length} cells: ${s.pass} pass, ${s.fail} fail, ${s.unsupported} unsupported${s.setupErrors ? `; ${s.setupErrors} peer setup errors` : ''} in ${(r.durationMs / 1000).toFixed(1)} s`,
  ];
  for (const c of r.cells.filter((x) => x.status === 'fail')) {
    lines.push(`FAIL ${c.direction === 'client' ? `our client → ${c.peer}` : `${c.peer} → our server`} ${c.kind} ${c.algorithm}: ${safe(c.reason ?? '')}`);
  }
  return lines.join('\n');
}
