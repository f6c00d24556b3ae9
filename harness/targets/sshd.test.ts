import { expect } from 'chai';
import type { RunningTarget } from './types.js';
import { sshdTarget } from './sshd.js';
import { probe } from './banner.js';
import { pidAlive, runningCount } from './cleanup.js';
import { isPeerError, PeerError } from './errors.js';
import { needPeer } from './peer-test-kit.js';
import { findBinary, requireBinary } from './local-tools.js';
import { isRoot } from './state.js';
import net from 'node:net';

describe('target sshd (host /usr/sbin/sshd, temp config)', function () {
  let t: RunningTarget | undefined;
  before(async function () {
    await needPeer(this, 'sshd', async () => {
      const a = await sshdTarget.availability();
      return a.available && !isRoot() ? { available: false, reason: 'needs root' } : a;
    });
  });
  afterEach(async () => { await t?.stop(); t = undefined; });

  it('starts, sends its banner and a KEXINIT, stops leaving no process behind', async () => {
    t = await sshdTarget.start();
    expect(t.host).to.equal('127.0.0.1');
    expect(t.version).to.match(/^OpenSSH_\d+\.\d+/);
    expect(t.hostKeys.map((k) => k.type)).to.include('ssh-ed25519');
    expect(t.hostKeys[0]!.fingerprint).to.match(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(t.credentials.user).to.equal('sshharness');
    expect(t.credentials.password).to.be.a('string');
    const p = await probe(t.host, t.port, { readKexInit: true });
    expect(p.banner).to.match(/^SSH-2\.0-OpenSSH_/);
    expect(p.kexInit!.kex).to.include('curve25519-sha256');
    expect(p.kexInit!.hostKey).to.include('ssh-ed25519');
    expect(p.kexInit!.cipherC2S.length).to.be.greaterThan(0);
    expect(t.logs()).to.match(/Server listening on 127\.0\.0\.1 port/);
    const pid = t.pid!;
    await t.stop();
    await t.stop(); // idempotent
    expect(pidAlive(pid)).to.equal(false);
    expect(runningCount()).to.equal(0);
  });

  it('offers exactly the algorithm lists it is given, legacy ones included', async () => {
    t = await sshdTarget.start({ algorithms: { kex: ['diffie-hellman-group14-sha1'], cipher: ['aes128-cbc', 'aes128-ctr'], mac: ['hmac-sha1'], hostKey: ['ssh-rsa'] } });
    const k = (await probe(t.host, t.port, { readKexInit: true })).kexInit!;
    expect(k.kex.filter((n) => !/^(ext-info|kex-strict)/.test(n))).to.deep.equal(['diffie-hellman-group14-sha1']);
    expect(k.cipherS2C).to.deep.equal(['aes128-cbc', 'aes128-ctr']);
    expect(k.macC2S).to.deep.equal(['hmac-sha1']);
    expect(k.hostKey).to.deep.equal(['ssh-rsa']);
  });

  it('a taken fixed port is a clear port-in-use error, not a hang', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const err = await sshdTarget.start({ port }).then(() => undefined, (e: unknown) => e);
      expect(isPeerError(err, 'port-in-use'), String(err)).to.equal(true);
      expect((err as PeerError).message).to.match(/choose another port/);
    } finally {
      blocker.close();
    }
    expect(runningCount()).to.equal(0);
  });

  it('reports a missing binary by the package that provides it', () => {
    expect(findBinary('/nonexistent/sshd')).to.equal(undefined);
    expect(() => requireBinary('sshd', 'openssh-server', '/nonexistent/sshd')).to.throw(PeerError, /install openssh-server \(run `ssh-harness peers setup`\)/);
  });
});
