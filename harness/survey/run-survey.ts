/**
 * The survey: the full conformance suite against every server peer, the client checks against every client peer
 * (driven against our own server), and the interop matrix; peers are worked on `jobs` at a time (the machine has
 * 2 cores and most of a check is waiting on the peer). Each peer's own conformance report is written under
 * `peers/<peer>/`; the rows of the one table come from those runs (table.ts). Never throws for a peer: a peer that
 * cannot be run becomes a row with its setup error.
 */
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { writeReports } from '../report/write.js';
import { runConformance } from '../scenario/session.js';
import { selectChecks } from '../scenario/suite.js';
import type { Check, RunSummary } from '../scenario/types.js';
import { getClientPeer } from '../targets/registry.js';
import { mapLimit } from '../interop/matrix/pool.js';
import { matrixRows } from '../interop/matrix/rows.js';
import { runMatrix } from '../interop/matrix/run-matrix.js';
import type { MatrixReport } from '../interop/matrix/types.js';
import { writeMatrixReport } from '../interop/matrix/write-report.js';
import { rowOf, setupErrorRow, usedAreas } from './table.js';
import type { Role, SurveyReport, SurveyRow } from './types.js';

export interface SurveyOptions {
  readonly servers: readonly string[];
  readonly clients: readonly string[];
  /** Suite names or scenario paths (default all). */
  readonly suites?: readonly string[];
  readonly grep?: RegExp;
  /** Peers worked on at once (default 4). */
  readonly jobs?: number;
  /** Run the interop matrix too (default true). */
  readonly interop?: boolean;
  /** Reports go to <base>/<runId>/ (survey.*, peers/<peer>/…, interop/…). */
  readonly base: string;
  readonly runId: string;
  readonly progress?: (line: string) => void;
  /** The default waits' stretch factor in force (recorded in the report). */
  readonly timeScale?: number;
}

/** A file-system-safe directory name for a peer (`openssh:trixie` → `openssh_trixie`). */
export function peerDir(peer: string): string {
  return peer.replace(/[^A-Za-z0-9_.-]+/g, '_');
}

interface Task { readonly peer: string; readonly role: Role }

export function surveyDir(o: { base: string; runId: string }): string {
  return join(o.base, o.runId);
}

