/**
 * Checked TCP traffic for forwarding tests: a far-end server and a client that run seeded connections through
 * whatever sits between them (ssh -L/-R, a library tunnel), with half-close on either side, and compare every byte
 * by SHA-256 and length in both directions.
 *
 * Each connection starts with a 16-byte header from the client (magic, id, mode, bytes the far end must send);
 * the far end records the hash of what it received and what it sent, per id. Modes:
 * - client-first: the client sends its bytes and half-closes; the far end answers only after that EOF;
 * - server-first: the far end sends and half-closes first; the client sends only after that EOF;
 * - both: both send at once, each half-closes when done;
 * - echo: the far end echoes (what the client sent comes back) and closes after the client's EOF;
 * - silent: no bytes at all, the client half-closes at once (no header: the far end just counts it).
 * Abort modes (checked for clean ends, not bytes): server-reset / server-close (the far end resets or destroys
 * after sending part of its bytes), client-reset / client-close (the client does so after sending part).
 */
import { createCipheriv, createHash, type Hash } from 'node:crypto';
import * as net from 'node:net';

export const TRAFFIC_MODES = ['client-first', 'server-first', 'both', 'echo', 'silent'] as const;
export const ABORT_MODES = ['server-reset', 'server-close', 'client-reset', 'client-close'] as const;
export type TrafficMode = (typeof TRAFFIC_MODES)[number];
export type AbortMode = (typeof ABORT_MODES)[number];
const ALL_MODES: readonly (TrafficMode | AbortMode)[] = [...TRAFFIC_MODES, ...ABORT_MODES];

export interface PlannedConnection {
  readonly id: number;
  readonly mode: TrafficMode | AbortMode;
  /** Bytes the client sends (after the header). */
  readonly up: number;
  /** Bytes the far end sends (echo: the same as up). */
  readonly down: number;
}

const MAGIC = 0x54524631; // 'TRF1'
const HEADER = 16;
const CHUNK = 64 * 1024;

/** mulberry32: a small seeded generator, enough to pick sizes and modes reproducibly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 5 % exactly 0, the rest log-uniform in 1..maxBytes (mean ≈ 0.5 MiB for 8 MiB): small, medium and large all occur. */
function pickSize(rnd: () => number, maxBytes: number): number {
  if (rnd() < 0.05) return 0;
  return Math.min(maxBytes, Math.floor(Math.exp(rnd() * Math.log(maxBytes + 1))));
}

/**
 * `count` connections, seeded: first the edges (each mode once; 0 B one way and maxBytes the other, and maxBytes
 * both ways, for the traffic modes), then random modes and sizes; shuffled so the edges are spread over the run.
 * With 8 MiB a run of 200 moves ~250 MB: enough to cross windows and rekeys many times, bounded in time.
 */
