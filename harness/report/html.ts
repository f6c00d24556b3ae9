/**
 * A self-contained HTML report (no external assets): the run at a glance (verdict counts, MUST/SHOULD/MAY), a table
 * filterable by area, verdict, level and text (the filters also live in the URL: `#verdict=fail&q=kex`), each check
 * expandable to its citation, reason, a packet ladder diagram for checks that did not pass (ladder.ts), the message
 * log as text, and links to its pcap / JSONL / keylog when the run recorded them.
 */
import { relative } from 'node:path';
import type { CheckResult, RunSummary } from '../scenario/types.js';
import { LEVELS, VERDICTS } from '../scenario/types.js';
import { citation, evidenceText } from './format.js';
import { LADDER_CSS, ladderSvg } from './ladder.js';

export function htmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const CSS = `
:root{--fg:#0f172a;--muted:#64748b;--line:#e2e8f0;--bg:#f8fafc}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Liberation Sans",sans-serif;margin:0;color:var(--fg);background:var(--bg)}
header{background:#0f172a;color:#f8fafc;padding:1.1em 1.6em 1em}
header h1{font-size:1.35em;margin:0 0 .25em;font-weight:650}
header h1 small{font-weight:400;color:#cbd5e1}
header .meta{color:#94a3b8;font-size:.9em}
main{padding:1em 1.6em 3em;max-width:1400px}
.cards{display:flex;gap:.8em;flex-wrap:wrap;margin:0 0 1em}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:.55em 1em;min-width:8.5em;border-top:4px solid #cbd5e1;cursor:pointer}
.card b{display:block;font-size:1.6em;line-height:1.1}
.card span{color:var(--muted);font-size:.85em}
.card.pass{border-top-color:#16a34a}.card.fail{border-top-color:#dc2626}.card.inconclusive{border-top-color:#d97706}.card.not-applicable{border-top-color:#94a3b8}
.card.levels{cursor:default}
.levels table{border-collapse:collapse;font-size:.85em}.levels td,.levels th{padding:0 .5em;text-align:right}.levels th{color:var(--muted);font-weight:500}
.levels td:first-child,.levels th:first-child{text-align:left;font-weight:600}
.filters{position:sticky;top:0;z-index:2;background:var(--bg);padding:.6em 0;margin-bottom:.4em;display:flex;gap:.9em;flex-wrap:wrap;align-items:center;border-bottom:1px solid var(--line)}
.filters label{margin-right:.35em;color:var(--muted);font-size:.9em}
.filters select,.filters input{font:inherit;padding:.2em .4em;border:1px solid #cbd5e1;border-radius:5px;background:#fff}
.filters input{width:16em}
.filters button{font:inherit;padding:.2em .7em;border:1px solid #cbd5e1;border-radius:5px;background:#fff;cursor:pointer}
#shown{font-weight:700}
#checks{width:100%;border-collapse:collapse;background:#fff;border:1px solid var(--line);border-radius:8px}
#checks th{text-align:left;padding:.5em .6em;border-bottom:2px solid var(--line);color:var(--muted);font-weight:600;font-size:.85em;text-transform:uppercase;letter-spacing:.03em}
#checks td{border-bottom:1px solid #f1f5f9;padding:.45em .6em;vertical-align:top}
tr.row{cursor:pointer}
tr.row:hover{background:#f8fafc}
tr.row.open{background:#eff6ff}
tr.row td:nth-child(4) code{font-weight:600}
.v{font-weight:650;border-radius:999px;padding:.05em .6em;white-space:nowrap;font-size:.85em}
.pass{background:#dcfce7;color:#166534}.fail{background:#fee2e2;color:#991b1b}
.inconclusive{background:#fef3c7;color:#92400e}.not-applicable{background:#e2e8f0;color:#475569}
.known{outline:2px dashed #94a3b8;outline-offset:1px}
tr.detail>td{background:#fbfdff;padding:.8em 1.2em 1.2em;border-bottom:2px solid var(--line)}
.spec{margin:.2em 0 .6em}
.reason{font-weight:600;margin:.4em 0}
.ladder-wrap{overflow-x:auto;margin:.6em 0;padding:.4em;background:#fff;border:1px solid var(--line);border-radius:8px}
.ladder-wrap svg{display:block;margin:0 auto}
.legend{color:var(--muted);font-size:.82em;margin:.2em 0 .5em}
.legend i{display:inline-block;width:1.6em;height:0;border-top:2px solid;vertical-align:middle;margin:0 .3em 0 .8em}
details summary{cursor:pointer;color:var(--muted)}
pre{white-space:pre-wrap;font:12px/1.4 ui-monospace,"Liberation Mono",monospace;margin:.4em 0;max-height:32em;overflow:auto;background:#f8fafc;border:1px solid var(--line);border-radius:6px;padding:.6em}
blockquote{margin:.3em 0;padding-left:.8em;border-left:3px solid #cbd5e1;color:#334155}
code{font:12.5px ui-monospace,"Liberation Mono",monospace}
.meta2{color:var(--muted);font-size:.85em}
a{color:#2563eb}
${LADDER_CSS}`;

