/**
 * Surviving a server's connection defences during long campaigns. Real servers refuse connections on purpose:
 * Dropbear allows a few unauthenticated connections per source address (MAX_UNAUTH_PER_IP), OpenSSH drops
 * connections past MaxStartups and, since 9.8, refuses addresses that earned PerSourcePenalties. Such a
 * refusal is the server working as configured, not a dead peer: the campaign backs off (exponentially,
 * bounded), runs fewer fresh connections at once, and goes on. Only a peer that stays unreachable for the
 * grace period (60 s by default) ends the campaign.
 *
 * A refusal looks like: the TCP connect fails (reset, refused, timed out); the connection closes (or stays
 * silent) before the peer sent a single byte — servers send their identification line first (RFC 4253 §4.2),
 * so no byte means it never served us; or the peer's only words are a connection-limit text ("Too many …",
 * "Exceeded MaxStartups", "penalty", "Not allowed at this time").
 */

/**
 * Connection-limit wording servers use in a pre-version line, a DISCONNECT or an error (case-insensitive); not
 * "Too many authentication failures", which is a per-connection limit our cases earn (OpenSSH MaxAuthTries).
 */
const LIMIT_TEXT = /too many (?:unauthenticated |concurrent |simultaneous )?(?:connections|sessions|clients|users)|maxstartups|penalt|not allowed at this time|connection limit|rate limit|try again later/i;

/** Errors and close reasons that mean the peer did not serve the connection at all. */
const REFUSED_TEXT = /ECONNRESET|ECONNREFUSED|ECONNABORTED|EPIPE|ETIMEDOUT|timed out|socket hang up|before the version exchange|no byte from the peer/i;

export type RefusalKind = 'connect-failed' | 'closed-before-version' | 'banner-timeout' | 'limit-text';

export interface Refusal {
  readonly kind: RefusalKind;
  readonly detail: string;
}

/** What the pool knows about a connection once its first case is over. */
export interface ConnectionOutcome {
  /** Bytes the peer sent on it. */
  readonly bytesRead: number;
  /** The start of what it sent (latin1, a few hundred bytes): OpenSSH writes "Exceeded MaxStartups" and closes. */
  readonly firstText: string;
  /** The connection is over. */
  readonly closed: boolean;
  /** Our own engine ended it (it judged bytes invalid): says nothing about the peer's limits. */
  readonly closedByUs: boolean;
  /** Why it ended, as our engine saw it (DISCONNECT description, socket error). */
  readonly closeText?: string;
  /** How long it had been open, ms. */
  readonly ageMs: number;
}

/** The peer's identification line (RFC 4253 §4.2), after any other lines a server may send first. */
const VERSION_LINE = /(?:^|\n)SSH-/;

/** A connection this long without a byte from the peer counts as a banner timeout (servers speak first). */
export const BANNER_WAIT_MS = 2000;

/**
 * 'served' when the peer spoke on the connection (even if it then rejected our input), a Refusal when it
 * never did or only said it is over a limit, undefined when the connection tells nothing (we ended it early).
 */
export function classifyOutcome(o: ConnectionOutcome): Refusal | 'served' | undefined {
  const said = o.firstText.replace(/\s+/g, ' ').trim().slice(0, 120);
  if (!VERSION_LINE.test(o.firstText) && LIMIT_TEXT.test(o.firstText)) return { kind: 'limit-text', detail: said };
  if (o.closeText !== undefined && LIMIT_TEXT.test(o.closeText)) return { kind: 'limit-text', detail: o.closeText };
  if (VERSION_LINE.test(o.firstText)) return 'served';
  if (o.closed && !o.closedByUs) return { kind: 'closed-before-version', detail: `closed before the version exchange (${said ? `it said ${JSON.stringify(said)}` : 'no byte from the peer'})` };
  if (o.bytesRead > 0) return undefined;
  if (!o.closed && o.ageMs >= BANNER_WAIT_MS) return { kind: 'banner-timeout', detail: `no identification line from the peer in ${(o.ageMs / 1000).toFixed(1)} s` };
  return undefined;
}

