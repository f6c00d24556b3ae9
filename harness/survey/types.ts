/**
 * The survey's data model: one row per implementation and role (a server target, or a client peer driven against
 * our server), one cell per check area with the MUST and SHOULD checks that failed there, each failure with its
 * evidence and its triage (scenarios/KNOWN.md explains it, or it is new). The JSON report is exactly a SurveyReport.
 */
import type { Area, Level, SpecRef, Verdict } from '../scenario/types.js';
import type { MatrixSummary } from '../interop/matrix/types.js';

export type Role = 'server' | 'client';

export interface Failure {
  readonly id: string;
  readonly title: string;
  readonly level: Level;
  readonly area: Area;
  readonly verdict: Extract<Verdict, 'fail' | 'inconclusive'>;
  readonly reason: string;
  readonly spec: readonly SpecRef[];
  /** scenarios/KNOWN.md's explanation; absent: not triaged yet. */
  readonly known?: string;
  /** The last evidence lines (wire messages and notes), already shortened. */
  readonly evidence: readonly string[];
  /** Where the full evidence is, relative to the survey directory (the peer's report.html#check-…). */
  readonly link: string;
}

export interface AreaCell {
  readonly must: number;
  readonly should: number;
  /** Of those, the ones scenarios/KNOWN.md does not explain. */
  readonly untriaged: number;
  readonly checks: number;
  readonly failures: readonly string[];
}

export interface SurveyRow {
  /** The implementation, e.g. "OpenSSH", "Erlang/OTP ssh". */
  readonly implementation: string;
  readonly role: Role;
  /** The harness name: a server target or a client peer. */
  readonly peer: string;
  readonly version?: string;
  /** Set when the peer could not be run; then there are no results. */
  readonly setupError?: string;
  readonly counts?: { readonly total: number; readonly pass: number; readonly fail: number; readonly inconclusive: number; readonly notApplicable: number };
  readonly cells: Readonly<Partial<Record<Area, AreaCell>>>;
  readonly failures: readonly Failure[];
  readonly durationMs: number;
  /** The peer's own conformance report, relative to the survey directory. */
  readonly report?: string;
  /** Interop matrix cells of this peer (when the matrix ran). */
  readonly interop?: { readonly pass: number; readonly fail: number; readonly unsupported: number };
}

export interface SurveyReport {
  readonly runId: string;
  readonly startedAt: string;
  readonly durationMs: number;
  /** loadAverage: the 1-minute load when the survey ended (other processes on the machine included). */
  readonly machine: { readonly cpus: number; readonly node: string; readonly loadAverage: number };
  /** Peers worked on at once. */
  readonly jobs: number;
  /** The factor the checks' default waits were stretched by (expect.ts setTimeScale). */
  readonly timeScale: number;
  readonly areas: readonly Area[];
  readonly rows: readonly SurveyRow[];
  readonly interop?: { readonly summary: MatrixSummary; readonly durationMs: number; readonly report: string };
  readonly totals: { readonly implementations: number; readonly servers: number; readonly clients: number; readonly checks: number; readonly must: number; readonly should: number; readonly untriaged: number; readonly setupErrors: number };
}