async function runOne(t: Task, checks: readonly Check[], o: SurveyOptions, done: () => string): Promise<SurveyRow> {
  const t0 = Date.now();
  const say = o.progress ?? (() => undefined);
  let version: string | undefined;
  try {
    if (t.role === 'client') version = (await (await getClientPeer(t.peer)).availability()).version;
    const summary: RunSummary & { logs: string } = await runConformance({
      target: t.role === 'server' ? t.peer : 'self', checks, suites: o.suites ?? ['all'],
      runId: `${o.runId}-${peerDir(t.peer)}`, ...(t.role === 'client' ? { clientTargets: [t.peer] } : {}),
    });
    const rel = join('peers', peerDir(t.peer));
    writeReports(summary, join(surveyDir(o), rel), { logs: summary.logs });
    const row = rowOf({ peer: t.peer, role: t.role, summary, ...(version ? { version } : {}), reportLink: `${rel}/report.html`, durationMs: Date.now() - t0 });
    const bad = row.failures.filter((f) => f.verdict === 'fail');
    say(`${done()} ${t.role === 'server' ? 'server' : 'client'} ${t.peer} (${row.version ?? '?'}): ${row.counts!.total} checks, ${bad.filter((f) => f.level === 'MUST').length} MUST + ${bad.filter((f) => f.level !== 'MUST').length} SHOULD failed, ${row.failures.filter((f) => !f.known).length} untriaged, in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return row;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    say(`${done()} ${t.role} ${t.peer}: SETUP ERROR ${msg.split('\n')[0]}`);
    return setupErrorRow(t.peer, t.role, msg, Date.now() - t0, version);
  }
}

export async function runSurvey(o: SurveyOptions): Promise<{ report: SurveyReport; matrix?: MatrixReport }> {
  const startedAt = new Date();
  const t0 = Date.now();
  const jobs = o.jobs ?? 4;
  const say = o.progress ?? (() => undefined);
  const suites = o.suites ?? ['all'];
  const serverChecks = await selectChecks({ suites, ...(o.grep ? { grep: o.grep } : {}), roles: ['server'] });
  const clientChecks = await selectChecks({ suites, ...(o.grep ? { grep: o.grep } : {}), roles: ['client'] });
  const tasks: Task[] = [
    ...(serverChecks.length ? o.servers.map((peer) => ({ peer, role: 'server' as const })) : []),
    ...(clientChecks.length ? o.clients.map((peer) => ({ peer, role: 'client' as const })) : []),
  ];
  say(`ssh-harness survey: ${o.servers.length} servers × ${serverChecks.length} checks, ${o.clients.length} clients × ${clientChecks.length} checks, ${jobs} peers at a time${o.interop === false ? '' : ', then the interop matrix'}; waits × ${o.timeScale ?? 1}`);
  let finished = 0;
  const done = (): string => `[${++finished}/${tasks.length}]`;
  // the matrix runs beside the conformance runs: both mostly wait on peers, and the machine has 2 cores to share
  const servers = o.servers.filter((s) => s !== 'self');
  const matrixRun = o.interop === false ? undefined
    : runMatrix({ servers, clients: o.clients, rows: matrixRows(), concurrency: 2, runId: o.runId, progress: (l) => say(`  interop: ${l}`) });
  if (matrixRun) say(`interop matrix (alongside): our client × ${servers.length} servers, ${o.clients.length} clients × our server`);
  const rows = await mapLimit(tasks, jobs, (t) => runOne(t, t.role === 'server' ? serverChecks : clientChecks, o, done));

  let matrix: MatrixReport | undefined;
  let interop: SurveyReport['interop'];
  if (matrixRun) {
    matrix = await matrixRun;
    writeMatrixReport(matrix, o.base);
    interop = { summary: matrix.summary, durationMs: matrix.durationMs, report: join('interop', 'matrix.html') };
  }
  const withInterop = rows.map((r): SurveyRow => {
    if (!matrix) return r;
    const direction = r.role === 'server' ? 'client' : 'server';
    const cells = matrix.cells.filter((c) => c.peer === r.peer && c.direction === direction);
    if (!cells.length) return r;
    return { ...r, interop: { pass: cells.filter((c) => c.status === 'pass').length, fail: cells.filter((c) => c.status === 'fail').length, unsupported: cells.filter((c) => c.status === 'unsupported').length } };
  });
  const ran = withInterop.filter((r) => !r.setupError);
  const allFail = ran.flatMap((r) => r.failures.filter((f) => f.verdict === 'fail'));
  const report: SurveyReport = {
    runId: o.runId, startedAt: startedAt.toISOString(), durationMs: Date.now() - t0,
    machine: { cpus: cpus().length, node: process.version, loadAverage: Math.round(loadavg()[0]! * 10) / 10 }, jobs, timeScale: o.timeScale ?? 1,
    areas: usedAreas(withInterop), rows: withInterop,
    ...(interop ? { interop } : {}),
    totals: {
      implementations: new Set(withInterop.map((r) => r.implementation)).size,
      servers: withInterop.filter((r) => r.role === 'server').length, clients: withInterop.filter((r) => r.role === 'client').length,
      checks: ran.reduce((n, r) => n + (r.counts?.total ?? 0), 0),
      must: allFail.filter((f) => f.level === 'MUST').length, should: allFail.filter((f) => f.level !== 'MUST').length,
      untriaged: ran.reduce((n, r) => n + r.failures.filter((f) => !f.known).length, 0),
      setupErrors: withInterop.filter((r) => r.setupError).length,
    },
  };
  return { report, ...(matrix ? { matrix } : {}) };
}

/** 0 = every failure is triaged (scenarios/KNOWN.md) and every peer ran; 1 = untriaged failures; 2 = a peer could not run. */
export function surveyExitCode(r: SurveyReport): 0 | 1 | 2 {
  if (r.totals.setupErrors > 0) return 2;
  return r.totals.untriaged > 0 ? 1 : 0;
}
