import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { AuthResult } from './auth/types.js';
import { Client } from './Client.js';
import type { Channel } from './connection/channel.js';
import { OpenFailure } from './connection/connection.js';
import { ChannelOpenError } from './connection/open-error.js';
import type { ServerPolicy } from './connection/policy.js';
import { loopbackServer, type LoopbackServer } from './connection/testing/loopback.js';
import { generateHostKey } from './crypto/hostkey/index.js';
import { AuthError, ChannelError, HostKeyMismatch, SSHError } from './errors.js';
import { decodeMessage } from './messages/index.js';
import { insecureAcceptAnyHostKey, Transport } from './Transport.js';

const hostKey = generateHostKey('ssh-ed25519');
const userKey = generateHostKey('ecdsa-sha2-nistp256');
const rsaKey = generateHostKey('ssh-rsa', { rsaBits: 2048 });
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Runs tiny commands on exec: `echo X`, `cat`, `exit N`, `err X`, `sleep` (until a signal). */
function serveSession(ch: Channel): void {
  ch.on('exec', (cmd: string) => {
    const [name, ...args] = cmd.split(' ');
    const done = (code: number) => { void ch.exit(code); };
    if (name === 'echo') { ch.write(args.join(' ') + '\n'); done(0); } else if (name === 'err') { ch.stderr.write(args.join(' ')); done(1); } else if (name === 'exit') done(Number(args[0])); else if (name === 'cat') { ch.pipe(ch, { end: false }); ch.on('end', () => done(0)); } else if (name === 'env') { ch.write(JSON.stringify([...ch.env])); done(0); } else if (name === 'sleep') {
      ch.on('signal', (s: string) => { ch.sendExitSignal(s, false, 'killed'); ch.end(); void ch.close(); });
    } else done(127);
  });
}

function policy(extra: Partial<ServerPolicy> = {}): ServerPolicy {
  return {
    allowedAuths: () => ['publickey', 'password', 'keyboard-interactive'],
    checkAuthPassword: (u, p) => (u === 'alice' && p === 'secret' ? AuthResult.SUCCESSFUL : AuthResult.FAILED),
    checkAuthPublicKey: (u, k) => (u === 'alice' && (same(k.blob, userKey.publicKey.blob) || same(k.blob, rsaKey.publicKey.blob)) ? AuthResult.SUCCESSFUL : AuthResult.FAILED),
    checkAuthKeyboardInteractive: () => ({ instruction: 'otp', prompts: [{ prompt: 'code: ', echo: true }] }),
    checkAuthKeyboardInteractiveResponse: (_u, r) => (r[0] === '42' ? AuthResult.SUCCESSFUL : AuthResult.FAILED),
    checkChannelExecRequest: () => true,
    checkChannelEnvRequest: (_c, n) => n.startsWith('LC_'),
    checkChannelPtyRequest: () => true,
    checkChannelShellRequest: () => true,
    ...extra,
  };
}

async function acceptLoop(t: Transport): Promise<void> {
  for (let ch = await t.accept(); ch; ch = await t.accept()) if (ch.kind === 'session') serveSession(ch);
}

