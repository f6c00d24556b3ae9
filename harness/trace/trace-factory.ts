/**
 * The `--pcap DIR` / `--keylog FILE` seam of `serve` and `exec` (harness/cli/serve.ts `setTraceFactory`): one
 * TraceSession per connection, so each connection's files are complete when it closes, and one shared keylog
 * writer per keylog path. Sessions run inline here: a worker per connection would cost more than it saves for
 * the many short connections of a conformance or fuzzing run.
 *
 * Files per connection in DIR: `ssh-<role>-<pid>-<n>.pcap` and `.jsonl` (n = the caller's connection number).
 * Real endpoint addresses are used when they are IPv4 literals (serve: remote client and local listener), synthetic
 * ones otherwise. Sessions still open at process exit are closed then.
 */
import { tmpdir } from 'node:os';
import type { TransportTrace } from '../../impl/Transport.js';
import { KeylogWriter } from './keylog.js';
import type { Direction, Endpoint } from './pcap-writer.js';
import type { TraceFormatOptions } from './jsonl.js';
import { TraceSession, type ConnectionTrace } from './trace-session.js';

/** What serve/exec pass per connection (structurally harness/cli/serve.ts TraceRequest). */
export interface TraceRequest {
  readonly role: 'client' | 'server';
  readonly keylog?: string;
  readonly pcapDir?: string;
  readonly connection: number;
  readonly local?: { readonly host: string; readonly port: number };
  readonly remote?: { readonly host: string; readonly port: number };
}

export interface TraceFactoryOptions {
  readonly jsonl?: Omit<TraceFormatOptions, 'connection'>;
  /** Also write the SHARED_SECRET keylog lines for newer Wireshark; default true. */
  readonly keywordLines?: boolean;
}

const open = new Set<TraceSession>();
let exitHook = false;

export function createTraceFactory(options: TraceFactoryOptions = {}): (req: TraceRequest) => TransportTrace | undefined {
  const keylogs = new Map<string, KeylogWriter>();
  return (req) => {
    if (!req.pcapDir && !req.keylog) return undefined;
    let keylogTo: KeylogWriter | undefined;
    if (req.keylog) {
      keylogTo = keylogs.get(req.keylog);
      if (!keylogTo) keylogs.set(req.keylog, (keylogTo = new KeylogWriter(req.keylog, { keywordLines: options.keywordLines ?? true })));
    }
    const session = TraceSession.open({
      dir: req.pcapDir ?? tmpdir(),
      name: `ssh-${req.role}-${process.pid}-${req.connection}`,
      pcap: req.pcapDir !== undefined,
      jsonl: req.pcapDir !== undefined ? (options.jsonl ?? true) : false,
      index: false,
      threaded: false,
      ...(keylogTo ? { keylogTo } : {}),
    });
    open.add(session);
    if (!exitHook) {
      exitHook = true;
      process.once('exit', () => { for (const s of open) s.close(); });
    }
    const ours = endpoint(req.local), theirs = endpoint(req.remote);
    const endpoints: { client?: Endpoint; server?: Endpoint } = req.role === 'server'
      ? { ...(theirs ? { client: theirs } : {}), ...(ours ? { server: ours } : {}) }
      : { ...(ours ? { client: ours } : {}), ...(theirs ? { server: theirs } : {}) };
    const conn = session.connection(req.role, endpoints);
    return transportTrace(conn, () => { session.close(); open.delete(session); });
  };
}

/** Adapts a ConnectionTrace to impl's TransportTrace (in/out seen from our side → c2s/s2c). */
export function transportTrace(c: ConnectionTrace, onClosed?: () => void): TransportTrace {
  const toDir = (d: 'in' | 'out'): Direction => ((d === 'out') === (c.role === 'client') ? 'c2s' : 's2c');
  let closed = false;
  return {
    onBytes: (d, bytes, timeMs) => c.bytes.chunk(toDir(d), bytes, timeMs),
    onPacket: (p) => c.onPacket(p),
    onPacketBorrows: true, // TraceSession copies or formats every payload before returning
    onKeys: (k) => c.onKeys(k),
    onClose: (timeMs) => {
      if (closed) return;
      closed = true;
      c.bytes.close(timeMs);
      onClosed?.();
    },
  };
}

/** An IPv4 endpoint (also from an IPv4-mapped IPv6 address), or undefined for names and IPv6. */
function endpoint(a: { readonly host: string; readonly port: number } | undefined): Endpoint | undefined {
  if (!a || !(a.port >= 1 && a.port <= 65535)) return undefined;
  const h = a.host.startsWith('::ffff:') ? a.host.slice(7) : a.host;
  const ok = /^\d{1,3}(\.\d{1,3}){3}$/.test(h) && h.split('.').every((p) => Number(p) <= 255);
  return ok ? { ip: h, port: a.port } : undefined;
}
