/**
 * bridgeChannelSocket (RFC 4254 §7 data path, §5.3 EOF/CLOSE): our client and our server, each joining
 * direct-tcpip channels to TCP sockets with it. Checked traffic with half-close on either side, a slow local
 * reader when the peer closes, a reset local socket, a peer that closes without EOF, and a connection that dies
 * mid-transfer (the local side must see a reset, not a clean end).
 */
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { Duplex } from 'node:stream';
import { AuthResult } from '../auth/types.js';
import { generateHostKey } from '../crypto/hostkey/index.js';
import { insecureAcceptAnyHostKey, Transport } from '../Transport.js';
import type { Channel } from './channel.js';
import { bridgeChannelSocket, type BridgeResult } from './socket-bridge.js';
import type { ServerPolicy } from './policy.js';
import { loopbackServer, type LoopbackServer } from './testing/loopback.js';
import { planConnections, runTraffic, TrafficServer } from './testing/tcp-traffic.js';

const hostKey = generateHostKey('ssh-ed25519');
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const ignore = (): void => {};

/** A server that connects direct-tcpip channels to their destination and bridges them; results are kept. */
const policy: ServerPolicy = {
  allowedAuths: () => ['password'],
  checkAuthPassword: (u, p) => (u === 'alice' && p === 'pw' ? AuthResult.SUCCESSFUL : AuthResult.FAILED),
  checkChannelRequest: (kind) => (kind === 'direct-tcpip' ? true : 1),
};

