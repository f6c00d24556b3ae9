/**
 * A self-contained HTML report (no external assets): counts by MUST/SHOULD/MAY, a table filterable by area,
 * verdict, level and text, each check expandable to its citation, reason and message sequence, with links to
 * its pcap / JSONL / keylog when the run recorded them.
 */
import { relative } from 'node:path';
import type { CheckResult, RunSummary } from '../scenario/types.js';
import { LEVELS, VERDICTS } from '../scenario/types.js';
import { citation, evidenceText } from './format.js';

export function htmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const CSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em;margin:0 0 .2em}
.meta{color:#666;margin-bottom:1em}
table{border-collapse:collapse}
.counts td,.counts th{padding:.25em .8em;border:1px solid #ddd;text-align:right}
.counts th:first-child,.counts td:first-child{text-align:left}
.filters{margin:1em 0;display:flex;gap:1em;flex-wrap:wrap;align-items:center}
.filters label{margin-right:.4em}
#checks{width:100%}
#checks th{text-align:left;border-bottom:2px solid #999;padding:.3em}
#checks td{border-bottom:1px solid #eee;padding:.3em;vertical-align:top}
tr.row{cursor:pointer}
tr.row:hover{background:#f6f6f6}
.v{font-weight:600;border-radius:3px;padding:0 .4em;white-space:nowrap}
.pass{background:#d9f2dc;color:#15591f}.fail{background:#f9d6d5;color:#8a1212}
.inconclusive{background:#fbecc8;color:#7a5300}.not-applicable{background:#e6e6e6;color:#555}
.known{outline:2px dashed #999}
tr.detail td{background:#fafafa}
pre{white-space:pre-wrap;font:12px/1.35 ui-monospace,monospace;margin:.4em 0;max-height:40em;overflow:auto}
blockquote{margin:.4em 0;padding-left:.8em;border-left:3px solid #ccc;color:#444}
code{font:12px ui-monospace,monospace}
`;

const JS = `
const $=(s)=>document.querySelector(s), $$=(s)=>[...document.querySelectorAll(s)];
function apply(){
  const area=$('#f-area').value, verdict=$('#f-verdict').value, level=$('#f-level').value, q=$('#f-text').value.toLowerCase();
  let shown=0;
  for(const r of $$('tr.row')){
    const ok=(!area||r.dataset.area===area)&&(!verdict||r.dataset.verdict===verdict)&&(!level||r.dataset.level===level)&&(!q||r.textContent.toLowerCase().includes(q));
    r.hidden=!ok; const d=r.nextElementSibling; if(!ok) d.hidden=true; if(ok) shown++;
  }
  $('#shown').textContent=shown;
}
for(const id of ['#f-area','#f-verdict','#f-level','#f-text']) $(id).addEventListener('input',apply);
for(const r of $$('tr.row')) r.addEventListener('click',()=>{const d=r.nextElementSibling; d.hidden=!d.hidden;});
$('#expand').addEventListener('click',()=>{for(const r of $$('tr.row')) if(!r.hidden) r.nextElementSibling.hidden=false;});
$('#collapse').addEventListener('click',()=>{for(const d of $$('tr.detail')) d.hidden=true;});
apply();
// a link to #check-<id> (the survey links failures this way) opens that check's evidence
const target=location.hash&&document.getElementById(decodeURIComponent(location.hash.slice(1)));
if(target&&target.classList.contains('row')){target.nextElementSibling.hidden=false;target.scrollIntoView();}
`;

/** The id of a check's row: survey tables link to `report.html#check-<id>`. */
export function checkAnchor(id: string): string {
  return `check-${id.replace(/[^A-Za-z0-9_.@-]+/g, '_')}`;
}

function row(r: CheckResult, reportDir: string | undefined): string {
  const traces = r.traces ? Object.entries(r.traces).map(([k, p]) => `<a href="${htmlEscape(reportDir ? relative(reportDir, p) : p)}">${k}</a>`).join(' · ') : '';
  const specs = r.spec.map((s) => `<div><b>${htmlEscape(citation(s))}</b>${s.text ? `<blockquote>${htmlEscape(s.text)}</blockquote>` : ''}</div>`).join('');
  return `<tr class="row" id="${checkAnchor(r.id)}" data-area="${r.area}" data-verdict="${r.verdict}" data-level="${r.level}">`
    + `<td><span class="v ${r.verdict}${r.known ? ' known' : ''}" title="${r.known ? 'documented in scenarios/KNOWN.md' : ''}">${r.verdict}${r.known ? ' (known)' : ''}</span></td>`
    + `<td>${r.level}</td><td>${r.area}</td><td><code>${htmlEscape(r.id)}</code><br>${htmlEscape(r.title)}</td>`
    + `<td>${htmlEscape(r.spec.map(citation).join('; '))}</td><td>${htmlEscape(r.reason)}</td></tr>\n`
    + `<tr class="detail" hidden><td colspan="6">${specs}`
    + `<div>${htmlEscape(r.reason)}</div>`
    + (r.known ? `<blockquote><b>Known departure:</b> ${htmlEscape(r.known)}</blockquote>` : '')
    + `<div class="meta">${htmlEscape(r.source.file)}:${r.source.line} · role ${r.role} · ${r.durationMs} ms · attempts ${r.attempts} · seed ${r.seed}${traces ? ` · traces: ${traces}` : ''}</div>`
    + `<pre>${htmlEscape(evidenceText(r.evidence, 300))}</pre></td></tr>\n`;
}

export function toHtml(s: RunSummary, reportDir?: string): string {
  const areas = [...new Set(s.results.map((r) => r.area))].sort();
  const opt = (v: string) => `<option value="${v}">${v}</option>`;
  const counts = LEVELS.filter((l) => s.byLevel[l].total).map((l) => {
    const c = s.byLevel[l];
    return `<tr><td>${l}</td>${VERDICTS.map((v) => `<td>${c[v]}</td>`).join('')}<td>${c.total}</td></tr>`;
  }).join('');
  const c = s.counts;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SSH conformance: ${htmlEscape(s.target)}</title><style>${CSS}</style></head>
<body>
<h1>SSH conformance: ${htmlEscape(s.target)}${s.targetVersion ? ` <small>(${htmlEscape(s.targetVersion)})</small>` : ''}</h1>
<div class="meta">run ${htmlEscape(s.runId)} · seed ${htmlEscape(s.seed)} · suites ${htmlEscape(s.suites.join(', '))} · ${c.total} checks in ${(s.durationMs / 1000).toFixed(1)} s · started ${htmlEscape(s.startedAt)} · exit code ${s.exitCode}</div>
<table class="counts"><tr><th>level</th>${VERDICTS.map((v) => `<th><span class="v ${v}">${v}</span></th>`).join('')}<th>total</th></tr>${counts}
<tr><td><b>all</b></td>${VERDICTS.map((v) => `<td><b>${c[v]}</b></td>`).join('')}<td><b>${c.total}</b></td></tr></table>
<div class="filters">
<span><label for="f-area">area</label><select id="f-area"><option value="">all</option>${areas.map(opt).join('')}</select></span>
<span><label for="f-verdict">verdict</label><select id="f-verdict"><option value="">all</option>${VERDICTS.map(opt).join('')}</select></span>
<span><label for="f-level">level</label><select id="f-level"><option value="">all</option>${LEVELS.map(opt).join('')}</select></span>
<span><label for="f-text">text</label><input id="f-text" type="search" placeholder="id, title, reason…"></span>
<span><button id="expand">expand shown</button> <button id="collapse">collapse all</button></span>
<span><b id="shown"></b> shown</span>
</div>
<table id="checks"><thead><tr><th>verdict</th><th>level</th><th>area</th><th>check</th><th>citation</th><th>reason</th></tr></thead>
<tbody>
${s.results.map((r) => row(r, reportDir)).join('')}</tbody></table>
<script>${JS}</script>
</body></html>
`;
}
