/**
 * Small pcap surgery for tests and the benchmark: split a classic little-endian pcap into records, reorder,
 * drop, duplicate or cut them, re-wrap frames in another link type, and join them back. Works only on files
 * this module or PcapWriter wrote (LE, µs); not a general pcap library.
 */
import { GLOBAL_HEADER_LEN, RECORD_HEADER_LEN } from './pcap-format.js';

/** A copy even when `b` is a Buffer (whose own `slice` returns a view). */
const copy = (b: Uint8Array, start = 0, end = b.length): Uint8Array => Uint8Array.prototype.slice.call(b, start, end);

export interface RawRecord {
  /** The 16-byte record header. */
  readonly header: Uint8Array;
  readonly data: Uint8Array;
}

export interface SplitPcap {
  readonly globalHeader: Uint8Array;
  readonly records: RawRecord[];
}

export function splitPcap(file: Uint8Array): SplitPcap {
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const records: RawRecord[] = [];
  let o = GLOBAL_HEADER_LEN;
  while (o + RECORD_HEADER_LEN <= file.length) {
    const cap = v.getUint32(o + 8, true);
    records.push({ header: copy(file, o, o + RECORD_HEADER_LEN), data: copy(file, o + RECORD_HEADER_LEN, o + RECORD_HEADER_LEN + cap) });
    o += RECORD_HEADER_LEN + cap;
  }
  return { globalHeader: copy(file, 0, GLOBAL_HEADER_LEN), records };
}

/** Joins records; each record header's captured length is set from its data (original length kept). */
export function joinPcap(p: SplitPcap, linkType?: number): Uint8Array {
  const gh = copy(p.globalHeader);
  if (linkType !== undefined) new DataView(gh.buffer).setUint32(20, linkType, true);
  const parts: Uint8Array[] = [gh];
  for (const r of p.records) {
    const h = copy(r.header);
    const hv = new DataView(h.buffer);
    const orig = hv.getUint32(12, true);
    hv.setUint32(8, r.data.length, true);
    if (orig < r.data.length) hv.setUint32(12, r.data.length, true);
    parts.push(h, r.data);
  }
  const out = Buffer.concat(parts);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** A record whose frame lost its last `n` bytes to the snaplen (original length unchanged). */
export function cutRecord(r: RawRecord, keep: number): RawRecord {
  return { header: r.header, data: copy(r.data, 0, keep) };
}

/** A record whose frame is `prefix` + `frame.subarray(strip)` (re-wraps the link layer), lengths adjusted. */
export function rewrapRecord(r: RawRecord, strip: number, prefix: Uint8Array): RawRecord {
  const data = copy(Buffer.concat([prefix, r.data.subarray(strip)]));
  const h = copy(r.header);
  const v = new DataView(h.buffer);
  v.setUint32(12, v.getUint32(12, true) - strip + prefix.length, true);
  return { header: h, data };
}
