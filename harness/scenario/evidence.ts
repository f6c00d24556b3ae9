/**
 * What a check saw: every message of every connection it made, decoded with the same formatter as the JSONL
 * traces (harness/trace/jsonl.ts), plus the check's own notes. The inbound half also feeds an `Inbox`, which
 * expectations wait on.
 */
import { disconnectReasonName } from '../../impl/errors.js';
import type { JsonValue } from '../../impl/messages/index.js';
import { MessageFormatter } from '../trace/jsonl.js';
import type { EvidenceLine, Verdict } from './types.js';

/** Evidence fields stay valid JSON for the report's ladder diagrams: long lists and strings are cut inside the value. */
const MAX_FIELDS_CHARS = 2000;

function shorten(v: JsonValue, list: number, text: number): JsonValue {
  if (typeof v === 'string') return v.length > text ? `${v.slice(0, text)}…` : v;
  if (Array.isArray(v)) {
    const kept = v.slice(0, list).map((x) => shorten(x, list, text));
    return v.length > list ? [...kept, `…(+${v.length - list})`] : kept;
  }
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shorten(x, list, text)]));
  return v;
}

/** Decoded fields as JSON of at most MAX_FIELDS_CHARS characters (cut inside values, so it still parses, when it can). */
export function compactFieldsJson(fields: { readonly [key: string]: JsonValue }): string {
  // lists shrink first: the first names of a name-list are what negotiation uses (RFC 4253 §7.1)
  for (const [list, text] of [[Infinity, Infinity], [8, 120], [4, 64], [3, 64], [2, 64], [1, 64], [1, 16]] as const) {
    const s = JSON.stringify(list === Infinity ? fields : shorten(fields as JsonValue, list, text));
    if (s.length <= MAX_FIELDS_CHARS) return s;
  }
  return `${JSON.stringify(fields).slice(0, MAX_FIELDS_CHARS)}…`;
}

/** Byte fields in evidence are cut to this many bytes (the JSONL trace has them in full). */
const EVIDENCE_FIELD_BYTES = 48;
/** A check that loops must not grow its evidence without bound. */
const MAX_EVIDENCE_LINES = 2000;
/** Nor may a flooding peer grow an inbox without bound: later messages are counted, not kept. */
const MAX_INBOX_MESSAGES = 50_000;

export interface InboundMessage {
  readonly index: number;
  readonly t: number;
  readonly seq: number;
  readonly id: number;
  readonly name: string;
  readonly fields: { readonly [key: string]: JsonValue } | null;
  readonly payload: Uint8Array;
}

export type CloseInfo =
  /** The peer sent SSH_MSG_DISCONNECT (RFC 4253 §11.1). */
  | { readonly kind: 'disconnect'; readonly reason: number; readonly description: string; readonly t: number }
  /** TCP closed (FIN/RST) without a DISCONNECT. */
  | { readonly kind: 'eof'; readonly t: number }
  /** Our side gave up: the peer sent something our engine rejected (it then sent a DISCONNECT itself). */
  | { readonly kind: 'local'; readonly message: string; readonly t: number };

export function describeClose(c: CloseInfo): string {
  if (c.kind === 'disconnect') return `peer sent SSH_MSG_DISCONNECT ${disconnectReasonName(c.reason)} (${c.reason}) ${JSON.stringify(c.description.slice(0, 120))}`;
  if (c.kind === 'eof') return 'peer closed the TCP connection without SSH_MSG_DISCONNECT';
  return `our side disconnected: ${c.message}`;
}

export type InboxEvent =
  | { readonly kind: 'message'; readonly m: InboundMessage }
  | { readonly kind: 'closed'; readonly close: CloseInfo }
  | { readonly kind: 'timeout' };

interface Waiter {
  readonly from: number;
  readonly pred: (m: InboundMessage) => boolean;
  readonly resolve: (e: InboxEvent) => void;
  readonly timer: NodeJS.Timeout;
}

/** Inbound messages of one connection, in order, and how it ended. Waits are bounded by their timeout. */
export class Inbox {
  readonly messages: InboundMessage[] = [];
  closed: CloseInfo | undefined;
  /** Messages received past MAX_INBOX_MESSAGES (not kept). */
  overflow = 0;
  private waiters: Waiter[] = [];

