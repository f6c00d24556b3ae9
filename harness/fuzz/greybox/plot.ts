/**
 * Coverage over time as SVG line charts (edges vs cases, edges vs seconds), one line per campaign mode, for the
 * campaign's HTML report. Self-contained SVG: no script, no external style.
 */
import type { CoverageSummary } from './session.js';
import { armsLine, fileTable } from './file-table.js';

const W = 560;
const H = 300;
const PAD = { l: 64, r: 16, t: 28, b: 44 };
const COLOURS: Record<CoverageSummary['mode'], string> = { greybox: '#c0392b', blackbox: '#2c3e50' };

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function ticks(max: number): number[] {
  if (max <= 0) return [0];
  const step = 10 ** Math.floor(Math.log10(max));
  const s = max / step > 5 ? step * 2 : max / step > 2 ? step : step / 2;
  const out: number[] = [];
  for (let v = 0; v <= max * 1.0001; v += s) out.push(v);
  return out;
}

const fmt = (v: number): string => (v >= 10_000 ? `${(v / 1000).toFixed(0)}k` : v >= 1000 ? `${(v / 1000).toFixed(1)}k` : Number.isInteger(v) ? String(v) : v.toFixed(1));

/** One chart: x = `cases` or `seconds`, y = edges. */
export function coverageSvg(runs: readonly CoverageSummary[], x: 'cases' | 'seconds', title: string): string {
  const maxX = Math.max(1, ...runs.flatMap((r) => r.samples.map((s) => s[x])));
  const maxY = Math.max(1, ...runs.map((r) => r.edges));
  // the first case alone reaches most edges (start-up, kex): the y axis starts below the first measured point, so
  // the differences that matter are visible
  const firsts = runs.map((r) => r.samples.find((x) => x.edges > 0)?.edges ?? 0).filter((v) => v > 0);
  const minY = firsts.length ? Math.floor(Math.min(...firsts) * 0.95) : 0;
  const span = Math.max(1, maxY - minY);
  const px = (v: number): number => PAD.l + (v / maxX) * (W - PAD.l - PAD.r);
  const py = (v: number): number => H - PAD.b - (Math.max(0, v - minY) / span) * (H - PAD.t - PAD.b);
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}" font-family="sans-serif" font-size="11">`];
  out.push(`<text x="${W / 2}" y="16" text-anchor="middle" font-size="13">${esc(title)}</text>`);
  for (const t of ticks(span).map((v) => v + minY)) out.push(`<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${py(t).toFixed(1)}" y2="${py(t).toFixed(1)}" stroke="#ddd"/><text x="${PAD.l - 6}" y="${(py(t) + 4).toFixed(1)}" text-anchor="end">${fmt(t)}</text>`);
  for (const t of ticks(maxX)) out.push(`<line x1="${px(t).toFixed(1)}" x2="${px(t).toFixed(1)}" y1="${H - PAD.b}" y2="${H - PAD.b + 4}" stroke="#555"/><text x="${px(t).toFixed(1)}" y="${H - PAD.b + 16}" text-anchor="middle">${fmt(t)}</text>`);
  out.push(`<line x1="${PAD.l}" y1="${H - PAD.b}" x2="${W - PAD.r}" y2="${H - PAD.b}" stroke="#555"/><line x1="${PAD.l}" y1="${PAD.t}" x2="${PAD.l}" y2="${H - PAD.b}" stroke="#555"/>`);
  out.push(`<text x="${W / 2}" y="${H - 8}" text-anchor="middle">${x}</text><text transform="translate(14 ${H / 2}) rotate(-90)" text-anchor="middle">edges${minY ? ` (axis from ${minY})` : ''}</text>`);
  runs.forEach((r, i) => {
    // a step line: coverage holds between samples
    const pts: string[] = [];
    let lastY = 0;
    for (const s of r.samples) { pts.push(`${px(s[x]).toFixed(1)},${py(lastY).toFixed(1)}`, `${px(s[x]).toFixed(1)},${py(s.edges).toFixed(1)}`); lastY = s.edges; }
    out.push(`<polyline fill="none" stroke="${COLOURS[r.mode]}" stroke-width="2" points="${pts.join(' ')}"/>`);
    out.push(`<rect x="${W - PAD.r - 230}" y="${H - PAD.b - 34 + i * 16}" width="12" height="3" fill="${COLOURS[r.mode]}"/><text x="${W - PAD.r - 212}" y="${H - PAD.b - 30 + i * 16}">${r.mode}: ${r.edges} edges, ${r.cases} cases</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

/** The HTML section: both charts and a table of the figures (with the grey-box / black-box ratio). */
export function coverageHtml(runs: readonly CoverageSummary[]): string {
  const grey = runs.find((r) => r.mode === 'greybox');
  const black = runs.find((r) => r.mode === 'blackbox');
  const rows = runs.map((r) => `<tr><td>${r.mode}</td><td>${r.edges}</td><td>${r.guards}</td><td>${(100 * r.edges / Math.max(1, r.guards)).toFixed(1)} %</td><td>${r.cases}</td><td>${r.seconds.toFixed(0)}</td><td>${(r.cases / Math.max(r.seconds, 1e-9)).toFixed(0)}</td><td>${r.queue}</td></tr>`);
  return [
    '<h2>Coverage (SanitizerCoverage edges)</h2>',
    '<table><tr><th>mode</th><th>edges</th><th>edge slots</th><th>share</th><th>cases</th><th>seconds</th><th>cases/s</th><th>queue</th></tr>', ...rows, '</table>',
    grey && black ? `<p>grey-box / black-box edges: <b>${(grey.edges / Math.max(1, black.edges)).toFixed(2)}×</b> for the same time budget.</p>` : '',
    grey?.arms ? `<p>${esc(armsLine(grey.arms))}</p>` : '',
    coverageSvg(runs, 'cases', 'edges vs cases'), coverageSvg(runs, 'seconds', 'edges vs seconds'),
    fileTableHtml(runs),
  ].join('\n');
}

function fileTableHtml(runs: readonly CoverageSummary[]): string {
  const t = fileTable(runs);
  if (!t) return '';
  return ['<h3>Coverage by source file</h3>', `<table><tr>${t.header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`,
    ...t.rows.map((r) => `<tr>${r.map((c, i) => (i === 0 ? `<td style="text-align:left"><code>${esc(c)}</code></td>` : `<td>${esc(c)}</td>`)).join('')}</tr>`), '</table>',
    t.more ? `<p>${t.more} more files with reached edges in report.json.</p>` : ''].join('\n');
}
