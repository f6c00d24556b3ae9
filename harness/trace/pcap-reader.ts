/**
 * Reads classic libpcap files with **pcap-parser** (mandated by issue 9) and adds what it lacks:
 * file offsets for every record, bounded record lengths, a clear error for pcapng and unknown magics,
 * nanosecond-resolution files, and detection of a truncated last record (pcap-parser just stops).
 *
 * Bad input never throws out of the parser's event handlers: problems become a `PcapFormatError` (rejected
 * promise) or, for a truncated tail, a flagged result the caller can still use.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createRequire } from 'node:module';
import { DecodeError } from '../../impl/errors.js';
import { GLOBAL_HEADER_LEN, PCAP_MAGIC_NS, PCAP_MAGIC_US, PCAPNG_MAGIC, RECORD_HEADER_LEN } from './pcap-format.js';

const require = createRequire(import.meta.url);

/** The untyped CommonJS module's surface that we use. */
interface PcapParserModule {
  parse(input: string | NodeJS.ReadableStream): ParserEmitter;
}
interface ParserEmitter {
  on(event: 'globalHeader', f: (h: RawGlobalHeader) => void): this;
  on(event: 'packetHeader', f: (h: RawPacketHeader) => void): this;
  on(event: 'packet', f: (p: { header: RawPacketHeader; data: Buffer }) => void): this;
  on(event: 'error', f: (e: Error) => void): this;
  on(event: 'end', f: () => void): this;
}
interface RawGlobalHeader {
  magicNumber: number; majorVersion: number; minorVersion: number; gmtOffset: number;
  timestampAccuracy: number; snapshotLength: number; linkLayerType: number;
}
interface RawPacketHeader { timestampSeconds: number; timestampMicroseconds: number; capturedLength: number; originalLength: number }

const pcapParser = require('pcap-parser') as PcapParserModule;

/** A malformed pcap file; `offset` is the file offset of the bad field. */
export class PcapFormatError extends DecodeError {}

export interface PcapHeader {
  readonly linkType: number;
  readonly snaplen: number;
  readonly version: string;
  readonly nanosecond: boolean;
  readonly byteOrder: 'LE' | 'BE';
}

export interface PcapRecord {
  /** 0-based record number (tshark's frame number minus one). */
  readonly index: number;
  /** File offset of the record header. */
  readonly offset: number;
  /** Capture time, ms since the epoch, at the file's resolution (integer µs or ns divided down). */
  readonly timeMs: number;
  readonly originalLength: number;
  /** Captured bytes; shorter than `originalLength` when the snaplen cut the packet. */
  readonly data: Uint8Array;
}

export interface PcapReadResult {
  readonly header: PcapHeader;
  readonly records: number;
  readonly bytes: number;
  /** Set when the file ends inside a record: everything before it was delivered. */
  readonly truncated?: { readonly offset: number; readonly message: string };
}

export interface PcapReadOptions {
  /** Largest record accepted; larger means a corrupt length field (framing is lost). Default 256 KiB. */
  readonly maxRecordLength?: number;
  /** Throw PcapFormatError on a truncated tail instead of flagging it. */
  readonly strict?: boolean;
  /** Read block size; large blocks keep pcap-parser's buffer joins rare. */
  readonly blockSize?: number;
}

export const MAX_RECORD_LENGTH = 256 * 1024;

/**
 * Streams the records of a pcap file (path or bytes) to `onRecord`, in file order.
 * `onHeader` sees the global header before any record. Rejects with PcapFormatError on malformed input.
 */
export function readPcap(
  source: string | Uint8Array,
  onRecord: (r: PcapRecord) => void,
  onHeader?: (h: PcapHeader) => void,
  options: PcapReadOptions = {},
): Promise<PcapReadResult> {
  const maxRecord = options.maxRecordLength ?? MAX_RECORD_LENGTH;
  return (async () => {
    const total = typeof source === 'string' ? (await stat(source)).size : source.length;
    if (total < GLOBAL_HEADER_LEN) throw new PcapFormatError(`not a pcap file: ${total} bytes, shorter than the ${GLOBAL_HEADER_LEN}-byte global header`, total);
    // In memory: the global header goes as a copy (the magic may be patched below) and the rest as a view.
    const stream: Readable = typeof source === 'string'
      ? createReadStream(source, { highWaterMark: options.blockSize ?? 1 << 20 })
      : Readable.from([Buffer.from(source.subarray(0, GLOBAL_HEADER_LEN)), Buffer.from(source.buffer, source.byteOffset + GLOBAL_HEADER_LEN, source.byteLength - GLOBAL_HEADER_LEN)]);
    return run(stream, total, maxRecord, options.strict ?? false, onRecord, onHeader);
  })();
}

