/**
 * The sans-I/O layers stacked on two real engines in one process (the lead's Pair: no sockets, simulated clock):
 * ssh-userauth with publickey (signature over the real session id) and password, then a session channel whose data
 * crosses a rekey. Deterministic and fast; this is how the harness's `self` target can drive them too.
 */
import { expect } from 'chai';
import { AuthClient } from '../auth/client.js';
import { AuthServer } from '../auth/server.js';
import { AuthResult } from '../auth/types.js';
import { generateHostKey } from '../crypto/hostkey/index.js';
import { Pair, type Side } from '../transport/testing/pair.js';
import type { EngineEvent } from '../transport/types.js';
import { Connection, type ConnectionEvent } from './connection.js';

describe('impl/auth + impl/connection over the in-process engine Pair', () => {
  it('publickey then password (partial success), a channel, data across a rekey', () => {
    const hostKey = generateHostKey('ssh-ed25519');
    const userKey = generateHostKey('ecdsa-sha2-nistp256');
    const pair = new Pair({ server: { hostKeys: [hostKey] } });
    const host = (side: Side) => {
      const e = side === 'client' ? pair.client : pair.server;
      return { role: side, get sessionId() { return e.sessionId; }, sendPayload: (p: Uint8Array) => e.sendPayload(p) };
    };
    let keyDone = false;
    const authClient = new AuthClient(host('client'));
    const authServer = new AuthServer(host('server'), {
      allowedAuths: () => (keyDone ? ['password'] : ['publickey']),
      checkAuthPublicKey: (_u, k, ctx) => {
        if (!Buffer.from(k.blob).equals(Buffer.from(userKey.publicKey.blob))) return AuthResult.FAILED;
        if (ctx.signed) keyDone = true;
        return AuthResult.PARTIALLY_SUCCESSFUL;
      },
      checkAuthPassword: (_u, pw) => (keyDone && pw === 'pw' ? AuthResult.SUCCESSFUL : AuthResult.FAILED),
    });
    const conns = { client: new Connection(host('client')), server: new Connection(host('server')) };
    const events = { client: [] as ConnectionEvent[], server: [] as ConnectionEvent[] };
    const authEvents: string[] = [];

    pair.onEvent = (side: Side, e: EngineEvent) => {
      if (e.type === 'serviceRequest') pair.server.acceptService(e.service);
      if (e.type === 'extInfo' && side === 'client') {
        const v = e.extensions.get('server-sig-algs');
        if (v) authClient.setServerSigAlgs(Buffer.from(v).toString('latin1').split(','));
      }
      if (e.type !== 'payload') return;
      const id = e.payload[0]!;
      if (id < 80) {
        if (side === 'client') {
          authClient.handlePayload(e.payload);
          for (let a = authClient.pollEvent(); a; a = authClient.pollEvent()) authEvents.push(`${a.type}${a.type === 'failure' ? `:${a.methods.join(',')}:${a.partialSuccess}` : ''}`);
        } else {
          authServer.handlePayload(e.payload, pair.now);
        }
        return;
      }
      conns[side].handlePayload(e.payload);
      for (let c = conns[side].pollEvent(); c; c = conns[side].pollEvent()) events[side].push(c);
    };
    /** Drives the pair, firing the auth layer's held FAILURE replies on the simulated clock. */
    const settle = () => {
      for (let i = 0; i < 100; i++) {
        pair.drive();
        const t = authServer.pollTimeout();
        if (t === undefined) return;
        pair.now = Math.max(pair.now, t);
        authServer.handleTimeout(pair.now);
      }
    };

    pair.start();
    settle();
    expect(pair.client.phase).to.equal('established');
    pair.client.requestService('ssh-userauth');
    settle();

    authClient.publicKey('alice', userKey);
    settle();
    authClient.password('alice', 'pw');
    settle();
    expect(authEvents).to.deep.equal(['failure:password:true', 'success']);
    expect(authServer.authenticated).to.deep.equal({ user: 'alice', service: 'ssh-connection' });

    const cid = conns.client.openChannel('session');
    settle();
    const open = events.server.find((x) => x.type === 'channelOpen');
    expect(open?.type).to.equal('channelOpen');
    conns.server.acceptOpen(open!.id);
    settle();
    const chunk = new Uint8Array(100_000).fill(7);
    let sent = conns.client.sendData(cid, chunk.subarray(0, 50_000));
    pair.client.rekey();
    sent += conns.client.sendData(cid, chunk.subarray(50_000));
    settle();
    const got = events.server.filter((x): x is Extract<ConnectionEvent, { type: 'data' }> => x.type === 'data').reduce((n, x) => n + x.data.length, 0);
    expect(sent).to.equal(100_000);
    expect(got).to.equal(100_000);
    expect(pair.events.client.filter((x) => x.type === 'kexDone')).to.have.length(2);
  });
});
