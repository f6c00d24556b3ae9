/**
 * One learning run: resolve the target (any fuzz target: `self`, a registered peer, `tcp://`), calibrate
 * the mapper, run L# with the conformance oracle under the time budget, minimise, check the properties, and
 * return the model file. Budget exhaustion gives the last hypothesis, marked incomplete.
 */
import { resolveTarget, type TargetCredentials } from '../fuzz/targets.js';
import type { FuzzTarget } from '../fuzz/link.js';
import { type Alphabet, loadAlphabet } from './alphabet.js';
import { ConformanceOracle } from './equivalence.js';
import { LSharp } from './lsharp.js';
import { type Mealy, minimize } from './mealy.js';
import { type ModelFile, transitionsOf } from './model-file.js';
import { checkProperties } from './properties.js';
import { SshMapper } from './ssh/mapper.js';
import { BudgetExceeded, type Divergence, NonDeterminismError, Teacher } from './teacher.js';

export interface LearnOptions {
  readonly target: string;
  readonly alphabet: string | Alphabet;
  /** Wall-clock budget in seconds (default 600). */
  readonly timeS?: number;
  readonly maxQueries?: number;
  readonly parallel?: number;
  readonly seed?: number;
  readonly extraStates?: number;
  readonly randomWalks?: number;
  readonly waitMs?: number;
  readonly noProbe?: boolean;
  readonly credentials?: TargetCredentials;
  /** An already resolved target (tests); the caller closes it. */
  readonly resolved?: FuzzTarget;
  readonly onProgress?: (p: { phase: string; states: number; queries: number; resets: number; elapsedMs: number }) => void;
}

export interface LearnOutcome {
  readonly file: ModelFile;
  readonly model: Mealy;
  readonly divergences: readonly Divergence[];
  /** Learning stopped on non-determinism that no majority settled. */
  readonly nondeterminism?: Divergence;
}

export async function learn(o: LearnOptions): Promise<LearnOutcome> {
  const alphabet = typeof o.alphabet === 'string' ? loadAlphabet(o.alphabet) : o.alphabet;
  const target = o.resolved ?? await resolveTarget(o.target, o.credentials ?? {});
  const t0 = Date.now();
  try {
    let queriesDone = 0;
    let phase = 'calibrating';
    let states = 1;
    const mapper = new SshMapper(target, {
      alphabet,
      ...(o.parallel !== undefined ? { parallel: o.parallel } : {}),
      ...(o.waitMs !== undefined ? { waitMs: o.waitMs } : {}),
      ...(o.noProbe ? { noProbe: true } : {}),
      onQuery: () => { queriesDone++; if (queriesDone % 25 === 0) o.onProgress?.({ phase, states, queries: queriesDone, resets: queriesDone, elapsedMs: Date.now() - t0 }); },
    });
    await mapper.calibrate();
    const deadline = t0 + (o.timeS ?? 600) * 1000;
    const teacher = new Teacher(mapper, { deadline, ...(o.maxQueries !== undefined ? { maxQueries: o.maxQueries } : {}) });
    const eq = new ConformanceOracle({ extraStates: o.extraStates ?? 1, randomWalks: o.randomWalks ?? 300, seed: o.seed ?? 1, batch: Math.max(16, mapper.parallel * 8), happyFlow: alphabet.happyFlow, insertions: alphabet.insertions });
    let last: Mealy | undefined;
    const learner = new LSharp(teacher, {
      findCounterexample: (h, t) => { last = h; phase = 'testing'; return eq.findCounterexample(h, t).finally(() => { phase = 'learning'; }); },
    }, (p) => { phase = 'learning'; states = p.states; });
    let model: Mealy;
    let complete = true;
    let nondeterminism: Divergence | undefined;
    try {
      model = (await learner.learn()).model;
    } catch (e) {
      if (e instanceof BudgetExceeded && last) { model = last; complete = false; }
      else if (e instanceof NonDeterminismError && last) { model = last; complete = false; nondeterminism = e.divergence; }
      else throw e;
    }
    model = minimize(model);
    const elapsedMs = Date.now() - t0;
    const s = teacher.stats, m = mapper.stats;
    const file: ModelFile = {
      kind: 'ssh-harness-model', version: 1,
      target: o.target, implementation: target.version,
      alphabet: { name: alphabet.name, start: alphabet.start, inputs: [...alphabet.inputs], kex: [...alphabet.kex] },
      states: model.next.length, initial: 0, transitions: transitionsOf(model), complete,
      stats: {
        queries: s.queries, resets: s.resets, symbols: s.symbols, cacheHits: s.cacheHits, equivalenceTests: eq.tests,
        timeMs: elapsedMs, queriesPerSecond: Math.round((s.resets / (elapsedMs / 1000)) * 10) / 10,
        parallel: mapper.parallel, waitMs: m.waitMs, probing: mapper.probing, probeEnded: m.probeEnded, quietWaits: m.quietWaits,
        closeEnded: m.closeEnded, probesLost: m.probesLost, waitRaises: m.raises, resetRetries: m.resetRetries,
        divergences: s.divergences.length, ...(nondeterminism ? { nondeterminism: true } : {}),
        ...(m.strictKex !== undefined ? { strictKex: m.strictKex } : {}),
        ...(m.calibration ? { calibrationKexReplyMs: m.calibration.kexReplyMs, calibrationProbeRttMs: m.calibration.probeRttMs, probeAfterAuth: m.calibration.probeInOrder } : {}),
      },
      properties: checkProperties(model, alphabet.start, m.strictKex !== undefined ? { strictKex: m.strictKex } : {}),
      learnedAt: new Date().toISOString(),
    };
    return { file, model, divergences: s.divergences, ...(nondeterminism ? { nondeterminism } : {}) };
  } finally {
    if (!o.resolved) await target.close();
  }
}
