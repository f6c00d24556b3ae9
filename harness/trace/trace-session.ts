/**
 * One object per run that records everything harness/trace/README.md describes, with the three seams the engine and the socket
 * adapter call: `bytes` (a ByteRecorder: every chunk on the wire, open/close), `onPacket` (every decrypted
 * message) and `onKeys` (every key exchange). Files in `dir`: `<name>.pcap` (one file, a distinct 4-tuple per
 * connection), `<name>.jsonl` (lines carry `conn`), `<name>.keylog` (only when asked: it holds secrets), and
 * `<name>.index.json` listing the files and connections.
 *
 * The work runs inline by default; with `threaded`, a worker thread does it and the caller's thread only copies
 * bytes into a shared ring (a memcpy per chunk), which helps when a core is idle.
 * Recording never throws into the connection: a failing writer is disabled and reported in `error` and the index.
 */
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { MessageFormatter, type TraceFormatOptions, type PacketEvent } from './jsonl.js';
import { KeylogWriter, type KexKeys, type KeylogOptions } from './keylog.js';
import { syntheticEndpoints, type ByteRecorder, type ConnectionOptions, type Direction, type Endpoint, type PcapWriterOptions } from './pcap-writer.js';
import { RING_CTL, RingProducer, createRing } from './shared-ring.js';
import { OpWriter } from './trace-ops.js';
import type { TraceWorkerData } from './trace-worker.js';
import { TraceWriters, type ConnectionSetup, type TraceWritersConfig } from './trace-writers.js';

export interface TraceSessionOptions {
  readonly dir: string;
  /** Base name of the files; default 'trace'. */
  readonly name?: string;
  /** Write `<name>.pcap`; default true. */
  readonly pcap?: boolean | PcapWriterOptions;
  /** Write `<name>.jsonl`; default true. */
  readonly jsonl?: boolean | Omit<TraceFormatOptions, 'connection'>;
  /** Write `<name>.keylog`; default false (it lets anyone with the pcap decrypt it). */
  readonly keylog?: boolean | KeylogOptions;
  /** Or append key exchanges to this writer instead (shared by several sessions; not closed by this one). */
  readonly keylogTo?: KeylogWriter;
  /**
   * Do the work in a worker thread (default false). It moves framing, checksums, JSONL and writes off the
   * connection's thread, which pays only when a core is free: on the shared 2-core machines here it measured
   * slower than inline (bench.ts).
   */
  readonly threaded?: boolean;
  /** Shared ring size for the worker; default 32 MiB (a full ring makes the recording thread wait). */
  readonly ringBytes?: number;
  /** Write `<name>.index.json`; default true. */
  readonly index?: boolean;
  /** Time for packet events that carry none; default Date.now (pass the simulated clock of an in-process pair). */
  readonly clock?: () => number;
}

/** The per-connection seams. */
export interface ConnectionTrace {
  readonly id: number;
  readonly role: 'client' | 'server';
  readonly client: Endpoint;
  readonly server: Endpoint;
  /** For the socket adapter / in-process pair. */
  readonly bytes: ByteRecorder;
  /** For the engine's packet events (payloads decrypted). */
  onPacket(e: PacketEvent): void;
  /** For the engine's per-kex keys. */
  onKeys(k: KexKeys): void;
}

export interface TraceIndex {
  readonly kind: 'trace-index';
  readonly version: 1;
  readonly files: { readonly pcap?: string; readonly jsonl?: string; readonly keylog?: string };
  readonly connections: readonly { readonly id: number; readonly role: 'client' | 'server'; readonly client: Endpoint; readonly server: Endpoint }[];
  readonly threaded: boolean;
  /** Records the worker never got (it failed or stalled); 0 normally. */
  readonly dropped: number;
  readonly error?: string;
}

/** An outbound packet whose bytes have not gone out yet (its JSONL line takes their time). */
interface Waiting {
  readonly seq: number;
  readonly payload: Uint8Array;
  readonly deviation: string | undefined;
  /** Set when `payload` is only the prefix its line shows. */
  readonly fullLength: number | undefined;
}

