/**
 * Runs one fuzz case against a Link: walk the peer to the start phase with reference behaviour, run the
 * steps (settling after each and checking the per-step oracles), then probe and run the end-of-case oracles.
 * Used by the fast-check commands during a campaign and, unchanged, by `replay`.
 */
import { afterStep, atEnd, FindingError, noteCredentials, type Finding } from './oracles.js';
import type { FuzzClient } from './client.js';
import type { AlgorithmPreferences } from '../../impl/transport/types.js';
import type { FuzzTarget, Link, TraceTap } from './link.js';
import { applyStep, describeStep, stepMessageId, type Phase, type Step } from './steps.js';

/** Where the connection is now, in the vocabulary of PHASES (plus 'closed'). */
export type State = Phase | 'closed';

export function currentState(c: FuzzClient): State {
  if (!c.alive) return 'closed';
  if (!c.started) return 'pre-kex';
  if (!c.kexDone) return 'kex';
  if (c.engine.kexInProgress) return 'rekey';
  if (!c.serviceAccepted) return 'newkeys';
  if (!c.authenticated) return 'userauth';
  if (c.channels.some((ch) => ch.state === 'open')) return 'channel';
  return 'authenticated';
}

export interface CaseRecord {
  /** Steps that actually ran (fast-check skips commands whose check() failed). */
  readonly executed: Step[];
  /** [message number, state it was sent in] for coverage. */
  readonly sent: [number, State][];
  readonly states: Set<State>;
  /** The start phase was reached (false when the peer refused the reference prefix, e.g. it is down). */
  reached: boolean;
  /** A should-level finding at the end of the case (reported, but the case does not fail). */
  note?: Finding;
}

export class CaseRun {
  readonly record: CaseRecord = { executed: [], sent: [], states: new Set(), reached: false };

  constructor(readonly link: Link, readonly target: FuzzTarget) {}

  get client(): FuzzClient { return this.link.client; }

  private async settle(budgetMs: number): Promise<void> {
    const c = this.client;
    await this.link.settle(() => !c.alive || !c.anythingOwed, budgetMs);
  }

  /** Reference behaviour up to `start`. Returns false if the peer did not get there. */
  async reach(start: Phase): Promise<boolean> {
    const c = this.client;
    const b = this.target.budgets.probeMs;
    if (start === 'pre-kex') return (this.record.reached = true);
    // a reused connection (pool.ts)
    if (c.authenticated) return this.reachFromAuthenticated(start);
    if (c.serviceAccepted && start === 'userauth') return (this.record.reached = true);
    c.start(this.link.now());
    if (start === 'kex') return (this.record.reached = true);
    await this.link.settle(() => !c.alive || c.kexDone, b);
    if (!c.kexDone) return false;
    if (start !== 'newkeys') {
      c.requestService('ssh-userauth');
      await this.link.settle(() => !c.alive || c.serviceAccepted, b);
      if (!c.serviceAccepted) return false;
    }
    if (start === 'newkeys' || start === 'userauth') return (this.record.reached = true);
    c.auth(this.target.preferredAuth ?? (c.credentials.password !== undefined ? 'password' : 'publickey'), true);
    await this.link.settle(() => !c.alive || c.authenticated, b);
    if (!c.authenticated) return false;
    return this.reachFromAuthenticated(start);
  }

  private async reachFromAuthenticated(start: Phase): Promise<boolean> {
    const c = this.client;
    const b = this.target.budgets.probeMs;
    if (start === 'authenticated') return (this.record.reached = true);
    // a reused session channel (pool.ts) is already channel 0
    if (start === 'channel' && c.channels[0]?.state === 'open') return (this.record.reached = true);
    c.openChannel('session');
    await this.link.settle(() => !c.alive || c.channels[0]?.state === 'open', b);
    if (c.channels[0]?.state !== 'open') return false;
    if (start === 'rekey') c.engine.rekey();
    return (this.record.reached = true);
  }

  /**
   * After a `forward` step's request was answered: connect to the listener the peer granted, from outside, and
   * wait (one step budget) for the channel the peer opens back to us. Links without a peer host (in-process) skip.
   */
  private async connectForward(s: Extract<Step, { op: 'forward' }>, listenersBefore: number): Promise<void> {
    const c = this.client;
    // only a listener this step's request was granted (a refused request leaves the list as it was)
    const listener = c.listeners.length > listenersBefore ? c.listeners.at(-1) : undefined;
    const dialer = this.link.forwards;
    if (!listener || !dialer || !c.alive) return;
    const before = c.channels.length;
    dialer.dial(listener, s);
    await this.link.settle(() => !c.alive || c.channels.length > before, this.target.budgets.stepMs);
    await this.settle(this.target.budgets.stepMs);
  }

