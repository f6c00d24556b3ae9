/**
 * The combined report of `fuzz merge`: JSON (also `--json`), Markdown, a self-contained HTML page and JUnit XML
 * (one test case per distinct finding, failed for must-level ones), and the minimised corpus beside them:
 * `<out>/corpus/<peer>/<id>.json`, copied byte for byte from the shard that found it (replayable as is).
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { htmlEscape } from '../report/html.js';
import { xmlEscape } from '../report/junit.js';
import { writeFileAtomic } from './atomic-write.js';
import type { FindingGroup, MergeResult, MergedShard } from './merge.js';

const STATES = ['pre-kex', 'kex', 'newkeys', 'userauth', 'authenticated', 'channel', 'rekey', 'closed'] as const;

/** The replay command for a finding: its entry's file and the target the shard ran it against. */
function replayOf(f: FindingGroup, corpusFiles: ReadonlyMap<string, string>): string {
  const target = /--target (\S+)/.exec(f.representative.entry?.replay ?? '')?.[1] ?? f.peer;
  return `npx ssh-harness replay ${corpusFiles.get(f.representative.file) ?? f.representative.file} --target ${target}`;
}

const rate = (cases: number, ms: number): number => cases / Math.max(ms / 1000, 1e-9);
const secs = (ms: number): string => (ms / 1000).toFixed(1);

export function mergeJson(m: MergeResult, corpusFiles: ReadonlyMap<string, string>): Record<string, unknown> {
  return {
    kind: 'fuzz-merge', version: 1, inputs: m.inputs,
    totals: {
      shards: m.shards.length, cases: m.totals.cases, cpuMs: Math.round(m.totals.cpuMs),
      ...(m.totals.wallMs !== undefined ? { wallMs: Math.round(m.totals.wallMs), casesPerSecond: Math.round(m.totals.casesPerSecond ?? 0) } : {}),
      sumShardRates: Math.round(m.totals.sumShardRates), restarts: m.shards.reduce((n, s) => n + s.restarts, 0),
      findings: m.findings.length, mustFindings: m.findings.filter((f) => f.severity === 'must').length,
      findingEntries: m.entries.filter((e) => e.signature).length, corpusEntries: m.entries.length, corpusKept: m.kept.length,
      coverageFeatures: m.coverageFeatures, entriesWithCoverage: m.entriesWithCoverage,
      states: m.totals.states, coverage: Object.fromEntries(Object.entries(m.totals.coverage).sort()),
    },
    shards: m.shards.map((s) => ({
      dir: s.dir, target: s.target, targetVersion: s.targetVersion, seed: s.seed, shard: s.shard, cases: s.cases,
      elapsedMs: Math.round(s.elapsedMs), casesPerSecond: Math.round(rate(s.cases, s.elapsedMs)), cpuMs: Math.round(s.cpuMs),
      restarts: s.restarts, finished: s.finished, stoppedBy: s.stoppedBy ?? null, startedAt: s.startedAt ?? null, endedAt: s.endedAt ?? null,
      findings: s.findings, statesReached: Object.keys(s.states).length,
    })),
    findings: m.findings.map((f) => ({
      signature: f.signature, peer: f.peer, oracle: f.oracle, severity: f.severity, message: f.message, path: f.path,
      occurrences: f.occurrences, shards: f.shards, entry: corpusFiles.get(f.representative.file) ?? f.representative.file,
      duplicates: f.entries.filter((e) => e !== f.representative).map((e) => e.file),
      replay: replayOf(f, corpusFiles),
    })),
    corpus: m.kept.map((k) => ({ file: corpusFiles.get(k.entry.file) ?? k.entry.file, from: k.entry.file, features: k.features, ...(k.forSignature ? { finding: k.forSignature } : {}) })),
    problems: m.problems, warnings: m.warnings,
  };
}

function shardRow(s: MergedShard): string[] {
  return [s.shard, s.target, String(s.seed), String(s.cases), secs(s.elapsedMs), rate(s.cases, s.elapsedMs).toFixed(0), secs(s.cpuMs),
    rate(s.cases, s.cpuMs).toFixed(0), String(s.findings), String(s.restarts), s.finished ? (s.stoppedBy ?? 'yes') : 'NO'];
}
const SHARD_HEAD = ['shard', 'target', 'seed', 'cases', 'time s', 'cases/s', 'CPU s', 'cases/CPU-s', 'findings', 'restarts', 'finished'];