const JS = `
const $=(s)=>document.querySelector(s), $$=(s)=>[...document.querySelectorAll(s)];
const F={area:'#f-area',verdict:'#f-verdict',level:'#f-level',q:'#f-text'};
function apply(){
  const area=$(F.area).value, verdict=$(F.verdict).value, level=$(F.level).value, q=$(F.q).value.toLowerCase();
  let shown=0;
  for(const r of $$('tr.row')){
    const ok=(!area||r.dataset.area===area)&&(!verdict||r.dataset.verdict===verdict)&&(!level||r.dataset.level===level)&&(!q||r.textContent.toLowerCase().includes(q));
    r.hidden=!ok; if(!ok){r.nextElementSibling.hidden=true;r.classList.remove('open');} if(ok) shown++;
  }
  $('#shown').textContent=shown;
  const h=new URLSearchParams(); for(const [k,s] of Object.entries(F)) if($(s).value) h.set(k,$(s).value);
  history.replaceState(null,'',h.toString()?'#'+h:location.pathname+location.search);
}
function toggle(r,open){const d=r.nextElementSibling; d.hidden=!open; r.classList.toggle('open',open);}
function fromHash(){const h=new URLSearchParams(location.hash.slice(1)); for(const [k,s] of Object.entries(F)) $(s).value=h.get(k)??'';}
for(const s of Object.values(F)) $(s).addEventListener('input',apply);
for(const r of $$('tr.row')) r.addEventListener('click',()=>toggle(r,r.nextElementSibling.hidden));
for(const c of $$('.card[data-verdict]')) c.addEventListener('click',()=>{$(F.verdict).value=c.dataset.verdict;apply();});
$('#expand').addEventListener('click',()=>{for(const r of $$('tr.row')) if(!r.hidden) toggle(r,true);});
$('#collapse').addEventListener('click',()=>{for(const r of $$('tr.row')) toggle(r,false);});
$('#reset').addEventListener('click',()=>{for(const s of Object.values(F)) $(s).value='';apply();});
window.addEventListener('hashchange',()=>{fromHash();apply();});
fromHash(); apply();
// a link to #check-<id> (the survey links failures this way) opens that check's evidence
const target=location.hash.startsWith('#check-')&&document.getElementById(decodeURIComponent(location.hash.slice(1)));
if(target&&target.classList.contains('row')){toggle(target,true);target.scrollIntoView();}
`;

/** The id of a check's row (a client check's id already names its client, `…@peer`): survey tables link to `report.html#check-<id>`. */
export function checkAnchor(id: string): string {
  return `check-${id.replace(/[^A-Za-z0-9_.@-]+/g, '_')}`;
}

