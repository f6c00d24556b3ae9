/**
 * Windows smaller than the stream's high-water mark (RFC 4254 §5.2): the receiver must still reopen the window as
 * the application reads, whether it reads in flowing mode, by pipe, or paused with read() — and stop the sender
 * while it does not read.
 */
import { expect } from 'chai';
import net from 'node:net';
import { AuthResult } from '../auth/types.js';
import { generateHostKey } from '../crypto/hostkey/index.js';
import { insecureAcceptAnyHostKey, Transport } from '../Transport.js';
import type { ServerPolicy } from './policy.js';

const TOTAL = 300_000;

describe('channel windows smaller than the stream high-water mark', function () {
  this.timeout(30_000);
  let server: net.Server;
  let port = 0;
  const hostKey = generateHostKey('ssh-ed25519');
  const policy: ServerPolicy = {
    allowedAuths: () => ['password'],
    checkAuthPassword: () => AuthResult.SUCCESSFUL,
    checkChannelRequest: () => true,
    checkChannelExecRequest: () => true,
  };
  before(async () => {
    server = net.createServer((sock) => {
      const t = new Transport(sock, { hostKeys: [hostKey] });
      t.startServer(policy).then(async () => {
        for (let ch = await t.accept(); ch; ch = await t.accept()) {
          ch.once('exec', () => {
            ch.stderr.write(Buffer.alloc(TOTAL / 3, 0x65));
            ch.end(Buffer.alloc(TOTAL, 0x6f), () => void ch.exit(0));
          });
        }
      }).catch(() => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
  });
  after(() => server.close());

  for (const window of [1024, 4096, 32768]) {
    it(`a ${window}-byte window: stdout and stderr arrive complete in flowing mode`, async () => {
      const t = new Transport(['127.0.0.1', port], { verifyHostKey: insecureAcceptAnyHostKey, connection: { initialWindow: window, maxPacket: Math.min(window, 32768) } });
      await t.connect({ username: 'u', password: 'p' });
      const ch = await t.openSession();
      await ch.exec('x');
      let out = 0;
      let err = 0;
      ch.on('data', (d: Buffer) => { out += d.length; });
      ch.stderr.on('data', (d: Buffer) => { err += d.length; });
      expect(await ch.exitStatus()).to.equal(0);
      await new Promise((r) => setImmediate(r));
      expect([out, err]).to.deep.equal([TOTAL, TOTAL / 3]);
      await t.close();
    });
  }

  it('a paused reader stops the sender, and read() reopens the window', async () => {
    const t = new Transport(['127.0.0.1', port], { verifyHostKey: insecureAcceptAnyHostKey, connection: { initialWindow: 4096, maxPacket: 4096 } });
    await t.connect({ username: 'u', password: 'p' });
    const ch = await t.openSession();
    await ch.exec('x');
    ch.stderr.resume();
    await new Promise((r) => setTimeout(r, 200));
    expect(ch.readableLength).to.equal(4096); // the window is used up and nothing more came
    let got = 0;
    for (;;) {
      const c = ch.read() as Buffer | null;
      if (c) { got += c.length; continue; }
      if (ch.readableEnded || got >= TOTAL) break;
      await new Promise<void>((r) => ch.once('readable', r));
    }
    expect(got).to.equal(TOTAL);
    await t.close();
  });
});
