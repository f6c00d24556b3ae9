/**
 * Decoded JSONL traces (DESIGN §6): one line per SSH message, written live from the engine's packet events and
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
  /** Set when the harness injected this message or its framing on purpose (DESIGN §3). */
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
   * The line as JSON text: `JSON.stringify(format(...))`, with a direct path for CHANNEL_DATA and
   * CHANNEL_EXTENDED_DATA (RFC 4254 §5.2), and WINDOW_ADJUST, the messages a bulk transfer is made of: building the same text without
   * the decoded object and the generic walk costs ~1 µs instead of ~12 µs per packet, which is what keeps
   * recording cheap next to a transport that seals a 32 KiB packet in ~35 µs (issue 9: < 15 % cost).
   */
  formatJson(direction: Direction, seq: number, payload: Uint8Array, timeMs: number, deviation?: string, fullLength = payload.length): string {
    const o = this.options;
    const id = payload[0];
    if (id === 93 && payload.length === 9 && !o.rawHex) {
      // CHANNEL_WINDOW_ADJUST (RFC 4254 §5.2): the other half of a bulk transfer
      const v = new DataView(payload.buffer, payload.byteOffset, 9);
      return this.line(direction, seq, timeMs, id, 'SSH_MSG_CHANNEL_WINDOW_ADJUST', `{"recipientChannel":${v.getUint32(1)},"bytesToAdd":${v.getUint32(5)}}`, deviation);
    }
    if ((id === 94 || id === 95) && !o.rawHex && payload.length >= (id === 94 ? 9 : 13)) {
      const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
      const head = id === 94 ? 9 : 13;
      const len = v.getUint32(head - 4);
      if (head + len === fullLength) {
        const data = payload.subarray(head); // all of it, or (fullLength given) at least the shown part
        const shown = len <= this.maxField ? hex(data.subarray(0, len)) : `${hex(data.subarray(0, this.maxField))}…(+${len - this.maxField} bytes)`;
        const fields = id === 94
          ? `{"recipientChannel":${v.getUint32(1)},"data":"${shown}"}`
          : `{"recipientChannel":${v.getUint32(1)},"dataTypeCode":${v.getUint32(5)},"data":"${shown}"}`;
        return this.line(direction, seq, timeMs, id, id === 94 ? 'SSH_MSG_CHANNEL_DATA' : 'SSH_MSG_CHANNEL_EXTENDED_DATA', fields, deviation);
      }
    }
    return JSON.stringify(this.format(direction, seq, payload, timeMs, deviation));
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

  /** The text JSON.stringify gives a TraceLine, keys in the same order, from parts that are already JSON. */
  private line(direction: Direction, seq: number, timeMs: number, id: number, name: string, fields: string, deviation: string | undefined): string {
    const conn = this.options.connection;
    return `{${conn !== undefined ? `"conn":${conn},` : ''}"time":${roundToMicroseconds(timeMs)},"direction":"${direction}","seq":${seq},` +
      `"id":${id},"name":"${name}","fields":${fields}${deviation ? `,"deviation":${JSON.stringify(deviation)}` : ''}}`;
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
    writeJsonLine(this.sink, this.formatter.formatJson(out ? 'c2s' : 's2c', e.seq, e.payload, e.timeMs ?? Date.now(), e.deviation));
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
