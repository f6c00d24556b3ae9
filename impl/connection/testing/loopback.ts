/**
 * A Transport server on 127.0.0.1 for tests: every accepted socket gets its own Transport running `policy`,
 * and `onTransport` sees each one after startServer. Used by the Transport and Client tests.
 */
import * as net from 'node:net';
import type { PrivateKey } from '../../crypto/types.js';
import { Transport, type TransportOptions } from '../../Transport.js';
import { AuthResult } from '../../auth/types.js';
import type { Channel } from '../channel.js';
import type { ServerPolicy } from '../policy.js';

export interface LoopbackServer {
  readonly port: number;
  readonly transports: Transport[];
  /** Errors from startServer (handshakes that failed), for assertions. */
  readonly errors: unknown[];
  close(): Promise<void>;
}

export async function loopbackServer(
  hostKeys: readonly PrivateKey[],
  policy: ServerPolicy | (() => ServerPolicy),
  onTransport: (t: Transport) => void | Promise<void> = () => {},
  options: TransportOptions = {},
): Promise<LoopbackServer> {
  const transports: Transport[] = [];
  const errors: unknown[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    const t = new Transport(sock, options);
    for (const k of hostKeys) t.addServerKey(k);
    transports.push(t);
    t.startServer(typeof policy === 'function' ? policy() : policy).then(() => onTransport(t)).catch((e: unknown) => { errors.push(e); });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    transports,
    errors,
    async close() {
      await Promise.all(transports.map((t) => t.close(200).catch(() => undefined)));
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/**
 * A loopback server that lets anyone in by password and runs `onExec(channel, command)` for every exec request:
 * the common shape of the channel tests, which differ only in what the command does.
 */
export function execLoopbackServer(hostKeys: readonly PrivateKey[], onExec: (ch: Channel, command: string) => void, options: TransportOptions = {}): Promise<LoopbackServer> {
  return loopbackServer(hostKeys, () => ({
    allowedAuths: () => ['password'],
    checkAuthPassword: () => AuthResult.SUCCESSFUL,
    checkChannelExecRequest: () => true,
  }), async (t) => {
    for (let ch = await t.accept(); ch; ch = await t.accept()) {
      const c = ch;
      c.once('exec', (command: string) => onExec(c, command));
    }
  }, options);
}
