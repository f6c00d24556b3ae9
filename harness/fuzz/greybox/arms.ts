/**
 * How a grey-box campaign splits its cases between fresh ones (the fast-check case arbitrary, as black-box runs)
 * and mutants of queue entries. A fixed half each wasted cases either way: early, mutants of the first entries
 * find new code in most cases (another kex method, MAC or cipher is a large edge set of its own); later, in a
 * server like OpenSSH, the rare fresh case that gets a whole rare structure right (a publickey request with a
 * certificate the server trusts, for the right account) finds more than mutants of entries whose neighbourhood
 * is exhausted, and a grey-box half that ran only half as many fresh cases reached less of that code than a
 * black-box campaign of the same length.
 *
 * So each arm's yield is measured, and the split follows it: the share of fresh cases is each arm's rate of
 * novel cases (cases that reached an edge no case had) over its recent cases, normalised, and kept within
 * [MIN_SHARE, 1 - MIN_SHARE] so neither arm stops being measured. The fleet's sessions share one scheduler.
 */

export type Arm = 'fresh' | 'mutant';

/** Neither arm gets less than this share of cases. */
export const MIN_SHARE = 0.2;
/** Recent cases per arm the rate is taken over. */
const WINDOW = 400;

class RecentRate {
  private readonly outcomes = new Uint8Array(WINDOW);
  private n = 0;
  private novel = 0;

  add(isNovel: boolean): void {
    const i = this.n % WINDOW;
    if (this.n >= WINDOW) this.novel -= this.outcomes[i]!;
    this.outcomes[i] = isNovel ? 1 : 0;
    this.novel += this.outcomes[i]!;
    this.n++;
  }

  /** Novel cases per case, with one novel and one plain case of prior (a new arm is worth trying). */
  get rate(): number {
    return (this.novel + 1) / (Math.min(this.n, WINDOW) + 2);
  }
}

/** Cases an arm ran in the whole campaign, and how many of them reached new edges (for the report). */
export interface ArmTotals { readonly cases: number; readonly novel: number }

export class ArmScheduler {
  private readonly rates: Record<Arm, RecentRate> = { fresh: new RecentRate(), mutant: new RecentRate() };
  private readonly totals: Record<Arm, { cases: number; novel: number }> = { fresh: { cases: 0, novel: 0 }, mutant: { cases: 0, novel: 0 } };

  /** The share of cases fresh ones get now. */
  get freshShare(): number {
    const f = this.rates.fresh.rate;
    const m = this.rates.mutant.rate;
    return Math.min(1 - MIN_SHARE, Math.max(MIN_SHARE, f / (f + m)));
  }

  /** The arm for a draw `u` uniform in [0, 1) (from fast-check, so a seed still decides the sequence). */
  choose(u: number): Arm {
    return u < this.freshShare ? 'fresh' : 'mutant';
  }

  record(arm: Arm, isNovel: boolean): void {
    this.rates[arm].add(isNovel);
    this.totals[arm].cases++;
    if (isNovel) this.totals[arm].novel++;
  }

  summary(): Readonly<Record<Arm, ArmTotals>> {
    return { fresh: { ...this.totals.fresh }, mutant: { ...this.totals.mutant } };
  }
}
