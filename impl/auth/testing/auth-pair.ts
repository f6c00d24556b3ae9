/** Wires an AuthClient straight to an AuthServer (no transport) with a virtual clock, for the auth tests. */
import { randomBytes } from 'node:crypto';
import { AuthClient, type AuthClientEvent } from '../client.js';
import { AuthServer, type AuthServerEvent, type AuthServerOptions } from '../server.js';
import type { ServerAuthPolicy } from '../types.js';

export interface AuthPair {
  readonly client: AuthClient;
  readonly server: AuthServer;
  readonly clientEvents: AuthClientEvent[];
  readonly serverEvents: AuthServerEvent[];
  /** Virtual time of each payload the server sent, in order. */
  readonly serverSentAt: number[];
  /** Raw payloads the server sent, in order. */
  readonly serverSent: Uint8Array[];
  now: number;
  /** Moves payloads both ways and the clock to the server's deadlines until nothing is left to do. */
  run(): Promise<void>;
  /** Injects a raw payload as if the client had sent it; from then on the server's replies stay in serverSent only. */
  injectToServer(payload: Uint8Array): void;
}

export function authPair(policy: ServerAuthPolicy, options: AuthServerOptions = {}, sessionIds?: { client?: Uint8Array; server?: Uint8Array }): AuthPair {
  const sid = randomBytes(32);
  const toServer: Uint8Array[] = [];
  const toClient: Uint8Array[] = [];
  let woke = 0;
  let raw = false;
  const p = {
    now: 1000,
    clientEvents: [] as AuthClientEvent[],
    serverEvents: [] as AuthServerEvent[],
    serverSentAt: [] as number[],
    serverSent: [] as Uint8Array[],
  } as AuthPair;
  const client = new AuthClient({ role: 'client', sessionId: sessionIds?.client ?? sid, sendPayload: (x) => toServer.push(x) });
  const server = new AuthServer(
    { role: 'server', sessionId: sessionIds?.server ?? sid, sendPayload: (x) => { toClient.push(x); p.serverSentAt.push(p.now); p.serverSent.push(x); } },
    policy, { ...options, onWake: () => { woke++; } });
  const drain = (): void => {
    for (let e = client.pollEvent(); e; e = client.pollEvent()) p.clientEvents.push(e);
    for (let e = server.pollEvent(); e; e = server.pollEvent()) p.serverEvents.push(e);
  };
  Object.assign(p, {
    client, server,
    injectToServer: (payload: Uint8Array) => { raw = true; toServer.push(payload); },
    async run() {
      for (let step = 0; step < 1000; step++) {
        let moved = 0;
        for (let x = toServer.shift(); x; x = toServer.shift(), moved++) server.handlePayload(x, p.now);
        for (let x = toClient.shift(); x; x = toClient.shift(), moved++) if (!raw) client.handlePayload(x);
        drain();
        if (moved > 0) continue;
        if (woke > 0) { woke = 0; server.handleTimeout(p.now); continue; }
        const t = server.pollTimeout();
        if (t !== undefined) { p.now = Math.max(p.now, t); server.handleTimeout(p.now); continue; }
        // an asynchronous policy decision may still be settling
        await new Promise((r) => setImmediate(r));
        if (woke > 0) continue;
        return;
      }
      throw new Error('auth pair did not settle in 1000 steps');
    },
  });
  return p;
}
