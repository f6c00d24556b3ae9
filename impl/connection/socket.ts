/** The socket adapter's one job before the engine starts: turn 'host:port' / [host, port] into a connected socket. */
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { DisconnectReason, SSHError, TimeoutError } from '../errors.js';

export type SocketSpec = Duplex | string | readonly [string, number];

/** 'host:port' or '[v6addr]:port'. */
export function parseHostPort(spec: string): [string, number] {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(spec) ?? /^([^:]+):(\d+)$/.exec(spec);
  if (!m) throw new SSHError('USAGE', `expected "host:port" or "[v6addr]:port", got ${JSON.stringify(spec)}`);
  return [m[1]!, Number(m[2])];
}

/** A stream as given, or a TCP connection to the address (TimeoutError after `timeoutMs`). */
export function connectSocket(spec: SocketSpec, timeoutMs: number): Promise<Duplex> {
  if (typeof spec !== 'string' && !Array.isArray(spec)) return Promise.resolve(spec as Duplex);
  const [host, port] = typeof spec === 'string' ? parseHostPort(spec) : spec as readonly [string, number];
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    const timer = setTimeout(() => { s.destroy(); reject(new TimeoutError(`connect to ${host}:${port} timed out after ${timeoutMs} ms`)); }, timeoutMs);
    s.once('connect', () => { clearTimeout(timer); s.removeAllListeners('error'); s.setNoDelay(true); resolve(s); });
    s.once('error', (e) => { clearTimeout(timer); reject(new SSHError('CLOSED', `connect to ${host}:${port} failed: ${e.message}`, DisconnectReason.CONNECTION_LOST)); });
  });
}
