/**
 * `trace import`: pcap (via pcap-parser) → frames → TCP streams → SSH version strings and binary packets →
 * decoded JSONL lines (the same formatter as live traces) and a replayable corpus entry (corpus.ts).
 *
 * Without decryption the messages end at each direction's SSH_MSG_NEWKEYS; the encrypted bytes after it are
 * counted. Decryption with a keylog plugs in through `decryptor` (phase 2, once the transport engine exposes
 * its packet decoder): the factory sees everything the unencrypted phase revealed, which is what an exchange
 * hash needs (version strings, both KEXINITs, the kex messages), and turns encrypted bytes into packets.
 *
 * Bad input never throws past `importPcap`'s promise: a malformed file rejects with PcapFormatError{offset};
 * a truncated file, cut packets, gaps and unparsable streams give a result flagged `partial` with issues.
 */
import { basename } from 'node:path';
import { decodeFrame } from './frame-decoder.js';
import { linkTypeName } from './pcap-format.js';
import { readPcap, type PcapHeader, type PcapReadOptions } from './pcap-reader.js';
import { TcpReassembler, type Direction, type ReassemblyOptions, type TcpConnection } from './tcp-reassembly.js';
import { SshStreamSplitter, defaultSplitterLimits, type SplitterLimits } from './ssh-stream.js';
import { MessageFormatter, type TraceFormatOptions, type TraceLine } from './jsonl.js';
import { TRACE_CORPUS_VERSION, type CorpusConnection, type CorpusIssue, type CorpusMessage, type TraceCorpusEntry } from './corpus.js';

/** What a decryptor gets when a connection's first encrypted byte arrives. */
export interface UnencryptedPhase {
  readonly connection: number;
  readonly banners: { readonly client?: string; readonly server?: string };
  /** Unencrypted packets of both directions in capture order; keeps growing while one side is still unencrypted. */
  readonly packets: readonly { readonly direction: Direction; readonly seq: number; readonly payload: Uint8Array }[];
  /** Tells the importer that a direction cannot be decrypted further, and why (becomes a connection issue). */
  report?(direction: Direction, message: string): void;
}

export interface DecryptedPacket {
  /** Reading one direction can release packets of the other (their keys were waiting for it). */
  readonly direction: Direction;
  readonly seq: number;
  readonly payload: Uint8Array;
  readonly timeMs: number;
}

/** Phase 2 seam: turns one connection's post-NEWKEYS bytes into packets. */
export interface StreamDecryptor {
  /** Bytes of `direction` after its NEWKEYS, in stream order; returns the packets now readable (either direction). */
  push(direction: Direction, bytes: Uint8Array, timeMs: number): readonly DecryptedPacket[];
}
export type DecryptorFactory = (phase: UnencryptedPhase) => StreamDecryptor | undefined;

export interface ImportOptions extends Omit<TraceFormatOptions, 'connection'> {
  /** Each decoded line as soon as it is known (capture order). */
  readonly onLine?: (line: TraceLine) => void;
  /** Keep the lines in the result too. */
  readonly collectLines?: boolean;
  /** Per connection, the corpus keeps at most this many messages (default 100000). */
  readonly maxCorpusMessages?: number;
  readonly decryptor?: DecryptorFactory;
  readonly pcap?: PcapReadOptions;
  readonly reassembly?: ReassemblyOptions;
  readonly splitter?: SplitterLimits;
}

export interface ImportStats {
  readonly records: number;
  readonly bytes: number;
  readonly tcpSegments: number;
  readonly skippedFrames: number;
  readonly malformedFrames: number;
  readonly messages: number;
  readonly decodeErrors: number;
  /** TCP connections without an SSH version string in either direction (other protocols): left out of the corpus. */
  readonly otherConnections: number;
}

export interface ImportResult {
  readonly header: PcapHeader;
  readonly corpus: TraceCorpusEntry;
  readonly stats: ImportStats;
  readonly lines?: readonly TraceLine[];
}

const MAX_FILE_ISSUES = 1000;
const MAX_CONN_ISSUES = 100;

class ConnectionImport {
  readonly formatter: MessageFormatter;
  readonly splitters: { readonly c2s: SshStreamSplitter; readonly s2c: SshStreamSplitter };
  readonly banners: { client?: string; server?: string } = {};
  readonly preBannerLines: string[] = [];
  readonly issues: CorpusIssue[] = [];
  readonly messages: CorpusMessage[] = [];
  readonly packets: { direction: Direction; seq: number; payload: Uint8Array }[] = [];
  messagesTruncated = false;
  stopped = false;
  /** A decryptor was given but could not decrypt everything. */
  undecrypted = false;
  private decryptor: StreamDecryptor | null | undefined; // undefined: not asked yet; null: none
  private readonly started = { c2s: false, s2c: false };
  private gapStop = false;

