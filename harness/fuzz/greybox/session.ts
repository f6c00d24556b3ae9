/**
 * One campaign's coverage bookkeeping against an instrumented target. In grey-box mode (feedback) the counters
 * are zeroed before each case and read after it; a case that set a new (edge, hit-bucket) pair joins the queue,
 * and the case arbitrary mixes mutants of queue entries with fresh fast-check cases. In black-box mode the same
 * counters are only measured (read without reset, throttled), so both modes report edges over cases and seconds
 * from the same instrument.
 */
import type fc from 'fast-check';
import type { CaseValue } from '../model.js';
import type { FuzzDictionary } from '../link.js';
import type { Phase, Step } from '../steps.js';
import type { AlgorithmPreferences } from '../../../impl/transport/types.js';
import { CoverageMap } from './coverage-map.js';
import { EdgeFeedback } from './feedback.js';
import { GreyboxQueue } from './queue.js';
import { greyboxArb } from './mutate.js';

export interface CoverageSample { readonly cases: number; readonly seconds: number; readonly edges: number }

export interface CoverageSummary {
  readonly mode: 'greybox' | 'blackbox';
  /** Edges the binary has (SanitizerCoverage guards). */
  readonly guards: number;
  /** Distinct edges the campaign reached. */
  readonly edges: number;
  readonly features: number;
  readonly queue: number;
  readonly cases: number;
  readonly seconds: number;
  readonly samples: readonly CoverageSample[];
}

/** What the campaign tells the session about each case (not while shrinking). */
export interface CaseSeen {
  readonly start: Phase;
  readonly algorithms: AlgorithmPreferences;
  readonly executed: readonly Step[];
  readonly reached: boolean;
}

/** The campaign's hooks (campaign.ts `caseHooks`). */
export interface CaseHooks {
  arbitrary?(base: fc.Arbitrary<CaseValue>): fc.Arbitrary<CaseValue>;
  beforeCase(): void;
  afterCase(c: CaseSeen): void;
}

const MAX_SAMPLES = 4000;
const MEASURE_EVERY_MS = 250;

export class CoverageSession implements CaseHooks {
  readonly feedback = new EdgeFeedback();
  readonly queue: GreyboxQueue;
  private readonly map: CoverageMap;
  private readonly samples: CoverageSample[] = [];
  private readonly t0 = performance.now();
  private cases = 0;
  private lastMeasure = 0;
  private sampleStride = 1;

  constructor(mapPath: string, readonly mode: 'greybox' | 'blackbox', private readonly dict: FuzzDictionary, queueDir?: string, meta?: { target: string; targetVersion: string }) {
    this.map = new CoverageMap(mapPath);
    this.queue = new GreyboxQueue(mode === 'greybox' ? queueDir : undefined, meta);
    // the daemon's own start-up edges are not any case's
    this.map.reset();
    this.samples.push({ cases: 0, seconds: 0, edges: 0 });
  }

  arbitrary(base: fc.Arbitrary<CaseValue>): fc.Arbitrary<CaseValue> {
    return this.mode === 'greybox' ? greyboxArb(base, this.queue, this.dict) : base;
  }

  beforeCase(): void {
    if (this.mode === 'greybox') this.map.reset();
  }

  afterCase(c: CaseSeen): void {
    this.cases++;
    const before = this.feedback.edges;
    if (this.mode === 'greybox') {
      const counters = this.map.read();
      const nov = this.feedback.observe(counters);
      if (nov.newFeatures > 0 && c.reached) {
        this.queue.add({ start: c.start, algorithms: c.algorithms, steps: [...c.executed], newEdges: nov.newEdges, newFeatures: nov.newFeatures, caseIndex: this.cases - 1 },
          EdgeFeedback.hitEdges(counters));
      }
    } else {
      const now = performance.now();
      if (now - this.lastMeasure < MEASURE_EVERY_MS) return;
      this.lastMeasure = now;
      this.feedback.observe(this.map.read());
    }
    if (this.feedback.edges !== before || this.cases % this.sampleStride === 0) this.sample();
  }

  private sample(): void {
    this.samples.push({ cases: this.cases, seconds: (performance.now() - this.t0) / 1000, edges: this.feedback.edges });
    if (this.samples.length > MAX_SAMPLES) {
      // keep every other sample (and the first): bounded memory for long campaigns
      const kept = this.samples.filter((_, i) => i % 2 === 0);
      this.samples.splice(0, this.samples.length, ...kept);
      this.sampleStride *= 2;
    }
  }

  summary(): CoverageSummary {
    // a black-box campaign's last cases may not have been measured yet
    if (this.mode === 'blackbox') this.feedback.observe(this.map.read());
    this.sample();
    return {
      mode: this.mode, guards: this.map.guards(), edges: this.feedback.edges, features: this.feedback.features, queue: this.queue.size,
      cases: this.cases, seconds: (performance.now() - this.t0) / 1000, samples: [...this.samples],
    };
  }

  close(): void {
    this.map.close();
  }
}