function run(
  stream: Readable, total: number, maxRecord: number, strict: boolean,
  onRecord: (r: PcapRecord) => void, onHeader?: (h: PcapHeader) => void,
): Promise<PcapReadResult> {
  return new Promise((resolve, reject) => {
    let header: PcapHeader | undefined;
    let nanosecond = false;
    let byteOrder: 'LE' | 'BE' = 'LE';
    let first = true;
    let failure: Error | undefined;
    let offset = GLOBAL_HEADER_LEN; // of the next record header
    let index = 0;
    let pending: RawPacketHeader | undefined;

    const fail = (e: Error): void => {
      if (failure) return;
      failure = e;
      stream.destroy();
    };

    // Registered before pcap-parser's own listener, so it sees (and may patch) the first block first.
    stream.on('data', (chunk: Buffer) => {
      if (!first) return;
      first = false;
      const le = chunk.readUInt32LE(0), be = chunk.readUInt32BE(0);
      byteOrder = be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS ? 'BE' : 'LE';
      if (le === PCAPNG_MAGIC || be === PCAPNG_MAGIC) {
        fail(new PcapFormatError('pcapng files are not supported (pcap-parser reads classic pcap); convert with `editcap -F pcap IN OUT` or capture with `tshark -F pcap`', 0));
      } else if (le === PCAP_MAGIC_NS || be === PCAP_MAGIC_NS) {
        // Same layout with a nanosecond fraction: show pcap-parser the µs magic and divide by 1e6 ourselves.
        nanosecond = true;
        if (le === PCAP_MAGIC_NS) chunk.writeUInt32LE(PCAP_MAGIC_US, 0); else chunk.writeUInt32BE(PCAP_MAGIC_US, 0);
      } else if (le !== PCAP_MAGIC_US && be !== PCAP_MAGIC_US) {
        fail(new PcapFormatError(`not a pcap file: unknown magic number 0x${be.toString(16).padStart(8, '0')}`, 0));
      }
    });

    const parser = pcapParser.parse(stream);
    parser.on('error', (e) => {
      // pcap-parser reports bad magic/version this way (and fs errors); it pauses the stream, so stop it.
      fail(/^(unknown magic|unsupported version)/.test(e.message) ? new PcapFormatError(`not a pcap file: ${e.message}`, /version/.test(e.message) ? 4 : 0) : e);
    });
    parser.on('globalHeader', (h) => {
      if (failure) return;
      const version = `${h.majorVersion}.${h.minorVersion}`;
      if (h.majorVersion !== 2) return fail(new PcapFormatError(`unsupported pcap version ${version}`, 4));
      header = {
        linkType: h.linkLayerType & 0x0fffffff, // upper bits: FCS length flags (pcap spec §5)
        snaplen: h.snapshotLength,
        version,
        nanosecond,
        byteOrder,
      };
      onHeader?.(header);
    });
    parser.on('packetHeader', (h) => {
      if (failure) return;
      if (h.capturedLength > maxRecord) {
        return fail(new PcapFormatError(`record ${index}: captured length ${h.capturedLength} exceeds the ${maxRecord}-byte limit (corrupt file?)`, offset + 8));
      }
      if (h.capturedLength > h.originalLength) {
        return fail(new PcapFormatError(`record ${index}: captured length ${h.capturedLength} exceeds original length ${h.originalLength}`, offset + 8));
      }
      const frac = nanosecond ? 1e9 : 1e6;
      if (h.timestampMicroseconds >= frac) {
        return fail(new PcapFormatError(`record ${index}: timestamp fraction ${h.timestampMicroseconds} out of range`, offset + 4));
      }
      pending = h;
    });
    parser.on('packet', (p) => {
      if (failure || !pending) return;
      const h = pending;
      pending = undefined;
      // Exact integers in µs (or ns), divided once: the same value the writer side computes (see jsonl).
      // (ns since the epoch exceed 2^53, so nanosecond files add the fraction separately.)
      const timeMs = nanosecond
        ? h.timestampSeconds * 1000 + h.timestampMicroseconds / 1e6
        : (h.timestampSeconds * 1e6 + h.timestampMicroseconds) / 1000;
      const rec: PcapRecord = { index, offset, timeMs, originalLength: h.originalLength, data: p.data };
      offset += RECORD_HEADER_LEN + h.capturedLength;
      index++;
      try {
        onRecord(rec);
      } catch (e) {
        fail(e instanceof Error ? e : new Error(String(e)));
      }
    });

    stream.on('close', () => {
      if (failure) return reject(failure);
      if (!header) return reject(new PcapFormatError('not a pcap file: no global header', 0));
      let truncated: PcapReadResult['truncated'];
      if (offset < total) {
        const message = pending
          ? `file ends inside record ${index}: ${pending.capturedLength} bytes announced at offset ${offset}, ${total - offset - RECORD_HEADER_LEN} present`
          : `file ends inside the header of record ${index} at offset ${offset} (${total - offset} of ${RECORD_HEADER_LEN} bytes)`;
        if (strict) return reject(new PcapFormatError(`truncated pcap: ${message}`, offset));
        truncated = { offset, message };
      }
      resolve({ header, records: index, bytes: total, ...(truncated ? { truncated } : {}) });
    });
    stream.on('error', (e) => fail(e));
  });
}
