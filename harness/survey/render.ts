/**
 * The survey table as Markdown and as a self-contained HTML page: one row per implementation and role, one column
 * per check area with the failed MUST and SHOULD checks (`2M 1S`, `✓` when none failed, `·` when the area has no
 * checks for that role), each cell linking to its evidence. A failure scenarios/KNOWN.md does not explain is
 * marked `!` (untriaged). Peer-supplied text (versions, reasons, evidence) is escaped for each format.
 */
import { htmlEscape } from '../report/html.js';
import { citation } from '../report/format.js';
import type { Area } from '../scenario/types.js';
import type { AreaCell, Failure, SurveyReport, SurveyRow } from './types.js';
import { peerDir } from './run-survey.js';

/** Where a cell and a row link to: the full run's reports, or the committed snapshot's evidence pages. */
export interface Links {
  cell(row: SurveyRow, area: Area): string | undefined;
  row(row: SurveyRow): string | undefined;
  interop?: string;
}

export const fullRunLinks: Links = {
  cell: (row, area) => row.failures.find((f) => f.area === area)?.link,
  row: (row) => row.report,
  interop: 'interop/matrix.html',
};

export const snapshotLinks: Links = {
  cell: (row, area) => `evidence/${peerDir(row.peer)}-${row.role}.md#${area}`,
  row: (row) => `evidence/${peerDir(row.peer)}-${row.role}.md`,
  interop: 'interop.md',
};

/** `2M 1S` (with `!` when some failure is untriaged), `✓` for none, `·` for an area without checks. */
export function cellText(c: AreaCell | undefined): string {
  if (!c) return '·';
  const inconclusive = c.failures.length - c.must - c.should;
  if (c.failures.length === 0) return '✓';
  const parts = [c.must ? `${c.must}M` : '', c.should ? `${c.should}S` : '', inconclusive > 0 ? `${inconclusive}?` : ''].filter(Boolean);
  return `${parts.join(' ')}${c.untriaged ? '!' : ''}`;
}