/** Classifies a failed connect or a failed liveness login from its message. */
export function classifyText(text: string): Refusal | undefined {
  if (LIMIT_TEXT.test(text)) return { kind: 'limit-text', detail: text };
  if (/cannot connect|connect to .* timed out|ECONNREFUSED|ECONNRESET/i.test(text)) return { kind: 'connect-failed', detail: text };
  if (REFUSED_TEXT.test(text)) return { kind: 'closed-before-version', detail: text };
  return undefined;
}

export interface BackoffOptions {
  /** Fresh connections at once to start with (the campaign's concurrency). */
  readonly parallelism: number;
  /** First back-off delay (default 250 ms); doubles per refusal in a row. */
  readonly baseMs?: number;
  /** Longest single back-off (default 8 s). */
  readonly maxMs?: number;
  /** How long the peer may stay unreachable before the campaign ends (default 60 s). */
  readonly graceMs?: number;
  /** Served connections in a row before the parallelism goes up by one again (default 10). */
  readonly recoverAfter?: number;
  /** Clock (tests). */
  readonly now?: () => number;
}

export interface ParallelismChange {
  readonly atMs: number;
  readonly from: number;
  readonly to: number;
  readonly why: string;
}

export interface BackoffStats {
  /** Connections the peer refused (see Refusal). */
  readonly refusals: number;
  readonly byKind: Readonly<Partial<Record<RefusalKind, number>>>;
  /** Back-off windows opened. */
  readonly backoffs: number;
  /** Time inside back-off windows (overlaps counted once), ms. */
  readonly totalBackoffMs: number;
  readonly parallelism: { readonly start: number; readonly min: number; readonly end: number };
  readonly changes: readonly ParallelismChange[];
  /** The longest stretch without a served connection, ms. */
  readonly longestOutageMs: number;
  readonly lastRefusal?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Back-off state shared by a campaign's workers and its peer watch: when fresh connections may start, how
 * many at once, and how long the peer has gone without serving one.
 */
export class ConnectionGovernor {
  readonly graceMs: number;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly recoverAfter: number;
  private readonly clock: () => number;
  private readonly t0: number;
  private readonly startParallelism: number;
  private cap: number;
  private minCap: number;
  private inFlight = 0;
  private readonly waiters: (() => void)[] = [];
  private inARow = 0;
  private servedInARow = 0;
  private resumeAt = 0;
  private windowEnd = 0;
  private backoffMs = 0;
  private backoffs = 0;
  private refusals = 0;
  private readonly kinds: Partial<Record<RefusalKind, number>> = {};
  private readonly changes: ParallelismChange[] = [];
  private lastServed: number;
  private longestOutage = 0;
  private lastRefusal: string | undefined;
  /** Called with each refusal (the pool drops its idle unauthenticated connections: they count against the limit). */
  onRefusalHook: ((r: Refusal) => void) | undefined;

  constructor(o: BackoffOptions) {
    this.clock = o.now ?? (() => performance.now());
    this.baseMs = o.baseMs ?? 250;
    this.maxMs = o.maxMs ?? 8000;
    this.graceMs = o.graceMs ?? 60_000;
    this.recoverAfter = o.recoverAfter ?? 10;
    this.startParallelism = this.cap = this.minCap = Math.max(1, o.parallelism);
    this.t0 = this.lastServed = this.clock();
  }

  get parallelism(): number { return this.cap; }

  /** Time since the peer last served a connection, ms. */
  outageMs(): number { return this.clock() - this.lastServed; }

  /** Milliseconds since the peer last served a connection, when that is past the grace period. */
  unreachableFor(): number | undefined {
    const out = this.outageMs();
    return this.refusals > 0 && out >= this.graceMs ? out : undefined;
  }