/** What the session drives: TraceWriters inline, or the ring to the worker. */
interface Backend {
  connection(id: number, setup: ConnectionSetup): void;
  open(id: number, timeMs: number): void;
  bytes(id: number, dir: Direction, bytes: Uint8Array, timeMs: number, packetEnds?: readonly number[]): void;
  close(id: number, timeMs: number): void;
  packet(id: number, out: boolean, seq: number, payload: Uint8Array, timeMs: number, deviation?: string, fullLength?: number): void;
}

export class TraceSession {
  readonly files: { readonly pcap?: string; readonly jsonl?: string; readonly keylog?: string; readonly index: string };
  private readonly backend: Backend;
  private readonly inline?: TraceWriters;
  private readonly ring?: { producer: RingProducer; ops: OpWriter; worker: Worker };
  private readonly keylog?: KeylogWriter;
  private readonly ownsKeylog: boolean;
  private readonly conns: TraceIndex['connections'][number][] = [];
  private readonly serverPort: number;
  private failure: string | undefined;
  private closed = false;
  private index: TraceIndex | undefined;
  private readonly jsonlOptions: Omit<TraceFormatOptions, 'connection'> | undefined;

  private constructor(private readonly options: TraceSessionOptions) {
    const name = options.name ?? 'trace';
    const pcapOpts = options.pcap === false ? undefined : options.pcap === true || options.pcap === undefined ? {} : options.pcap;
    const jsonlOpts = options.jsonl === false ? undefined : options.jsonl === true || options.jsonl === undefined ? {} : options.jsonl;
    const files = {
      ...(pcapOpts ? { pcap: join(options.dir, `${name}.pcap`) } : {}),
      ...(jsonlOpts ? { jsonl: join(options.dir, `${name}.jsonl`) } : {}),
      ...(options.keylog ? { keylog: join(options.dir, `${name}.keylog`) } : {}),
      index: join(options.dir, `${name}.index.json`),
    };
    this.files = files;
    // Setup errors (no such directory, not writable) surface here, in both modes, as exceptions: the caller's
    // setup is wrong. Later write failures are only reported (see `error`).
    mkdirSync(options.dir, { recursive: true });
    for (const f of [files.pcap, files.jsonl]) if (f) closeSync(openSync(f, 'w'));
    this.serverPort = pcapOpts?.serverPort ?? 22;
    this.jsonlOptions = jsonlOpts;
    const config: TraceWritersConfig = {
      ...(files.pcap ? { pcap: { path: files.pcap, options: pcapOpts } } : {}),
      ...(files.jsonl ? { jsonl: { path: files.jsonl, options: jsonlOpts } } : {}),
    };
    this.ownsKeylog = !!options.keylog;
    if (options.keylog) this.keylog = new KeylogWriter(files.keylog!, { append: false, ...(options.keylog === true ? {} : options.keylog) });
    else if (options.keylogTo) this.keylog = options.keylogTo;
    if (options.threaded ?? false) {
      const bufs = createRing(options.ringBytes ?? 32 << 20);
      const producer = new RingProducer(bufs);
      const worker = startWorker({ ring: bufs, config });
      worker.unref();
      worker.on('error', (e) => { this.failure ??= `trace worker: ${e.message}`; });
      const ops = new OpWriter(producer, bufs);
      this.ring = { producer, ops, worker };
      this.backend = ops;
    } else {
      this.inline = new TraceWriters(config);
      this.backend = this.inline;
    }
  }

  static open(options: TraceSessionOptions): TraceSession {
    return new TraceSession(options);
  }

  /** The first recording failure, if any (recording stops at it; the connection is never affected). */
  get error(): string | undefined {
    return this.failure ?? this.ring?.producer.errorText();
  }

