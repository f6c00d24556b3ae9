/**
 * The vocabulary of conformance checks: what a check is, what it says about itself
 * (RFC citation, requirement level, which role of the peer it tests), and what a run of it produces.
 * Data scenarios (scenarios/*.yaml) and TypeScript checks compile to the same `Check`.
 */
import type { ServerKexInit } from '../targets/banner.js';
import type { Credentials, HostKeyInfo } from '../targets/types.js';
import type { CheckContext } from './context.js';
import type { StepValue } from './data-format.js';

/** RFC 2119 requirement level of the rule a check tests. */
export type Level = 'MUST' | 'SHOULD' | 'MAY';
export const LEVELS: readonly Level[] = ['MUST', 'SHOULD', 'MAY'];

export type Verdict = 'pass' | 'fail' | 'not-applicable' | 'inconclusive';
export const VERDICTS: readonly Verdict[] = ['pass', 'fail', 'not-applicable', 'inconclusive'];

/** Which role the peer under test plays: `server` checks drive our deviating client against a server target. */
export type Role = 'server' | 'client';

export const AREAS = [
  'version', 'binary-packet', 'kex', 'strict-kex', 'ext-info', 'rekey', 'service', 'auth', 'connection',
  'disconnect', 'robustness', 'client',
] as const;
export type Area = (typeof AREAS)[number];

export const SUITES = ['smoke', 'transport', 'auth', 'connection', 'robustness', 'security', 'client', 'all'] as const;
export type SuiteName = (typeof SUITES)[number];

/** A citation: `RFC 4253` + `§11.4`, or a non-RFC spec by file and heading (OpenSSH PROTOCOL, "strict key exchange"). */
export interface SpecRef {
  readonly rfc: string;
  readonly section: string;
  /** The rule, quoted or closely paraphrased, so a failure explains itself. */
  readonly text?: string;
}

/** Algorithms a check needs the peer to support (else: not-applicable); our client offers only these. */
export interface Requirements {
  readonly kex?: readonly string[];
  readonly hostKey?: readonly string[];
  readonly cipher?: readonly string[];
  readonly mac?: readonly string[];
  readonly compression?: readonly string[];
  /** Credentials the check needs from the target. */
  readonly auth?: readonly ('password' | 'publickey')[];
}

export interface SourceLocation {
  readonly file: string;
  readonly line: number;
}

export interface CheckMeta {
  readonly id: string;
  readonly title: string;
  readonly spec: readonly SpecRef[];
  readonly level: Level;
  readonly role: Role;
  readonly area: Area;
  /** Suites besides `all` (which has every check). */
  readonly suites: readonly SuiteName[];
  readonly requires?: Requirements;
  /** Overrides the runner's per-check timeout (ms). */
  readonly timeoutMs?: number;
  readonly source: SourceLocation;
  /** Client-direction checks: the client peer this instance runs against (set when the run expands them). */
  readonly client?: string;
}

export interface Check extends CheckMeta {
  /** Ends by returning (pass) or by a verdict signal from the context (fail, not-applicable, inconclusive). */
  run(ctx: CheckContext): Promise<void>;
  /** A data-file check's steps as data (matrix values substituted): what `fuzz --seeds` turns into a case. */
  readonly steps?: readonly StepValue[];
}

/** One line of evidence: a message on the wire, or a note from the check (what it did, what it saw). */
export interface EvidenceLine {
  /** ms since the check started. */
  readonly t: number;
  /** Connection number within the check (0 for notes that belong to none). */
  readonly conn: number;
  /** c2s / s2c from the wire's point of view; `note` for the check's own remarks. */
  readonly dir: 'c2s' | 's2c' | 'note';
  readonly seq?: number;
  /** RFC name of the message (SSH_MSG_KEXINIT), or the note's text. */
  readonly text: string;
  /** Decoded fields, shortened (JSON). */
  readonly fields?: string;
  /** Set when we deviated on purpose (corrupted, raw, reordered...). */
  readonly deviation?: string;
  /** Set on the note the check ended with: the point where its expectation failed (or held). */
  readonly verdict?: Verdict;
}

export interface TraceFiles {
  readonly pcap?: string;
  readonly jsonl?: string;
  readonly keylog?: string;
}

export interface CheckResult {
  readonly id: string;
  /** The client peer of a client-direction check. */
  readonly client?: string;
  readonly title: string;
  readonly level: Level;
  readonly role: Role;
  readonly area: Area;
  readonly suites: readonly SuiteName[];
  readonly spec: readonly SpecRef[];
  readonly source: SourceLocation;
  readonly verdict: Verdict;
  /** One sentence: why this verdict. */
  readonly reason: string;
  readonly evidence: readonly EvidenceLine[];
  readonly durationMs: number;
  /** Runs of this check (more than 1 only after infrastructure errors). */
  readonly attempts: number;
  readonly seed: string;
  readonly traces?: TraceFiles;
  /** Text of scenarios/KNOWN.md for this target and check, when the failure is a documented departure. */
  readonly known?: string;
}

/** What a running peer tells checks about itself. */
export interface TargetInfo {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly banner?: string;
  readonly version?: string;
  readonly hostKeys: readonly HostKeyInfo[];
  readonly credentials: Credentials;
  /** The server's first KEXINIT, read once per run (what it offers decides not-applicable checks). */
  readonly kexInit?: ServerKexInit;
}

export interface RunSummary {
  readonly runId: string;
  readonly target: string;
  readonly targetVersion?: string;
  readonly clientTargets: readonly string[];
  readonly suites: readonly string[];
  readonly seed: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly results: readonly CheckResult[];
  readonly counts: VerdictCounts;
  readonly byLevel: Readonly<Record<Level, VerdictCounts>>;
  /** 0 = every check passed or was not applicable; 1 = failures (or inconclusive MUST checks); the CLI's exit code. */
  readonly exitCode: 0 | 1;
}

export type VerdictCounts = Readonly<Record<Verdict, number>> & { readonly total: number };
