/**
 * What one learning run writes: the model (JSON, DOT, SVG when Graphviz is there), a self-contained HTML
 * report with the drawing embedded, Markdown, JUnit XML (one test case per property) and one replayable
 * witness file per violated property.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { htmlEscape } from '../report/html.js';
import { xmlEscape } from '../report/junit.js';
import type { Mealy } from './mealy.js';
import { dotToSvg, type ModelFile, toDot } from './model-file.js';
import type { Divergence } from './teacher.js';

export interface LearnFiles {
  readonly dir: string;
  readonly json: string;
  readonly dot: string;
  readonly svg?: string;
  readonly html: string;
  readonly markdown: string;
  readonly junit: string;
  readonly witnesses: readonly string[];
}

/** A violated property's witness as a corpus entry: `ssh-harness learn replay FILE --target T` runs it again. */
export interface WitnessEntry {
  readonly kind: 'learn-witness';
  readonly version: 1;
  readonly property: string;
  readonly spec: string;
  readonly target: string;
  readonly implementation: string;
  readonly alphabet: string;
  readonly inputs: readonly string[];
  /** What the model predicts for `inputs` (what the peer answered while learning). */
  readonly outputs: readonly string[];
  readonly replay: string;
}

export function baseName(f: ModelFile): string {
  return `${f.target.replace(/^tcp:\/\//, 'tcp-').replace(/[^\w.-]+/g, '_')}-${f.alphabet.name}`;
}

export function writeLearnReport(f: ModelFile, m: Mealy, dir: string, divergences: readonly Divergence[] = []): LearnFiles {
  mkdirSync(dir, { recursive: true });
  const base = baseName(f);
  const title = `${f.target} (${f.implementation}) — ${f.alphabet.name}`;
  const dot = toDot(m, title);
  const svg = dotToSvg(dot);
  const files = {
    dir, json: join(dir, `${base}.json`), dot: join(dir, `${base}.dot`), ...(svg ? { svg: join(dir, `${base}.svg`) } : {}),
    html: join(dir, `${base}.html`), markdown: join(dir, `${base}.md`), junit: join(dir, `${base}.junit.xml`),
  };
  writeFileSync(files.json, JSON.stringify(f, null, 1) + '\n');
  writeFileSync(files.dot, dot);
  if (svg && files.svg) writeFileSync(files.svg, svg);
  const witnesses: string[] = [];
  // witnesses of an earlier run of the same model may name properties that hold now
  for (const old of readdirSync(dir).filter((x) => x.startsWith(`${base}.witness-`))) rmSync(join(dir, old));
  for (const p of f.properties) {
    if (p.status !== 'fail' || !p.witness) continue;
    const path = join(dir, `${base}.witness-${p.id}.json`);
    const entry: WitnessEntry = {
      kind: 'learn-witness', version: 1, property: p.id, spec: p.spec, target: f.target, implementation: f.implementation,
      alphabet: f.alphabet.name, inputs: p.witness.inputs, outputs: p.witness.outputs,
      replay: `npx ssh-harness learn replay ${path} --target ${f.target}`,
    };
    writeFileSync(path, JSON.stringify(entry, null, 1) + '\n');
    witnesses.push(path);
  }
  writeFileSync(files.markdown, markdown(f, divergences));
  writeFileSync(files.html, html(f, svg, divergences));
  writeFileSync(files.junit, junit(f));
  return { ...files, witnesses };
}

function statLine(f: ModelFile): string {
  const s = f.stats;
  return `${f.states} states, ${s['queries']} queries (${s['cacheHits']} from the cache), ${s['resets']} resets, ${s['symbols']} inputs sent, ${((Number(s['timeMs']) || 0) / 1000).toFixed(1)} s, ${s['queriesPerSecond']} resets/s, ${s['parallel']} connections, T = ${s['waitMs']} ms${s['probing'] ? ', probe on' : ', probe off'}`;
}

