/**
 * Expectations over one connection's inbox, shared by engine connections, raw connections and the server
 * side of client-direction checks. Each waits a bounded time and ends the check with a verdict when it is not
 * met (`else`, default fail); when met it returns what it saw and moves the connection's cursor past it.
 */
import { DisconnectReason, disconnectReasonName } from '../../impl/errors.js';
import type { JsonValue } from '../../impl/messages/index.js';
import { describeClose, type CloseInfo, type ConnectionRecorder, type InboundMessage } from './evidence.js';
import type { Verdict } from './types.js';
import { VerdictSignal } from './verdict.js';

/**
 * How long an expectation waits by default. `setTimeScale` stretches this and the other default waits of a run
 * (the ping, authentication, the initial key exchange) on a machine so busy that peers answer late: on 2 cores
 * shared with a dozen other processes, answers that take 200 ms take seconds. Explicit `within` values of checks
 * are kept (a silence window that grows only makes a check slower). Live bindings: importers see the new value.
 */
export let DEFAULT_WITHIN_MS = 3000;
export let TIME_SCALE = 1;

export function setTimeScale(k: number): void {
  if (!Number.isFinite(k) || k < 1 || k > 10) throw new RangeError(`time scale must be in [1, 10], got ${k}`);
  TIME_SCALE = k;
  DEFAULT_WITHIN_MS = Math.round(3000 * k);
}
/** Messages that never count as "the peer answered" (RFC 4253 §11.2, §11.3: either may be sent at any time). */
export const NOISE = new Set(['SSH_MSG_IGNORE', 'SSH_MSG_DEBUG']);

export type FieldMatch = JsonValue | readonly JsonValue[];
export type Where = Readonly<Record<string, FieldMatch>>;

export interface ExpectMessageOptions {
  readonly where?: Where;
  readonly within?: number;
  /** Verdict when the message does not come (timeout or close). Default 'fail'. */
  readonly else?: Verdict;
  readonly because?: string;
  /** Look at everything received so far, not only after the cursor (for interleaved channels). */
  readonly anywhere?: boolean;
}

export interface ExpectDisconnectOptions {
  /** Acceptable reason codes (RFC 4250 §4.2.2); empty or undefined: any. */
  readonly reasons?: readonly number[];
  readonly within?: number;
  /** A TCP close without SSH_MSG_DISCONNECT also passes. Default false. */
  readonly allowClose?: boolean;
  readonly else?: Verdict;
  readonly because?: string;
}

/** `PROTOCOL_ERROR`, `SSH_DISCONNECT_MAC_ERROR` or a number → reason code. */
export function reasonCode(r: string | number): number {
  if (typeof r === 'number') return r;
  const key = r.replace(/^SSH_DISCONNECT_/, '') as keyof typeof DisconnectReason;
  const v = DisconnectReason[key];
  if (v === undefined) throw new RangeError(`unknown disconnect reason ${JSON.stringify(r)}`);
  return v;
}

const OPERATORS = new Set(['contains', 'excludes', 'not', 'gte', 'lte', 'matches']);

/**
 * One value against a matcher: a plain value (equality), a list (one of), or an operator object
 * { contains | excludes | not | gte | lte | matches (regexp) }.
 */
export function valueMatches(got: unknown, want: FieldMatch): boolean {
  if (want !== null && typeof want === 'object' && !Array.isArray(want)) {
    const [op, arg] = Object.entries(want)[0] ?? [];
    if (op && OPERATORS.has(op) && Object.keys(want).length === 1) {
      const has = (x: unknown) => (Array.isArray(got) ? got.some((g) => JSON.stringify(g) === JSON.stringify(x)) : typeof got === 'string' && typeof x === 'string' && got.includes(x));
      switch (op) {
        case 'contains': return has(arg);
        case 'excludes': return !has(arg);
        case 'not': return JSON.stringify(got) !== JSON.stringify(arg);
        case 'gte': return typeof got === 'number' && typeof arg === 'number' && got >= arg;
        case 'lte': return typeof got === 'number' && typeof arg === 'number' && got <= arg;
        case 'matches': return typeof got === 'string' && typeof arg === 'string' && new RegExp(arg).test(got);
      }
    }
  }
  const options = Array.isArray(want) ? want : [want];
  return options.some((w) => JSON.stringify(w) === JSON.stringify(got));
}

export function fieldsMatch(fields: InboundMessage['fields'], where: Where | undefined): boolean {
  if (!where) return true;
  if (!fields) return false;
  for (const [k, want] of Object.entries(where)) if (!valueMatches(fields[k], want)) return false;
  return true;
}

function describeWhere(where: Where | undefined): string {
  return where ? ` with ${JSON.stringify(where)}` : '';
}

/** The expectation half of a connection: a recorder (inbox + evidence) and a cursor into the inbox. */
export class Expectations {
  /** Inbox index from which the next expectation looks. */
  cursor = 0;

  constructor(readonly rec: ConnectionRecorder) {}

  get closed(): CloseInfo | undefined {
    return this.rec.inbox.closed;
  }

  note(text: string): void {
    this.rec.note(text);
  }

  protected end(verdict: Verdict, reason: string): never {
    this.rec.verdictNote(verdict, reason);
    throw new VerdictSignal(verdict, reason);
  }

