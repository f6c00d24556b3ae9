/**
 * The calls of a trace session as ring records (shared-ring.ts), so the recording thread only copies bytes and
 * the trace worker replays the calls into TraceWriters.
 *
 * Record body: op u8 | dir u8 | 0 | 0 | conn u32 | n u32 | 0 | time f64 | seq f64 (32 bytes; seq is a double because
 * deviation events carry -1), then op-specific parts:
 * BYTES: n packet ends (u32 each) and the bytes; PACKET: n bytes of deviation text (utf8) and the payload;
 * CONN: n bytes of JSON (ConnectionSetup).
 */
import type { RingBuffers, RingProducer } from './shared-ring.js';
import type { ConnectionSetup, TraceWriters } from './trace-writers.js';
import type { Direction } from './pcap-writer.js';

const Op = { CONN: 1, OPEN: 2, BYTES: 3, CLOSE: 4, PACKET: 5 } as const;
const HDR = 32;
const enc = new TextEncoder();
const dec = new TextDecoder();

export class OpWriter {
  private readonly data: Uint8Array;
  private readonly view: DataView;
  /** Records dropped because the worker failed or stalled past the wait limit. */
  dropped = 0;

  constructor(private readonly ring: RingProducer, bufs: RingBuffers) {
    this.data = new Uint8Array(bufs.data);
    this.view = new DataView(bufs.data);
  }

  connection(id: number, setup: ConnectionSetup): void {
    const json = enc.encode(JSON.stringify(setup));
    const at = this.begin(Op.CONN, id, 0, 0, json.length, 0, json.length);
    if (at < 0) return;
    this.data.set(json, at + HDR);
    this.ring.commit();
  }

  open(id: number, timeMs: number): void {
    if (this.begin(Op.OPEN, id, 0, 0, 0, timeMs, 0) >= 0) this.ring.commit();
  }

  close(id: number, timeMs: number): void {
    if (this.begin(Op.CLOSE, id, 0, 0, 0, timeMs, 0) >= 0) this.ring.commit();
  }

  bytes(id: number, dir: Direction, bytes: Uint8Array, timeMs: number, packetEnds?: readonly number[]): void {
    if (bytes.length === 0) return;
    const ends = packetEnds ?? [];
    const room = this.ring.maxRecord - HDR - 4 * ends.length;
    if (room < 1) return this.bytes(id, dir, bytes, timeMs); // absurdly many marks: drop the marks, keep the bytes
    // A chunk larger than a record goes in pieces (each piece then starts its own TCP segment).
    for (let start = 0; start < bytes.length; start += room) {
      const piece = bytes.subarray(start, start + room);
      const pieceEnds = ends.filter((e) => e > start && e <= start + piece.length).map((e) => e - start);
      const at = this.begin(Op.BYTES, id, dir === 'c2s' ? 0 : 1, 0, pieceEnds.length, timeMs, 4 * pieceEnds.length + piece.length);
      if (at < 0) return;
      let o = at + HDR;
      for (const e of pieceEnds) { this.view.setUint32(o, e, true); o += 4; }
      this.data.set(piece, o);
      this.ring.commit();
    }
  }

  packet(id: number, out: boolean, seq: number, payload: Uint8Array, timeMs: number, deviation?: string): void {
    const dev = deviation === undefined ? new Uint8Array(0) : enc.encode(deviation);
    if (HDR + dev.length + payload.length > this.ring.maxRecord) { this.dropped++; return; }
    const at = this.begin(Op.PACKET, id, out ? 1 : 0, seq, dev.length, timeMs, dev.length + payload.length);
    if (at < 0) return;
    this.data.set(dev, at + HDR);
    this.data.set(payload, at + HDR + dev.length);
    this.ring.commit();
  }

  /** Reserves and writes the header; returns the body offset or -1 (dropped). */
  private begin(op: number, conn: number, dir: number, seq: number, n: number, timeMs: number, extra: number): number {
    const at = this.ring.reserve(HDR + extra);
    if (at < 0) { this.dropped++; return -1; }
    const v = this.view;
    v.setUint8(at, op);
    v.setUint8(at + 1, dir);
    v.setUint32(at + 4, conn, true);
    v.setUint32(at + 8, n, true);
    v.setFloat64(at + 16, timeMs, true);
    v.setFloat64(at + 24, seq, true);
    return at;
  }
}

/** Applies one record (body at `at`, `len` bytes) to the writers. Views into the ring are not kept. */
export function applyOp(w: TraceWriters, data: Uint8Array, view: DataView, at: number, len: number): void {
  const op = view.getUint8(at);
  const dir = view.getUint8(at + 1);
  const conn = view.getUint32(at + 4, true);
  const n = view.getUint32(at + 8, true);
  const time = view.getFloat64(at + 16, true);
  const seq = view.getFloat64(at + 24, true);
  const body = at + HDR, end = at + len;
  switch (op) {
    case Op.CONN:
      w.connection(conn, JSON.parse(dec.decode(data.subarray(body, body + n))) as ConnectionSetup);
      break;
    case Op.OPEN:
      w.open(conn, time);
      break;
    case Op.CLOSE:
      w.close(conn, time);
      break;
    case Op.BYTES: {
      const ends: number[] = [];
      for (let i = 0; i < n; i++) ends.push(view.getUint32(body + 4 * i, true));
      w.bytes(conn, dir === 0 ? 'c2s' : 's2c', data.subarray(body + 4 * n, end), time, ends.length ? ends : undefined);
      break;
    }
    case Op.PACKET: {
      const deviation = n > 0 ? dec.decode(data.subarray(body, body + n)) : undefined;
      w.packet(conn, dir === 1, seq, data.subarray(body + n, end), time, deviation);
      break;
    }
    default:
      throw new Error(`trace ring: unknown op ${op}`);
  }
}