  connection(role: 'client' | 'server', options: ConnectionOptions = {}): ConnectionTrace {
    const id = this.conns.length;
    const synthetic = syntheticEndpoints(id, this.serverPort);
    const client = options.client ?? synthetic.client, server = options.server ?? synthetic.server;
    this.conns.push({ id, role, client, server });
    this.call((b) => b.connection(id, { role, client, server, ...(options.isn ? { isn: options.isn } : {}) }));
    const session = this;
    const clock = this.options.clock ?? Date.now;
    // Packets without a time get their wire time: inbound ones the time of the last chunk our side received (the
    // one that completed them); outbound ones the time of the chunk our side sends for them — impl's engine reports
    // a packet before its bytes leave and hands each packet to the socket as one chunk, so they are matched in
    // order, one per chunk. Live JSONL and JSONL imported from the pcap then agree.
    const inbound: Direction = role === 'client' ? 's2c' : 'c2s';
    let lastInbound: number | undefined;
    // Outbound packets waiting for their chunk, oldest first from `head`: one fixed-shape record each (a spread of
    // the event per packet, and splicing the queue, were most of what a JSONL line cost next to formatting it)
    const waiting: Waiting[] = [];
    let head = 0;
    // Payload copies for `waiting` go into a reused arena, not a fresh allocation each: bulk data makes one 32 KiB
    // packet after another, and an allocation per packet cost more (GC, fresh pages) than the copy itself.
    let arena = new Uint8Array(1 << 16);
    let used = 0;
    const keep = (payload: Uint8Array): Uint8Array => {
      if (used + payload.length > arena.length) {
        // entries still waiting keep the old arena alive through their views
        arena = new Uint8Array(Math.max(arena.length, payload.length * 2));
        used = 0;
      }
      const copy = arena.subarray(used, used + payload.length);
      copy.set(payload);
      used += payload.length;
      return copy;
    };
    const stamp = (n: number, t: number): void => {
      const end = Math.min(waiting.length, head + n);
      const b = session.live;
      for (; head < end; head++) {
        const w = waiting[head]!;
        if (b) session.guard(() => b.packet(id, true, w.seq, w.payload, t, w.deviation, w.fullLength));
      }
      if (head === waiting.length) {
        // every view handed out is consumed: the backends copy or format at once
        waiting.length = 0;
        head = 0;
        used = 0;
      }
    };
    // tshark finds keylog entries by the cookie of the side whose key is logged (keylog.ts); impl's KexSecrets
    // carries only the client's, so the server's comes from the KEXINITs seen here.
    const cookies: { client?: Uint8Array; server?: Uint8Array } = {};
    return {
      id, role, client, server,
      bytes: {
        open: (timeMs) => session.call((b) => b.open(id, timeMs)),
        chunk: (dir, bytes, timeMs, packetEnds) => {
          if (dir === inbound) lastInbound = timeMs;
          else if (head < waiting.length && !versionOnly(bytes)) stamp(1, timeMs);
          const b = session.live;
          if (b) session.guard(() => b.bytes(id, dir, bytes, timeMs, packetEnds));
        },
        close: (timeMs) => {
          stamp(waiting.length - head, timeMs);
          session.call((b) => b.close(id, timeMs));
        },
      },
      onPacket: (e) => {
        const out = e.direction === 'out';
        if (e.payload[0] === 20 && e.payload.length >= 17) cookies[out === (role === 'client') ? 'client' : 'server'] = e.payload.slice(1, 17);
        if (!session.files.jsonl) return; // packets only feed the JSONL (and the cookies above)
        if (e.timeMs !== undefined) return session.call((b) => b.packet(id, out, e.seq, e.payload, e.timeMs!, e.deviation));
        if (!out) return session.call((b) => b.packet(id, false, e.seq, e.payload, lastInbound ?? clock(), e.deviation));
        // a deviation that sends nothing (dropped, skipped: seq -1) gets no chunk: stamp it now
        if (e.seq < 0) return session.call((b) => b.packet(id, true, e.seq, e.payload, clock(), e.deviation));
        // the payload may be a view the engine reuses once sent: keep a copy until the bytes go out
        // inline, a bulk-data line needs only the payload's first bytes (the worker gets whole payloads)
        const prefix = session.inline && session.jsonlOptions ? MessageFormatter.directPrefix(e.payload, session.jsonlOptions) : undefined;
        waiting.push({ seq: e.seq, payload: keep(prefix ? e.payload.subarray(0, prefix) : e.payload), deviation: e.deviation, fullLength: prefix ? e.payload.length : undefined });
        if (waiting.length - head > 4096) stamp(waiting.length - head, clock()); // bytes are not being recorded: do not hold without bound
      },
      onKeys: (k) => {
        if (!session.keylog || session.closed) return;
        session.keylog.onKeys({ ...k, role: k.role ?? role, serverCookie: k.serverCookie ?? cookies.server, clientCookie: k.clientCookie ?? cookies.client });
      },
    };
  }