function markdown(f: ModelFile, divergences: readonly Divergence[]): string {
  const lines = [`# ${f.target} — ${f.alphabet.name}`, '', `Implementation: ${f.implementation}. ${statLine(f)}.${f.complete ? '' : ' **Incomplete**: the budget ran out or answers diverged; this is the last hypothesis.'}`, '',
    '| property | result | rule | witness |', '|---|---|---|---|'];
  for (const p of f.properties) lines.push(`| ${p.title} | ${p.status}${p.why ? ` (${p.why.replace(/\|/g, '\\|')})` : ''} | ${p.spec} | ${p.witness ? '`' + p.witness.inputs.join(' ') + '`' : ''} |`);
  if (divergences.length) {
    lines.push('', '## Diverging answers (settled by majority vote)', '');
    for (const d of divergences) lines.push(`- \`${d.word.join(' ')}\`: ${d.answers.map((a) => `${a.count}× ${a.outputs.join(' ')}`).join('; ')}`);
  }
  lines.push('', '## Transitions', '', '| from | input | output | to |', '|---|---|---|---|');
  for (const t of f.transitions) lines.push(`| s${t.from} | ${t.input} | ${t.output} | s${t.to} |`);
  return lines.join('\n') + '\n';
}

function html(f: ModelFile, svg: string | undefined, divergences: readonly Divergence[]): string {
  const e = htmlEscape;
  const rows = f.properties.map((p) => `<tr class="${p.status}"><td>${e(p.title)}</td><td>${e(p.status)}${p.why ? `<br><small>${e(p.why)}</small>` : ''}</td><td>${e(p.spec)}</td><td>${p.witness ? `<code>${e(p.witness.inputs.join(' '))}</code><br><small>${e(p.witness.outputs.join(' · '))}</small>` : ''}</td></tr>`).join('\n');
  const div = divergences.map((d) => `<li><code>${e(d.word.join(' '))}</code>: ${e(d.answers.map((a) => `${a.count}× ${a.outputs.join(' ')}`).join('; '))}</li>`).join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>${e(`${f.target} — ${f.alphabet.name}`)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top}
tr.fail td:nth-child(2){color:#b00;font-weight:bold}tr.pass td:nth-child(2){color:#070}tr.n\\/a td:nth-child(2){color:#777}.svg{overflow:auto;border:1px solid #ddd;margin:1em 0}</style></head><body>
<h1>${e(f.target)} — ${e(f.alphabet.name)} alphabet</h1>
<p>Implementation <b>${e(f.implementation)}</b>. ${e(statLine(f))}. Learned ${e(f.learnedAt)}.${f.complete ? '' : ' <b>Incomplete</b>: the budget ran out or answers diverged; this is the last hypothesis.'}</p>
<p>Inputs: <code>${e(f.alphabet.inputs.join(', '))}</code>; each query starts at <i>${e(f.alphabet.start)}</i>; kex offered: ${e(f.alphabet.kex.join(', '))}.</p>
<h2>Properties</h2><table><tr><th>property</th><th>result</th><th>rule</th><th>witness</th></tr>
${rows}</table>
${div ? `<h2>Diverging answers (settled by majority vote)</h2><ul>${div}</ul>` : ''}
<h2>Model</h2><div class="svg">${svg ?? '<p>(Graphviz <code>dot</code> is not installed: no drawing; the DOT file is next to this report.)</p>'}</div>
</body></html>
`;
}

function junit(f: ModelFile): string {
  const x = xmlEscape;
  const failures = f.properties.filter((p) => p.status === 'fail').length;
  const skipped = f.properties.filter((p) => p.status === 'n/a').length;
  const cases = f.properties.map((p) => {
    const body = p.status === 'fail' ? `<failure message="${x(p.why ?? '')}">${x(`${p.spec}\nwitness: ${p.witness?.inputs.join(' ')}\noutputs: ${p.witness?.outputs.join(' ')}`)}</failure>`
      : p.status === 'n/a' ? `<skipped message="${x(p.why ?? '')}"/>` : '';
    return `  <testcase classname="learn.${x(f.target)}.${x(f.alphabet.name)}" name="${x(`${p.title} (${p.spec})`)}">${body}</testcase>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="learn ${x(f.target)} ${x(f.alphabet.name)}" tests="${f.properties.length}" failures="${failures}" skipped="${skipped}">\n${cases.join('\n')}\n</testsuite>\n`;
}
