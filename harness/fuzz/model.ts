/**
 * fast-check model-based testing over the protocol phases (issue 8 "state-aware model"): a case is a start
 * phase plus `fc.commands`, one command per step. The model is the live connection state the FuzzClient
 * tracks (phase, service, auth, channels, kex in progress) — simpler than the peer, as the fast-check docs
 * advise — and each command's check() asks whether its step fits that state, so sequences walk deep.
 */
import fc from 'fast-check';
import { canRun, CaseRun } from './executor.js';
import { describeStep, type Phase, type Step } from './steps.js';
import { startArb, stepArb, type StepArbOptions } from './arb/steps.js';
import { PHASE_FAMILY_WEIGHTS } from './arb/messages.js';
import { deepStartArb, deepStepArb } from './arb/deep.js';
import { profileArb, type Profile } from './arb/profiles.js';
import type { AlgorithmPreferences } from '../../impl/transport/types.js';
import type { FuzzDictionary } from './link.js';
import { isChannelRef } from './value.js';

export interface Model {
  readonly run: CaseRun;
}

export class StepCommand implements fc.AsyncCommand<Model, CaseRun> {
  constructor(readonly step: Step) {}
  check(m: Readonly<Model>): boolean {
    return canRun(this.step, m.run.client);
  }
  async run(_m: Model, r: CaseRun): Promise<void> {
    await r.step(this.step);
  }
  toString(): string {
    return describeStep(this.step);
  }
}

/**
 * A deep-mode step (arb/deep.ts): its promise is valid state, so a message addressed to one of our channels runs
 * only while that channel is open on both sides (an `exec exit` earlier in the case closes it; an
 * 'authenticated' start has none). Sent anyway, it only repeats the mixed mode's unknown-channel case, and the
 * server rightly ends the connection the deep cases are meant to share.
 */
export class DeepStepCommand extends StepCommand {
  override check(m: Readonly<Model>): boolean {
    if (!super.check(m)) return false;
    const s = this.step;
    if (s.op !== 'send') return true;
    const ref = s.msg.recipientChannel;
    if (!isChannelRef(ref)) return true;
    const ch = m.run.client.channels[ref.$chan];
    return ch !== undefined && ch.state === 'open' && !ch.sentClose;
  }
}

export type CaseValue = [Phase, AlgorithmPreferences, Iterable<fc.AsyncCommand<Model, CaseRun>>];

export interface CaseArbOptions extends StepArbOptions {
  /**
   * Longest command sequence (default 4: short cases shrink fast, reach deep through their start phase, and
   * findings must shrink to ≤ 3 messages anyway).
   */
  readonly maxSteps?: number;
  readonly start?: fc.Arbitrary<Phase>;
  readonly profiles?: readonly Profile[];
  /**
   * 'mixed' (default): every step kind, valid and near-valid messages anywhere. 'deep': post-auth messages whose
   * framing and state are valid and whose contents are fuzzed (arb/deep.ts): many cases per connection.
   */
  readonly mode?: FuzzMode;
  /** fast-check's commands replayPath of a counterexample (to replay a corpus entry's seed + path). */
  readonly replayPath?: string;
}

export type FuzzMode = 'mixed' | 'deep';

type CommandArb = fc.Arbitrary<fc.AsyncCommand<Model, CaseRun>>;

/**
 * Command arbitraries by dictionary and (mode, broken-field odds, message family weights). They are stateless
 * (only fc.commands keeps replay state), so every batch of a campaign shares them: building the per-codec
 * message arbitraries anew for each 64-case batch cost ~2 % of a campaign.
 */
const commandArbs = new WeakMap<FuzzDictionary, Map<string, CommandArb>>();

function commandArb(o: CaseArbOptions, start: Phase): CommandArb {
  const deep = o.mode === 'deep';
  const families = deep ? undefined : o.families ?? PHASE_FAMILY_WEIGHTS[start];
  const key = JSON.stringify([o.mode ?? 'mixed', deep ? undefined : o.brokenOdds, families]);
  let byKey = commandArbs.get(o.dict);
  if (!byKey) commandArbs.set(o.dict, (byKey = new Map()));
  let cmd = byKey.get(key);
  if (!cmd) {
    const steps = deep ? deepStepArb(o.dict) : stepArb({ ...o, ...(families ? { families } : {}) });
    cmd = steps.map((s) => (deep ? new DeepStepCommand(s) : new StepCommand(s)), (c) => {
      if (c instanceof StepCommand) return c.step;
      throw new TypeError('not a StepCommand');
    });
    byKey.set(key, cmd);
  }
  return cmd;
}

export function caseArb(o: CaseArbOptions): fc.Arbitrary<CaseValue> {
  // one command arbitrary per start phase, weighted toward the messages that phase parses (built once)
  const perPhase = new Map<Phase, fc.Arbitrary<Iterable<fc.AsyncCommand<Model, CaseRun>>>>();
  const commandsFor = (start: Phase): fc.Arbitrary<Iterable<fc.AsyncCommand<Model, CaseRun>>> => {
    let a = perPhase.get(start);
    if (!a) {
      a = fc.commands([commandArb(o, start)], { maxCommands: o.maxSteps ?? 4, ...(o.replayPath ? { replayPath: o.replayPath } : {}) });
      perPhase.set(start, a);
    }
    return a;
  };
  const profiles = profileArb(o.profiles);
  return (o.start ?? (o.mode === 'deep' ? deepStartArb : startArb)).chain((start) => fc.tuple(fc.constant(start), profiles, commandsFor(start)));
}

/** Runs the commands of a case on a reached CaseRun (fast-check keeps track of which ones ran). */
export async function runCommands(run: CaseRun, cmds: Iterable<fc.AsyncCommand<Model, CaseRun>>): Promise<void> {
  await fc.asyncModelRun(() => ({ model: { run }, real: run }), cmds);
}
