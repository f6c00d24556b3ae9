/** The Markdown summary: counts by requirement level, then every failure with its citation and reason. */
import type { CheckResult, RunSummary, Verdict } from '../scenario/types.js';
import { LEVELS } from '../scenario/types.js';
import { citations, evidenceText } from './format.js';

const mdCell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function toMarkdown(s: RunSummary, links: { html?: string } = {}): string {
  const out: string[] = [];
  out.push(`# SSH conformance: ${s.target}${s.targetVersion ? ` (${s.targetVersion})` : ''}`, '');
  out.push(`Run \`${s.runId}\` · seed \`${s.seed}\` · ${s.counts.total} checks in ${(s.durationMs / 1000).toFixed(1)} s · exit ${s.exitCode}${links.html ? ` · [HTML report](${links.html})` : ''}`, '');
  out.push('| level | pass | fail | inconclusive | not applicable | total |', '|---|---|---|---|---|---|');
  for (const l of LEVELS) {
    const c = s.byLevel[l];
    if (c.total) out.push(`| ${l} | ${c.pass} | ${c.fail} | ${c.inconclusive} | ${c['not-applicable']} | ${c.total} |`);
  }
  const c = s.counts;
  out.push(`| **all** | ${c.pass} | ${c.fail} | ${c.inconclusive} | ${c['not-applicable']} | ${c.total} |`, '');
  const section = (title: string, verdict: Verdict, known: boolean) => {
    const rs = s.results.filter((r) => r.verdict === verdict && !!r.known === known);
    if (!rs.length) return;
    out.push(`## ${title} (${rs.length})`, '');
    for (const r of rs) out.push(...detail(r), '');
  };
  section('Failures', 'fail', false);
  section('Inconclusive', 'inconclusive', false);
  section('Known departures (scenarios/KNOWN.md)', 'fail', true);
  section('Known, inconclusive', 'inconclusive', true);
  out.push('## All checks', '', '| verdict | level | id | citation | reason |', '|---|---|---|---|---|');
  for (const r of s.results) out.push(`| ${r.verdict}${r.known ? ' (known)' : ''} | ${r.level} | \`${r.id}\` | ${mdCell(citations(r))} | ${mdCell(r.reason)} |`);
  return out.join('\n') + '\n';
}

function detail(r: CheckResult): string[] {
  return [
    `### \`${r.id}\` — ${r.title}`, '',
    `**${r.level}**, ${citations(r)}${r.spec.some((x) => x.text) ? `: “${r.spec.map((x) => x.text).filter(Boolean).join(' … ')}”` : ''}`, '',
    `${r.reason}`,
    ...(r.known ? ['', `> ${r.known.split('\n').join('\n> ')}`] : []),
    '', '<details><summary>evidence</summary>', '', '```', evidenceText(r.evidence, 80), '```', '', '</details>',
  ];
}
