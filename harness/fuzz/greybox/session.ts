/**
 * One campaign's coverage bookkeeping against an instrumented target. In grey-box mode (feedback) the counters
 * are zeroed before each case and read after it; a case that set a new (edge, hit-bucket) pair joins the queue,
 * and the case arbitrary mixes mutants of queue entries with fresh fast-check cases. In black-box mode the same
 * counters are only measured (read without reset, throttled), so both modes report edges over cases and seconds
 * from the same instrument. Several sessions (one per server instance of a grey-box fleet, fleet.ts) share one
 * ledger: the same binary numbers its edges the same way in every instance.
 */
import type fc from 'fast-check';
import type { CaseValue } from '../model.js';
import type { FuzzDictionary } from '../link.js';
import type { Phase, Step } from '../steps.js';
import type { AlgorithmPreferences } from '../../../impl/transport/types.js';
import { CoverageMap } from './coverage-map.js';
import { EdgeFeedback } from './feedback.js';
import { GreyboxQueue } from './queue.js';
import { greyboxArb, type AlgorithmOffer } from './mutate.js';
import { edgeIds } from './queue.js';
import { coverageByFile, type EdgeSources, type FileCoverage } from './edge-sources.js';
import { ArmScheduler, type Arm, type ArmTotals } from './arms.js';

export interface CoverageSample { readonly cases: number; readonly seconds: number; readonly edges: number }

export interface CoverageSummary {
  readonly mode: 'greybox' | 'blackbox';
  /** Edge slots the binary has mapped (its SanitizerCoverage flag section, padded to whole pages; JSON name kept). */
  readonly guards: number;
  /** Distinct edges the campaign reached. */
  readonly edges: number;
  readonly features: number;
  readonly queue: number;
  readonly cases: number;
  readonly seconds: number;
  /** Server instances (grey-box fleets run one per connection at a time). */
  readonly instances: number;
  readonly samples: readonly CoverageSample[];
  /** Grey-box: cases per arm (fresh or mutant) and how many of them reached new edges (arms.ts). */
  readonly arms?: Readonly<Record<Arm, ArmTotals>>;
  /** Edges per source file of the server, most reached first (when the binary's edge map could be read). */
  readonly files?: readonly FileCoverage[];
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

/** Edges, queue and the coverage-over-time series of one campaign (all its sessions). */
export class CoverageLedger {
  readonly feedback = new EdgeFeedback();
  readonly queue: GreyboxQueue;
  /** Grey-box: how cases are split between fresh ones and mutants (shared by the fleet's sessions). */
  readonly arms = new ArmScheduler();
  private readonly samples: CoverageSample[] = [{ cases: 0, seconds: 0, edges: 0 }];
  private readonly t0 = performance.now();
  private stride = 1;
  cases = 0;
  guards = 0;
  instances = 0;

  constructor(readonly mode: 'greybox' | 'blackbox', queueDir?: string, meta?: { target: string; targetVersion: string }) {
    this.queue = new GreyboxQueue(mode === 'greybox' ? queueDir : undefined, meta);
  }

  caseDone(edgesBefore: number): void {
    this.cases++;
    if (this.feedback.edges !== edgesBefore || this.cases % this.stride === 0) this.sample();
  }

  sample(): void {
    this.samples.push({ cases: this.cases, seconds: (performance.now() - this.t0) / 1000, edges: this.feedback.edges });
    if (this.samples.length > MAX_SAMPLES) {
      // keep every other sample: bounded memory for long campaigns
      const kept = this.samples.filter((_, i) => i % 2 === 0);
      this.samples.splice(0, this.samples.length, ...kept);
      this.stride *= 2;
    }
  }

  /** The figures so far; with the binary's edge map, also per source file. */
  summary(sources?: EdgeSources): CoverageSummary {
    this.sample();
    const files = sources && coverageByFile(sources, this.feedback.reached()).sort((a, b) => b.reached - a.reached || b.edges - a.edges);
    return {
      mode: this.mode, guards: this.guards, edges: this.feedback.edges, features: this.feedback.features, queue: this.queue.size,
      cases: this.cases, seconds: (performance.now() - this.t0) / 1000, instances: this.instances, samples: [...this.samples],
      ...(this.mode === 'greybox' ? { arms: this.arms.summary() } : {}),
      ...(files ? { files } : {}),
    };
  }
}

export class CoverageSession implements CaseHooks {
  private readonly map: CoverageMap;
  private lastMeasure = 0;
  private closed = false;
  /** The arm the case being run came from (one case at a time per session; shrinking does not report back). */
  private arm: Arm | undefined;

  constructor(mapPath: string, readonly ledger: CoverageLedger, private readonly dict: FuzzDictionary, private readonly offer?: AlgorithmOffer) {
    this.map = new CoverageMap(mapPath);
    // the daemon's own start-up edges are not any case's
    this.map.reset();
    ledger.instances++;
  }

  get mode(): 'greybox' | 'blackbox' { return this.ledger.mode; }
  get feedback(): EdgeFeedback { return this.ledger.feedback; }
  get queue(): GreyboxQueue { return this.ledger.queue; }

  arbitrary(base: fc.Arbitrary<CaseValue>): fc.Arbitrary<CaseValue> {
    if (this.mode !== 'greybox') return base;
    const arms = this.ledger.arms;
    return greyboxArb(base, this.queue, this.dict, (u) => arms.choose(u), (a) => { this.arm = a; }, this.offer);
  }

  beforeCase(): void {
    if (this.mode === 'greybox') this.map.reset();
  }

  afterCase(c: CaseSeen): void {
    const before = this.feedback.edges;
    if (this.mode === 'greybox') {
      const counters = this.map.read();
      const nov = this.feedback.observe(counters);
      if (this.arm) this.ledger.arms.record(this.arm, nov.newEdges > 0);
      this.arm = undefined;
      // new edges only: hit counts of a server's event loop vary with timing (poll wake-ups, partial reads), and
      // queueing every new count bucket filled the queue with noise (a quarter of all cases in a first campaign)
      if (nov.newEdges > 0 && c.reached) {
        const edges = edgeIds(counters);
        this.queue.add({ start: c.start, algorithms: c.algorithms, steps: [...c.executed], newEdges: nov.newEdges, newFeatures: nov.newFeatures, caseIndex: this.ledger.cases, edges },
          Array.from(edges, (i) => `e:${i}`));
      }
    } else {
      const now = performance.now();
      if (now - this.lastMeasure >= MEASURE_EVERY_MS) {
        this.lastMeasure = now;
        this.feedback.observe(this.map.read());
      }
    }
    this.ledger.caseDone(before);
  }

  /** Final read (a black-box campaign's last cases may not have been measured) and close. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.mode === 'blackbox') this.feedback.observe(this.map.read());
    this.ledger.guards = Math.max(this.ledger.guards, this.map.guards());
    this.map.close();
  }
}