describe('impl/connection: bridgeChannelSocket (port forwarding data path)', function () {
  this.timeout(60_000);
  let srv: LoopbackServer;
  let far: TrafficServer;
  const serverBridges: Promise<BridgeResult>[] = [];
  before(async () => {
    far = await TrafficServer.start();
    srv = await loopbackServer([hostKey], policy, async (t) => {
      for (let ch = await t.accept(); ch; ch = await t.accept()) {
        const dest = ch.info.destination!;
        const sock = net.connect({ host: dest.host, port: dest.port, allowHalfOpen: true });
        sock.on('error', ignore);
        serverBridges.push(bridgeChannelSocket(ch, sock));
      }
    }, { auth: { failureDelayMs: 1 } });
  });
  after(async () => { await srv.close(); await far.close(); });

  const connect = async (): Promise<Transport> => {
    const t = new Transport(['127.0.0.1', srv.port], { verifyHostKey: insecureAcceptAnyHostKey }); // a server of the test's own
    await t.connect({ username: 'alice', password: 'pw' });
    return t;
  };

  /** A local listener that tunnels each connection to `port` over `t` (what ssh -L does). */
  const localForward = async (t: Transport, port: number, results: Promise<BridgeResult>[] = []): Promise<net.Server> => {
    const local = net.createServer({ allowHalfOpen: true }, (sock) => {
      sock.on('error', ignore);
      t.openChannel('direct-tcpip', ['127.0.0.1', port], ['127.0.0.1', sock.remotePort ?? 0])
        .then((ch) => { results.push(bridgeChannelSocket(ch, sock)); }, () => sock.destroy());
    });
    await new Promise<void>((r) => local.listen(0, '127.0.0.1', r));
    return local;
  };

  it('60 seeded connections up to 2 MiB each way, every half-close order: every byte arrives; both bridges complete', async () => {
    const t = await connect();
    const results: Promise<BridgeResult>[] = [];
    const local = await localForward(t, far.port, results);
    try {
      const port = (local.address() as net.AddressInfo).port;
      serverBridges.length = 0;
      const r = await runTraffic(() => net.connect({ port, host: '127.0.0.1', allowHalfOpen: true }), planConnections(7, 60, 2 * 1024 * 1024), far);
      expect(r.failures).to.deep.equal([]);
      const mine = await Promise.all(results);
      expect(mine.map((b) => b.complete)).to.deep.equal(mine.map(() => true));
      expect((await Promise.all(serverBridges)).every((b) => b.complete && !b.error)).to.equal(true);
    } finally {
      local.close();
      await t.close();
    }
  });

  it('the peer finishes and closes while the local reader is stalled: all its bytes still arrive, then FIN', async () => {
    const data = randomBytes(6 * 1024 * 1024);
    // a far end that writes 6 MiB at once and closes as soon as it is flushed
    const sender = net.createServer({ allowHalfOpen: true }, (s) => { s.on('error', ignore); s.end(data); s.on('finish', () => s.destroy()); });
    await new Promise<void>((r) => sender.listen(0, '127.0.0.1', r));
    const t = await connect();
    const results: Promise<BridgeResult>[] = [];
    const local = await localForward(t, (sender.address() as net.AddressInfo).port, results);
    try {
      const sock = net.connect({ port: (local.address() as net.AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
      sock.pause();
      await new Promise((r) => setTimeout(r, 500)); // the server side has long seen EOF and its socket close
      const got: Buffer[] = [];
      sock.on('data', (d: Buffer) => got.push(d));
      sock.resume();
      await new Promise((r) => sock.once('end', r));
      sock.end();
      expect(sha(Buffer.concat(got))).to.equal(sha(data));
      expect((await results[0]!).fromChannel).to.equal(data.length);
    } finally {
      local.close();
      sender.close();
      await t.close();
    }
  });

  it('the local side ends both ways while its last bytes still wait on the channel: complete once they and EOF went out', async () => {
    // The race CI hit: the local socket's write side is already finished (the peer's answer and FIN came first), then
    // its read side ends and node closes it while the channel is still sending the last bytes read from it. That is
    // a clean end, not a lost socket: the bridge must still send EOF after those bytes and report completion.
    const data = randomBytes(200_000);
    const received: Buffer[] = [];
    const sawEnd = deferred<void>();
    const greeter = net.createServer({ allowHalfOpen: true }, (s) => {
      s.end('hello');
      s.on('data', (d: Buffer) => received.push(d));
      s.on('end', () => sawEnd.resolve());
    });
    await new Promise<void>((r) => greeter.listen(0, '127.0.0.1', r));
    const t = await connect();
    try {
      const ch = await t.openChannel('direct-tcpip', ['127.0.0.1', (greeter.address() as net.AddressInfo).port], ['127.0.0.1', 1]);
      const answer: Buffer[] = [];
      const local = new Duplex({ allowHalfOpen: true, read: ignore, write: (c: Buffer, _e, cb) => { answer.push(c); cb(); } });
      const bridged = bridgeChannelSocket(ch, local);
      await new Promise((r) => local.once('finish', r)); // 'hello' and the FIN are through
      local.push(data);
      local.push(null); // node now closes `local` at once: both its sides are done
      await sawEnd.promise;
      expect(sha(Buffer.concat(received))).to.equal(sha(data));
      expect(Buffer.concat(answer).toString()).to.equal('hello');
      const b = await bridged;
      expect(b).to.deep.include({ complete: true, fromSocket: data.length, fromChannel: 5 });
      expect(b.error).to.equal(undefined);
    } finally {
      greeter.close();
      await t.close();
    }
  });

  it('a local socket reset ends the channel: what it sent arrives, then EOF and CLOSE; the bridge reports the error', async () => {
    const received: Buffer[] = [];
    const sawEnd = deferred<void>();
    const sink = net.createServer({ allowHalfOpen: true }, (s) => { s.on('data', (d: Buffer) => received.push(d)); s.on('end', () => { s.end(); sawEnd.resolve(); }); });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    const t = await connect();
    const results: Promise<BridgeResult>[] = [];
    const local = await localForward(t, (sink.address() as net.AddressInfo).port, results);
    try {
      const sock = net.connect({ port: (local.address() as net.AddressInfo).port, host: '127.0.0.1' });
      await new Promise((r) => sock.once('connect', r));
      sock.write('before the reset');
      await new Promise((r) => setTimeout(r, 100));
      sock.resetAndDestroy();
      await sawEnd.promise;
      expect(Buffer.concat(received).toString()).to.equal('before the reset');
      const b = await results[0]!;
      expect(b.complete).to.equal(false);
      expect(b.error?.message).to.match(/ECONNRESET/);
    } finally {
      local.close();
      sink.close();
      await t.close();
    }
  });

  it('the peer sends CLOSE without EOF: the local side gets its bytes and an end, the bridge settles', async () => {
    // our own server here, so that it can close a channel bluntly
    let serverChannel: Channel | undefined;
    const blunt = await loopbackServer([hostKey], { ...policy, checkChannelRequest: () => true }, async (st) => {
      for (let ch = await st.accept(); ch; ch = await st.accept()) {
        serverChannel = ch;
        ch.resume();
        ch.write('partial answer', () => { void ch.close(); });
      }
    }, { auth: { failureDelayMs: 1 } });
    const t = new Transport(['127.0.0.1', blunt.port], { verifyHostKey: insecureAcceptAnyHostKey }); // a server of the test's own
    await t.connect({ username: 'alice', password: 'pw' });
    try {
      const ch = await t.openChannel('direct-tcpip', ['127.0.0.1', 9], ['127.0.0.1', 0]);
      const [mine, theirs] = socketPair();
      const bridged = bridgeChannelSocket(ch, await mine);
      const other = await theirs;
      other.on('error', ignore);
      const got: Buffer[] = [];
      other.on('data', (d: Buffer) => got.push(d));
      other.write(randomBytes(64 * 1024)); // still sending when the peer closes
      await new Promise((r) => other.once('close', r));
      expect(Buffer.concat(got).toString()).to.equal('partial answer');
      const b = await bridged;
      expect(b.complete).to.equal(false);
      expect(serverChannel?.channelGone).to.equal(true);
    } finally {
      await t.close();
      await blunt.close();
    }
  });

  it('the SSH connection dies mid-transfer: the local socket is reset, not ended as if complete', async () => {
    // a far end that keeps sending
    const firehose = net.createServer((s) => {
      s.on('error', ignore);
      const chunk = Buffer.alloc(64 * 1024);
      const pump = (): void => { while (!s.destroyed && s.write(chunk)); };
      s.on('drain', pump);
      pump();
    });
    await new Promise<void>((r) => firehose.listen(0, '127.0.0.1', r));
    // our client's own TCP connection, so the test can cut it
    const wire = net.connect({ port: srv.port, host: '127.0.0.1' });
    await new Promise((r) => wire.once('connect', r));
    wire.on('error', ignore);
    const t = new Transport(wire, { verifyHostKey: insecureAcceptAnyHostKey }); // a server of the test's own
    await t.connect({ username: 'alice', password: 'pw' });
    const results: Promise<BridgeResult>[] = [];
    const local = await localForward(t, (firehose.address() as net.AddressInfo).port, results);
    try {
      const sock = net.connect({ port: (local.address() as net.AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
      let bytes = 0;
      let ended = false;
      sock.on('data', (d: Buffer) => { bytes += d.length; });
      sock.on('end', () => { ended = true; });
      const err = new Promise<Error>((r) => sock.once('error', r));
      while (bytes < 1024 * 1024) await new Promise((r) => setTimeout(r, 10));
      wire.destroy(); // the SSH connection is gone under the tunnel
      expect((await err).message).to.match(/ECONNRESET/);
      expect(ended).to.equal(false);
      const b = await results[0]!;
      expect(b.complete).to.equal(false);
      expect(b.error).to.not.equal(undefined);
    } finally {
      local.close();
      firehose.close();
      await t.close();
    }
  });
});

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => { resolve = r; });
  return { promise, resolve };
}

/** Two connected loopback TCP sockets, the first half-open capable. */
function socketPair(): [Promise<net.Socket>, Promise<net.Socket>] {
  const a = deferred<net.Socket>();
  const b = deferred<net.Socket>();
  const server = net.createServer((s) => { b.resolve(s); server.close(); });
  server.listen(0, '127.0.0.1', () => {
    const s = net.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
    s.on('error', ignore);
    s.once('connect', () => a.resolve(s));
  });
  return [a.promise, b.promise];
}