  /** Finishes the files (waits, bounded, for the worker to drain) and writes the index. Idempotent. */
  close(): TraceIndex {
    if (this.index) return this.index;
    this.closed = true;
    try {
      if (this.inline) this.inline.finish();
      if (this.ring) {
        this.ring.producer.close();
        if (!this.ring.producer.waitDone()) this.failure ??= this.ring.producer.errorText() ?? 'trace worker did not finish in time';
      }
    } catch (e) {
      this.failure ??= (e as Error).message;
    }
    if (this.ownsKeylog) this.keylog?.close();
    const { index: _index, ...files } = this.files;
    const error = this.error ?? (this.keylog?.skipped.length ? `keylog: ${this.keylog.skipped[0]}` : undefined);
    this.index = {
      kind: 'trace-index', version: 1, files, connections: this.conns, threaded: this.ring !== undefined,
      dropped: this.ring?.ops.dropped ?? 0, ...(error ? { error } : {}),
    };
    if (this.options.index ?? true) writeFileSync(this.files.index, `${JSON.stringify(this.index, null, 2)}\n`);
    return this.index;
  }

  private call(f: (b: Backend) => void): void {
    const b = this.live;
    if (b) this.guard(() => f(b));
  }

  /** The backend while recording goes on: not once closed or after a failure. */
  private get live(): Backend | undefined {
    return this.closed || this.failure !== undefined ? undefined : this.backend;
  }

  /** Runs one recording step; a failure stops recording, never the connection. */
  private guard(f: () => void): void {
    try {
      f();
    } catch (e) {
      this.failure = `trace: ${(e as Error).message}`;
    }
  }
}

/** A chunk that is just our version line (RFC 4253 §4.2): it carries no packet, so it stamps none. */
function versionOnly(b: Uint8Array): boolean {
  return b.length >= 5 && b[0] === 0x53 && b[1] === 0x53 && b[2] === 0x48 && b[3] === 0x2d && b[b.length - 1] === 0x0a && b.indexOf(0x0a) === b.length - 1;
}

/**
 * Starts trace-worker. Under tsx (running the .ts sources) a worker does not inherit tsx's loader on Node 20, so a
 * small bootstrap registers it first; a failure there is flagged in the ring so a waiting close() returns at once.
 */
function startWorker(data: TraceWorkerData): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./trace-worker.js', here), { workerData: data });
  const entry = JSON.stringify(new URL('./trace-worker.ts', here).href);
  const tsx = JSON.stringify(tsxEsmApi(here));
  const code = `
    const { workerData } = require('node:worker_threads');
    import(${tsx}).then((m) => { (m.register ?? m.default.register)(); return import(${entry}); }).catch((e) => {
      const text = Buffer.from(String((e && e.stack) || e)).subarray(0, 2000);
      new DataView(workerData.ring.error).setUint32(0, text.length, true);
      new Uint8Array(workerData.ring.error).set(text, 4);
      const ctl = new Int32Array(workerData.ring.ctl);
      Atomics.store(ctl, ${RING_CTL.FAILED}, 1); Atomics.notify(ctl, ${RING_CTL.DONE}); Atomics.notify(ctl, ${RING_CTL.TAIL});
      throw e;
    });`;
  return new Worker(code, { eval: true, workerData: data });
}

/**
 * URL of tsx's ESM register API. Not import.meta.resolve (tests load this file through tsx's CommonJS hook, which
 * lacks it) and not require.resolve (that picks the CommonJS build, whose register() cannot find its ESM half).
 */
function tsxEsmApi(from: string): string {
  const req = createRequire(from);
  const pkgPath = req.resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports: { './esm/api': { import: { default: string } } } };
  return pathToFileURL(join(dirname(pkgPath), pkg.exports['./esm/api'].import.default)).href;
}
