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
import { backoffMarkdown } from './backoff.js';

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

/** Writes report.json and report.md into `dir` (created); returns the paths. */
export function writeReport(dir: string, r: CampaignResult, notes: readonly string[] = [], peerFindings: readonly Finding[] = []): string[] {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, 'report.json');
  const md = join(dir, 'report.md');
  writeFileSync(json, JSON.stringify(reportJson(r, { notes, peerFindings }), null, 2) + '\n');
  writeFileSync(md, reportMarkdown(r, notes, peerFindings));
  return [json, md];
}