export function mergeMarkdown(m: MergeResult, corpusFiles: ReadonlyMap<string, string>): string {
  const out: string[] = ['# Merged fuzz campaign', ''];
  const t = m.totals;
  out.push(`- inputs: ${m.inputs.map((i) => `\`${i}\``).join(', ')}`);
  out.push(`- ${m.shards.length} shards, ${t.cases} cases${t.wallMs !== undefined ? ` in ${secs(t.wallMs)} s of wall clock: ${(t.casesPerSecond ?? 0).toFixed(0)} cases/s together` : ''} (sum of the shards' own rates ${t.sumShardRates.toFixed(0)}/s), ${secs(t.cpuMs)} CPU-s`);
  out.push(`- findings: ${m.entries.filter((e) => e.signature).length} entries → ${m.findings.length} distinct (${m.findings.filter((f) => f.severity === 'must').length} must-level)`);
  out.push(`- corpus: ${m.entries.length} entries → ${m.kept.length} kept${m.entriesWithCoverage ? `, by coverage (${m.entriesWithCoverage} entries carry it, ${m.coverageFeatures} features, every one still reached) and one per finding` : ' (no coverage data: one per finding)'}`);
  for (const w of m.warnings) out.push(`- warning: ${w}`);
  for (const p of m.problems) out.push(`- unreadable input: ${p}`);
  out.push('', '## Shards', '', `| ${SHARD_HEAD.join(' | ')} |`, `|${SHARD_HEAD.map(() => '---').join('|')}|`);
  for (const s of m.shards) out.push(`| ${shardRow(s).join(' | ')} |`);
  out.push('', `## Findings (${m.findings.length})`, '');
  if (m.findings.length === 0) out.push('None.', '');
  for (const f of m.findings) {
    out.push(`### [${f.oracle}] ${f.message}`, '');
    out.push(`- peer ${f.peer}, severity ${f.severity}, seen ${f.occurrences}× in ${f.entries.length} entr${f.entries.length === 1 ? 'y' : 'ies'} by ${f.shards.join(', ')}`);
    out.push(`- start phase and message path: \`${f.path}\``);
    out.push(`- entry: \`${corpusFiles.get(f.representative.file) ?? f.representative.file}\` — replay: \`${replayOf(f, corpusFiles)}\``, '');
  }
  out.push('## States reached (all shards)', '', '| state | cases |', '|---|---|');
  for (const s of STATES) out.push(`| ${s} | ${t.states[s] ?? 0} |`);
  const types = [...new Set(Object.keys(t.coverage).map((k) => k.split('@')[0]!))].sort();
  out.push('', '## Coverage: message types sent × state (all shards)', '', `| message | ${STATES.join(' | ')} |`, `|---|${STATES.map(() => '---').join('|')}|`);
  for (const ty of types) out.push(`| ${ty} | ${STATES.map((s) => t.coverage[`${ty}@${s}`] ?? 0).join(' | ')} |`);
  out.push('');
  return out.join('\n');
}

export function mergeHtml(m: MergeResult, corpusFiles: ReadonlyMap<string, string>, outDir: string): string {
  const t = m.totals;
  const link = (f: string): string => `<a href="${htmlEscape(relative(outDir, f))}">${htmlEscape(relative(outDir, f))}</a>`;
  const finding = (f: FindingGroup): string => `<tr><td><span class="v ${f.severity}">${f.severity}</span></td><td>${htmlEscape(f.oracle)}</td><td>${htmlEscape(f.peer)}</td>`
    + `<td>${htmlEscape(f.message)}<div class="meta"><code>${htmlEscape(f.path)}</code></div></td><td>${f.occurrences}</td><td>${htmlEscape(f.shards.join(', '))}</td>`
    + `<td>${link(corpusFiles.get(f.representative.file) ?? f.representative.file)}</td></tr>`;
  return `<!doctype html><html><head><meta charset="utf-8"><title>Merged fuzz campaign</title><style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;margin:.5em 0 1.5em}
td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}th{background:#f4f4f4}
.meta{color:#666}.v{font-weight:600;border-radius:3px;padding:0 .4em}.must{background:#f9d6d5;color:#8a1212}.should{background:#fbecc8;color:#7a5300}
.warn{color:#8a5a00}.bad{color:#8a1212}code{font:12px ui-monospace,monospace}</style></head><body>
<h1>Merged fuzz campaign</h1>
<p class="meta">${m.shards.length} shards · ${t.cases} cases${t.wallMs !== undefined ? ` · ${secs(t.wallMs)} s wall · ${(t.casesPerSecond ?? 0).toFixed(0)} cases/s together` : ''} · sum of shard rates ${t.sumShardRates.toFixed(0)}/s · ${secs(t.cpuMs)} CPU-s</p>
<p>${m.entries.filter((e) => e.signature).length} finding entries → <b>${m.findings.length} distinct findings</b> (${m.findings.filter((f) => f.severity === 'must').length} must-level); corpus ${m.entries.length} → ${m.kept.length} entries${m.entriesWithCoverage ? ` (by coverage: ${m.coverageFeatures} features)` : ''}.</p>
${m.warnings.map((w) => `<p class="warn">warning: ${htmlEscape(w)}</p>`).join('\n')}
${m.problems.map((p) => `<p class="bad">unreadable input: ${htmlEscape(p)}</p>`).join('\n')}
<h2>Shards</h2><table><tr>${SHARD_HEAD.map((h) => `<th>${h}</th>`).join('')}</tr>
${m.shards.map((s) => `<tr>${shardRow(s).map((c) => `<td>${htmlEscape(c)}</td>`).join('')}</tr>`).join('\n')}</table>
<h2>Findings (${m.findings.length})</h2><table><tr><th>severity</th><th>oracle</th><th>peer</th><th>finding and message path</th><th>seen</th><th>shards</th><th>entry</th></tr>
${m.findings.map(finding).join('\n')}</table>
<h2>States reached</h2><table><tr>${STATES.map((s) => `<th>${s}</th>`).join('')}</tr><tr>${STATES.map((s) => `<td>${t.states[s] ?? 0}</td>`).join('')}</tr></table>
</body></html>
`;
}