export function planConnections(seed: number, count: number, maxBytes: number, modes: readonly (TrafficMode | AbortMode)[] = TRAFFIC_MODES): PlannedConnection[] {
  const rnd = seededRandom(seed);
  const has = (m: TrafficMode): boolean => modes.includes(m);
  const edges: { mode: TrafficMode | AbortMode; up: number; down: number }[] = [
    ...(has('client-first') ? [{ mode: 'client-first' as const, up: 0, down: maxBytes }, { mode: 'client-first' as const, up: maxBytes, down: 0 }] : []),
    ...(has('server-first') ? [{ mode: 'server-first' as const, up: maxBytes, down: 0 }, { mode: 'server-first' as const, up: 0, down: maxBytes }] : []),
    ...(has('both') ? [{ mode: 'both' as const, up: maxBytes, down: maxBytes }] : []),
    ...(has('echo') ? [{ mode: 'echo' as const, up: maxBytes, down: maxBytes }] : []),
    ...modes.filter((m) => m !== 'silent').map((mode) => ({ mode, up: pickSize(rnd, maxBytes), down: pickSize(rnd, maxBytes) })),
    ...(has('silent') ? [{ mode: 'silent' as const, up: 0, down: 0 }] : []),
  ];
  const out: PlannedConnection[] = [];
  for (let i = 0; i < count; i++) {
    const mode = i < edges.length ? edges[i]!.mode : modes[Math.floor(rnd() * modes.length)]!;
    let up = i < edges.length ? edges[i]!.up : pickSize(rnd, maxBytes);
    let down = i < edges.length ? edges[i]!.down : pickSize(rnd, maxBytes);
    if (mode === 'silent') up = down = 0;
    if (mode === 'echo') down = up;
    out.push({ id: ((seed * 7919) ^ (i * 2654435761)) >>> 0, mode, up, down });
  }
  // spread the edges over the run instead of leading with them
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The bytes of one direction of one connection: an AES-128-CTR keystream keyed by (id, direction), as chunks. */
function* payload(id: number, dir: 'up' | 'down', size: number): Generator<Buffer> {
  const key = createHash('sha256').update(`${id}:${dir}`).digest().subarray(0, 16);
  const c = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(CHUNK);
  for (let left = size; left > 0; left -= CHUNK) yield c.update(left >= CHUNK ? zeros : zeros.subarray(0, left));
}

/** Writes chunks with backpressure; false when the socket went away first. */
async function writeAll(sock: net.Socket, chunks: Iterable<Buffer>, onChunk?: (b: Buffer) => void): Promise<boolean> {
  for (const b of chunks) {
    if (sock.destroyed || sock.writableEnded) return false;
    onChunk?.(b);
    if (!sock.write(b)) {
      const ok = await new Promise<boolean>((resolve) => {
        const done = (v: boolean) => () => { sock.off('drain', onDrain); sock.off('close', onClose); resolve(v); };
        const onDrain = done(true);
        const onClose = done(false);
        sock.once('drain', onDrain);
        sock.once('close', onClose);
      });
      if (!ok) return false;
    }
  }
  return true;
}

interface Tally { len: number; readonly hash: Hash }
const tally = (): Tally => ({ len: 0, hash: createHash('sha256') });
const add = (t: Tally, b: Uint8Array): void => { t.len += b.length; t.hash.update(b); };

/** What the far end saw on one connection. */
export interface FarRecord {
  readonly mode: TrafficMode | AbortMode;
  readonly received: { readonly len: number; readonly sha: string };
  readonly sent: { readonly len: number; readonly sha: string };
  /** A socket error, or 'closed before EOF' when the connection ended without the client's FIN. */
  readonly error?: string;
}

/** The far end: a TCP server that speaks the header protocol above. */
export class TrafficServer {
  /** Connections that ended without sending a byte (silent mode). */
  silent = 0;
  private readonly records = new Map<number, { promise: Promise<FarRecord>; resolve: (r: FarRecord) => void }>();
  private readonly headers = new Map<number, { promise: Promise<void>; resolve: () => void }>();
  private readonly sockets = new Set<net.Socket>();

  private constructor(private readonly server: net.Server) {}

  static async start(): Promise<TrafficServer> {
    const server = net.createServer({ allowHalfOpen: true });
    const ts = new TrafficServer(server);
    server.on('connection', (s) => ts.serve(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return ts;
  }

  /** Connections the far end has open right now. */
  get open(): number {
    return this.sockets.size;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Resolves when the far end has finished connection `id` (EOF seen and its own bytes sent, or an error). */
  record(id: number): Promise<FarRecord> {
    return this.slot(id).promise;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** Resolves once the far end has read the header of connection `id`. */
  headerSeen(id: number): Promise<void> {
    let h = this.headers.get(id);
    if (!h) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => { resolve = r; });
      h = { promise, resolve };
      this.headers.set(id, h);
    }
    return h.promise;
  }

  private slot(id: number): { promise: Promise<FarRecord>; resolve: (r: FarRecord) => void } {
    let s = this.records.get(id);
    if (!s) {
      let resolve!: (r: FarRecord) => void;
      const promise = new Promise<FarRecord>((r) => { resolve = r; });
      s = { promise, resolve };
      this.records.set(id, s);
    }
    return s;
  }

  private serve(sock: net.Socket): void {
    this.sockets.add(sock);
    let head = Buffer.alloc(0);
    let started = false;
    const got = tally();
    const sent = tally();
    let error: string | undefined;
    let ended = false;
    let finished = false;
    let plan: { id: number; mode: TrafficMode | AbortMode; down: number } | undefined;
    const finish = (): void => {
      if (!plan) return;
      const p = plan;
      plan = undefined;
      this.slot(p.id).resolve({
        mode: p.mode,
        received: { len: got.len, sha: got.hash.digest('hex') },
        sent: { len: sent.len, sha: sent.hash.digest('hex') },
        ...(error ? { error } : {}),
      });
    };
    const maybeDone = (): void => { if (ended && finished) finish(); };
    sock.on('error', (e) => { error ??= e.message; });
    sock.on('close', () => {
      this.sockets.delete(sock);
      if (!started && head.length === 0 && !error) this.silent++;
      if (plan && !ended) error ??= 'closed before EOF';
      finish();
    });
    sock.on('end', () => {
      ended = true;
      if (!started) { sock.end(); return; } // silent, or a header cut short
      if (plan?.mode === 'client-first') void this.sendDown(sock, plan.id, plan.down, sent).then(() => { finished = true; maybeDone(); });
      else if (plan?.mode === 'echo') sock.end();
      else if (plan?.mode === 'client-reset' || plan?.mode === 'client-close') { sock.end(); finished = true; }
      maybeDone();
    });
    sock.on('finish', () => { if (plan?.mode === 'echo') { finished = true; maybeDone(); } });
    sock.on('data', (d: Buffer) => {
      if (!started) {
        head = Buffer.concat([head, d]);
        if (head.length < HEADER) return;
        if (head.readUInt32BE(0) !== MAGIC) { sock.destroy(); return; }
        started = true;
        const mode = ALL_MODES[head[8]!] ?? 'both';
        plan = { id: head.readUInt32BE(4), mode, down: head.readUInt32BE(12) };
        void this.headerSeen(plan.id);
        this.headers.get(plan.id)!.resolve();
        d = head.subarray(HEADER);
        this.startMode(sock, plan.id, mode, plan.down, sent, () => { finished = true; maybeDone(); });
      }
      if (d.length === 0) return;
      add(got, d);
      if (plan?.mode === 'echo') {
        add(sent, d);
        if (!sock.write(d)) { sock.pause(); sock.once('drain', () => sock.resume()); }
      }
    });
  }

  private startMode(sock: net.Socket, id: number, mode: TrafficMode | AbortMode, down: number, sent: Tally, done: () => void): void {
    if (mode === 'server-first' || mode === 'both') void this.sendDown(sock, id, down, sent).then(done);
    else if (mode === 'server-reset' || mode === 'server-close') {
      // part of the answer, then cut the connection off
      const part = Math.floor(down / 2);
      void writeAll(sock, payload(id, 'down', part), (b) => add(sent, b)).then(() => {
        setTimeout(() => { if (mode === 'server-reset') sock.resetAndDestroy(); else sock.destroy(); }, 5);
      });
    }
  }

  private async sendDown(sock: net.Socket, id: number, size: number, sent: Tally): Promise<void> {
    if (await writeAll(sock, payload(id, 'down', size), (b) => add(sent, b))) sock.end();
    if (!sock.writableFinished && !sock.destroyed) await new Promise((r) => { sock.once('finish', r); sock.once('close', r); });
  }
}

/** What went wrong on one connection (for the test's message), or undefined when every byte matched. */
export type ConnectionCheck = string | undefined;

export interface RunOptions {
  /** Connections in flight at once. Default 8. */
  readonly concurrency?: number;
  /** Per connection, from connect to the far end's record. Default 60 s. */
  readonly deadlineMs?: number;
  /**
   * The path is cut on purpose (a tunnel killed mid-run): a connection passes when the client's socket ends within
   * the deadline; the far end may never have seen it (watch `TrafficServer.open` for the other end).
   */
  readonly cut?: boolean;
}

function describe(p: PlannedConnection): string {
  return `#${p.id} ${p.mode} up=${p.up} down=${p.down}`;
}

/** Runs one connection through `dial` and checks both directions against the far end's record. */
export async function runConnection(dial: () => net.Socket, p: PlannedConnection, far: TrafficServer, deadlineMs = 60_000, cut = false): Promise<ConnectionCheck> {
  const farRecord = p.mode === 'silent' ? undefined : far.record(p.id);
  const sock = dial();
  const got = tally();
  const sent = tally();
  let sockError: string | undefined;
  sock.on('error', (e) => { sockError ??= e.message; });
  sock.on('data', (d: Buffer) => add(got, d));
  const ended = new Promise<boolean>((r) => { sock.once('end', () => r(true)); sock.once('close', () => r(false)); });
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), deadlineMs); });
  const work = async (): Promise<ConnectionCheck> => {
    await new Promise<void>((resolve, reject) => { sock.once('connect', resolve); sock.once('close', () => reject(new Error(`connect failed: ${sockError}`))); });
    const header = Buffer.alloc(HEADER);
    header.writeUInt32BE(MAGIC, 0);
    header.writeUInt32BE(p.id, 4);
    header[8] = ALL_MODES.indexOf(p.mode);
    header.writeUInt32BE(p.down, 12);
    const up = payload(p.id, 'up', p.up);
    if (p.mode === 'silent') {
      sock.end();
    } else if (p.mode === 'server-first') {
      sock.write(header);
      if (!(await ended)) return `closed before the far end's EOF after ${got.len} bytes (${sockError ?? 'no error'})`;
      if (await writeAll(sock, up, (b) => add(sent, b))) sock.end();
    } else if (p.mode === 'client-reset' || p.mode === 'client-close') {
      sock.write(header);
      await writeAll(sock, payload(p.id, 'up', Math.floor(p.up / 2)), (b) => add(sent, b));
      // cut off only once the far end knows the connection (a reset may discard bytes not yet read on the way)
      await far.headerSeen(p.id);
      if (p.mode === 'client-reset') sock.resetAndDestroy(); else sock.destroy();
    } else {
      sock.write(header);
      if (await writeAll(sock, up, (b) => add(sent, b))) sock.end();
    }
    const sawEnd = await ended;
    await closed;
    if (cut) return undefined;
    if (p.mode === 'silent') {
      return sawEnd && got.len === 0 && !sockError ? undefined : `silent: ${got.len} bytes, end ${sawEnd}, ${sockError ?? 'no error'}`;
    }
    const rec = await farRecord!;
    // aborts: both ends saw the connection end within the deadline, and nothing was made up on the way
    if (ABORT_MODES.includes(p.mode as AbortMode)) return got.len <= rec.sent.len ? undefined : `client got ${got.len} bytes, more than the far end sent (${rec.sent.len})`;
    const problems: string[] = [];
    if (!sawEnd || sockError) problems.push(`client: ${sawEnd ? 'EOF' : 'no EOF'}, ${sockError ?? 'no error'}`);
    if (rec.error) problems.push(`far end: ${rec.error}`);
    const sentSha = sent.hash.digest('hex');
    if (rec.received.len !== p.up || rec.received.sha !== sentSha) problems.push(`up: far end got ${rec.received.len} of ${p.up} bytes${rec.received.len === p.up ? ' (different bytes)' : ''}`);
    const wantDown = p.mode === 'echo' ? { len: p.up, sha: sentSha } : rec.sent;
    const gotSha = got.hash.digest('hex');
    if (got.len !== p.down || wantDown.len !== p.down || gotSha !== wantDown.sha) problems.push(`down: client got ${got.len} of ${p.down} bytes${got.len === p.down ? ' (different bytes)' : ''}`);
    return problems.length ? problems.join('; ') : undefined;
  };
  try {
    const r = await Promise.race([work(), deadline]);
    if (r === 'timeout') {
      sock.destroy();
      return `timed out after ${deadlineMs} ms (client got ${got.len} bytes, sent ${sent.len}, ${sockError ?? 'no error'})`;
    }
    return r;
  } catch (e) {
    sock.destroy();
    return e instanceof Error ? e.message : String(e);
  } finally {
    clearTimeout(timer);
  }
}

export interface TrafficReport {
  readonly connections: number;
  readonly bytes: number;
  readonly ms: number;
  /** One line per connection that failed its check. */
  readonly failures: readonly string[];
}

/** Runs every planned connection through `dial`, `concurrency` at a time. */
export async function runTraffic(dial: () => net.Socket, plans: readonly PlannedConnection[], far: TrafficServer, o: RunOptions = {}): Promise<TrafficReport> {
  const start = Date.now();
  const failures: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < plans.length; i = next++) {
      const p = plans[i]!;
      const problem = await runConnection(dial, p, far, o.deadlineMs, o.cut);
      if (problem) failures.push(`${describe(p)}: ${problem}`);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency ?? 8) }, worker));
  const bytes = plans.reduce((n, p) => n + p.up + p.down, 0);
  return { connections: plans.length, bytes, ms: Date.now() - start, failures };
}
