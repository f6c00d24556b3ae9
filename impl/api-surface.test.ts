// The public API as a user meets it. Type-level checks are the `@ts-expect-error` lines: `npm run typecheck`
// compiles this file, and fails if any of them stops being an error (a misspelt event, a wrong listener, an option
// that must not exist). The runtime checks: every wrong argument is SSHError('USAGE') naming it, keys are taken in
// every form, and the main entry exposes none of the deviation machinery.
import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import * as net from 'node:net';
import * as api from './index.js';
import {
  AuthResult, Channel, generateHostKey, KeyFormatError, parsePrivateKey, SSHClient, SSHError, SSHServer, Transport, writeOpenSSHPrivateKey,
  WrongPassphraseError, insecureAcceptAnyHostKey, type TransportEvents, type ChannelEvents,
} from './index.js';
import { loopbackServer } from './connection/testing/loopback.js';
import { toPrivateKey } from './keys/key-input.js';
import { dangerousEngine, withDangerousEngineOptions } from './testing.js';

/** Compiled, never run: each @ts-expect-error must be an error for the typecheck to pass. */
export function typeLevelChecks(t: Transport, ch: Channel, s: SSHServer): void {
  t.on('kex', (algs) => algs.cipherC2S.toUpperCase());
  t.on('close', (e) => e?.code);
  // @ts-expect-error a misspelt event name
  t.on('kexx', () => undefined);
  // @ts-expect-error a listener of the wrong shape ('banner' passes strings)
  t.on('banner', (m: number) => m);
  // @ts-expect-error 'close' may carry undefined (our own close): a listener must accept it
  t.on('close', (e: SSHError) => e.message);
  ch.once('exec', (command) => command.toUpperCase());
  ch.on('data', (d) => d.byteLength);
  ch.on('exit', (code, signal) => [code, signal]);
  // @ts-expect-error the classic typo
  ch.once('exce', () => undefined);
  // @ts-expect-error exec passes the command string
  ch.once('exec', (command: number) => command);
  s.on('clientError', (err, peer) => `${peer.address}: ${err.message}`);
  // @ts-expect-error misspelt server event
  s.on('clientErorr', () => undefined);
  // @ts-expect-error the engine is not on the public Transport
  void t.engine;
  // @ts-expect-error nor is flush
  t.flush();
  // @ts-expect-error engine options (deviations, resume, strictKex…) are not TransportOptions
  void new Transport('h:22', { engine: { strictKex: false } });
  const events: (keyof TransportEvents)[] = ['version', 'kex', 'banner', 'authenticated', 'policyError', 'debug', 'close'];
  const channelEvents: (keyof ChannelEvents)[] = ['eof', 'exit', 'exec', 'pty', 'env', 'shell', 'subsystem', 'signal', 'window-change'];
  void events; void channelEvents;
}

const hostKey = generateHostKey('ssh-ed25519');

async function usageError(p: Promise<unknown> | (() => unknown)): Promise<SSHError> {
  let e: unknown;
  try { await (typeof p === 'function' ? p() : p); } catch (x) { e = x; }
  expect(e, 'an SSHError was thrown').to.be.instanceOf(SSHError);
  expect((e as SSHError).code).to.equal('USAGE');
  return e as SSHError;
}

