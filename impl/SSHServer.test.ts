// SSHServer survives what hits a real port: TCP probes that connect and close, clients that leave at every stage
// of the handshake (our own, and OpenSSH's ssh refusing the host key or finding no common kex), non-SSH clients,
// a handler that throws — each a 'clientError' event, never an unhandled rejection — and still serves.
import { expect } from 'chai';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuthResult, DisconnectError, generateHostKey, insecureAcceptAnyHostKey, OpenFailure, SSHClient, SSHServer, Transport, writeOpenSSHPrivateKey,
  type PeerAddress, type ServerPolicy,
} from './index.js';

const hostKey = generateHostKey('ssh-ed25519');
const policy: ServerPolicy = {
  allowedAuths: () => ['password'],
  checkAuthPassword: (u, p) => (u === 'alice' && p === 'pw' ? AuthResult.SUCCESSFUL : AuthResult.FAILED),
  checkChannelRequest: (kind) => (kind === 'session' ? true : OpenFailure.ADMINISTRATIVELY_PROHIBITED),
  checkChannelExecRequest: () => true,
};

/** Connects, optionally writes `send`, closes; resolves when the socket is gone. */
function probe(port: number, send?: string | Buffer, after = 0): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      if (send !== undefined) s.write(send);
      setTimeout(() => s.end(), after);
    });
    s.resume();
    s.on('error', () => undefined);
    s.on('close', () => resolve());
  });
}

