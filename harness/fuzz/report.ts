/**
 * The campaign report: JSON (machine-readable, `--json` prints the same object) and Markdown with the
 * coverage matrix of message types × states reached (issue 8), findings with their replay commands, and
 * the speed figures.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CampaignResult } from './campaign.js';
import { PHASES } from './steps.js';
import { describeStep } from './steps.js';
import { toJson, type Json } from './value.js';
import type { Finding } from './oracles.js';
import { backoffHtml, backoffMarkdown } from './backoff.js';
import type { CoverageSummary } from './greybox/session.js';
import { coverageHtml } from './greybox/plot.js';
import { armsLine, fileTable } from './greybox/file-table.js';
import { xmlEscape } from '../report/junit.js';

const STATES = [...PHASES, 'closed'] as const;

export function reportJson(r: CampaignResult, extra: Record<string, unknown> = {}): Json {
  return toJson({
    target: r.target, targetVersion: r.targetVersion, seed: r.seed, shard: `${r.shard.k}/${r.shard.n}`,
    cases: r.cases, elapsedMs: Math.round(r.elapsedMs), casesPerSecond: Math.round(r.casesPerSecond),
    cpuMs: Math.round(r.cpuMs), casesPerCpuSecond: Math.round(r.cases / Math.max(r.cpuMs / 1000, 1e-9)),
    freshConnections: r.freshConnections, reusedCases: r.reusedCases,
    stoppedBy: r.stoppedBy, ...(r.peerDown ? { peerDown: r.peerDown } : {}), unreached: r.unreached, closedByPeer: r.closedByPeer,
    ...(r.backoff ? { backoff: r.backoff } : {}),
    states: Object.fromEntries(r.states), coverage: Object.fromEntries([...r.coverage].sort()),
    findings: r.findings.map((f) => ({
      oracle: f.finding.oracle, severity: f.finding.severity, message: f.finding.message, rfc: f.finding.rfc,
      start: f.start, steps: f.steps.length, occurrences: f.occurrences, reproduced: f.reproduced, file: f.file,
      seed: f.seed, path: f.path, caseIndex: f.caseIndex, shrinks: f.shrinks, ...(f.traceFiles ? { traceFiles: f.traceFiles } : {}),
    })),
    ...extra,
  });
}

export function reportMarkdown(r: CampaignResult, notes: readonly string[] = [], peerFindings: readonly Finding[] = []): string {
  const out: string[] = [];
  const cps = r.cases / Math.max(r.cpuMs / 1000, 1e-9);
  out.push(`# Fuzz campaign: ${r.target}`, '');
  out.push(`- target version: ${r.targetVersion}`);
  out.push(`- seed ${r.seed}, shard ${r.shard.k}/${r.shard.n}, stopped by ${r.stoppedBy}`);
  out.push(`- ${r.cases} cases in ${(r.elapsedMs / 1000).toFixed(1)} s: ${r.casesPerSecond.toFixed(0)} cases/s wall, ${cps.toFixed(0)} cases per CPU-second`);
  out.push(`- connections: ${r.freshConnections} fresh, ${r.reusedCases} cases on reused authenticated connections; peer closed the connection in ${r.closedByPeer} cases`);
  if (r.unreached) out.push(`- ${r.unreached} cases did not reach their start phase (peer refused the reference prefix)`);
  if (r.backoff) out.push(...backoffMarkdown(r.backoff));
  for (const n of notes) out.push(`- ${n}`);
  out.push('', `## Findings (${r.findings.length})`, '');
  if (r.findings.length === 0) out.push('None.', '');
  for (const f of r.findings) {
    out.push(`### [${f.finding.oracle}] ${f.finding.message}`, '');
    out.push(`- severity ${f.finding.severity}${f.finding.rfc ? `, ${f.finding.rfc}` : ''}; seen ${f.occurrences}×; minimal case reproduced on a fresh connection: ${f.reproduced ? 'yes' : 'NO'}`);
    out.push(`- start ${f.start}, ${f.steps.length} steps: ${f.steps.map(describeStep).join(' → ') || '(none)'}`);
    if (f.file) out.push(`- corpus: \`${f.file}\``);
    if (f.traceFiles?.length) out.push(`- trace of the confirming run: ${f.traceFiles.map((t) => `\`${t}\``).join(', ')}`);
    out.push(`- fast-check seed ${f.seed}, path ${JSON.stringify(f.path)} (campaign case ${f.caseIndex})`, '');
  }
  if (peerFindings.length > 0) {
    out.push(`## Peer findings (${peerFindings.length})`, '', 'About the peer process over the whole campaign (not shrunk to a case).', '');
    for (const f of peerFindings) {
      out.push(`### [${f.oracle}] ${f.message}`, '', `- severity ${f.severity}`);
      if (f.detail) out.push('', '```', f.detail.slice(-4000), '```');
      out.push('');
    }
  }
  if (r.peerDown) out.push(`Campaign stopped early: ${r.peerDown}`, '');
  out.push('## States reached', '', '| state | cases |', '|---|---|');
  for (const s of STATES) out.push(`| ${s} | ${r.states.get(s) ?? 0} |`);
  out.push('', '## Coverage: message types sent × state', '');
  const types = [...new Set([...r.coverage.keys()].map((k) => k.split('@')[0]!))].sort();
  out.push(`| message | ${STATES.join(' | ')} |`, `|---|${STATES.map(() => '---').join('|')}|`);
  for (const t of types) out.push(`| ${t} | ${STATES.map((s) => r.coverage.get(`${t}@${s}`) ?? 0).join(' | ')} |`);
  out.push('');
  return out.join('\n');
}

/** Edges reached per mode (grey-box campaigns, and the black-box half of `--compare-blackbox`), for Markdown. */
export function coverageMarkdown(runs: readonly CoverageSummary[]): string {
  const out = ['## Coverage (SanitizerCoverage edges)', '', '| mode | edges | edge slots | cases | seconds | cases/s | queue |', '|---|---|---|---|---|---|---|'];
  for (const c of runs) out.push(`| ${c.mode} | ${c.edges} | ${c.guards} | ${c.cases} | ${c.seconds.toFixed(0)} | ${(c.cases / Math.max(c.seconds, 1e-9)).toFixed(0)} | ${c.queue} |`);
  const g = runs.find((c) => c.mode === 'greybox');
  const b = runs.find((c) => c.mode === 'blackbox');
  if (g && b) out.push('', `grey-box / black-box edges: ${(g.edges / Math.max(1, b.edges)).toFixed(2)}× (same time budget); the plots are in report.html.`);
  if (g?.arms) out.push('', armsLine(g.arms));
  const t = fileTable(runs);
  if (t) {
    out.push('', '### Coverage by source file', '', `| ${t.header.join(' | ')} |`, `|${t.header.map(() => '---').join('|')}|`, ...t.rows.map((r) => `| \`${r[0]}\` | ${r.slice(1).join(' | ')} |`));
    if (t.more) out.push('', `${t.more} more files with reached edges in report.json.`);
  }
  return out.join('\n') + '\n';
}

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** report.html: the headline figures, findings (with sanitizer reports) and the coverage plots. */
export function reportHtml(r: CampaignResult, coverage: readonly CoverageSummary[], peerFindings: readonly Finding[] = []): string {
  const findings = r.findings.map((f) => `<h3>[${esc(f.finding.oracle)}] ${esc(f.finding.message)}</h3><p>severity ${f.finding.severity}; seen ${f.occurrences}×; reproduced: ${f.reproduced ? 'yes' : 'NO'}; start ${esc(f.start)}, ${f.steps.length} steps: ${esc(f.steps.map(describeStep).join(' → ') || '(none)')}${f.file ? `<br>corpus: <code>${esc(f.file)}</code>` : ''}</p>${f.finding.detail ? `<pre>${esc(f.finding.detail.slice(0, 8000))}</pre>` : ''}`);
  return `<!doctype html><html><head><meta charset="utf-8"><title>Fuzz campaign: ${esc(r.target)}</title>
<style>body{font-family:sans-serif;max-width:1200px;margin:1em auto;padding:0 1em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}pre{background:#f6f6f6;overflow:auto;font-size:12px}</style></head><body>
<h1>Fuzz campaign: ${esc(r.target)}</h1>
<p>${esc(r.targetVersion)}; seed ${r.seed}; ${r.cases} cases in ${(r.elapsedMs / 1000).toFixed(1)} s (${r.casesPerSecond.toFixed(0)}/s); stopped by ${r.stoppedBy}</p>
${coverage.length ? coverageHtml(coverage) : ''}
${r.backoff?.refusals ? backoffHtml(r.backoff) : ''}
<h2>Findings (${r.findings.length})</h2>${findings.join('\n') || '<p>None.</p>'}
${peerFindings.length ? `<h2>Peer findings</h2>${peerFindings.map((f) => `<h3>[${esc(f.oracle)}] ${esc(f.message)}</h3>`).join('')}` : ''}
</body></html>
`;
}

