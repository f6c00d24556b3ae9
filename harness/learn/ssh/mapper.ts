/**
 * The SSH mapper: the system under learning is a peer reached through a fuzz target (any registered server
 * peer, `tcp://`, or `self` in-process), and each query is a fresh connection (the reset) brought to the
 * alphabet's start state, then one abstract input at a time, each followed by collecting the replies.
 *
 * Waiting for replies is what a query costs over TCP, so the wait ends on evidence where it can: once both
 * directions run on finished-exchange keys, every input is followed by a probe (an unassigned message number
 * the peer must answer with UNIMPLEMENTED carrying the probe's sequence number, RFC 4253 §11.4); a peer that
 * processes its input in order has sent everything the input caused before that answer, so the wait ends
 * with a positive reply instead of a timeout. Before that (inside the initial strict kex, where any other
 * message would end the connection) the mapper waits until the connection has been quiet for T, chosen per
 * peer and per input: 2.5 times the slowest first reply seen for that input (the calibration run measures
 * the kex method message and the probe round trip under learning's load), raised when a slower reply shows
 * up. The rest of a reply's burst gets T again: a peer may compute between two messages of one answer
 * (paramiko sends NEWKEYS well after KEX_ECDH_REPLY), and a shorter gap split such answers. A closed
 * connection ends the wait at once, and every later input answers CONN_CLOSED without being sent.
 * In-process (`self`) the link runs to quiescence on a simulated clock: no waiting at all.
 */
import { generateHostKey } from '../../../impl/crypto/hostkey/index.js';
import type { PrivateKey } from '../../../impl/crypto/types.js';
import { MessageId } from '../../../impl/messages/index.js';
import { CaseRun } from '../../fuzz/executor.js';
import type { FuzzTarget, Link } from '../../fuzz/link.js';
import type { Phase } from '../../fuzz/steps.js';
import type { Alphabet, Start } from '../alphabet.js';
import type { Word } from '../mealy.js';
import type { SystemUnderLearning } from '../teacher.js';
import { INPUTS, type InputContext } from './inputs.js';
import { abstractOutput, CONN_CLOSED, isSinkOutput } from './outputs.js';
import { LearnSession } from './session.js';
import { QuietLink } from './quiet-link.js';
import { SelfLink } from '../../fuzz/self/self-target.js';

export class ResetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResetError';
  }
}

export interface MapperOptions {
  readonly alphabet: Alphabet;
  /** Connections at once (default: the target's own bound, at most 4). */
  readonly parallel?: number;
  /** A fixed quiet time T in ms instead of the calibrated one. */
  readonly waitMs?: number;
  /** Never probe (wait T after every input). */
  readonly noProbe?: boolean;
  /** Called after every finished query. */
  readonly onQuery?: () => void;
}

export interface MapperStats {
  /** Inputs sent (locally answered ones excluded). */
  inputs: number;
  /** Waits ended by the probe's UNIMPLEMENTED. */
  probeEnded: number;
  /** Waits ended by the connection closing. */
  closeEnded: number;
  /** Waits that ran the full quiet time T (no evidence to end them earlier). */
  quietWaits: number;
  /** Probes that got no answer within their bound. */
  probesLost: number;
  /** Resets that failed and were retried. */
  resetRetries: number;
  /** Quiet time T in ms now (the largest over the inputs), and what calibration measured. */
  waitMs: number;
  calibration?: { readonly kexReplyMs: number; readonly probeRttMs: number; readonly probeAnswered: boolean; readonly probeInOrder: boolean };
  /** T was raised during learning because a reply came late. */
  raises: number;
  /** Whether strict kex was negotiated in the key exchanges the queries completed (undefined: none completed). */
  strictKex?: boolean;
}

const START_PHASE: Readonly<Record<Exclude<Start, 'connected'>, Phase>> = { 'kex-done': 'newkeys', userauth: 'userauth', authenticated: 'authenticated' };
const RESET_BUDGET_MS = 10_000;
const MIN_WAIT_MS = 40;
const MAX_WAIT_MS = 3000;

export class SshMapper implements SystemUnderLearning {
  readonly inputs: readonly string[];
  readonly sinkOutput = CONN_CLOSED;
  readonly stats: MapperStats;
  readonly parallel: number;
  private probeWorks: boolean;
  /** The peer answers the probe after an authentication reply (false: it checks credentials asynchronously). */
  private probeAfterAuth = true;
  private readonly spareKey: PrivateKey;
  private readonly inProcess: boolean;
  /** Slowest first reply seen per input (ms); T for an input derives from it. */
  private readonly slowest = new Map<string, number>();
  private baseMs = 16;

  constructor(readonly target: FuzzTarget, private readonly o: MapperOptions) {
    this.inputs = [...o.alphabet.inputs];
    this.inProcess = target.kind === 'in-process';
    // waits dominate a query, not CPU: 8 connections at once, below OpenSSH's MaxStartups (10) and within the target's own bound
    this.parallel = Math.max(1, o.parallel ?? Math.min(8, target.concurrency ?? 8));
    this.probeWorks = !o.noProbe;
    this.spareKey = generateHostKey('ssh-ed25519');
    this.stats = { inputs: 0, probeEnded: 0, closeEnded: 0, quietWaits: 0, probesLost: 0, resetRetries: 0, waitMs: o.waitMs ?? 0, raises: 0 };
  }