describe('impl/Transport: client ↔ server over loopback TCP (the paramiko Transport table of the README)', function () {
  let srv: LoopbackServer;
  before(async () => { srv = await loopbackServer([hostKey], () => policy(), acceptLoop, { auth: { failureDelayMs: 1 } }); });
  after(async () => { await srv.close(); });

  const target = (): string => `127.0.0.1:${srv.port}`;

  it('connect(hostKey, username, password) + exec: stdout, stderr, exit status', async () => {
    const t = new Transport(target());
    await t.connect({ hostKey: hostKey.publicKey, username: 'alice', password: 'secret' });
    expect(t.isActive()).to.equal(true);
    expect(t.isAuthenticated()).to.equal(true);
    expect(t.getUsername()).to.equal('alice');
    expect(same(t.getRemoteServerKey()!.blob, hostKey.publicKey.blob)).to.equal(true);
    const c = new Client_(t);
    expect(await c.run('echo hi there')).to.deep.include({ out: 'hi there\n', err: '', code: 0 });
    expect(await c.run('err oops')).to.deep.include({ out: '', err: 'oops', code: 1 });
    expect(await c.run('exit 42')).to.deep.include({ out: '', err: '', code: 42 });
    await t.close();
    expect(t.isActive()).to.equal(false);
  });

  it('a wrong host key fails with HostKeyMismatch', async () => {
    const t = new Transport(['127.0.0.1', srv.port]);
    const err = await t.connect({ hostKey: generateHostKey('ssh-ed25519').publicKey, username: 'alice', password: 'secret' }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(HostKeyMismatch);
    expect(t.isActive()).to.equal(false);
  });

  it('authPassword failure is an AuthError listing the allowed methods; a retry may succeed', async () => {
    const t = new Transport(target(), { verifyHostKey: insecureAcceptAnyHostKey });
    await t.startClient();
    const err = await t.authPassword('alice', 'nope').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(AuthError);
    expect((err as AuthError).allowedMethods).to.deep.equal(['publickey', 'password', 'keyboard-interactive']);
    expect(await t.authPassword('alice', 'secret')).to.deep.equal([]);
    await t.close();
  });

  it('authPublicKey (ecdsa; rsa picks rsa-sha2-512 from server-sig-algs) and keyboard-interactive', async () => {
    for (const key of [userKey, rsaKey]) {
      const t = new Transport(target(), { verifyHostKey: insecureAcceptAnyHostKey });
      await t.startClient();
      expect(await t.authPublicKey('alice', key)).to.deep.equal([]);
      await t.close();
    }
    const t = new Transport(target(), { verifyHostKey: insecureAcceptAnyHostKey });
    await t.startClient();
    const seen: string[] = [];
    expect(await t.authKeyboardInteractive('alice', (_n, instruction, prompts) => { seen.push(instruction, prompts[0]!.prompt); return ['42']; })).to.deep.equal([]);
    expect(seen).to.deep.equal(['otp', 'code: ']);
    await t.close();
  });

  it('Client.exec: stdin forwarded, 10 MiB cat comes back with the same SHA-256', async () => {
    const data = randomBytes(10 * 1024 * 1024);
    const r = await Client.exec(target(), { username: 'alice', password: 'secret', hostKey: hostKey.publicKey, stdin: data }, 'cat');
    expect(r.code).to.equal(0);
    expect(createHash('sha256').update(r.stdout).digest('hex')).to.equal(createHash('sha256').update(data).digest('hex'));
  });

  it('env (allowed/refused), pty, signal → exit-signal', async () => {
    const t = new Transport(target(), { verifyHostKey: insecureAcceptAnyHostKey });
    await t.connect({ username: 'alice', password: 'secret' });
    const ch = await t.openSession();
    expect(await ch.setEnv('LC_X', '1')).to.equal(true);
    expect(await ch.setEnv('PATH', '/evil')).to.equal(false);
    await ch.requestPty({ cols: 100, rows: 30 });
    const huge = await ch.request({ kind: 'window-change', cols: 0xffff_ffff, rows: 0xffff_ffff, widthPx: 0, heightPx: 0 }, true);
    expect(huge).to.equal(false);
    await ch.exec('sleep');
    ch.signal('TERM');
    expect(await ch.exitStatus()).to.equal(null);
    expect(ch.exitSignal).to.deep.equal({ signal: 'TERM', coreDumped: false, errorMessage: 'killed' });
    const ch2 = await t.openSession();
    const hugePty = await ch2.requestPty({ cols: 1_000_000, rows: 1_000_000 }).catch((e: unknown) => e);
    expect(hugePty).to.be.instanceOf(ChannelError);
    await ch2.close();
    await t.close();
  });

  it('openChannel refused by policy → ChannelOpenError with the OpenFailure code', async () => {
    const t = new Transport(target(), { verifyHostKey: insecureAcceptAnyHostKey });
    await t.connect({ username: 'alice', password: 'secret' });
    const err = await t.openChannel('direct-tcpip', ['127.0.0.1', 9], ['127.0.0.1', 1234]).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ChannelOpenError);
    expect((err as ChannelOpenError).openFailure).to.equal(OpenFailure.ADMINISTRATIVELY_PROHIBITED);
    const err2 = await t.openChannel('x-unknown@example.com').catch((e: unknown) => e);
    expect(err2).to.be.instanceOf(ChannelOpenError);
    await t.close();
  });

  it('globalRequest: default deny; without reply resolves at once; keepalive and ignore keep the link up', async () => {
    const t = new Transport(target(), { verifyHostKey: insecureAcceptAnyHostKey });
    await t.connect({ username: 'alice', password: 'secret' });
    expect(await t.globalRequest('whatever@example.com')).to.equal(null);
    expect(await t.globalRequest('whatever@example.com', undefined, false)).to.deep.equal(new Uint8Array(0));
    const err = await t.requestPortForward('127.0.0.1', 0).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ChannelError);
    t.sendIgnore(16);
    t.setKeepalive(10);
    await new Promise((r) => setTimeout(r, 80));
    t.setKeepalive(0);
    expect(t.isActive()).to.equal(true);
    await t.close();
  });

  it('renegotiateKeys mid-transfer loses nothing', async () => {
    const t = new Transport(target(), { verifyHostKey: insecureAcceptAnyHostKey });
    await t.connect({ username: 'alice', password: 'secret' });
    const ch = await t.openSession();
    await ch.exec('cat');
    const data = randomBytes(3 * 1024 * 1024);
    const chunks: Buffer[] = [];
    ch.on('data', (d: Buffer) => chunks.push(d));
    const ended = new Promise<void>((r) => ch.on('end', r));
    ch.write(data.subarray(0, 1024 * 1024));
    await t.renegotiateKeys();
    ch.write(data.subarray(1024 * 1024, 2 * 1024 * 1024));
    await t.renegotiateKeys();
    ch.end(data.subarray(2 * 1024 * 1024));
    await ended;
    expect(Buffer.concat(chunks).equals(data)).to.equal(true);
    await t.close();
  });

  it('accept(timeout) resolves null; getServerKey on the server; loadServerModuli reads /etc/ssh/moduli', async () => {
    const t = new Transport(target(), { verifyHostKey: insecureAcceptAnyHostKey });
    await t.connect({ username: 'alice', password: 'secret' });
    expect(await t.accept(20)).to.equal(null);
    const serverSide = srv.transports.at(-1)!;
    expect(serverSide.getServerKey()).to.equal(hostKey);
    expect(serverSide.getUsername()).to.equal('alice');
    expect(Transport.loadServerModuli('/nonexistent')).to.equal(false);
    expect(Transport.loadServerModuli('/etc/ssh/moduli')).to.equal(true); // openssh-server ships it
    expect(Transport.moduli.length).to.be.greaterThan(10);
    expect(Transport.moduli.every((g) => g.bits >= 2048)).to.equal(true);
    await t.close();
  });

  it('close() ends open channels cleanly (CLOSE before DISCONNECT)', async () => {
    const seen: string[] = [];
    const t = new Transport(target(), { verifyHostKey: insecureAcceptAnyHostKey, trace: { onPacket: (p) => { if (p.direction === 'out') seen.push(decodeMessage(p.payload).type); } } });
    await t.connect({ username: 'alice', password: 'secret' });
    const ch = await t.openSession();
    await ch.exec('cat');
    await t.close();
    const tail = seen.slice(seen.indexOf('SSH_MSG_CHANNEL_CLOSE'));
    expect(tail[0]).to.equal('SSH_MSG_CHANNEL_CLOSE');
    expect(tail.at(-1)).to.equal('SSH_MSG_DISCONNECT');
  });
});