export function mergeJUnit(m: MergeResult, corpusFiles: ReadonlyMap<string, string>): string {
  const must = m.findings.filter((f) => f.severity === 'must').length;
  const cases = m.findings.map((f) => {
    const attrs = `classname="${xmlEscape(`fuzz.${f.peer}.${f.oracle}`)}" name="${xmlEscape(`${f.message} [${f.path}]`)}"`;
    const body = xmlEscape(`seen ${f.occurrences}× by ${f.shards.join(', ')}\nreplay: ${replayOf(f, corpusFiles)}`);
    return f.severity === 'must'
      ? `    <testcase ${attrs}>\n      <failure message="${xmlEscape(`[${f.oracle}] ${f.message}`)}" type="${f.oracle}">${body}</failure>\n    </testcase>`
      : `    <testcase ${attrs}>\n      <system-out>${body}</system-out>\n    </testcase>`;
  });
  const shardCases = m.shards.map((s) => `    <testcase classname="fuzz.shards" name="${xmlEscape(`${s.target} shard ${s.shard} seed ${s.seed}`)}" time="${(s.elapsedMs / 1000).toFixed(3)}">${s.finished ? '' : `\n      <error message="shard did not finish" type="unfinished"/>\n    `}</testcase>`);
  const errors = m.shards.filter((s) => !s.finished).length;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="ssh-harness fuzz merge" tests="${cases.length + shardCases.length}" failures="${must}" errors="${errors}">\n`
    + `  <testsuite name="findings" tests="${cases.length}" failures="${must}">\n${cases.join('\n')}\n  </testsuite>\n`
    + `  <testsuite name="shards" tests="${shardCases.length}" errors="${errors}">\n${shardCases.join('\n')}\n  </testsuite>\n</testsuites>\n`;
}

/** Writes the minimised corpus and the four reports into `outDir`; returns the report paths. */
export function writeMerge(m: MergeResult, outDir: string): { json: string; markdown: string; html: string; junit: string; corpusDir: string; corpusFiles: ReadonlyMap<string, string> } {
  const corpusDir = join(outDir, 'corpus');
  const corpusFiles = new Map<string, string>();
  for (const k of m.kept) {
    const dest = join(corpusDir, k.entry.peer.replace(/[^\w.-]+/g, '_'), `${k.entry.id.replace(/[^\w.-]+/g, '_')}.json`);
    if ([...corpusFiles.values()].includes(dest)) continue; // the same entry found by two shards: one copy
    writeFileAtomic(dest, readFileSync(k.entry.file));
    corpusFiles.set(k.entry.file, dest);
  }
  for (const f of m.findings) for (const e of f.entries) if (!corpusFiles.has(e.file) && e.id === f.representative.id) corpusFiles.set(e.file, corpusFiles.get(f.representative.file)!);
  const files = { json: join(outDir, 'report.json'), markdown: join(outDir, 'report.md'), html: join(outDir, 'report.html'), junit: join(outDir, 'junit.xml'), corpusDir };
  writeFileAtomic(files.json, JSON.stringify(mergeJson(m, corpusFiles), null, 2) + '\n');
  writeFileAtomic(files.markdown, mergeMarkdown(m, corpusFiles));
  writeFileAtomic(files.html, mergeHtml(m, corpusFiles, outDir));
  writeFileAtomic(files.junit, mergeJUnit(m, corpusFiles));
  return { ...files, corpusFiles };
}
