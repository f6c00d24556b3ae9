/**
 * Between the learner and the system: answers output queries from the observation tree when it can (the
 * cache, and the sink rule: after the connection closed every further input answers the sink output), asks
 * the system the rest in one batch (which the system may run over parallel connections), and catches
 * non-determinism — an answer that disagrees with a stored one is asked again, decided by majority vote
 * and reported with the diverging traces, or learning stops with a NonDeterminismError rather than a wrong
 * model.
 */
import type { Word } from './mealy.js';
import { ObservationTree } from './observation-tree.js';

/** The system under learning, seen through its mapper: abstract words in, abstract outputs out. */
export interface SystemUnderLearning {
  readonly inputs: readonly string[];
  /** Each word on a fresh reset (a new connection); the batch may run concurrently. */
  query(words: readonly Word[]): Promise<string[][]>;
  /** Outputs after which every input answers `sinkOutput` (the connection is gone). */
  isSink?(output: string): boolean;
  readonly sinkOutput?: string;
}

export interface Divergence {
  readonly word: Word;
  /** Every distinct answer seen for `word`, with how often. */
  readonly answers: readonly { readonly outputs: readonly string[]; readonly count: number }[];
  /** The answer kept (the majority), when one was. */
  readonly kept?: readonly string[];
}

export class NonDeterminismError extends Error {
  constructor(readonly divergence: Divergence) {
    super(`the system answered ${JSON.stringify(divergence.word.join(' '))} in ${divergence.answers.length} different ways and no answer won a majority: ${divergence.answers.map((a) => `${a.count}× ${a.outputs.join(' ')}`).join(' | ')}`);
    this.name = 'NonDeterminismError';
  }
}

export class BudgetExceeded extends Error {
  constructor(what: string) {
    super(`learning budget exhausted: ${what}`);
    this.name = 'BudgetExceeded';
  }
}

export interface TeacherOptions {
  /** Runs of a word whose answer diverged (majority vote over these plus the two that disagreed). Default 5. */
  readonly votes?: number;
  /** Stop (BudgetExceeded) past this wall-clock time (ms since epoch). */
  readonly deadline?: number;
  /** Stop past this many executed queries. */
  readonly maxQueries?: number;
}

export interface TeacherStats {
  /** Words the learner and the equivalence oracle asked (cached or not). */
  queries: number;
  /** Words answered from the tree without touching the system. */
  cacheHits: number;
  /** Words run on the system: each is one reset (a fresh connection). */
  resets: number;
  /** Input symbols sent to the system. */
  symbols: number;
  /** Divergences settled by majority vote. */
  readonly divergences: Divergence[];
}

export class Teacher {
  readonly tree: ObservationTree;
  readonly stats: TeacherStats = { queries: 0, cacheHits: 0, resets: 0, symbols: 0, divergences: [] };
  /** Set when a vote rewrote stored answers: the learner must rebuild its state from the tree. */
  rewritten = false;
  private readonly votes: number;

  constructor(readonly sul: SystemUnderLearning, private readonly opts: TeacherOptions = {}) {
    this.tree = new ObservationTree(sul.inputs);
    this.votes = opts.votes ?? 5;
  }

  /** Answers every word, in order. */
  async outputs(words: readonly Word[]): Promise<string[][]> {
    this.stats.queries += words.length;
    let first = true;
    // a vote may drop answers stored earlier in the batch (they were observed below a corrected output): ask again
    for (let pass = 0; pass < 4; pass++) {
      const missing: Word[] = [];
      const seen = new Set<string>();
      for (const w of words) {
        if (this.known(w)) { if (first) this.stats.cacheHits++; continue; }
        const key = w.join('\u0000');
        if (!seen.has(key)) { seen.add(key); missing.push(w); }
      }
      first = false;
      if (missing.length === 0) break;
      await this.ask(dropPrefixes(missing));
    }
    return words.map((w) => this.known(w) ?? this.fail(w));
  }

  async output(w: Word): Promise<string[]> {
    return (await this.outputs([w]))[0]!;
  }

  /** What the tree (with the sink rule) already says about `w`, or undefined. */
  known(w: Word): string[] | undefined {
    const o = this.tree.outputs(w);
    if (o.length === w.length) return o;
    const sink = this.sul.isSink;
    const k = sink ? o.findIndex((x) => sink(x)) : -1;
    if (k < 0) return undefined;
    const filled = [...o, ...new Array<string>(w.length - o.length).fill(this.sul.sinkOutput ?? o[k]!)];
    this.tree.insert(w, filled);
    return filled;
  }

  private fail(w: Word): never {
    // answers kept changing under repeated votes: report the last divergence seen
    const last = this.stats.divergences[this.stats.divergences.length - 1];
    throw new NonDeterminismError(last ? { word: last.word, answers: last.answers } : { word: [...w], answers: [] });
  }

  private checkBudget(n: number): void {
    if (this.opts.deadline !== undefined && Date.now() > this.opts.deadline) throw new BudgetExceeded('time');
    if (this.opts.maxQueries !== undefined && this.stats.resets + n > this.opts.maxQueries) throw new BudgetExceeded(`${this.opts.maxQueries} queries`);
  }

  private async run(words: readonly Word[]): Promise<string[][]> {
    this.checkBudget(words.length);
    const o = await this.sul.query(words);
    this.stats.resets += words.length;
    for (const w of words) this.stats.symbols += w.length;
    return o;
  }

  private async ask(words: readonly Word[]): Promise<void> {
    const answers = await this.run(words);
    for (let k = 0; k < words.length; k++) {
      const c = this.tree.insert(words[k]!, answers[k]!);
      if (c) await this.vote(words[k]!, c.stored, answers[k]!);
    }
  }

  /** Two answers disagree: ask `votes` more times and keep the majority, or stop. */
  private async vote(w: Word, stored: readonly string[], observed: readonly string[]): Promise<void> {
    const runs = await this.run(new Array<Word>(this.votes).fill(w));
    const counts = new Map<string, { outputs: readonly string[]; count: number }>();
    // the stored answer may be shorter (it answered a prefix): it votes on the prefix it covers
    const cut = (o: readonly string[]): string[] => o.slice(0, stored.length);
    for (const o of [stored, cut(observed), ...runs.map(cut)]) {
      const key = o.join('\u0000');
      const e = counts.get(key);
      if (e) e.count++; else counts.set(key, { outputs: o, count: 1 });
    }
    const answers = [...counts.values()].sort((a, b) => b.count - a.count);
    const total = this.votes + 2;
    const best = answers[0]!;
    if (best.count * 2 <= total) throw new NonDeterminismError({ word: [...w], answers });
    const full = [observed, ...runs].find((o) => cut(o).join('\u0000') === best.outputs.join('\u0000'))!;
    this.stats.divergences.push({ word: [...w], answers, kept: best.outputs });
    this.tree.overwrite(w, full);
    this.rewritten = true;
  }
}

/** Words that are a prefix of another word in the batch are answered by the longer one. */
function dropPrefixes(words: readonly Word[]): Word[] {
  const keys = new Set(words.map((w) => w.join('\u0000') + '\u0000'));
  return words.filter((w) => {
    const k = w.join('\u0000') + '\u0000';
    for (const other of keys) if (other !== k && other.startsWith(k)) return false;
    return true;
  });
}