  /** One step; throws FindingError when a per-step oracle fires. */
  async step(s: Step): Promise<void> {
    const c = this.client;
    const state = currentState(c);
    this.record.states.add(state);
    this.record.executed.push(s);
    const id = stepMessageId(s);
    if (id !== undefined) this.record.sent.push([id, state]);
    try {
      const listeners = c.listeners.length;
      const payload = applyStep(c, s, this.link.now());
      if (payload) noteCredentials(c, payload, this.target);
      await this.settle(this.target.budgets.stepMs);
      if (s.op === 'forward') await this.connectForward(s, listeners);
    } catch (e) {
      // engine commands and the in-process peer never throw for peer behaviour: anything here escaped
      throw new FindingError({ oracle: 'exception', severity: 'must', message: `exception escaped while running ${describeStep(s)}: ${String(e)}`, detail: (e as Error).stack });
    }
    this.record.states.add(currentState(c));
    const f = afterStep(this.link);
    if (f) throw new FindingError(f);
  }

  /** The final probe (RFC 4253 §11.4) and the end-of-case oracles; throws FindingError. */
  async finish(): Promise<void> {
    const c = this.client;
    // strict kex forbids anything but kex messages until the first NEWKEYS: no probe before that
    if (c.alive && c.kexDone) c.probe();
    await this.settle(this.target.budgets.probeMs);
    // ASan/UBSan in an instrumented server: memory errors and UB that the wire does not show
    const sanitized = this.target.sanitizerReport?.();
    if (sanitized) throw new FindingError(sanitized);
    // a network peer that dropped the connection without DISCONNECT: did its process crash? (peer log / pid)
    if (this.target.health && (this.target.healthEachCase || (c.closed && !c.closed.byPeer && !c.closed.byUs))) {
      await new Promise((r) => setImmediate(r)); // let a rejection the case caused surface first
      const h = await this.target.health();
      if (h.dead || h.crashLines.length > 0) {
        throw new FindingError({ oracle: 'crash', severity: 'must', message: h.dead ?? `peer log shows a crash: ${JSON.stringify(h.crashLines[0])}`, detail: h.crashLines.join('\n') });
      }
    }
    const f = atEnd(this.link, this.target);
    if (f?.severity === 'should') this.record.note = f;
    else if (f) throw new FindingError(f);
  }
}

/** Runs a whole case outside fast-check (replay, verification). */
export async function runCase(target: FuzzTarget, start: Phase, steps: readonly Step[], algorithms?: AlgorithmPreferences, tap?: TraceTap): Promise<{ finding?: Finding; record: CaseRecord; link: Link }> {
  const link = await target.connect(algorithms, tap);
  if (tap) link.client.log.traceEnabled = true;
  const run = new CaseRun(link, target);
  try {
    if (!(await run.reach(start))) return { record: run.record, link };
    for (const s of steps) if (canRun(s, link.client)) await run.step(s);
    await run.finish();
    return { ...(run.record.note ? { finding: run.record.note } : {}), record: run.record, link };
  } catch (e) {
    if (e instanceof FindingError) return { finding: e.finding, record: run.record, link };
    throw e;
  } finally {
    link.close();
  }
}

/**
 * Whether a step fits the connection's state (fast-check's Command.check; replay applies the same rule).
 * Fuzzed messages fit everywhere — sending them out of state is the point; the reference steps that walk
 * the protocol forward fit only where the protocol allows them.
 */
export function canRun(s: Step, c: FuzzClient): boolean {
  if (!c.alive) return false;
  switch (s.op) {
    case 'start': case 'kexinit': return !c.started;
    case 'service': return c.kexDone && !c.serviceAccepted;
    case 'auth': return c.serviceAccepted && !c.authenticated;
    case 'open': case 'global': case 'forward': return c.authenticated;
    case 'exec': case 'sftp': return c.channels[s.chan]?.state === 'open';
    case 'rekey': return c.kexDone && !c.engine.kexInProgress;
    default: return true;
  }
}
