/** From one conformance run (a RunSummary) to one survey row: failures per check area, each with its evidence. */
import { evidenceText } from '../report/format.js';
import { checkAnchor } from '../report/html.js';
import type { Area, CheckResult, RunSummary } from '../scenario/types.js';
import { AREAS } from '../scenario/types.js';
import type { AreaCell, Failure, Role, SurveyRow } from './types.js';
import { implementationOf } from './peers.js';

/** Evidence lines kept per failure in the survey (the peer's own report has all of them). */
const EVIDENCE_TAIL = 14;
const EVIDENCE_LINE_MAX = 240;


function failureOf(r: CheckResult, reportLink: string): Failure {
  const lines = evidenceText(r.evidence, 400).split('\n');
  return {
    id: r.id, title: r.title, level: r.level, area: r.area, verdict: r.verdict as Failure['verdict'], reason: r.reason, spec: r.spec,
    ...(r.known ? { known: r.known } : {}),
    evidence: lines.slice(-EVIDENCE_TAIL).map((l) => (l.length > EVIDENCE_LINE_MAX ? `${l.slice(0, EVIDENCE_LINE_MAX)}…` : l)),
    link: `${reportLink}#${checkAnchor(r.id)}`,
  };
}

export function rowOf(o: { peer: string; role: Role; summary: RunSummary; version?: string; reportLink: string; durationMs: number }): SurveyRow {
  const results = o.summary.results;
  const bad = results.filter((r) => r.verdict === 'fail' || r.verdict === 'inconclusive');
  const failures = bad.map((r) => failureOf(r, o.reportLink));
  const cells: Partial<Record<Area, AreaCell>> = {};
  for (const area of AREAS) {
    const inArea = results.filter((r) => r.area === area);
    if (!inArea.length) continue;
    const failed = inArea.filter((r) => r.verdict === 'fail');
    cells[area] = {
      checks: inArea.length,
      must: failed.filter((r) => r.level === 'MUST').length,
      should: failed.filter((r) => r.level !== 'MUST').length,
      untriaged: inArea.filter((r) => (r.verdict === 'fail' || r.verdict === 'inconclusive') && !r.known).length,
      failures: inArea.filter((r) => r.verdict === 'fail' || r.verdict === 'inconclusive').map((r) => r.id),
    };
  }
  const c = o.summary.counts;
  return {
    implementation: implementationOf(o.peer), role: o.role, peer: o.peer,
    ...(o.version ?? o.summary.targetVersion ? { version: o.version ?? o.summary.targetVersion } : {}),
    counts: { total: c.total, pass: c.pass, fail: c.fail, inconclusive: c.inconclusive, notApplicable: c['not-applicable'] },
    cells, failures, durationMs: o.durationMs, report: o.reportLink,
  };
}

export function setupErrorRow(peer: string, role: Role, error: string, durationMs: number, version?: string): SurveyRow {
  return { implementation: implementationOf(peer), role, peer, ...(version ? { version } : {}), setupError: error, cells: {}, failures: [], durationMs };
}

/** The areas that have a cell in some row, in the suite's order. */
export function usedAreas(rows: readonly SurveyRow[]): Area[] {
  return AREAS.filter((a) => rows.some((r) => r.cells[a]));
}