  constructor(readonly tcp: TcpConnection, private readonly imp: Importer) {
    this.formatter = new MessageFormatter({ ...imp.options, connection: tcp.id });
    const mk = (dir: Direction): SshStreamSplitter => new SshStreamSplitter(dir, {
      preBannerLine: (line) => { if (this.preBannerLines.length < 64) this.preBannerLines.push(line); },
      banner: (line) => { this.banners[dir === 'c2s' ? 'client' : 'server'] = line; },
      packet: (p) => {
        if (this.packets.length < 10_000) this.packets.push({ direction: dir, seq: p.seq, payload: p.payload });
        this.emit(dir, p.seq, p.payload, p.timeMs, false);
      },
      encrypted: (bytes, timeMs) => this.encrypted(dir, bytes, timeMs),
      stopped: (reason, offset) => {
        this.stopped = true;
        if (!this.gapStop) this.issue({ kind: 'unparsable-stream', direction: dir, offset, message: reason });
        this.gapStop = false;
      },
    }, imp.options.splitter ?? defaultSplitterLimits);
    this.splitters = { c2s: mk('c2s'), s2c: mk('s2c') };
  }

  data(dir: Direction, bytes: Uint8Array, timeMs: number): void {
    const h = this.tcp.halves[dir];
    if (!this.started[dir]) {
      this.started[dir] = true;
      // A capture that began after the handshake may begin inside a packet: only a version string is a safe start.
      if (h.midStream && !startsWithSSH(bytes)) {
        this.issue({ kind: 'mid-stream', direction: dir, offset: 0, message: 'capture starts inside the connection; SSH framing unknown' });
        this.gapStop = true;
        this.splitters[dir].abandon('capture starts inside the connection', 0);
        return;
      }
    }
    this.splitters[dir].push(bytes, timeMs);
  }

  gap(dir: Direction, at: number, length: number, reason: string): void {
    this.issue({ kind: 'gap', direction: dir, offset: at, message: `${length} bytes not captured (${reason})` });
    this.gapStop = this.splitters[dir].phase !== 'stopped';
    this.splitters[dir].gap(at, length);
  }

  private encrypted(dir: Direction, bytes: Uint8Array, timeMs: number): void {
    if (this.decryptor === undefined) {
      this.decryptor = this.imp.options.decryptor?.({
        connection: this.tcp.id, banners: this.banners, packets: this.packets,
        report: (d, message) => { this.undecrypted = true; this.issue({ kind: 'not-decrypted', direction: d, message }); },
      }) ?? null;
      if (!this.decryptor && this.imp.options.decryptor) this.issue({ kind: 'not-decrypted', message: 'no key exchange to decrypt with' });
    }
    if (!this.decryptor) return;
    for (const p of this.decryptor.push(dir, bytes, timeMs)) this.emit(p.direction, p.seq, p.payload, p.timeMs, true);
  }

  private emit(dir: Direction, seq: number, payload: Uint8Array, timeMs: number, decrypted: boolean): void {
    const line = this.formatter.format(dir, seq, payload, timeMs);
    this.imp.line(line);
    if (this.messages.length >= this.imp.maxCorpusMessages) { this.messagesTruncated = true; return; }
    this.messages.push({
      time: line.time, direction: dir, seq, id: line.id, name: line.name,
      ...(line.redacted ? { redacted: true as const } : { payload: Buffer.from(payload).toString('hex') }),
      ...(decrypted ? { decrypted: true as const } : {}),
    });
  }

  issue(i: CorpusIssue): void {
    if (this.issues.length < MAX_CONN_ISSUES) this.issues.push(i);
  }

  /** Neither side sent an SSH version string and nothing decoded: another protocol sharing the capture. */
  get isSsh(): boolean {
    return this.banners.client !== undefined || this.banners.server !== undefined || this.messages.length > 0;
  }

