/**
 * The back end of a trace session: one pcap (distinct 4-tuples per connection), one JSONL (lines carry `conn`)
 * per run. It runs either in the recording thread or inside the trace worker (trace-worker.ts); both feed it
 * the same calls, so the files are identical either way.
 */
import { FileSink } from './byte-sink.js';
import { MessageFormatter, type TraceFormatOptions } from './jsonl.js';
import { PcapWriter, type ConnectionOptions, type Direction, type PcapWriterOptions, type TcpRecorder } from './pcap-writer.js';

export interface TraceWritersConfig {
  readonly pcap?: { readonly path: string; readonly options?: PcapWriterOptions };
  readonly jsonl?: { readonly path: string; readonly options?: Omit<TraceFormatOptions, 'connection'> };
}

export interface ConnectionSetup extends ConnectionOptions {
  /** Our side of this connection: maps the engine's in/out to c2s/s2c. */
  readonly role: 'client' | 'server';
}

interface Conn {
  readonly role: 'client' | 'server';
  readonly tcp?: TcpRecorder;
  readonly formatter?: MessageFormatter;
}

export interface TraceWriterStats {
  readonly frames: number;
  readonly lines: number;
  readonly pcapBytes: number;
  readonly jsonlBytes: number;
}

export class TraceWriters {
  private readonly pcap?: PcapWriter;
  private readonly jsonl?: FileSink;
  private readonly conns = new Map<number, Conn>();
  private lines = 0;

  constructor(private readonly config: TraceWritersConfig) {
    if (config.pcap) this.pcap = PcapWriter.toFile(config.pcap.path, config.pcap.options);
    if (config.jsonl) this.jsonl = new FileSink(config.jsonl.path, 1 << 20);
  }

  connection(id: number, setup: ConnectionSetup): void {
    const { role, ...endpoints } = setup;
    this.conns.set(id, {
      role,
      ...(this.pcap ? { tcp: this.pcap.connection(endpoints) } : {}),
      ...(this.jsonl ? { formatter: new MessageFormatter({ ...this.config.jsonl?.options, connection: id }) } : {}),
    });
  }

  open(id: number, timeMs: number): void {
    this.conns.get(id)?.tcp?.open(timeMs);
  }

  bytes(id: number, dir: Direction, bytes: Uint8Array, timeMs: number, packetEnds?: readonly number[]): void {
    this.conns.get(id)?.tcp?.chunk(dir, bytes, timeMs, packetEnds);
  }

  close(id: number, timeMs: number): void {
    this.conns.get(id)?.tcp?.close(timeMs);
  }

  /** `fullLength`: `payload` is only its first MessageFormatter.directPrefix bytes. */
  packet(id: number, out: boolean, seq: number, payload: Uint8Array, timeMs: number, deviation?: string, fullLength?: number): void {
    const c = this.conns.get(id);
    if (!c?.formatter || !this.jsonl) return;
    const dir: Direction = out === (c.role === 'client') ? 'c2s' : 's2c';
    c.formatter.writeLine(this.jsonl, dir, seq, payload, timeMs, deviation, fullLength);
    this.lines++;
  }

  finish(): TraceWriterStats {
    this.pcap?.close();
    this.jsonl?.close();
    return { frames: this.pcap?.frames ?? 0, lines: this.lines, pcapBytes: this.pcap?.sink.bytesWritten ?? 0, jsonlBytes: this.jsonl?.bytesWritten ?? 0 };
  }
}