  isSink(o: string): boolean {
    return isSinkOutput(o);
  }

  // ───────────────────────────── one connection ─────────────────────────────

  private async open(): Promise<LearnSession> {
    let last: unknown;
    for (let attempt = 0; attempt < 4; attempt++) {
      if (attempt > 0) { this.stats.resetRetries++; await sleep(50 * 2 ** attempt); }
      let link: Link | undefined;
      try {
        const start = this.o.alphabet.start;
        link = await this.target.connect({ kex: [...this.o.alphabet.kex] }, undefined, start === 'connected' ? 'kex' : START_PHASE[start]);
        if (link instanceof SelfLink) link = new QuietLink(link);
        const s = new LearnSession(link);
        if (await this.reset(s)) return s;
        const c = link.client;
        last = new ResetError(`could not reach the alphabet's start state "${start}"${c.closed ? `: ${c.closed.error.message}` : ' (no answer)'}`);
      } catch (e) {
        last = e;
      }
      link?.close();
    }
    throw last instanceof ResetError ? last : new ResetError(`cannot reset the peer: ${(last as Error)?.message ?? String(last)}`);
  }

  /** Brings a fresh connection to the start state; its traffic up to there is not an output. */
  private async reset(s: LearnSession): Promise<boolean> {
    const start = this.o.alphabet.start;
    if (start === 'connected') {
      // our version line goes out, our KEXINIT waits for the KEXINIT input; the peer's KEXINIT is part of the reset
      s.engine.testing.holdKexMessages(true);
      s.client.start(s.link.now());
      await s.link.settle(() => s.peerKexInits > 0 || !s.alive, RESET_BUDGET_MS);
      if (s.peerKexInits === 0 || !s.alive) return false;
      s.beginLearning();
      return true;
    }
    const run = new CaseRun(s.link, { ...this.target, budgets: { stepMs: RESET_BUDGET_MS, probeMs: RESET_BUDGET_MS } });
    if (!(await run.reach(START_PHASE[start]))) return false;
    s.beginLearning();
    // what trails the reference prefix (EXT_INFO, OpenSSH's host key announcement) is not the first input's output
    await this.collect(s);
    s.take();
    return s.alive;
  }

  private context(s: LearnSession): InputContext {
    return {
      credentials: this.target.credentials,
      spareKey: this.spareKey,
      settle: (until, ms) => s.link.settle(() => until() || !s.alive, ms ?? RESET_BUDGET_MS),
    };
  }

  /** T for an input: fixed by the user, or 2.5 × the slowest first reply seen for it (at least 40 ms). */
  private waitFor(input: string | undefined): number {
    if (this.o.waitMs !== undefined) return this.o.waitMs;
    const seen = Math.max(this.baseMs, input === undefined ? 0 : this.slowest.get(input) ?? 0);
    return Math.min(MAX_WAIT_MS, Math.max(MIN_WAIT_MS, Math.ceil(2.5 * seen)));
  }

  /** Waits for everything the last input caused (see the file comment). */
  private async collect(s: LearnSession, input?: string): Promise<void> {
    if (this.inProcess) { await s.link.settle(() => false, 0); return; }
    const t0 = s.link.now();
    if (this.probeWorks && s.canProbe && (this.probeAfterAuth || !input?.startsWith('USERAUTH_'))) {
      s.probe();
      await s.link.settle(() => s.probeAnswered || !s.alive, Math.max(1000, 10 * this.waitFor(input)));
      if (s.probeAnswered) {
        this.stats.probeEnded++;
        // what the input's first reply took: T for this input when a later wait cannot probe
        const first = s.firstAt;
        if (first !== undefined) this.observe(input, first - t0, Infinity);
        return;
      }
      if (!s.alive) { this.stats.closeEnded++; return; }
      this.stats.probesLost++;
      return;
    }
    const T = this.waitFor(input);
    let first = true;
    for (;;) {
      const n = s.received;
      await s.link.settle(() => s.received > n || !s.alive, T);
      if (!s.alive) { this.stats.closeEnded++; return; }
      if (s.received === n) { this.stats.quietWaits++; return; }
      if (first) { first = false; this.observe(input, s.link.now() - t0, T); }
    }
  }

  /** A first reply to `input` came after `ms`: T for that input follows the slowest (counted when it was near T). */
  private observe(input: string | undefined, ms: number, T: number): void {
    if (input === undefined) return;
    if (ms > (this.slowest.get(input) ?? 0)) this.slowest.set(input, ms);
    if (ms > 0.75 * T) this.stats.raises++;
    this.stats.waitMs = Math.max(this.stats.waitMs, this.waitFor(input));
  }

