/**
 * JUnit XML: one <testsuite> per area, one <testcase> per check. fail → <failure> with the RFC reference,
 * the reason and the evidence; inconclusive → <error>; not-applicable and documented departures → <skipped>.
 */
import type { CheckResult, RunSummary } from '../scenario/types.js';
import { citations, evidenceText } from './format.js';

export function xmlEscape(s: string): string {
  // XML 1.0 cannot carry most C0 controls even escaped: show them as \xNN
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function testcase(r: CheckResult, target: string): string {
  const name = `[${r.level}] ${r.id}: ${r.title}`;
  const attrs = `classname="${xmlEscape(`${target}.${r.area}`)}" name="${xmlEscape(name)}" time="${(r.durationMs / 1000).toFixed(3)}" file="${xmlEscape(r.source.file)}" line="${r.source.line}"`;
  const body = [
    `${citations(r)}`,
    ...r.spec.filter((s) => s.text).map((s) => `  "${s.text}"`),
    `verdict: ${r.verdict} — ${r.reason}`,
    `seed: ${r.seed}`,
    ...(r.traces ? [`traces: ${Object.values(r.traces).join(' ')}`] : []),
    '',
    evidenceText(r.evidence, 200),
  ].join('\n');
  if (r.known && (r.verdict === 'fail' || r.verdict === 'inconclusive')) {
    return `    <testcase ${attrs}>\n      <skipped message="${xmlEscape(`known departure (scenarios/KNOWN.md): ${r.reason}`)}"/>\n      <system-out>${xmlEscape(`${r.known}\n\n${body}`)}</system-out>\n    </testcase>`;
  }
  switch (r.verdict) {
    case 'pass':
      return `    <testcase ${attrs}/>`;
    case 'not-applicable':
      return `    <testcase ${attrs}>\n      <skipped message="${xmlEscape(`not applicable: ${r.reason}`)}"/>\n    </testcase>`;
    case 'fail':
      return `    <testcase ${attrs}>\n      <failure message="${xmlEscape(`${citations(r)}: ${r.reason}`)}" type="${r.level}">${xmlEscape(body)}</failure>\n    </testcase>`;
    case 'inconclusive':
      return `    <testcase ${attrs}>\n      <error message="${xmlEscape(`inconclusive: ${r.reason}`)}" type="inconclusive">${xmlEscape(body)}</error>\n    </testcase>`;
  }
}

export function toJUnit(s: RunSummary): string {
  const areas = [...new Set(s.results.map((r) => r.area))];
  const suites = areas.map((area) => {
    const rs = s.results.filter((r) => r.area === area);
    const failures = rs.filter((r) => r.verdict === 'fail' && !r.known).length;
    const errors = rs.filter((r) => r.verdict === 'inconclusive' && !r.known).length;
    const skipped = rs.filter((r) => r.verdict === 'not-applicable' || (r.known && (r.verdict === 'fail' || r.verdict === 'inconclusive'))).length;
    const time = rs.reduce((t, r) => t + r.durationMs, 0) / 1000;
    return `  <testsuite name="${xmlEscape(`${s.target}: ${area}`)}" tests="${rs.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${time.toFixed(3)}" timestamp="${s.startedAt.replace(/\.\d+Z$/, '')}">\n`
      + `    <properties>\n      <property name="target" value="${xmlEscape(s.target)}"/>\n      <property name="targetVersion" value="${xmlEscape(s.targetVersion ?? '')}"/>\n      <property name="seed" value="${xmlEscape(s.seed)}"/>\n    </properties>\n`
      + `${rs.map((r) => testcase(r, s.target)).join('\n')}\n  </testsuite>`;
  });
  const c = s.counts;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="ssh-harness conformance ${xmlEscape(s.runId)}" tests="${c.total}" failures="${s.results.filter((r) => r.verdict === 'fail' && !r.known).length}" errors="${s.results.filter((r) => r.verdict === 'inconclusive' && !r.known).length}" time="${(s.durationMs / 1000).toFixed(3)}">\n${suites.join('\n')}\n</testsuites>\n`;
}
