// Errors that say what happened: a non-SSH peer (a real HTTP server) shows what it sent, connect errors keep
// errno/syscall/address/port, a silent peer times out by the documented option, a host key mismatch carries both
// fingerprints, an asynchronous verifyHostKey holds every credential back until it answers, and our own close()
// is not an error.
import { expect } from 'chai';
import * as http from 'node:http';
import * as net from 'node:net';
import { AuthResult } from './auth/types.js';
import type { ServerPolicy } from './connection/policy.js';
import { loopbackServer, type LoopbackServer } from './connection/testing/loopback.js';
import { generateHostKey } from './crypto/hostkey/index.js';
import { ConnectError, DisconnectError, DisconnectReason, HostKeyMismatch, LimitError, SSHError, TimeoutError } from './errors.js';
import { fingerprintSHA256 } from './keys/fingerprint.js';
import { insecureAcceptAnyHostKey, Transport } from './Transport.js';

const hostKey = generateHostKey('ssh-ed25519');
const policy = (): ServerPolicy => ({
  allowedAuths: () => ['password'],
  checkAuthPassword: (_u, p) => (p === 'pw' ? AuthResult.SUCCESSFUL : AuthResult.FAILED),
});

/** A TCP server that runs `onSocket` for each connection (reads are consumed). */
async function rawServer(onSocket: (s: net.Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => { sockets.add(s); s.on('error', () => undefined); s.resume(); onSocket(s); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => { for (const s of sockets) s.destroy(); return new Promise<void>((r) => server.close(() => r())); },
  };
}

describe('impl/Transport: errors that say what happened', function () {
  this.timeout(20_000);

  it('an HTTP server (node:http): the error quotes the first bytes it answered, escaped', async () => {
    const server = http.createServer((_q, res) => res.end('hello'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const t = new Transport(['127.0.0.1', (server.address() as net.AddressInfo).port], { verifyHostKey: insecureAcceptAnyHostKey });
      const err = await t.startClient().catch((e: unknown) => e) as DisconnectError;
      expect(err).to.be.instanceOf(DisconnectError);
      expect(err.disconnectReason).to.equal(DisconnectReason.CONNECTION_LOST);
      expect(Buffer.from(err.received!).toString('latin1')).to.match(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(err.message).to.match(/before the peer sent its SSH identification string; it sent \d+ bytes: "HTTP\/1\.1 400 Bad Request\\r\\n/);
      expect(t.closeError).to.equal(err);
    } finally {
      server.close();
    }
  });

  it('a peer sending binary garbage: LimitError with the bytes escaped and bounded', async () => {
    const srv = await rawServer((s) => s.write(Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0xff, 0x00, 0x1b]), Buffer.alloc(400, 0xaa)])));
    try {
      const t = new Transport(['127.0.0.1', srv.port], { verifyHostKey: insecureAcceptAnyHostKey });
      const err = await t.startClient().catch((e: unknown) => e) as LimitError;
      expect(err).to.be.instanceOf(LimitError);
      expect(err.message).to.include('it sent 406 bytes (first 128 shown): "\\u0016\\u0003\\u0001\\u00ff\\u0000\\u001b\\u00aa');
      expect(err.message.length).to.be.below(1200);
    } finally {
      await srv.close();
    }
  });

  it('a silent peer: TimeoutError after handshakeTimeoutMs, saying nothing came', async () => {
    const srv = await rawServer(() => undefined);
    try {
      const t = new Transport(['127.0.0.1', srv.port], { verifyHostKey: insecureAcceptAnyHostKey, handshakeTimeoutMs: 300 });
      const started = Date.now();
      const err = await t.startClient().catch((e: unknown) => e) as TimeoutError;
      expect(err).to.be.instanceOf(TimeoutError);
      expect(err.message).to.equal('no SSH identification string from the peer within 300 ms (RFC 4253 §4.2); it sent nothing');
      expect(Date.now() - started).to.be.below(5000);
    } finally {
      await srv.close();
    }
  });

  it('connection refused: ConnectError with errno, syscall, address and port', async () => {
    const srv = await rawServer(() => undefined);
    const port = srv.port;
    await srv.close(); // nothing listens there now
    const t = new Transport(['127.0.0.1', port], { verifyHostKey: insecureAcceptAnyHostKey });
    const err = await t.startClient().catch((e: unknown) => e) as ConnectError;
    expect(err).to.be.instanceOf(ConnectError).and.instanceOf(SSHError);
    expect(err).to.include({ code: 'CONNECT', errno: 'ECONNREFUSED', syscall: 'connect', address: '127.0.0.1', port });
    expect((err as Error & { cause?: NodeJS.ErrnoException }).cause?.code).to.equal('ECONNREFUSED');
  });

  describe('against our server', () => {
    let srv: LoopbackServer;
    const inbound: { id: number; at: number }[] = [];
    before(async () => {
      srv = await loopbackServer([hostKey], policy, async (t) => { for (let ch = await t.accept(); ch; ch = await t.accept()) void ch; },
        { trace: { onPacket: (p) => { if (p.direction === 'in') inbound.push({ id: p.payload[0]!, at: Date.now() }); } } });
    });
    after(async () => { await srv.close(); });

    it('a different host key: HostKeyMismatch with the expected and the received SHA256 fingerprints', async () => {
      const other = generateHostKey('ssh-ed25519');
      const t = new Transport(['127.0.0.1', srv.port]);
      const err = await t.connect({ hostKey: other.publicKey, username: 'u', password: 'pw' }).catch((e: unknown) => e) as HostKeyMismatch;
      expect(err).to.be.instanceOf(HostKeyMismatch);
      expect(err.expectedFingerprints).to.deep.equal([fingerprintSHA256(other.publicKey.blob)]);
      expect(err.receivedFingerprint).to.equal(fingerprintSHA256(hostKey.publicKey.blob));
      expect(err).to.include({ host: '127.0.0.1', port: srv.port, keyType: 'ssh-ed25519' });
      expect(err.message).to.include(err.receivedFingerprint!).and.include(err.expectedFingerprints[0]!);
    });

    it('the expected key as an OpenSSH public key line is accepted', async () => {
      const t = new Transport(['127.0.0.1', srv.port]);
      await t.connect({ hostKey: `ssh-ed25519 ${Buffer.from(hostKey.publicKey.blob).toString('base64')} comment`, username: 'u', password: 'pw' });
      expect(t.isAuthenticated()).to.equal(true);
      await t.close();
    });

    it('an asynchronous verifyHostKey: nothing after the key exchange is sent until it resolves', async () => {
      let answeredAt = 0;
      const t = new Transport(['127.0.0.1', srv.port], {
        verifyHostKey: async (key, ctx) => {
          expect(ctx).to.deep.include({ host: '127.0.0.1', port: srv.port, fingerprint: fingerprintSHA256(key.blob) });
          await new Promise((r) => setTimeout(r, 300));
          answeredAt = Date.now();
          return true;
        },
      });
      const mark = inbound.length;
      await t.connect({ username: 'u', password: 'pw' });
      const serviceRequest = inbound.slice(mark).find((p) => p.id === 5);
      expect(serviceRequest, 'SSH_MSG_SERVICE_REQUEST').to.not.equal(undefined);
      expect(serviceRequest!.at).to.be.at.least(answeredAt);
      await t.close();
    });

    it('an asynchronous verifyHostKey that says no: HostKeyMismatch, no credentials sent', async () => {
      const mark = inbound.length; // the previous connection's packets are all in: its close() waited for the server
      const t = new Transport(['127.0.0.1', srv.port], { verifyHostKey: () => new Promise<boolean>((r) => setTimeout(() => r(false), 100)) });
      const err = await t.connect({ username: 'u', password: 'pw' }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(HostKeyMismatch);
      expect((err as Error).message).to.match(/refused by verifyHostKey/);
      await new Promise((r) => setTimeout(r, 100));
      expect(inbound.slice(mark).filter((p) => p.id !== 20 && p.id !== 21 && !(p.id >= 30 && p.id <= 49)).map((p) => p.id)).to.deep.equal([1]); // only DISCONNECT
    });

    it('a client with no host key decision is refused before it connects', async () => {
      const t = new Transport(['127.0.0.1', srv.port]);
      const err = await t.startClient().catch((e: unknown) => e);
      expect(err).to.be.instanceOf(SSHError).with.property('code', 'USAGE');
      expect((err as Error).message).to.match(/insecureAcceptAnyHostKey/);
    });

    it('our own close(): closeError stays undefined, close is emitted with undefined, pending calls reject with CLOSED', async () => {
      const t = new Transport(['127.0.0.1', srv.port], { verifyHostKey: insecureAcceptAnyHostKey });
      await t.connect({ username: 'u', password: 'pw' });
      const closed: unknown[] = [];
      t.on('close', (e) => closed.push(e));
      const pending = t.globalRequest('never-answered@example.org').catch((e: unknown) => e);
      await t.close();
      expect(t.closeError).to.equal(undefined);
      expect(closed).to.deep.equal([undefined]);
      expect(await pending).to.be.instanceOf(SSHError).with.property('code', 'CLOSED');
      expect(t.isActive()).to.equal(false);
    });

    it('the server ending the connection is an error with its reason', async () => {
      const t = new Transport(['127.0.0.1', srv.port], { verifyHostKey: insecureAcceptAnyHostKey });
      await t.connect({ username: 'u', password: 'pw' });
      const server = srv.transports[srv.transports.length - 1]!;
      await server.close();
      await t.closed();
      expect(t.closeError).to.be.instanceOf(DisconnectError);
      expect((t.closeError as DisconnectError).byPeer).to.equal(true);
      expect((t.closeError as DisconnectError).disconnectReason).to.equal(DisconnectReason.BY_APPLICATION);
    });
  });
});