  /** Waits for one of `names` (any other message is skipped). */
  async expectMessage(names: string | readonly string[], o: ExpectMessageOptions = {}): Promise<InboundMessage> {
    const list = typeof names === 'string' ? [names] : names;
    const e = await this.rec.inbox.wait(o.anywhere ? 0 : this.cursor, (m) => list.includes(m.name) && fieldsMatch(m.fields, o.where), o.within ?? DEFAULT_WITHIN_MS);
    if (e.kind === 'message') {
      this.cursor = Math.max(this.cursor, e.m.index + 1);
      return e.m;
    }
    const what = `${list.join(' or ')}${describeWhere(o.where)}`;
    const why = e.kind === 'closed' ? describeClose(e.close) : `nothing within ${o.within ?? DEFAULT_WITHIN_MS} ms`;
    const seen = this.rec.inbox.messages.slice(this.cursor).filter((m) => !NOISE.has(m.name)).map((m) => m.name);
    return this.end(o.else ?? 'fail', `${o.because ? `${o.because}: ` : ''}expected ${what}; ${why}${seen.length ? ` (received ${seen.slice(0, 6).join(', ')})` : ''}`);
  }

  /** The next message that is not IGNORE/DEBUG must be one of `names`. */
  async expectNext(names: string | readonly string[], o: ExpectMessageOptions = {}): Promise<InboundMessage> {
    const list = typeof names === 'string' ? [names] : names;
    const e = await this.rec.inbox.wait(this.cursor, (m) => !NOISE.has(m.name), o.within ?? DEFAULT_WITHIN_MS);
    if (e.kind === 'message' && list.includes(e.m.name) && fieldsMatch(e.m.fields, o.where)) {
      this.cursor = e.m.index + 1;
      return e.m;
    }
    const what = `${list.join(' or ')}${describeWhere(o.where)}`;
    const why = e.kind === 'closed' ? describeClose(e.close) : e.kind === 'timeout' ? `nothing within ${o.within ?? DEFAULT_WITHIN_MS} ms` : `got ${e.m.name} ${JSON.stringify(e.m.fields)?.slice(0, 200)}`;
    return this.end(o.else ?? 'fail', `${o.because ? `${o.because}: ` : ''}expected next ${what}; ${why}`);
  }

  /** Waits for the peer to end the connection: SSH_MSG_DISCONNECT with an acceptable reason (or a close, if allowed). */
  async expectDisconnect(o: ExpectDisconnectOptions = {}): Promise<CloseInfo> {
    const within = o.within ?? DEFAULT_WITHIN_MS;
    const e = await this.rec.inbox.wait(this.cursor, (m) => m.name === 'SSH_MSG_DISCONNECT', within);
    const prefix = o.because ? `${o.because}: ` : '';
    const wanted = o.reasons?.length ? o.reasons.map((r) => `${disconnectReasonName(r)} (${r})`).join(' or ') : 'any reason';
    if (e.kind === 'message') {
      this.cursor = e.m.index + 1;
      const reason = Number(e.m.fields?.['reason']);
      const close: CloseInfo = { kind: 'disconnect', reason, description: String(e.m.fields?.['description'] ?? ''), t: e.m.t };
      if (!o.reasons?.length || o.reasons.includes(reason)) return close;
      return this.end(o.else ?? 'fail', `${prefix}SSH_MSG_DISCONNECT with ${disconnectReasonName(reason)} (${reason}), expected ${wanted}`);
    }
    if (e.kind === 'closed') {
      if (e.close.kind === 'eof' && o.allowClose) return e.close;
      return this.end(o.else ?? 'fail', `${prefix}expected SSH_MSG_DISCONNECT with ${wanted}; ${describeClose(e.close)}`);
    }
    return this.end(o.else ?? 'fail', `${prefix}expected SSH_MSG_DISCONNECT with ${wanted}; the connection was still open after ${within} ms`);
  }

  /**
   * None of `names` may arrive within `within` ms (e.g. the reply that would show a message was processed).
   * The peer closing the connection counts as "did not arrive".
   */
  async expectAbsent(names: readonly string[], o: { within?: number; else?: Verdict; because?: string } = {}): Promise<void> {
    const within = o.within ?? 500;
    const e = await this.rec.inbox.wait(this.cursor, (m) => names.includes(m.name), within);
    if (e.kind !== 'message') return;
    this.end(o.else ?? 'fail', `${o.because ? `${o.because}: ` : ''}received ${e.m.name} ${JSON.stringify(e.m.fields)?.slice(0, 160)}`);
  }

  /** Nothing but IGNORE/DEBUG may arrive for `within` ms (the connection may stay open or not, per `allowClose`). */
  async expectSilence(o: { within?: number; allowClose?: boolean; else?: Verdict; because?: string } = {}): Promise<void> {
    const within = o.within ?? 500;
    const e = await this.rec.inbox.wait(this.cursor, (m) => !NOISE.has(m.name), within);
    if (e.kind === 'timeout') return;
    if (e.kind === 'closed' && o.allowClose !== false) return;
    const what = e.kind === 'message' ? `got ${e.m.name}` : describeClose(e.close);
    return this.end(o.else ?? 'fail', `${o.because ? `${o.because}: ` : ''}expected no reply for ${within} ms; ${what}`);
  }
}