  finish(): CorpusConnection {
    for (const dir of ['c2s', 's2c'] as const) {
      const s = this.splitters[dir];
      if (s.phase === 'banner' && this.tcp.halves[dir].next > 0) this.issue({ kind: 'no-version-string', direction: dir, message: 'no SSH version string in this direction' });
      if (s.bufferedBytes > 0 && s.phase === 'packets') this.issue({ kind: 'incomplete-packet', direction: dir, message: `${s.bufferedBytes} bytes of an unfinished packet at the end of the capture` });
    }
    const c = this.tcp;
    return {
      id: c.id,
      client: c.client,
      server: c.server,
      banners: this.banners,
      ...(this.preBannerLines.length ? { preBannerLines: this.preBannerLines } : {}),
      partial: c.partial || this.stopped || this.undecrypted || this.issues.some((i) => i.kind === 'incomplete-packet'),
      issues: this.issues,
      encryptedBytes: { c2s: this.splitters.c2s.encryptedBytes, s2c: this.splitters.s2c.encryptedBytes },
      messages: this.messages,
      ...(this.messagesTruncated ? { messagesTruncated: true as const } : {}),
    };
  }
}

class Importer {
  readonly conns: ConnectionImport[] = [];
  readonly fileIssues: CorpusIssue[] = [];
  readonly lines: TraceLine[] | undefined;
  readonly maxCorpusMessages: number;
  tcpSegments = 0;
  skipped = 0;
  malformed = 0;
  messages = 0;
  decodeErrors = 0;

  constructor(readonly options: ImportOptions) {
    this.lines = options.collectLines ? [] : undefined;
    this.maxCorpusMessages = options.maxCorpusMessages ?? 100_000;
  }

  line(l: TraceLine): void {
    this.messages++;
    if (l.error) this.decodeErrors++;
    this.options.onLine?.(l);
    this.lines?.push(l);
  }

  fileIssue(i: CorpusIssue): void {
    if (this.fileIssues.length < MAX_FILE_ISSUES) this.fileIssues.push(i);
  }
}

export async function importPcap(source: string | Uint8Array, options: ImportOptions = {}): Promise<ImportResult> {
  const imp = new Importer(options);
  const reasm = new TcpReassembler({
    connection: (c) => { imp.conns[c.id] = new ConnectionImport(c, imp); },
    data: (c, dir, bytes, timeMs) => imp.conns[c.id]!.data(dir, bytes, timeMs),
    gap: (c, dir, at, length, reason) => imp.conns[c.id]!.gap(dir, at, length, reason),
  }, options.reassembly);
  let linkType = -1;
  const read = await readPcap(source, (rec) => {
    const r = decodeFrame(linkType, rec.data, rec.originalLength);
    if (r.kind === 'tcp') {
      imp.tcpSegments++;
      reasm.push(r.segment, rec.timeMs);
    } else if (r.kind === 'skip') {
      imp.skipped++;
    } else {
      imp.malformed++;
      imp.fileIssue({ kind: 'malformed-frame', record: rec.index, offset: rec.offset, message: r.reason });
    }
  }, (h) => { linkType = h.linkType; }, options.pcap);
  reasm.finish();
  if (read.truncated) imp.fileIssue({ kind: 'truncated-file', offset: read.truncated.offset, message: read.truncated.message });
  const ssh = imp.conns.filter((c) => c.isSsh);
  const connections = ssh.map((c) => c.finish());
  const corpus: TraceCorpusEntry = {
    kind: 'trace',
    version: TRACE_CORPUS_VERSION,
    source: { pcap: typeof source === 'string' ? basename(source) : '<memory>', records: read.records, linkType: linkTypeName(read.header.linkType), bytes: read.bytes },
    partial: read.truncated !== undefined || imp.malformed > 0 || connections.some((c) => c.partial),
    issues: imp.fileIssues,
    connections,
  };
  return {
    header: read.header,
    corpus,
    stats: { records: read.records, bytes: read.bytes, tcpSegments: imp.tcpSegments, skippedFrames: imp.skipped, malformedFrames: imp.malformed, messages: imp.messages, decodeErrors: imp.decodeErrors, otherConnections: imp.conns.length - ssh.length },
    ...(imp.lines ? { lines: imp.lines } : {}),
  };
}

function startsWithSSH(b: Uint8Array): boolean {
  // 'SSH-' or, from a server, any text line before it (RFC 4253 §4.2): printable ASCII up to the first LF
  if (b.length >= 4 && b[0] === 0x53 && b[1] === 0x53 && b[2] === 0x48 && b[3] === 0x2d) return true;
  const n = Math.min(b.length, 256);
  for (let i = 0; i < n; i++) {
    const x = b[i]!;
    if (x === 0x0a) return i > 0;
    if ((x < 0x20 || x > 0x7e) && x !== 0x0d && x !== 0x09) return false;
  }
  return false;
}
