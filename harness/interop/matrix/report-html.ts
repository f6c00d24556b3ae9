/** The matrix as one small self-contained HTML page: a table per direction, the reason in each cell's tooltip. */
import { cellSymbol, counts, DIRECTION_TITLE, peersOf } from './report-markdown.js';
import { KINDS, type Direction, type MatrixReport } from './types.js';

export function htmlText(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

function table(r: MatrixReport, d: Direction): string {
  const peers = peersOf(r, d).filter((p) => !p.setupError);
  if (!peers.length) return '<p>No peer of this direction ran.</p>';
  const byKey = new Map(r.cells.filter((c) => c.direction === d).map((c) => [`${c.peer}\u0000${c.kind}\u0000${c.algorithm}`, c]));
  const head = peers.map((p) => {
    const n = counts(r, p);
    return `<th title="${htmlText(p.notes.join('\n'))}">${htmlText(p.name)}<br><small>${htmlText(p.version ?? '')}<br>${n.pass}/${n.fail}/${n.unsupported}</small></th>`;
  }).join('');
  const rows: string[] = [];
  for (const kind of KINDS) {
    for (const a of r.algorithms[kind]) {
      const tds = peers.map((p) => {
        const c = byKey.get(`${p.name}\u0000${kind}\u0000${a.name}`);
        if (!c) return '<td></td>';
        const cls = c.note ? 'note' : c.status;
        const tip = c.reason ?? c.note ?? (c.negotiated ? Object.entries(c.negotiated).map(([k, v]) => `${k}=${v}`).join(' ') : 'pass');
        return `<td class="${cls}" title="${htmlText(tip)}">${cellSymbol(c)}</td>`;
      }).join('');
      rows.push(`<tr><td>${kind}</td><td><code>${htmlText(a.name)}</code>${a.legacy ? ' *' : ''}</td>${tds}</tr>`);
    }
  }
  return `<table><thead><tr><th>kind</th><th>algorithm</th>${head}</tr></thead><tbody>${rows.join('\n')}</tbody></table>`;
}

export function toHtml(r: MatrixReport): string {
  const s = r.summary;
  const fails = r.cells.filter((c) => c.status === 'fail')
    .map((c) => `<li><b>${htmlText(c.peer)}</b> (${DIRECTION_TITLE[c.direction]}) ${c.kind} <code>${htmlText(c.algorithm)}</code>: ${htmlText(c.reason ?? '')}</li>`);
  const setup = r.peers.filter((p) => p.setupError).map((p) => `<li><b>${htmlText(p.name)}</b>: ${htmlText(p.setupError!)}</li>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Interop matrix ${htmlText(r.runId)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse;margin-bottom:2em}
th,td{border:1px solid #ccc;padding:2px 6px;font-size:13px}th{background:#f4f4f4;vertical-align:bottom}
td.pass{background:#e6f6e6;text-align:center}td.fail{background:#fbe3e3;text-align:center}
td.unsupported{background:#f6f6f6;color:#999;text-align:center}td.note{background:#fff5d6;text-align:center}
</style></head><body>
<h1>Interop matrix ${htmlText(r.runId)}</h1>
<p>${r.cells.length} cells: <b>${s.pass} pass, ${s.fail} fail, ${s.unsupported} unsupported</b>${s.setupErrors ? `, <b>${s.setupErrors} setup errors</b>` : ''}
in ${(r.durationMs / 1000).toFixed(1)} s. Hover a cell for the reason or the negotiated algorithms; * marks legacy algorithms.
Column headers show pass/fail/unsupported.</p>
${(['client', 'server'] as const).map((d) => `<h2>${DIRECTION_TITLE[d]}</h2>\n${table(r, d)}`).join('\n')}
<h2>Failures (${fails.length})</h2><ul>${fails.join('\n') || '<li>None.</li>'}</ul>
${setup.length ? `<h2>Setup errors</h2><ul>${setup.join('\n')}</ul>` : ''}
</body></html>
`;
}
