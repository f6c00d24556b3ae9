/**
 * Channel requests are never lost to a late listener (RFC 4254 §6): the server answers a request as soon as its
 * policy decides, and the matching event ('exec', 'env', 'pty', 'signal', …) waits on the Channel until the
 * application listens for it. Here the server attaches its listeners only after the client has seen every reply,
 * i.e. after every event was already emitted.
 */
import { expect } from 'chai';
import { AuthResult } from '../auth/types.js';
import { generateHostKey } from '../crypto/hostkey/index.js';
import { insecureAcceptAnyHostKey, Transport } from '../Transport.js';
import type { Channel } from './channel.js';
import type { ServerPolicy } from './policy.js';
import { loopbackServer, type LoopbackServer } from './testing/loopback.js';

const hostKey = generateHostKey('ssh-ed25519');
const policy: ServerPolicy = {
  allowedAuths: () => ['password'],
  checkAuthPassword: (u, p) => (u === 'alice' && p === 'pw' ? AuthResult.SUCCESSFUL : AuthResult.FAILED),
  checkChannelExecRequest: () => true,
  checkChannelEnvRequest: () => true,
  checkChannelPtyRequest: () => true,
};

describe('impl/connection: channel requests reach a listener attached late', function () {
  this.timeout(10_000);
  let srv: LoopbackServer;
  /** Server channels, handed over without any listener attached. */
  const accepted: Channel[] = [];
  let arrived: () => void = () => {};
  before(async () => {
    srv = await loopbackServer([hostKey], policy, async (t) => {
      for (let ch = await t.accept(); ch; ch = await t.accept()) { accepted.push(ch); arrived(); }
    }, { auth: { failureDelayMs: 1 } });
  });
  after(async () => { await srv.close(); });

  const serverChannel = async (): Promise<Channel> => {
    while (accepted.length === 0) await new Promise<void>((r) => { arrived = r; });
    return accepted.shift()!;
  };

  it('env, pty-req, window-change, exec and signal sent before any listener are delivered in order, once', async () => {
    const t = new Transport(['127.0.0.1', srv.port], { verifyHostKey: insecureAcceptAnyHostKey }); // a server of the test's own
    await t.connect({ username: 'alice', password: 'pw' });
    try {
      const ch = await t.openSession();
      const server = await serverChannel();
      expect(await ch.setEnv('LANG', 'C')).to.equal(true);
      await ch.requestPty({ cols: 100, rows: 30 });
      ch.resizePty(120, 40);
      ch.resizePty(121, 41);
      await ch.exec('make test');
      ch.signal('INT');
      await ch.setEnv('AFTER', 'signal'); // its reply comes after the signal was handled: everything has arrived
      // every event above was emitted before these listeners exist
      const seen: string[] = [];
      server.on('env', (n: string, v: string) => seen.push(`env ${n}=${v}`));
      server.once('exec', (cmd: string) => seen.push(`exec ${cmd}`));
      server.on('pty', (p: { cols: number }) => seen.push(`pty ${p.cols}`));
      server.on('window-change', (s: { cols: number }) => seen.push(`window-change ${s.cols}`));
      server.on('signal', (s: string) => seen.push(`signal ${s}`));
      await new Promise((r) => setImmediate(r));
      expect(seen).to.deep.equal(['env LANG=C', 'env AFTER=signal', 'exec make test', 'pty 100', 'window-change 120', 'window-change 121', 'signal INT']);
      // held events are delivered once: a second listener sees only what comes later
      const again: string[] = [];
      server.on('env', (n: string) => again.push(n));
      await ch.setEnv('LATER', '1');
      expect(again).to.deep.equal(['LATER']);
      expect(seen.at(-1)).to.equal('env LATER=1');
    } finally {
      await t.close();
    }
  });

  it('the README pattern: ch.once("exec") after an await sees the exec', async () => {
    const t = new Transport(['127.0.0.1', srv.port], { verifyHostKey: insecureAcceptAnyHostKey }); // a server of the test's own
    await t.connect({ username: 'alice', password: 'pw' });
    try {
      const ch = await t.openSession();
      const server = await serverChannel();
      await ch.exec('uptime');
      const command = await new Promise<string>((r) => server.once('exec', r));
      expect(command).to.equal('uptime');
      expect(server.command).to.equal('uptime');
    } finally {
      await t.close();
    }
  });

  it('at most 64 events of one name are held; the oldest go first (the state stays on the channel)', async () => {
    const t = new Transport(['127.0.0.1', srv.port], { verifyHostKey: insecureAcceptAnyHostKey }); // a server of the test's own
    await t.connect({ username: 'alice', password: 'pw' });
    try {
      const ch = await t.openSession();
      const server = await serverChannel();
      await ch.requestPty();
      for (let i = 1; i <= 100; i++) ch.resizePty(i, 24);
      await ch.setEnv('SYNC', '1');
      const cols: number[] = [];
      server.on('window-change', (s: { cols: number }) => cols.push(s.cols));
      await new Promise((r) => setImmediate(r));
      expect(cols).to.deep.equal(Array.from({ length: 64 }, (_, i) => 37 + i));
      expect(server.pty?.cols).to.equal(100);
    } finally {
      await t.close();
    }
  });

  it('client side: exit-status before anyone listens for "exit"', async () => {
    const t = new Transport(['127.0.0.1', srv.port], { verifyHostKey: insecureAcceptAnyHostKey }); // a server of the test's own
    await t.connect({ username: 'alice', password: 'pw' });
    try {
      const ch = await t.openSession();
      const server = await serverChannel();
      server.once('exec', () => { void server.exit(7); });
      await ch.exec('x');
      ch.resume();
      expect(await ch.exitStatus()).to.equal(7); // the exit-status request has been handled
      const code = await new Promise((r) => ch.once('exit', r));
      expect(code).to.equal(7);
    } finally {
      await t.close();
    }
  });
});