describe('impl/Transport: the remaining rows of the README Transport table', function () {
  it('authNone, checkGlobalRequest with reply data, options.algorithms (paramiko plural names), sendIgnore and keepalive seen by the peer', async () => {
    const seenByServer: number[] = [];
    const srv = await loopbackServer([hostKey], policy({
      allowedAuths: () => [],
      checkAuthNone: (u) => (u === 'guest' ? AuthResult.SUCCESSFUL : AuthResult.FAILED),
      checkGlobalRequest: (kind) => (kind === 'echo@example.com' ? new Uint8Array([1, 2, 3]) : kind === 'ok@example.com'),
    }), acceptLoop, { trace: { onPacket: (p) => { if (p.direction === 'in') seenByServer.push(p.payload[0]!); } } });
    try {
      const t = new Transport(`127.0.0.1:${srv.port}`, { verifyHostKey: insecureAcceptAnyHostKey, algorithms: { kex: ['ecdh-sha2-nistp256'], hostKeys: ['ssh-ed25519'], ciphers: ['aes256-ctr'], macs: ['hmac-sha2-512-etm@openssh.com'] } });
      await t.startClient();
      expect(await t.authNone('nobody').catch((e: unknown) => e)).to.be.instanceOf(AuthError);
      expect(await t.authNone('guest')).to.deep.equal([]);
      expect(t.negotiatedAlgorithms).to.include({ kex: 'ecdh-sha2-nistp256', cipherC2S: 'aes256-ctr', macS2C: 'hmac-sha2-512-etm@openssh.com' });
      expect(await t.globalRequest('echo@example.com')).to.deep.equal(new Uint8Array([1, 2, 3]));
      expect(await t.globalRequest('ok@example.com')).to.deep.equal(new Uint8Array(0));
      t.sendIgnore(new Uint8Array(5));
      t.setKeepalive(5);
      await new Promise((r) => setTimeout(r, 60));
      t.setKeepalive(0);
      expect(t.isActive()).to.equal(true);
      expect(seenByServer).to.include(2); // SSH_MSG_IGNORE
      expect(seenByServer.filter((x) => x === 80).length).to.be.greaterThan(2); // keepalive@openssh.com global requests
      await t.close();
    } finally {
      await srv.close();
    }
  });

  it('new Transport(net.Socket): an already connected socket', async () => {
    const srv = await loopbackServer([hostKey], () => policy(), acceptLoop);
    try {
      const sock = net.connect(srv.port, '127.0.0.1');
      await new Promise((r) => sock.once('connect', r));
      const t = new Transport(sock, { verifyHostKey: insecureAcceptAnyHostKey });
      await t.connect({ username: 'alice', password: 'secret' });
      expect((await new Client_(t).run('echo sock')).out).to.equal('sock\n');
      await t.close();
      expect(sock.destroyed).to.equal(true);
    } finally {
      await srv.close();
    }
  });

  it('server: loginGraceMs disconnects a client that never authenticates; no-more-sessions@openssh.com is honoured', async () => {
    const srv = await loopbackServer([hostKey], () => policy(), acceptLoop, { loginGraceMs: 50 });
    try {
      const idle = new Transport(['127.0.0.1', srv.port], { verifyHostKey: insecureAcceptAnyHostKey });
      await idle.startClient();
      await idle.closed();
      expect(idle.closeError?.message).to.match(/TIMEOUT|authentication not completed/);
      const t = new Transport(['127.0.0.1', srv.port], { verifyHostKey: insecureAcceptAnyHostKey });
      await t.connect({ username: 'alice', password: 'secret' });
      await new Promise((r) => setTimeout(r, 80)); // past the grace time: authenticated clients stay
      expect(await t.globalRequest('no-more-sessions@openssh.com')).to.deep.equal(new Uint8Array(0));
      expect(await t.openSession().catch((e: unknown) => e)).to.be.instanceOf(ChannelOpenError);
      await t.close();
    } finally {
      await srv.close();
    }
  });

  it('options.rekey: a small byte limit rekeys both sides many times mid-transfer, nothing lost', async () => {
    let serverKex = 0;
    const srv = await loopbackServer([hostKey], () => policy(), async (t) => { t.on('kex', () => serverKex++); await acceptLoop(t); }, { rekey: { bytes: 256 * 1024 } });
    try {
      const t = new Transport(['127.0.0.1', srv.port], { verifyHostKey: insecureAcceptAnyHostKey, rekey: { bytes: 300 * 1024 } });
      let clientKex = 0;
      t.on('kex', () => clientKex++);
      await t.connect({ username: 'alice', password: 'secret' });
      const data = randomBytes(8 * 1024 * 1024);
      const r = await new Client_(t).run('cat', data);
      expect(sha(r.outBytes)).to.equal(sha(data));
      expect(clientKex).to.be.greaterThan(5);
      expect(serverKex).to.be.greaterThan(5);
      await t.close();
    } finally {
      await srv.close();
    }
  });

  it('a peer window far above the kex hold bound: writes pause during rekeys instead of overflowing it', async () => {
    const srv = await loopbackServer([hostKey], () => policy(), acceptLoop, { connection: { initialWindow: 64 * 1024 * 1024 } });
    try {
      const t = new Transport(['127.0.0.1', srv.port], { verifyHostKey: insecureAcceptAnyHostKey, rekey: { bytes: 4 * 1024 * 1024 } });
      await t.connect({ username: 'alice', password: 'secret' });
      const data = randomBytes(48 * 1024 * 1024);
      const r = await new Client_(t).run('cat', data);
      expect(sha(r.outBytes)).to.equal(sha(data));
      await t.close();
    } finally {
      await srv.close();
    }
  });

  it('writing to a channel after the connection dropped neither throws nor emits an error', async () => {
    const srv = await loopbackServer([hostKey], () => policy(), acceptLoop);
    try {
      const t = new Transport(['127.0.0.1', srv.port], { verifyHostKey: insecureAcceptAnyHostKey });
      await t.connect({ username: 'alice', password: 'secret' });
      const ch = await t.openSession();
      await ch.exec('cat');
      const errors: unknown[] = [];
      ch.on('error', (e) => errors.push(e));
      ch.resume();
      await srv.transports.at(-1)!.close();
      await t.closed();
      expect(ch.write('late')).to.be.a('boolean');
      ch.end('later');
      await new Promise((r) => setTimeout(r, 20));
      expect(errors).to.deep.equal([]);
      expect(await ch.exitStatus()).to.equal(null);
    } finally {
      await srv.close();
    }
  });

  it('a server with no host key refuses to start; a client cannot open channels before auth', async () => {
    const t = new Transport(new net.Socket());
    expect(await t.startServer(policy()).catch((e: unknown) => e)).to.be.instanceOf(SSHError);
    const srv = await loopbackServer([hostKey], () => policy(), acceptLoop);
    try {
      const c = new Transport(['127.0.0.1', srv.port], { verifyHostKey: insecureAcceptAnyHostKey });
      await c.startClient();
      expect(await c.openSession().catch((e: unknown) => e)).to.be.instanceOf(SSHError);
      await c.close();
    } finally {
      await srv.close();
    }
  });
});

