/**
 * The whole matrix: our client against every server peer and every client peer against our server, one cell per
 * algorithm of ours (issue 6). Several peers are worked on at once and share one cell limiter, so a slow peer (Python
 * DH, container start) overlaps fast ones without the machine running more than `concurrency` handshakes at once.
 */
import { BUILTIN_PEERS, clientPeerNames } from '../../targets/registry.js';
import { runClientPeer } from './client-peers.js';
import { mapLimit, Limiter } from './pool.js';
import type { MatrixRows } from './rows.js';
import { runServerPeer, type PeerRun } from './server-peers.js';
import { KINDS, type Cell, type MatrixReport, type MatrixSummary, type PeerReport } from './types.js';

/** `openssh` is the same image as `openssh:bookworm`: listed once. */
export const SERVER_ALIASES: Readonly<Record<string, string>> = { openssh: 'openssh:bookworm' };

/** Every built-in server peer (our own `self` targets are not interop). */
export function defaultServerPeers(): string[] {
  const clients = new Set(clientPeerNames());
  return BUILTIN_PEERS.filter((n) => !clients.has(n) && !(n in SERVER_ALIASES));
}

export function defaultClientPeers(): string[] {
  return BUILTIN_PEERS.filter((n) => clientPeerNames().includes(n));
}

export interface MatrixOptions {
  readonly servers: readonly string[];
  readonly clients: readonly string[];
  readonly rows: MatrixRows;
  /** Handshakes in flight at once (default 3: the machines have 2 cores and are shared). */
  readonly concurrency?: number;
  /** Per cell (and per peer start/probe) limit; default 20 000 ms. */
  readonly timeoutMs?: number;
  /** Peers worked on at once (default concurrency + 1, so peer starts and probes never leave the cell slots idle). */
  readonly peerConcurrency?: number;
  readonly runId?: string;
  readonly progress?: (line: string) => void;
}

/** `20261125T013000Z-interop`: sortable, and the same shape as `run`'s report directories. */
export function matrixRunId(at = new Date()): string {
  return `${at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-interop`;
}

export function summarize(peers: readonly PeerReport[], cells: readonly Cell[]): MatrixSummary {
  return {
    pass: cells.filter((c) => c.status === 'pass').length,
    fail: cells.filter((c) => c.status === 'fail').length,
    unsupported: cells.filter((c) => c.status === 'unsupported').length,
    setupErrors: peers.filter((p) => p.setupError !== undefined).length,
  };
}

export async function runMatrix(o: MatrixOptions): Promise<MatrixReport> {
  const startedAt = new Date();
  const t0 = Date.now();
  const concurrency = o.concurrency ?? 3;
  const timeoutMs = o.timeoutMs ?? 20_000;
  const limiter = new Limiter(concurrency);
  const ctx = { limiter, timeoutMs, rows: o.rows, progress: o.progress ?? (() => undefined) };
  // interleave the directions so a slow client peer and a slow server peer do not queue behind each other
  const tasks: Array<() => Promise<PeerRun>> = [];
  for (let i = 0; i < Math.max(o.servers.length, o.clients.length); i++) {
    const s = o.servers[i];
    const c = o.clients[i];
    if (s !== undefined) tasks.push(() => runServerPeer(s, ctx));
    if (c !== undefined) tasks.push(() => runClientPeer(c, ctx));
  }
  const runs = await mapLimit(tasks, o.peerConcurrency ?? concurrency + 1, (task) => task());
  const order = (r: PeerRun) => (r.peer.direction === 'client' ? o.servers.indexOf(r.peer.name) : 1000 + o.clients.indexOf(r.peer.name));
  runs.sort((a, b) => order(a) - order(b));
  const peers = runs.map((r) => r.peer);
  const cells = runs.flatMap((r) => r.cells);
  return {
    runId: o.runId ?? matrixRunId(startedAt),
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - t0,
    concurrency,
    cellTimeoutMs: timeoutMs,
    algorithms: Object.fromEntries(KINDS.map((k) => [k, o.rows[k].length ? o.rows[k] : []])) as unknown as MatrixReport['algorithms'],
    peers,
    cells,
    summary: summarize(peers, cells),
  };
}

/** 0 = no cell failed, 1 = some cell failed, 2 = a peer could not be set up (the command-line contract in README.md). */
export function exitCodeOf(r: MatrixReport, o: { allowUnavailable?: boolean } = {}): 0 | 1 | 2 {
  const setup = r.peers.some((p) => p.setupError !== undefined && (p.available || !o.allowUnavailable));
  if (setup) return 2;
  return r.summary.fail > 0 ? 1 : 0;
}