function row(r: CheckResult, s: RunSummary, reportDir: string | undefined): string {
  const traces = r.traces ? Object.entries(r.traces).map(([k, p]) => `<a href="${htmlEscape(reportDir ? relative(reportDir, p) : p)}">${k}</a>`).join(' · ') : '';
  const specs = r.spec.map((x) => `<div class="spec"><b>${htmlEscape(citation(x))}</b>${x.text ? `<blockquote>${htmlEscape(x.text)}</blockquote>` : ''}</div>`).join('');
  const peer = r.role === 'client' ? (r.client ?? 'client peer') : `${s.target}${s.targetVersion ? ` ${s.targetVersion}` : ''}`;
  const drawn = r.verdict === 'fail' || r.verdict === 'inconclusive';
  const ladder = drawn && r.evidence.length
    ? '<div class="legend">packet ladder, in the order the check saw the messages:<i style="border-color:#2563eb"></i>ours<i style="border-color:#0d9488"></i>peer'
      + '<i style="border-color:#d97706;border-top-style:dashed"></i>our deliberate deviation · hover an arrow for all its decoded fields</div>'
      + `<div class="ladder-wrap">${ladderSvg(r, { peer })}</div>`
    : '';
  return `<tr class="row" id="${htmlEscape(checkAnchor(r.id))}" data-area="${r.area}" data-verdict="${r.verdict}" data-level="${r.level}">`
    + `<td><span class="v ${r.verdict}${r.known ? ' known' : ''}" title="${r.known ? 'documented in scenarios/KNOWN.md' : ''}">${r.verdict}${r.known ? ' (known)' : ''}</span></td>`
    + `<td>${r.level}</td><td>${r.area}</td><td><code>${htmlEscape(r.id)}</code>${r.client ? ` <span class="meta2">with ${htmlEscape(r.client)}</span>` : ''}<br>${htmlEscape(r.title)}</td>`
    + `<td>${htmlEscape(r.spec.map(citation).join('; '))}</td><td>${htmlEscape(r.reason)}</td></tr>\n`
    + `<tr class="detail" hidden><td colspan="6">${specs}`
    + `<div class="reason">${htmlEscape(r.reason)}</div>`
    + (r.known ? `<blockquote><b>Known departure:</b> ${htmlEscape(r.known)}</blockquote>` : '')
    + `<div class="meta2">${htmlEscape(r.source.file)}:${r.source.line} · role ${r.role} · ${r.durationMs} ms · attempts ${r.attempts} · seed ${r.seed}${traces ? ` · traces: ${traces}` : ''}</div>`
    + ladder
    + `<details${drawn ? '' : ' open'}><summary>message log as text (${r.evidence.length} lines)</summary><pre>${htmlEscape(evidenceText(r.evidence, 300))}</pre></details></td></tr>\n`;
}

export function toHtml(s: RunSummary, reportDir?: string): string {
  const areas = [...new Set(s.results.map((r) => r.area))].sort();
  const opt = (v: string) => `<option value="${v}">${v}</option>`;
  const c = s.counts;
  const cards = VERDICTS.map((v) => `<div class="card ${v}" data-verdict="${v}" title="show only ${v}"><b>${c[v]}</b><span>${v}</span></div>`).join('');
  const levels = `<div class="card levels"><table><tr><th></th><th>pass</th><th>total</th></tr>${LEVELS.filter((l) => s.byLevel[l].total)
    .map((l) => `<tr><td>${l}</td><td>${s.byLevel[l].pass}</td><td>${s.byLevel[l].total}</td></tr>`).join('')}</table></div>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>SSH conformance: ${htmlEscape(s.target)}</title><style>${CSS}</style></head>
<body>
<header><h1>SSH conformance: ${htmlEscape(s.target)}${s.targetVersion ? ` <small>${htmlEscape(s.targetVersion)}</small>` : ''}</h1>
<div class="meta">run ${htmlEscape(s.runId)} · seed ${htmlEscape(s.seed)} · suites ${htmlEscape(s.suites.join(', '))} · ${c.total} checks in ${(s.durationMs / 1000).toFixed(1)} s · started ${htmlEscape(s.startedAt)} · exit code ${s.exitCode}</div></header>
<main>
<div class="cards">${cards}${levels}</div>
<div class="filters">
<span><label for="f-verdict">verdict</label><select id="f-verdict"><option value="">all</option>${VERDICTS.map(opt).join('')}</select></span>
<span><label for="f-level">level</label><select id="f-level"><option value="">all</option>${LEVELS.map(opt).join('')}</select></span>
<span><label for="f-area">area</label><select id="f-area"><option value="">all</option>${areas.map(opt).join('')}</select></span>
<span><label for="f-text">text</label><input id="f-text" type="search" placeholder="id, title, RFC, reason…"></span>
<span><button id="expand">expand shown</button> <button id="collapse">collapse all</button> <button id="reset">clear filters</button></span>
<span><span id="shown"></span> of ${c.total} shown</span>
</div>
<table id="checks"><thead><tr><th>verdict</th><th>level</th><th>area</th><th>check</th><th>citation</th><th>reason</th></tr></thead>
<tbody>
${s.results.map((r) => row(r, s, reportDir)).join('')}</tbody></table>
</main>
<script>${JS}</script>
</body></html>
`;
}
