/**
 * How a check ends early: a step throws a VerdictSignal, the runner turns it into the check's result.
 * Returning normally from a check is a pass. Infrastructure trouble (the target is not there) is an InfraError:
 * the only thing the runner retries.
 */
import type { Verdict } from './types.js';

export class VerdictSignal extends Error {
  constructor(readonly verdict: Verdict, readonly reason: string) {
    super(`${verdict}: ${reason}`);
    this.name = 'VerdictSignal';
  }
}

/** The target could not be reached or set up; not a finding about the peer. */
export class InfraError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InfraError';
  }
}

export function isVerdictSignal(e: unknown): e is VerdictSignal {
  return e instanceof VerdictSignal;
}