/**
 * JUnit XML for CI: one test case per finding (must-level: a failure; should-level: passed, with its text in
 * system-out), one per peer-level finding (crash, liveness: errors), and one for the campaign itself, an error
 * when the peer went down. Coverage figures ride along as properties.
 */
export function reportJUnit(r: CampaignResult, peerFindings: readonly Finding[] = [], coverage: readonly CoverageSummary[] = []): string {
  const suite = `fuzz ${r.target} shard ${r.shard.k}/${r.shard.n}`;
  const finding = (f: CampaignResult['findings'][number]): string => {
    const attrs = `classname="${xmlEscape(`fuzz.${r.target}.${f.finding.oracle}`)}" name="${xmlEscape(`[${f.finding.severity}] ${f.finding.message}`)}"`;
    const body = xmlEscape([
      ...(f.finding.rfc ? [f.finding.rfc] : []),
      `start ${f.start}: ${f.steps.map(describeStep).join(' → ') || '(no steps)'}`,
      `seen ${f.occurrences}×, case ${f.caseIndex}, ${f.reproduced ? 'reproduced on a fresh connection' : 'not reproduced'}`,
      ...(f.file ? [`replay: npx ssh-harness replay ${f.file} --target ${r.target}`] : []),
      ...(f.finding.detail ? ['', f.finding.detail] : []),
    ].join('\n'));
    return f.finding.severity === 'must'
      ? `    <testcase ${attrs}>\n      <failure message="${xmlEscape(`[${f.finding.oracle}] ${f.finding.message}`)}" type="${xmlEscape(f.finding.oracle)}">${body}</failure>\n    </testcase>`
      : `    <testcase ${attrs}>\n      <system-out>${body}</system-out>\n    </testcase>`;
  };
  const peer = peerFindings.map((f) => `    <testcase classname="${xmlEscape(`fuzz.${r.target}.peer`)}" name="${xmlEscape(`[${f.oracle}] ${f.message}`)}">\n      <error message="${xmlEscape(f.message)}" type="${xmlEscape(f.oracle)}">${xmlEscape(f.detail ?? '')}</error>\n    </testcase>`);
  const down = r.stoppedBy === 'peer-down';
  const campaign = `    <testcase classname="fuzz.${xmlEscape(r.target)}" name="${xmlEscape(`campaign: ${r.cases} cases, stopped by ${r.stoppedBy}`)}" time="${(r.elapsedMs / 1000).toFixed(3)}">`
    + (down ? `\n      <error message="${xmlEscape(`peer down: ${r.peerDown ?? 'unreachable'}`)}" type="peer-down"/>\n    </testcase>` : '</testcase>');
  const cases = [...r.findings.map(finding), ...peer, campaign];
  const failures = r.findings.filter((f) => f.finding.severity === 'must').length;
  const errors = peerFindings.length + (down ? 1 : 0);
  const props = [
    ['target', r.target], ['targetVersion', r.targetVersion], ['seed', String(r.seed)], ['casesPerSecond', String(Math.round(r.casesPerSecond))],
    ...coverage.map((c) => [`${c.mode}.edges`, String(c.edges)]),
  ].map(([k, v]) => `      <property name="${xmlEscape(k!)}" value="${xmlEscape(v!)}"/>`).join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="ssh-harness fuzz" tests="${cases.length}" failures="${failures}" errors="${errors}" time="${(r.elapsedMs / 1000).toFixed(3)}">\n`
    + `  <testsuite name="${xmlEscape(suite)}" tests="${cases.length}" failures="${failures}" errors="${errors}" time="${(r.elapsedMs / 1000).toFixed(3)}">\n    <properties>\n${props}\n    </properties>\n`
    + `${cases.join('\n')}\n  </testsuite>\n</testsuites>\n`;
}

/** Writes report.json, report.md, report.html and junit.xml into `dir` (created); returns the paths. */
export function writeReport(dir: string, r: CampaignResult, notes: readonly string[] = [], peerFindings: readonly Finding[] = [], coverage: readonly CoverageSummary[] = []): string[] {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, 'report.json');
  const md = join(dir, 'report.md');
  const html = join(dir, 'report.html');
  const junit = join(dir, 'junit.xml');
  writeFileSync(json, JSON.stringify(reportJson(r, { notes, peerFindings, ...(coverage.length ? { greybox: coverage } : {}) }), null, 2) + '\n');
  writeFileSync(md, reportMarkdown(r, notes, peerFindings) + (coverage.length ? '\n' + coverageMarkdown(coverage) : ''));
  writeFileSync(html, reportHtml(r, coverage, peerFindings));
  writeFileSync(junit, reportJUnit(r, peerFindings, coverage));
  return [json, md, html, junit];
}
