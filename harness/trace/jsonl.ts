/**
 * Decoded JSONL traces (harness/trace/README.md): one line per SSH message, written live from the engine's packet events and
 * by `trace import` from a capture, through the same formatter so both give identical lines.
 *
 * Line: { conn?, time, direction, seq, id, name, fields, deviation?, hex?, error?, redacted? }
 * - time: ms since the epoch, rounded to the microsecond (what a pcap record can hold);
 * - fields: impl/messages decoded fields (bytes as hex, bigint as 0x…), byte fields cut at `maxFieldBytes` (64:
 *   enough to read, cheap for bulk CHANNEL_DATA; `rawHex` keeps whole payloads);
 *   null when the payload does not decode (then `error` says why and `hex` is always present);
 * - secrets (passwords, keyboard-interactive responses, anything named private/secret/passphrase) are replaced
 *   by "[redacted]" unless `unsafeLogSecrets`; a redacted message never carries `hex`, which would leak them.
 */
import { decodeMessage, messageName, toJSONSafe, type JsonValue, type Message } from '../../impl/messages/index.js';
import type { ByteSink } from './byte-sink.js';
import { FileSink } from './byte-sink.js';
import { DecodeContextTracker } from './decode-context.js';
import type { Direction } from './tcp-reassembly.js';

/** The engine's per-message event (payload decrypted, message number first). */
export interface PacketEvent {
  readonly direction: 'in' | 'out';
  readonly seq: number;
  readonly payload: Uint8Array;
  /** When absent (impl's PacketRecord has no time), the writer picks one (see JsonlWriter / TraceSession). */
  readonly timeMs?: number;
  /** Set when the harness injected this message or its framing on purpose (impl/transport/testing.ts). */
  readonly deviation?: string;
}

export interface TraceLine {
  readonly conn?: number;
  readonly time: number;
  readonly direction: Direction;
  readonly seq: number;
  readonly id: number;
  readonly name: string;
  readonly fields: { readonly [key: string]: JsonValue } | null;
  readonly deviation?: string;
  readonly hex?: string;
  readonly error?: string;
  readonly redacted?: true;
}

export interface TraceFormatOptions {
  /** Write passwords and other secrets as they are (`--unsafe-log-secrets`). */
  readonly unsafeLogSecrets?: boolean;
  /** Add the payload as hex to every line (`hex`). */
  readonly rawHex?: boolean;
  /** Byte fields longer than this are cut (with a `…(+N bytes)` note); default 64, Infinity for all. */
  readonly maxFieldBytes?: number;
  /** Connection number to put on every line (per-run files with several connections, imports). */
  readonly connection?: number;
}

export const REDACTED = '[redacted]';
const SECRET_KEY = /password|passphrase|secret|private/i;

/** Stateful per connection: it follows kex and auth to decode method-specific numbers (see decode-context). */
export class MessageFormatter {
  readonly tracker = new DecodeContextTracker();
  private readonly maxField: number;

  constructor(private readonly options: TraceFormatOptions = {}) {
    this.maxField = options.maxFieldBytes ?? 64;
  }

  format(direction: Direction, seq: number, payload: Uint8Array, timeMs: number, deviation?: string): TraceLine {
    const o = this.options;
    const base = {
      ...(o.connection !== undefined ? { conn: o.connection } : {}),
      time: roundToMicroseconds(timeMs),
      direction,
      seq,
    };
    if (payload.length === 0) {
      return { ...base, id: -1, name: 'EMPTY_PAYLOAD', fields: null, ...(deviation ? { deviation } : {}), hex: '', error: 'empty payload: no message number' };
    }
    const id = payload[0]!;
    const ctx = this.tracker.contextFor(direction);
    let m: Message;
    try {
      m = decodeMessage(payload, ctx);
    } catch (e) {
      return { ...base, id, name: messageName(id, ctx), fields: null, ...(deviation ? { deviation } : {}), hex: hex(payload), error: e instanceof Error ? e.message : String(e) };
    }
    this.tracker.observe(direction, m);
    const name = m.type === 'unknown' ? messageName(id, ctx) : m.type;
    const { type: _type, ...rest } = m as Message & { [k: string]: unknown };
    const state = { redacted: false };
    const fields = this.toFields(rest, o.unsafeLogSecrets ? undefined : state) as { [key: string]: JsonValue };
    if (!o.unsafeLogSecrets && m.type === 'SSH_MSG_USERAUTH_INFO_RESPONSE') {
      fields.responses = m.responses.map(() => REDACTED); // RFC 4256 §3.4: the answers are typically passwords
      state.redacted = true;
    }
    return {
      ...base, id, name, fields,
      ...(deviation ? { deviation } : {}),
      ...(o.rawHex && !state.redacted ? { hex: hex(payload) } : {}),
      ...(state.redacted ? { redacted: true as const } : {}),
    };
  }

