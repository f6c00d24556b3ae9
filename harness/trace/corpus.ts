/**
 * The replayable corpus entry that `trace import` writes (format documented in harness/trace/README.md).
 * Version 1. Payloads are hex, message number first, in capture order per connection; replaying a side means
 * sending that side's payloads in order. Messages whose secrets were redacted carry no payload.
 */
import type { Direction } from './tcp-reassembly.js';

export const TRACE_CORPUS_VERSION = 1;

export interface CorpusEndpoint {
  readonly ip: string;
  readonly port: number;
}

export interface CorpusMessage {
  readonly time: number;
  readonly direction: Direction;
  readonly seq: number;
  readonly id: number;
  readonly name: string;
  /** Hex payload; absent when redacted. */
  readonly payload?: string;
  readonly redacted?: true;
  /** The message came from decrypting with a keylog (phase 2), not from the unencrypted phase. */
  readonly decrypted?: true;
}

export interface CorpusIssue {
  readonly kind: string;
  readonly message: string;
  readonly direction?: Direction;
  /** Stream offset (for stream issues) or file offset (for file issues). */
  readonly offset?: number;
  /** 0-based pcap record index (tshark frame number − 1). */
  readonly record?: number;
}

export interface CorpusConnection {
  readonly id: number;
  readonly client: CorpusEndpoint;
  readonly server: CorpusEndpoint;
  /** RFC 4253 §4.2 version strings, without CR LF. */
  readonly banners: { readonly client?: string; readonly server?: string };
  readonly preBannerLines?: readonly string[];
  /** True when bytes are missing (gaps, snaplen cuts, capture started mid-connection) or parsing stopped. */
  readonly partial: boolean;
  readonly issues: readonly CorpusIssue[];
  /** Bytes after each direction's NEWKEYS that were not decrypted. */
  readonly encryptedBytes: { readonly c2s: number; readonly s2c: number };
  readonly messages: readonly CorpusMessage[];
  /** Set when `messages` was cut at the importer's limit. */
  readonly messagesTruncated?: true;
}

export interface TraceCorpusEntry {
  readonly kind: 'trace';
  readonly version: typeof TRACE_CORPUS_VERSION;
  readonly source: { readonly pcap: string; readonly records: number; readonly linkType: string; readonly bytes: number };
  readonly partial: boolean;
  readonly issues: readonly CorpusIssue[];
  readonly connections: readonly CorpusConnection[];
}

/** A loose structural check for readers of corpus files (replay, tests). */
export function isTraceCorpusEntry(v: unknown): v is TraceCorpusEntry {
  if (v === null || typeof v !== 'object') return false;
  const o = v as { kind?: unknown; version?: unknown; connections?: unknown };
  return o.kind === 'trace' && o.version === TRACE_CORPUS_VERSION && Array.isArray(o.connections);
}