describe('impl/Transport: port forwarding and peer-opened channels', function () {
  let echo: net.Server;
  let echoPort = 0;
  before(async () => {
    echo = net.createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    echoPort = (echo.address() as net.AddressInfo).port;
  });
  after(() => new Promise<void>((r) => echo.close(() => r())));

  it('direct-tcpip (server policy connects) and forwarded-tcpip (server opens, client accept())', async () => {
    let serverT: Transport | undefined;
    const srv = await loopbackServer([hostKey], policy({
      checkChannelRequest: (kind) => (kind === 'session' || kind === 'direct-tcpip' ? true : OpenFailure.UNKNOWN_CHANNEL_TYPE),
      checkPortForwardRequest: (_a, port) => (port === 0 ? 40000 : port),
    }), async (t) => {
      serverT = t;
      for (let ch = await t.accept(); ch; ch = await t.accept()) {
        if (ch.kind === 'direct-tcpip') {
          const s = net.connect(ch.info.destination!.port, ch.info.destination!.host);
          s.pipe(ch).pipe(s);
        }
      }
    });
    try {
      const t = new Transport(['127.0.0.1', srv.port], { verifyHostKey: insecureAcceptAnyHostKey });
      await t.connect({ username: 'alice', password: 'secret' });
      const ch = await t.openChannel('direct-tcpip', ['127.0.0.1', echoPort], ['127.0.0.1', 5555]);
      const payload = randomBytes(1024 * 1024);
      const got: Buffer[] = [];
      ch.on('data', (d: Buffer) => got.push(d));
      ch.write(payload);
      for (let i = 0; i < 200 && Buffer.concat(got).length < payload.length; i++) await new Promise((r) => setTimeout(r, 10));
      expect(Buffer.concat(got).equals(payload)).to.equal(true);
      await ch.close();

      expect(await t.requestPortForward('127.0.0.1', 0)).to.equal(40000);
      const fwd = await serverT!.openChannel('forwarded-tcpip', ['127.0.0.1', 40000], ['10.0.0.1', 999]);
      const accepted = await t.accept(1000);
      expect(accepted?.kind).to.equal('forwarded-tcpip');
      expect(accepted?.info.originator).to.deep.equal({ host: '10.0.0.1', port: 999 });
      fwd.write('ping');
      const first = await new Promise<Buffer>((r) => accepted!.once('data', r));
      expect(first.toString()).to.equal('ping');
      // a forwarded-tcpip nobody asked for is refused by the client
      const err = await serverT!.openChannel('forwarded-tcpip', ['127.0.0.1', 1], ['10.0.0.1', 999]).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ChannelOpenError);
      await t.close();
    } finally {
      await srv.close();
    }
  });
});

/** Runs a command on a new session of `t` and gathers everything. */
class Client_ {
  constructor(private readonly t: Transport) {}
  async run(cmd: string, input?: Uint8Array): Promise<{ out: string; err: string; code: number | null; outBytes: Buffer }> {
    const ch = await this.t.openSession();
    const out: Buffer[] = [];
    let err = '';
    ch.on('data', (d: Buffer) => out.push(d));
    ch.stderr.on('data', (d: Buffer) => (err += d));
    const ended = new Promise<void>((r) => ch.on('end', r));
    await ch.exec(cmd);
    if (input) ch.end(input);
    const code = await ch.exitStatus();
    await ended;
    const outBytes = Buffer.concat(out);
    return { out: outBytes.toString(), err, code, outBytes };
  }
}