  /**
   * The line as JSON text: `JSON.stringify(format(...))`, with a direct path for the messages a bulk transfer is made
   * of (see `directFields`): building the same text without the decoded object and the generic walk costs ~1 µs
   * instead of ~12 µs per packet, which is what keeps recording cheap next to a transport that seals a 32 KiB packet
   * in ~35 µs (issue 9: < 15 % cost).
   */
  formatJson(direction: Direction, seq: number, payload: Uint8Array, timeMs: number, deviation?: string, fullLength = payload.length): string {
    const d = this.directFields(payload, fullLength);
    if (d === undefined) return JSON.stringify(this.format(direction, seq, payload, timeMs, deviation));
    const data = d.data === undefined ? '' : `"${this.shownHex(d.data, d.dataLength)}"`;
    return `${this.head(direction, seq, timeMs, payload[0]!, d.name)}${d.fields}${data}}${deviation ? `,"deviation":${JSON.stringify(deviation)}` : ''}}`;
  }

  /**
   * Writes the line and its LF into `sink`, as `writeJsonLine(sink, formatJson(...))` would. The direct-path messages
   * are written as bytes: the fixed parts pre-encoded, integers as digits, data as hex from a table; only the time
   * goes through a string (its shortest round-trip digits are what JSON.stringify writes). No string for the hex and
   * no UTF-8 pass over the line (whose `…` made it a two-byte string): ~1.1–1.3 µs against ~3.2 µs per line for
   * `formatJson` + `writeJsonLine` (measured here), i.e. per 32 KiB CHANNEL_DATA packet of a bulk transfer.
   */
  writeLine(sink: ByteSink, direction: Direction, seq: number, payload: Uint8Array, timeMs: number, deviation?: string, fullLength = payload.length): void {
    const id = payload[0]!;
    const plain = !deviation && !this.options.rawHex && Number.isInteger(seq) && seq >= 0 && seq <= 0xffffffff && Number.isFinite(timeMs);
    const dataLength = plain ? directDataLength(payload, fullLength) : -1;
    if (dataLength < 0) return writeJsonLine(sink, this.formatJson(direction, seq, payload, timeMs, deviation, fullLength));
    const time = String(roundToMicroseconds(timeMs));
    const shown = Math.min(dataLength, this.maxField);
    const start = this.lineStart ??= ascii(`{${this.options.connection !== undefined ? `"conn":${this.options.connection},` : ''}"time":`);
    // ≤ 40 bytes of digits for the four integers, 2 per shown data byte, ≤ 30 for the cut note, braces and LF
    const room = sink.reserve(start.length + time.length + DIRECT_PARTS_MAX + 2 * shown + 80);
    let o = putBytes(room, 0, start);
    o = putAscii(room, o, time);
    o = putBytes(room, o, direction === 'c2s' ? SEQ_AFTER_C2S : SEQ_AFTER_S2C);
    o = putUint(room, o, seq);
    const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    if (id === 93) {
      o = putBytes(room, o, WINDOW_ADJUST_PARTS[0]);
      o = putUint(room, o, v.getUint32(1));
      o = putBytes(room, o, WINDOW_ADJUST_PARTS[1]);
      o = putUint(room, o, v.getUint32(5));
    } else {
      o = putBytes(room, o, id === 94 ? DATA_START : EXTENDED_DATA_START);
      o = putUint(room, o, v.getUint32(1));
      if (id === 95) {
        o = putBytes(room, o, DATA_TYPE_CODE);
        o = putUint(room, o, v.getUint32(5));
      }
      o = putBytes(room, o, DATA_KEY);
      o = putHex(room, o, payload, id === 94 ? 9 : 13, shown);
      if (dataLength > shown) {
        o = putBytes(room, o, CUT_NOTE[0]);
        o = putUint(room, o, dataLength - shown);
        o = putBytes(room, o, CUT_NOTE[1]);
      }
      room[o++] = 0x22; // closing quote of data
    }
    room[o++] = 0x7d; // } of fields
    room[o++] = 0x7d; // } of the line
    room[o++] = 0x0a;
    sink.commit(o);
  }