  async runWord(word: Word): Promise<string[]> {
    const s = await this.open();
    try {
      const cx = this.context(s);
      const out: string[] = [];
      for (const x of word) {
        if (!s.alive) { out.push(CONN_CLOSED); continue; }
        const local = await INPUTS[x]!.run(s, cx);
        if (typeof local === 'string') { out.push(local); continue; }
        this.stats.inputs++;
        const opening = x === 'CHANNEL_OPEN' ? s.channel : undefined;
        await this.collect(s, x);
        // a CHANNEL_OPEN the peer did not answer as one (UNIMPLEMENTED before authentication, silence) opened nothing
        if (opening && opening.state === 'opening') opening.state = 'failed';
        const closed = s.alive ? undefined : s.client.closed?.byUs ? 'local' : 'peer';
        out.push(abstractOutput(s.take(), s.kexShape, closed));
      }
      if (s.engine.negotiated) this.stats.strictKex = s.engine.strictKex || (this.stats.strictKex ?? false);
      return out;
    } finally {
      s.link.close();
      this.o.onQuery?.();
    }
  }

  async query(words: readonly Word[]): Promise<string[][]> {
    const results: string[][] = new Array(words.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < words.length) {
        const k = next++;
        results[k] = await this.runWord(words[k]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.parallel, words.length) }, worker));
    return results;
  }

  // ───────────────────────────── calibration ─────────────────────────────

  /**
   * Measures, on reference handshakes, how long the peer takes to answer our kex method message and a probe,
   * and whether it answers a probe after an authentication reply (in order), with as many connections at once
   * as learning uses: the probe's round trip is the floor of every input's T, the kex reply that of the kex
   * inputs; a peer that does not answer probes is never probed, one that answers a probe before an
   * authentication reply (credentials checked asynchronously) is not probed after authentication inputs.
   */
  async calibrate(rounds = 2): Promise<void> {
    if (this.inProcess) { this.stats.waitMs = 0; return; }
    let kexReplyMs = 0, probeRttMs = 0, probeInOrder = true, probeAnswered = true;
    // as many handshakes at once as learning will run: the latencies under that load are the ones that matter
    const one = async (): Promise<void> => {
      const link = await this.target.connect({ kex: [...this.o.alphabet.kex] }, undefined, 'kex');
      const s = new LearnSession(link);
      try {
        s.engine.testing.holdKexMessages(true);
        s.client.start(link.now());
        await link.settle(() => s.peerKexInits > 0 || !s.alive, RESET_BUDGET_MS);
        s.beginLearning();
        s.release(MessageId.KEXINIT);
        const t0 = link.now();
        s.release(30);
        await link.settle(() => s.held(MessageId.NEWKEYS) || !s.alive, RESET_BUDGET_MS);
        if (!s.held(MessageId.NEWKEYS)) throw new ResetError(`calibration: the peer did not complete a key exchange with ${this.o.alphabet.kex.join(', ')}${s.client.closed ? `: ${s.client.closed.error.message}` : ''}`);
        kexReplyMs = Math.max(kexReplyMs, link.now() - t0);
        s.release(MessageId.NEWKEYS);
        await link.settle(() => s.canProbe || !s.alive, RESET_BUDGET_MS);
        s.take();
        const t1 = link.now();
        s.probe();
        await link.settle(() => s.probeAnswered || !s.alive, 2000);
        if (!s.probeAnswered) { probeAnswered = false; return; }
        probeRttMs = Math.max(probeRttMs, link.now() - t1);
        // an authentication reply must come before the probe's answer (a peer checking passwords asynchronously would not)
        s.sendRaw({ type: 'SSH_MSG_SERVICE_REQUEST', service: 'ssh-userauth' });
        s.probe();
        await link.settle(() => s.probeAnswered || !s.alive, 2000);
        s.sendRaw({ type: 'SSH_MSG_USERAUTH_REQUEST', user: this.target.credentials.user, service: 'ssh-connection', method: 'password', changePassword: false, password: 'wrong-password-calibration' });
        s.probe();
        await link.settle(() => s.probeAnswered || !s.alive, 3000);
        const ids = s.take().map((r) => r.payload[0]);
        if (s.alive && !ids.includes(MessageId.USERAUTH_FAILURE)) probeInOrder = false;
      } finally {
        link.close();
      }
    };
    for (let r = 0; r < rounds; r++) await Promise.all(Array.from({ length: this.parallel }, one));
    this.baseMs = Math.max(this.baseMs, probeRttMs);
    for (const x of ['KEX_ECDH_INIT', 'REKEY']) this.slowest.set(x, kexReplyMs);
    this.stats.waitMs = this.waitFor('KEX_ECDH_INIT');
    if (!probeAnswered) this.probeWorks = false;
    // a peer that answers a probe before an authentication reply is probed after every other input
    if (!probeInOrder) this.probeAfterAuth = false;
    this.stats.calibration = { kexReplyMs, probeRttMs, probeAnswered, probeInOrder };
  }

  get probing(): boolean {
    return this.probeWorks;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