  /** Waits for the back-off window to pass and for a slot under the current parallelism; pair with done(). */
  async admit(): Promise<void> {
    for (;;) {
      const wait = this.resumeAt - this.clock();
      if (wait > 0) { await sleep(wait); continue; }
      if (this.inFlight < this.cap) { this.inFlight++; return; }
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  /** A slot from admit() is free again. */
  done(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.waiters.shift()?.();
  }

  /** The peer served a connection: the back-off resets, and parallelism creeps back up. */
  served(): void {
    const now = this.clock();
    this.longestOutage = Math.max(this.longestOutage, now - this.lastServed);
    this.lastServed = now;
    this.inARow = 0;
    if (++this.servedInARow >= this.recoverAfter && this.cap < this.startParallelism) {
      this.servedInARow = 0;
      this.change(this.cap + 1, `${this.recoverAfter} connections served in a row`);
      this.waiters.shift()?.();
    }
  }

  /** The peer refused a connection: back off (exponential, bounded) and halve the parallelism. */
  refused(r: Refusal): void {
    const now = this.clock();
    this.refusals++;
    this.kinds[r.kind] = (this.kinds[r.kind] ?? 0) + 1;
    this.lastRefusal = `${r.kind}: ${r.detail}`;
    this.servedInARow = 0;
    // refusals of connections that started together are one event: only one past the open window doubles the delay
    if (now >= this.resumeAt) {
      this.inARow++;
      const delay = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(this.inARow - 1, 20));
      this.backoffs++;
      this.resumeAt = now + delay;
      // overlapping windows count once
      this.backoffMs += this.resumeAt - Math.max(now, this.windowEnd);
      this.windowEnd = this.resumeAt;
      if (this.cap > 1) this.change(Math.max(1, Math.floor(this.cap / 2)), r.kind);
    }
    this.onRefusalHook?.(r);
  }

  private change(to: number, why: string): void {
    if (to === this.cap) return;
    this.changes.push({ atMs: Math.round(this.clock() - this.t0), from: this.cap, to, why });
    this.cap = to;
    this.minCap = Math.min(this.minCap, to);
  }

  stats(): BackoffStats {
    return {
      refusals: this.refusals, byKind: { ...this.kinds }, backoffs: this.backoffs, totalBackoffMs: Math.round(this.backoffMs),
      parallelism: { start: this.startParallelism, min: this.minCap, end: this.cap },
      changes: this.changes.slice(0, 200),
      longestOutageMs: Math.round(Math.max(this.longestOutage, this.refusals > 0 ? this.outageMs() : 0)),
      ...(this.lastRefusal ? { lastRefusal: this.lastRefusal } : {}),
    };
  }
}

/** One line for progress output, empty when the peer never refused anything. */
export function backoffLine(s: BackoffStats): string {
  if (s.refusals === 0) return '';
  return `${s.refusals} refused, ${s.backoffs} back-offs (${(s.totalBackoffMs / 1000).toFixed(1)} s), parallelism ${s.parallelism.start}→${s.parallelism.end} (min ${s.parallelism.min})`;
}

/** Markdown lines for the campaign report. */
export function backoffMarkdown(s: BackoffStats): string[] {
  if (s.refusals === 0) return ['- connection limits: the peer refused no connection'];
  const kinds = Object.entries(s.byKind).map(([k, n]) => `${n}× ${k}`).join(', ');
  const out = [
    `- connection limits: ${s.refusals} connections refused (${kinds}); ${s.backoffs} back-offs, ${(s.totalBackoffMs / 1000).toFixed(1)} s backing off; longest outage ${(s.longestOutageMs / 1000).toFixed(1)} s`,
    `- parallelism: ${s.parallelism.start} at start, ${s.parallelism.min} at least, ${s.parallelism.end} at the end (${s.changes.length} changes${s.changes.length ? `: ${s.changes.slice(0, 8).map((c) => `${(c.atMs / 1000).toFixed(1)} s ${c.from}→${c.to}`).join(', ')}${s.changes.length > 8 ? ', …' : ''}` : ''})`,
  ];
  if (s.lastRefusal) out.push(`- last refusal: ${s.lastRefusal}`);
  return out;
}

const esc = (t: string): string => t.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** An HTML fragment (a heading and a list) for an HTML campaign report. */
export function backoffHtml(s: BackoffStats): string {
  return `<h2>Connection limits</h2><ul>${backoffMarkdown(s).map((l) => `<li>${esc(l.replace(/^- /, ''))}</li>`).join('')}</ul>`;
}