describe('SSHServer: probes, clients leaving mid-handshake, and still serving', function () {
  this.timeout(60_000);
  let server: SSHServer;
  let port = 0;
  const clientErrors: { error: Error; peer: PeerAddress }[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => { unhandled.push(e); };

  before(async () => {
    process.on('unhandledRejection', onUnhandled);
    server = new SSHServer({ hostKeys: [hostKey], policy, handshakeTimeoutMs: 2000 }, (t) => {
      t.on('channel', (ch) => ch.once('exec', (command) => { ch.end(`ran ${command}\n`); void ch.exit(0); }));
    });
    server.on('clientError', (error, peer) => clientErrors.push({ error, peer }));
    ({ port } = await server.listen(0, '127.0.0.1'));
  });
  after(async () => {
    await server?.close();
    process.off('unhandledRejection', onUnhandled);
  });

  async function serves(): Promise<void> {
    const c = new SSHClient();
    await c.addHostKey('127.0.0.1', port, hostKey.publicKey);
    await c.connect('127.0.0.1', { port, username: 'alice', password: 'pw' });
    expect((await c.exec('ok')).stdout.toString()).to.equal('ran ok\n');
    await c.close();
  }

  it('200 TCP probes (connect, close): 200 clientError events that say nothing was sent, no unhandled rejection', async () => {
    clientErrors.length = 0;
    for (let i = 0; i < 200; i += 20) await Promise.all(Array.from({ length: 20 }, () => probe(port)));
    for (let i = 0; i < 100 && clientErrors.length < 200; i++) await new Promise((r) => setTimeout(r, 20));
    expect(clientErrors).to.have.length(200);
    for (const { error, peer } of clientErrors) {
      expect(error).to.be.instanceOf(DisconnectError);
      expect(error.message).to.match(/before the peer sent its SSH identification string; it sent nothing/);
      expect(peer.address).to.equal('127.0.0.1');
    }
    expect(unhandled).to.deep.equal([]);
    expect(server.connections).to.equal(0);
    await serves();
  });

  it('clients leaving at each handshake stage, and non-SSH clients: each one clientError with what happened', async () => {
    clientErrors.length = 0;
    await probe(port, 'SSH-2.0-probe\r\n');                          // identification, then gone
    await probe(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');           // a web client
    await probe(port, Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5]));   // a TLS ClientHello's start
    // our client, cut after its KEXINIT went out and after the key exchange
    for (const cutAfter of ['version', 'kex'] as const) {
      const t = new Transport(['127.0.0.1', port], { verifyHostKey: insecureAcceptAnyHostKey });
      t.once(cutAfter, () => (t as unknown as { socket: net.Socket }).socket.destroy());
      await t.startClient().catch(() => undefined);
    }
    for (let i = 0; i < 100 && clientErrors.length < 5; i++) await new Promise((r) => setTimeout(r, 20));
    const messages = clientErrors.map((e) => e.error.message);
    expect(messages[0]).to.match(/connection lost during the initial key exchange/);
    expect(messages[1]).to.match(/expected the identification string, got "GET \/ HTTP\/1\.1"/);
    expect(messages[2]).to.match(/identification|it sent 5 bytes: "\\u0016\\u0003\\u0001\\u0000\\u00a5"/);
    expect(messages[3]).to.match(/connection lost during the initial key exchange/);
    // the last client left right after its 'kex' event: its NEWKEYS is on the wire by then (writes are not held
    // back to a later tick), so the server usually finished the exchange and sees a 'close', not a clientError;
    // when the reset overtakes the NEWKEYS it is a loss during the key exchange like [3]
    expect(messages.length).to.be.oneOf([4, 5]);
    if (messages.length === 5) expect(messages[4]).to.match(/connection lost during the initial key exchange/);
    expect(unhandled).to.deep.equal([]);
    await serves();
  });

  it('OpenSSH ssh leaving mid-handshake (host key refused, no common kex): clientError, still serving', async function () {
    if (spawnSync('ssh', ['-V']).error) {
      if (process.env.CI === 'true') throw new Error('ssh (openssh-client) is required under CI');
      this.skip();
    }
    clientErrors.length = 0;
    const dir = mkdtempSync(join(tmpdir(), 'sshserver-'));
    try {
      writeFileSync(join(dir, 'known_hosts'), '');
      const common = ['-F', '/dev/null', '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${join(dir, 'known_hosts')}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-p', String(port)];
      // asynchronously: the server runs in this process
      const ssh = (args: string[]) => new Promise<string>((resolve) => execFile('ssh', [...common, ...args], { timeout: 20_000 }, (_e, _out, err) => resolve(err)));
      expect(await ssh(['-o', 'StrictHostKeyChecking=yes', 'alice@127.0.0.1', 'true'])).to.match(/Host key verification failed/);
      expect(await ssh(['-o', 'KexAlgorithms=diffie-hellman-group1-sha1', 'alice@127.0.0.1', 'true'])).to.match(/no matching key exchange method/);
      for (let i = 0; i < 100 && clientErrors.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      expect(clientErrors).to.have.length(2);
      expect(clientErrors[1]!.error.message).to.match(/no common kex algorithm/);
      expect(unhandled).to.deep.equal([]);
      await serves();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("100 sessions at once on one connection: every exec reaches the 'channel' listener", async () => {
    const c = new SSHClient();
    await c.addHostKey('127.0.0.1', port, hostKey.publicKey);
    await c.connect('127.0.0.1', { port, username: 'alice', password: 'pw' });
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => c.exec(`n${i}`)));
    expect(results.map((r) => r.stdout.toString())).to.deep.equal(Array.from({ length: 100 }, (_, i) => `ran n${i}\n`));
    await c.close();
  });

  it('a handler that throws: clientError, that connection closed, the server goes on; maxConnections refuses the excess', async () => {
    const errors: Error[] = [];
    const s = new SSHServer({ hostKeys: [writeOpenSSHPrivateKey(hostKey.keyObject)], policy, maxConnections: 1 }, () => { throw new Error('handler bug'); });
    s.on('clientError', (e) => errors.push(e));
    const { port: p } = await s.listen(0, '127.0.0.1');
    try {
      const t = new Transport(['127.0.0.1', p], { verifyHostKey: insecureAcceptAnyHostKey });
      await t.startClient();
      await t.closed();
      expect(errors.map((e) => e.message)).to.deep.equal(['handler bug']);
      const held = net.connect(p, '127.0.0.1');
      held.on('error', () => undefined);
      await new Promise((r) => held.once('connect', r));
      await new Promise((r) => setTimeout(r, 50));
      await probe(p);
      for (let i = 0; i < 50 && errors.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      expect(errors[1]!.message).to.match(/more than 1 connections/);
      held.destroy();
      expect(unhandled).to.deep.equal([]);
    } finally {
      await s.close();
    }
  });
});