function mdEscape(s: string): string {
  return s.replace(/[\\|`*_[\]<>]/g, (ch) => `\\${ch}`).replace(/[\r\n]+/g, ' ');
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function interopText(r: SurveyRow): string {
  return r.interop ? `${r.interop.pass}/${r.interop.pass + r.interop.fail}${r.interop.fail ? ` (${r.interop.fail} fail)` : ''}` : '–';
}

export const LEGEND = '`✓` every check of the area passed or did not apply · `2M 1S` MUST / SHOULD checks that failed · `?` inconclusive · '
  + '`!` a failure not yet explained in scenarios/KNOWN.md · `·` no check of that area for that role · interop: matrix cells passed / run (unsupported algorithms left out)';

export function tableMarkdown(r: SurveyReport, links: Links): string {
  const head = ['implementation', 'role', 'version', 'checks', ...r.areas, 'interop', 'time'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const row of r.rows) {
    const rowLink = links.row(row);
    const name = rowLink ? `[${mdEscape(row.implementation)}](${rowLink})` : mdEscape(row.implementation);
    if (row.setupError) {
      lines.push(`| ${name} | ${row.role} | ${mdEscape(row.version ?? '')} | setup error: ${mdEscape(row.setupError.slice(0, 120))} |${r.areas.map(() => ' |').join('')} | |`);
      continue;
    }
    const cells = r.areas.map((a) => {
      const c = row.cells[a];
      const text = cellText(c);
      const link = c && c.failures.length ? links.cell(row, a) : undefined;
      return link ? `[${text}](${link})` : text;
    });
    const counts = row.counts!;
    lines.push(`| ${name} | ${row.role} (\`${row.peer}\`) | ${mdEscape(row.version ?? '')} | ${counts.total - counts.notApplicable} | ${cells.join(' | ')} | ${interopText(row)} | ${seconds(row.durationMs)} |`);
  }
  return lines.join('\n');
}

export function surveyMarkdown(r: SurveyReport, links: Links): string {
  const t = r.totals;
  const out = [
    '# The SSH ecosystem, measured',
    '',
    `Run ${r.runId}: ${t.servers} server and ${t.clients} client implementations (${t.implementations} distinct), ${t.checks} checks in all, `
      + `${t.must} MUST and ${t.should} SHOULD failures, ${t.untriaged} untriaged${t.setupErrors ? `, ${t.setupErrors} peers could not run` : ''}; `
      + `${seconds(r.durationMs)} on ${r.machine.cpus} cores (load average ${r.machine.loadAverage} at the end, other processes included), ${r.jobs} peers at a time, default waits × ${r.timeScale}.`,
    '',
    tableMarkdown(r, links),
    '',
    LEGEND,
    '',
  ];
  if (r.interop) {
    const s = r.interop.summary;
    out.push(`Interop matrix (${seconds(r.interop.durationMs)}): ${s.pass} cells pass, ${s.fail} fail, ${s.unsupported} unsupported${links.interop ? ` — [the matrix](${links.interop})` : ''}.`, '');
  }
  const untriaged = r.rows.flatMap((row) => row.failures.filter((f) => !f.known).map((f) => ({ row, f })));
  if (untriaged.length) {
    out.push('## Untriaged failures', '');
    for (const { row, f } of untriaged) out.push(`- ${mdEscape(row.peer)} (${row.role}): ${f.level} \`${f.id}\` — ${mdEscape(f.reason.slice(0, 200))}`);
    out.push('');
  }
  return out.join('\n');
}

/** One implementation's failures, grouped by area, with evidence: docs/survey/evidence/<peer>-<role>.md. */
export function evidenceMarkdown(row: SurveyRow, areas: readonly Area[]): string {
  const out = [`# ${mdEscape(row.implementation)} — ${row.role} \`${row.peer}\` ${mdEscape(row.version ?? '')}`, ''];
  if (row.setupError) return [...out, `Could not be run: ${mdEscape(row.setupError)}`, ''].join('\n');
  const c = row.counts!;
  out.push(`${c.total} checks: ${c.pass} passed, ${c.fail} failed, ${c.inconclusive} inconclusive, ${c.notApplicable} not applicable, in ${seconds(row.durationMs)}.`, '');
  for (const a of areas) {
    const fs = row.failures.filter((f) => f.area === a);
    if (!fs.length) continue;
    out.push(`## ${a}`, '');
    for (const f of fs) out.push(...failureMarkdown(f));
  }
  if (!row.failures.length) out.push('Every check passed or did not apply.', '');
  return out.join('\n');
}

/** From docs/survey/evidence/ (where the snapshot's evidence pages live) to the triage file. */
const KNOWN_LINK = '../../../scenarios/KNOWN.md';

/** The first sentence of a KNOWN.md explanation (the page links to the whole of it), at most 280 characters. */
export function firstSentence(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const m = /^(.{40,}?[.:])(\s|$)/.exec(flat);
  const first = m ? m[1]! : flat;
  return first.length > 280 ? `${first.slice(0, 280)}…` : first;
}

function failureMarkdown(f: Failure): string[] {
  return [
    `### ${f.id}`,
    '',
    `**${f.level} ${f.verdict}** — ${mdEscape(f.title)} (${f.spec.map(citation).join('; ')})`,
    '',
    `Observed: ${mdEscape(f.reason)}`,
    '',
    f.known ? `Triage ([scenarios/KNOWN.md](${KNOWN_LINK})): ${mdEscape(firstSentence(f.known))}` : '**Untriaged**: not explained in scenarios/KNOWN.md.',
    '',
    '```',
    // the last lines lead to the verdict; the peer's own report (a full run) has all of them
    ...f.evidence.slice(-8).map((l) => (l.length > 180 ? `${l.slice(0, 180)}…` : l).replace(/```/g, "'''")),
    '```',
    '',
  ];
}

const CSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse}
th,td{border:1px solid #ddd;padding:.25em .5em;text-align:center;white-space:nowrap}
th{background:#f3f3f3;position:sticky;top:0}
td.name{text-align:left}
td.ok{background:#e3f4e5}td.must{background:#f9d6d5}td.should{background:#fbecc8}td.none{color:#aaa}
td.untriaged{outline:2px solid #c00;outline-offset:-2px}
a{color:inherit}
.legend{color:#555;max-width:70em}
`;

function cellClass(c: AreaCell | undefined): string {
  if (!c) return 'none';
  if (c.failures.length === 0) return 'ok';
  return `${c.must ? 'must' : 'should'}${c.untriaged ? ' untriaged' : ''}`;
}

export function surveyHtml(r: SurveyReport, links: Links): string {
  const t = r.totals;
  const rows = r.rows.map((row) => {
    const rl = links.row(row);
    const name = rl ? `<a href="${htmlEscape(rl)}">${htmlEscape(row.implementation)}</a>` : htmlEscape(row.implementation);
    if (row.setupError) return `<tr><td class="name">${name}</td><td>${row.role}</td><td>${htmlEscape(row.version ?? '')}</td><td colspan="${r.areas.length + 3}">setup error: ${htmlEscape(row.setupError)}</td></tr>`;
    const cells = r.areas.map((a) => {
      const c = row.cells[a];
      const link = c && c.failures.length ? links.cell(row, a) : undefined;
      const title = c?.failures.length ? c.failures.join('\n') : '';
      const text = htmlEscape(cellText(c));
      return `<td class="${cellClass(c)}" title="${htmlEscape(title)}">${link ? `<a href="${htmlEscape(link)}">${text}</a>` : text}</td>`;
    }).join('');
    const counts = row.counts!;
    return `<tr><td class="name">${name}</td><td>${row.role} <code>${htmlEscape(row.peer)}</code></td><td>${htmlEscape(row.version ?? '')}</td><td>${counts.total - counts.notApplicable}</td>${cells}<td>${htmlEscape(interopText(row))}</td><td>${seconds(row.durationMs)}</td></tr>`;
  }).join('\n');
  const interop = r.interop ? `<p>Interop matrix (${seconds(r.interop.durationMs)}): ${r.interop.summary.pass} cells pass, ${r.interop.summary.fail} fail, ${r.interop.summary.unsupported} unsupported${links.interop ? ` — <a href="${htmlEscape(links.interop)}">the matrix</a>` : ''}.</p>` : '';
  return `<!doctype html><html><head><meta charset="utf-8"><title>SSH ecosystem survey ${htmlEscape(r.runId)}</title><style>${CSS}</style></head><body>
<h1>The SSH ecosystem, measured</h1>
<p>Run ${htmlEscape(r.runId)}: ${t.servers} server and ${t.clients} client implementations (${t.implementations} distinct), ${t.checks} checks, ${t.must} MUST and ${t.should} SHOULD failures, ${t.untriaged} untriaged; ${seconds(r.durationMs)} on ${r.machine.cpus} cores (load average ${r.machine.loadAverage}), default waits × ${r.timeScale}.</p>
<table><thead><tr><th>implementation</th><th>role</th><th>version</th><th>checks</th>${r.areas.map((a) => `<th>${htmlEscape(a)}</th>`).join('')}<th>interop</th><th>time</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<p class="legend">${htmlEscape(LEGEND.replace(/`/g, ''))}</p>
${interop}
</body></html>
`;
}