  push(m: Omit<InboundMessage, 'index'>): InboundMessage {
    const msg = { ...m, index: this.messages.length };
    if (this.messages.length >= MAX_INBOX_MESSAGES) { this.overflow++; return msg; }
    this.messages.push(msg);
    for (const w of [...this.waiters]) if (msg.index >= w.from && w.pred(msg)) this.settle(w, { kind: 'message', m: msg });
    return msg;
  }

  close(info: CloseInfo): void {
    if (this.closed) return;
    this.closed = info;
    for (const w of [...this.waiters]) this.settle(w, { kind: 'closed', close: info });
  }

  /** The first message at index ≥ `from` matching `pred`; else the close; else a timeout after `timeoutMs`. */
  wait(from: number, pred: (m: InboundMessage) => boolean, timeoutMs: number): Promise<InboxEvent> {
    const seen = this.messages.slice(from).find(pred);
    if (seen) return Promise.resolve({ kind: 'message', m: seen });
    if (this.closed) return Promise.resolve({ kind: 'closed', close: this.closed });
    return new Promise((resolve) => {
      const w: Waiter = { from, pred, resolve, timer: setTimeout(() => this.settle(w, { kind: 'timeout' }), Math.max(0, timeoutMs)) };
      this.waiters.push(w);
    });
  }

  /** Ends every wait now (the check is over). */
  abandon(): void {
    for (const w of [...this.waiters]) this.settle(w, { kind: 'timeout' });
  }

  private settle(w: Waiter, e: InboxEvent): void {
    clearTimeout(w.timer);
    this.waiters = this.waiters.filter((x) => x !== w);
    w.resolve(e);
  }
}

/** The evidence of one check run: lines from all its connections, in time order. */
export class Evidence {
  readonly lines: EvidenceLine[] = [];
  private readonly start = Date.now();
  private dropped = 0;

  now(): number {
    return Date.now() - this.start;
  }

  note(conn: number, text: string): void {
    this.add({ t: this.now(), conn, dir: 'note', text });
  }

  add(line: EvidenceLine): void {
    if (this.lines.length >= MAX_EVIDENCE_LINES) { this.dropped++; return; }
    this.lines.push(line);
  }

  /** Lines as recorded, plus a final note when some were left out. */
  snapshot(): EvidenceLine[] {
    return this.dropped > 0 ? [...this.lines, { t: this.now(), conn: 0, dir: 'note', text: `${this.dropped} more lines not kept` }] : [...this.lines];
  }
}

/**
 * One connection's recorder: decodes each payload in context (kex method, userauth method) and writes it to
 * the evidence; inbound messages also go to the inbox. `ours` is the role our side plays.
 */
export class ConnectionRecorder {
  readonly inbox = new Inbox();
  private readonly formatter = new MessageFormatter({ maxFieldBytes: EVIDENCE_FIELD_BYTES });
  /** Trace tap (JSONL) for every payload, when the run records traces. */
  tap: ((direction: 'in' | 'out', seq: number, payload: Uint8Array, deviation?: string) => void) | undefined;

  constructor(readonly evidence: Evidence, readonly conn: number, private readonly ours: 'client' | 'server') {}

  packet(direction: 'in' | 'out', seq: number, payload: Uint8Array, deviation?: string): void {
    this.tap?.(direction, seq, payload, deviation);
    const t = this.evidence.now();
    const wireDir = (direction === 'out') === (this.ours === 'client') ? 'c2s' : 's2c';
    const line = this.formatter.format(wireDir, seq, payload, Date.now(), deviation);
    const fields = line.fields ? compactFieldsJson(line.fields) : line.error ? `undecodable: ${line.error}` : undefined;
    this.evidence.add({
      t, conn: this.conn, dir: wireDir, seq, text: line.name,
      ...(fields !== undefined ? { fields } : {}),
      ...(deviation ? { deviation } : {}),
    });
    if (direction === 'in') this.inbox.push({ t, seq, id: payload[0] ?? -1, name: line.name, fields: line.fields, payload });
  }

  note(text: string): void {
    this.evidence.note(this.conn, text);
  }

  /** The note a check ends with, marked as the point where its expectation failed (or held). */
  verdictNote(verdict: Verdict, reason: string): void {
    this.evidence.add({ t: this.evidence.now(), conn: this.conn, dir: 'note', text: `${verdict}: ${reason}`, verdict });
  }

  close(info: CloseInfo): void {
    if (this.inbox.closed) return;
    this.note(describeClose(info));
    this.inbox.close(info);
  }
}