describe('public API: argument checks, key inputs, no deviation machinery in the main entry', () => {
  it('the main entry exports no engine, deviation hooks or relaxations; a Transport has no engine member', () => {
    for (const name of ['Engine', 'EngineTesting', 'withDangerousEngineOptions', 'dangerousEngine', 'Pair']) expect(api).to.not.have.property(name);
    const t = new Transport('127.0.0.1:22', { verifyHostKey: insecureAcceptAnyHostKey });
    expect('engine' in t).to.equal(false);
    expect(Object.keys(t)).to.not.include('engine');
  });

  it('Transport: a wrong socket, a misspelt or removed option, an unknown algorithm → USAGE naming it', async () => {
    expect((await usageError(() => new Transport(42 as never))).message).to.match(/^Transport: socket: expected/);
    expect((await usageError(() => new Transport(['h', 70000]))).message).to.match(/port.*from 1 to 65535/);
    expect((await usageError(() => new Transport('h:22', { hostkeys: [] } as never))).message).to.match(/unknown option "hostkeys"/);
    expect((await usageError(() => new Transport('h:22', { engine: { strictKex: false } } as never))).message).to.match(/unknown option "engine"/);
    expect((await usageError(() => new Transport('h:22', { algorithms: { cipher: ['aes128-cbc-typo'] } }))).message).to.match(/unknown cipher algorithm "aes128-cbc-typo"/);
    expect((await usageError(() => new Transport('h:22', { handshakeTimeoutMs: -1 }))).message).to.match(/handshakeTimeoutMs/);
    expect((await usageError(() => new Transport('h:22', { verifyHostKey: true } as never))).message).to.match(/verifyHostKey: expected a function/);
  });

  it('method arguments: USAGE errors name the method and the argument', async () => {
    const t = new Transport('127.0.0.1:1', { verifyHostKey: insecureAcceptAnyHostKey });
    expect((await usageError(t.connect({ username: 7 } as never))).message).to.equal('connect: username: expected a string, got the number 7');
    expect((await usageError(t.connect({ username: 'u', pasword: 'x' } as never))).message).to.match(/unknown option "pasword"/);
    expect((await usageError(t.authPassword('u', undefined as never))).message).to.match(/^authPassword: password: expected a string/);
    expect((await usageError(t.openChannel('direct-tcpip', ['h', 'x'] as never))).message).to.match(/^openChannel: dest\[1\] \(port\)/);
    expect((await usageError(t.accept(-5))).message).to.match(/^accept: timeoutMs/);
    expect((await usageError(t.globalRequest('x', 'data' as never))).message).to.match(/^globalRequest: data: expected a Uint8Array/);
    expect((await usageError(() => t.setKeepalive('1s' as never))).message).to.match(/^setKeepalive: ms/);
    expect((await usageError(t.requestPortForward('', 99999))).message).to.match(/^requestPortForward: port/);
    expect((await usageError(t.startServer(undefined as never))).message).to.match(/^startServer: policy/);
    const c = new SSHClient();
    expect((await usageError(c.connect('', {}))).message).to.match(/^connect: host: must not be empty/);
    expect((await usageError(c.connect('h', { prot: 22 } as never))).message).to.match(/unknown option "prot"/);
    expect((await usageError(() => c.setMissingHostKeyPolicy({} as never))).message).to.match(/missingHostKey: expected a function/);
    expect((await usageError(c.execCommand('ls'))).message).to.match(/not connected/);
    expect((await usageError(() => new SSHServer({ hostKeys: [], policy: { allowedAuths: () => [] } }))).message).to.match(/hostKeys/);
  });

  it('a private key in every form: contents (string, Buffer, encrypted with passphrase), parsePrivateKey()\'s result, PrivateKey, KeyObject', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const openssh = writeOpenSSHPrivateKey(privateKey, { passphrase: 'pw', rounds: 2 });
    const plain = writeOpenSSHPrivateKey(privateKey);
    const forms: [string, unknown, string?][] = [
      ['string', plain],
      ['Buffer', Buffer.from(plain)],
      ['encrypted + passphrase', openssh, 'pw'],
      ['parsePrivateKey()', parsePrivateKey(plain)],
      ['PrivateKey', parsePrivateKey(plain).toPrivateKey()],
      ['KeyObject', privateKey],
    ];
    const blob = parsePrivateKey(plain).publicBlob;
    for (const [what, input, pass] of forms) expect(Buffer.from(toPrivateKey(input, what, pass).publicKey.blob).equals(Buffer.from(blob)), what).to.equal(true);
    // and used where keys are taken: client auth and server host keys, against our server
    let accepted = 0;
    const srv = await loopbackServer([], { allowedAuths: () => ['publickey'], checkAuthPublicKey: (_u, k, ctx) => (Buffer.from(k.blob).equals(Buffer.from(blob)) ? (ctx.signed && accepted++, AuthResult.SUCCESSFUL) : AuthResult.FAILED) },
      () => undefined, { hostKeys: [writeOpenSSHPrivateKey(hostKey.keyObject)] });
    try {
      for (const [what, input, pass] of forms) {
        const t = new Transport(['127.0.0.1', srv.port]);
        await t.connect({ hostKey: hostKey.publicKey, username: what, privateKey: input as never, ...(pass ? { passphrase: pass } : {}) });
        await t.close();
      }
      expect(accepted).to.equal(forms.length);
    } finally {
      await srv.close();
    }
  });

  it('a wrong key: USAGE naming the argument (not a TypeError from inside); bad files: KeyFormatError naming it', async () => {
    const t = new Transport('127.0.0.1:1', { verifyHostKey: insecureAcceptAnyHostKey });
    expect((await usageError(t.connect({ username: 'u', privateKey: 42 as never }))).message).to.match(/^connect: privateKey: expected the key file's contents/);
    expect((await usageError(t.connect({ username: 'u', privateKey: { algorithms: 'x' } as never }))).message).to.match(/^connect: privateKey: expected/);
    expect((await usageError(t.authPublicKey('u', generateKeyPairSync('ed25519').publicKey))).message).to.match(/^authPublicKey: key: expected a private key, got a public KeyObject/);
    expect((await usageError(() => new Transport('h:22', { hostKeys: [null as never] }))).message).to.match(/^options\.hostKeys\[0\]/);
    const garbage = await t.connect({ username: 'u', privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n' }).catch((e: unknown) => e);
    expect(garbage).to.be.instanceOf(KeyFormatError);
    expect((garbage as Error).message).to.match(/^connect: privateKey: /);
    const enc = writeOpenSSHPrivateKey(generateKeyPairSync('ed25519').privateKey, { passphrase: 'right', rounds: 2 });
    expect(await t.connect({ username: 'u', privateKey: enc, passphrase: 'wrong' }).catch((e: unknown) => e)).to.be.instanceOf(WrongPassphraseError);
  });

  it('the testing entry reaches the engine: options pass deviation hooks, dangerousEngine inspects a started Transport', async () => {
    const srv = await loopbackServer([hostKey], { allowedAuths: () => ['password'], checkAuthPassword: () => AuthResult.SUCCESSFUL });
    try {
      let hooked = false;
      const t = new Transport(['127.0.0.1', srv.port], withDangerousEngineOptions({ verifyHostKey: insecureAcceptAnyHostKey }, { deviations: () => { hooked = true; } }));
      await t.connect({ username: 'u', password: 'p' });
      expect(hooked).to.equal(true);
      expect(dangerousEngine(t).testing.inspect()).to.include({ phase: 'established', role: 'client' });
      await t.close();
      expect(() => dangerousEngine(new Transport('h:1', { verifyHostKey: insecureAcceptAnyHostKey }))).to.throw(SSHError, /not started/);
    } finally {
      await srv.close();
    }
  });

  it('a Channel is still a Node Duplex for net, pipe and async iteration', () => {
    // compile-time use with stream APIs (see typeLevelChecks); runtime: the prototype chain
    expect(Object.getPrototypeOf(Channel.prototype).constructor.name).to.equal('Duplex');
    expect(typeof net.Socket).to.equal('function');
  });
});
