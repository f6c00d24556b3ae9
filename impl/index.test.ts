/**
 * The README's API examples, runnable: everything comes from the public entry point (`ssh-harness` = impl/index.ts).
 * A server with a policy, a client exec, a password + publickey login, and a local port forward (direct-tcpip).
 */
import { expect } from 'chai';
import * as net from 'node:net';
import {
  AuthResult, Client, generateHostKey, OpenFailure, Transport,
  type Channel, type PublicKey, type ServerPolicy,
} from './index.js';

describe('public API examples (impl/index.ts)', function () {
  this.timeout(30_000);

  it('server with a policy + client exec + port forward', async () => {
    // ── server ───────────────────────────────────────────────────────────
    const hostKey = generateHostKey('ssh-ed25519');
    const userKey = generateHostKey('ssh-ed25519');
    const sameKey = (a: PublicKey, b: PublicKey) => Buffer.from(a.blob).equals(Buffer.from(b.blob));
    const policy: ServerPolicy = {
      allowedAuths: () => ['publickey', 'password'],
      checkAuthPassword: (user, pw) => (user === 'demo' && pw === 'demo' ? AuthResult.SUCCESSFUL : AuthResult.FAILED),
      checkAuthPublicKey: (user, key) => (user === 'demo' && sameKey(key, userKey.publicKey) ? AuthResult.SUCCESSFUL : AuthResult.FAILED),
      checkChannelRequest: (kind) => (kind === 'session' || kind === 'direct-tcpip' ? true : OpenFailure.UNKNOWN_CHANNEL_TYPE),
      checkChannelExecRequest: (_channel, command) => command.startsWith('echo '),
    };
    const serveChannel = (ch: Channel): void => {
      if (ch.kind === 'direct-tcpip') {
        const { host, port } = ch.info.destination!;
        const sock = net.connect(port, host);
        sock.pipe(ch).pipe(sock);
        return;
      }
      ch.on('exec', (command: string) => {
        ch.write(`${command.slice(5)}\n`);
        void ch.exit(0); // EOF, exit-status, CLOSE
      });
    };
    const server = net.createServer(async (sock) => {
      const t = new Transport(sock);
      t.addServerKey(hostKey);
      try {
        await t.startServer(policy);
        for (let ch = await t.accept(); ch; ch = await t.accept()) serveChannel(ch);
      } catch { /* the client went away during the handshake */ }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;

    // ── client: one command ──────────────────────────────────────────────
    const r = await Client.exec(`127.0.0.1:${port}`, { username: 'demo', password: 'demo', hostKey: hostKey.publicKey }, 'echo hello');
    expect(r).to.deep.include({ code: 0 });
    expect(r.stdout.toString()).to.equal('hello\n');

    // ── client: paramiko-style, publickey, then a port forward ───────────
    const echo = net.createServer((s) => s.pipe(s));
    await new Promise<void>((res) => echo.listen(0, '127.0.0.1', res));
    const t = new Transport(['127.0.0.1', port]);
    await t.connect({ hostKey: hostKey.publicKey, username: 'demo', privateKey: userKey });
    const tunnel = await t.openChannel('direct-tcpip', ['127.0.0.1', (echo.address() as net.AddressInfo).port], ['127.0.0.1', 0]);
    tunnel.end('through the tunnel');
    let back = '';
    for await (const chunk of tunnel) back += chunk;
    expect(back).to.equal('through the tunnel');
    expect(t.isAuthenticated()).to.equal(true);
    await t.close();

    await new Promise((res) => echo.close(res));
    await new Promise((res) => server.close(res));
  });
});