  /** `{"conn":N,"time":` for this formatter's connection, encoded once. */
  private lineStart: Uint8Array | undefined;

  /**
   * The fields object's text without its closing brace: all of a WINDOW_ADJUST's, or up to `"data":` of a
   * CHANNEL_DATA or CHANNEL_EXTENDED_DATA (RFC 4254 §5.2, `data` then the bytes to show), when the payload is well formed (its data length matches `fullLength`) and raw hex is off; otherwise
   * undefined (the generic path decodes, flags errors, and adds hex).
   */
  private directFields(payload: Uint8Array, fullLength: number): { name: string; fields: string; data?: Uint8Array; dataLength: number } | undefined {
    if (this.options.rawHex) return undefined;
    const len = directDataLength(payload, fullLength);
    if (len < 0) return undefined;
    const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    const id = payload[0];
    if (id === 93) return { name: 'SSH_MSG_CHANNEL_WINDOW_ADJUST', fields: `{"recipientChannel":${v.getUint32(1)},"bytesToAdd":${v.getUint32(5)}`, dataLength: 0 };
    // all of the data, or (fullLength given) at least the shown part
    const data = payload.subarray(id === 94 ? 9 : 13);
    return id === 94
      ? { name: 'SSH_MSG_CHANNEL_DATA', fields: `{"recipientChannel":${v.getUint32(1)},"data":`, data, dataLength: len }
      : { name: 'SSH_MSG_CHANNEL_EXTENDED_DATA', fields: `{"recipientChannel":${v.getUint32(1)},"dataTypeCode":${v.getUint32(5)},"data":`, data, dataLength: len };
  }

  private shownHex(data: Uint8Array, len: number): string {
    return len <= this.maxField ? hex(data.subarray(0, len)) : `${hex(data.subarray(0, this.maxField))}…(+${len - this.maxField} bytes)`;
  }

  /**
   * How many leading bytes of `payload` formatJson needs, given its full length, when that is fewer than all of
   * them: a CHANNEL_DATA/EXTENDED_DATA line shows only the first maxFieldBytes of the data. Lets a caller that
   * must hold a payload until later (TraceSession) keep ~80 bytes instead of a 32 KiB copy.
   */
  static directPrefix(payload: Uint8Array, options: Omit<TraceFormatOptions, 'connection'> = {}): number | undefined {
    const id = payload[0];
    if ((id !== 94 && id !== 95) || options.rawHex) return undefined;
    const head = id === 94 ? 9 : 13;
    if (payload.length < head) return undefined;
    const len = new DataView(payload.buffer, payload.byteOffset, head).getUint32(head - 4);
    const need = head + Math.min(len, options.maxFieldBytes ?? 64);
    return head + len === payload.length && need < payload.length ? need : undefined;
  }

  /** A TraceLine's JSON text up to its `fields` value, keys in JSON.stringify's order. */
  private head(direction: Direction, seq: number, timeMs: number, id: number, name: string): string {
    const conn = this.options.connection;
    return `{${conn !== undefined ? `"conn":${conn},` : ''}"time":${roundToMicroseconds(timeMs)},"direction":"${direction}","seq":${seq},"id":${id},"name":"${name}","fields":`;
  }

  private toFields(v: unknown, redact: { redacted: boolean } | undefined): JsonValue {
    if (v instanceof Uint8Array) {
      if (v.length <= this.maxField) return hex(v);
      return `${hex(v.subarray(0, this.maxField))}…(+${v.length - this.maxField} bytes)`;
    }
    if (Array.isArray(v)) return v.map((x) => this.toFields(x, redact));
    if (v !== null && typeof v === 'object') {
      const out: Record<string, JsonValue> = {};
      for (const [k, x] of Object.entries(v)) {
        if (x === undefined) continue;
        if (redact && SECRET_KEY.test(k)) { out[k] = REDACTED; redact.redacted = true; continue; }
        out[k] = this.toFields(x, redact);
      }
      return out;
    }
    return toJSONSafe(v);
  }
}

/** Writes JSONL from the engine's packet events (the `onPacket` seam), one line per message. */
export class JsonlWriter {
  private readonly formatter: MessageFormatter;
  private closed = false;
  lines = 0;

  constructor(private readonly sink: ByteSink, private readonly role: 'client' | 'server', options: TraceFormatOptions = {}) {
    this.formatter = new MessageFormatter(options);
  }

  static toFile(path: string, role: 'client' | 'server', options?: TraceFormatOptions): JsonlWriter {
    return new JsonlWriter(new FileSink(path, 1 << 20), role, options);
  }

  onPacket(e: PacketEvent): void {
    if (this.closed) return;
    const out = (e.direction === 'out') === (this.role === 'client');
    this.formatter.writeLine(this.sink, out ? 'c2s' : 's2c', e.seq, e.payload, e.timeMs ?? Date.now(), e.deviation);
    this.lines++;
  }

  writeLine(line: TraceLine): void {
    writeJsonLine(this.sink, JSON.stringify(line));
    this.lines++;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sink.close();
  }
}

/** Encodes `text` + LF straight into the sink's buffer (no intermediate Buffer per line). */
export function writeJsonLine(sink: ByteSink, text: string): void {
  const room = sink.reserve(text.length * 3 + 1); // UTF-8 takes at most 3 bytes per UTF-16 code unit
  const n = Buffer.from(room.buffer, room.byteOffset, room.length).write(text);
  room[n] = 0x0a;
  sink.commit(n + 1);
}

/** µs precision, computed the same way as the pcap reader's timestamps so live and imported lines match. */
export function roundToMicroseconds(timeMs: number): number {
  return Math.round(timeMs * 1000) / 1000;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Lowercase hex digit pairs, as Buffer's 'hex' writes them. */
const HEX_DIGITS = new TextEncoder().encode(Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0')).join(''));

/** Writes bytes [from, from + n) of `b` as hex at `o`; returns the offset after them. */
function putHex(out: Uint8Array, o: number, b: Uint8Array, from: number, n: number): number {
  for (let i = from; i < from + n; i++) {
    const x = b[i]! << 1;
    out[o++] = HEX_DIGITS[x]!;
    out[o++] = HEX_DIGITS[x + 1]!;
  }
  return o;
}

/**
 * Data length of a WINDOW_ADJUST (0) or a CHANNEL_DATA / CHANNEL_EXTENDED_DATA whose length field matches
 * `fullLength` (RFC 4254 §5.2); -1 for anything else, which the generic path decodes.
 */
function directDataLength(payload: Uint8Array, fullLength: number): number {
  const id = payload[0];
  if (id === 93) return payload.length === 9 ? 0 : -1;
  if (id !== 94 && id !== 95) return -1;
  const head = id === 94 ? 9 : 13;
  if (payload.length < head) return -1;
  const len = new DataView(payload.buffer, payload.byteOffset, head).getUint32(head - 4);
  return head + len === fullLength ? len : -1;
}

function ascii(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

// The fixed parts of the direct-path lines, in JSON.stringify's key order (TraceLine, then the decoded fields).
const SEQ_AFTER_C2S = ascii(',"direction":"c2s","seq":');
const SEQ_AFTER_S2C = ascii(',"direction":"s2c","seq":');
const WINDOW_ADJUST_PARTS = [ascii(',"id":93,"name":"SSH_MSG_CHANNEL_WINDOW_ADJUST","fields":{"recipientChannel":'), ascii(',"bytesToAdd":')] as const;
const DATA_START = ascii(',"id":94,"name":"SSH_MSG_CHANNEL_DATA","fields":{"recipientChannel":');
const EXTENDED_DATA_START = ascii(',"id":95,"name":"SSH_MSG_CHANNEL_EXTENDED_DATA","fields":{"recipientChannel":');
const DATA_TYPE_CODE = ascii(',"dataTypeCode":');
const DATA_KEY = ascii(',"data":"');
const CUT_NOTE = [ascii('…(+'), ascii(' bytes)')] as const;
const DIRECT_PARTS_MAX = SEQ_AFTER_C2S.length + EXTENDED_DATA_START.length + DATA_TYPE_CODE.length + DATA_KEY.length + CUT_NOTE[0].length + CUT_NOTE[1].length + 40;

function putBytes(out: Uint8Array, o: number, b: Uint8Array): number {
  for (let i = 0; i < b.length; i++) out[o++] = b[i]!;
  return o;
}

/** Decimal digits of an integer 0 ≤ n < 2^53 at `o`; returns the offset after them. */
function putUint(out: Uint8Array, o: number, n: number): number {
  let digits = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
  for (let i = o + digits - 1; i >= o; i--) {
    out[i] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  }
  return o + digits;
}

/** Writes an ASCII string at `o`; returns the offset after it. */
function putAscii(out: Uint8Array, o: number, s: string): number {
  for (let i = 0; i < s.length; i++) out[o++] = s.charCodeAt(i);
  return o;
}
