import { expect } from 'chai';
import net from 'node:net';
import type { RunningTarget, Target } from './types.js';
import { getTarget, targetNames } from './registry.js';
import { getClientPeer } from './registry.js';
import { probe } from './banner.js';
import { pidAlive, runningCount } from './cleanup.js';
import { isPeerError } from './errors.js';
import { needPeer } from './peer-test-kit.js';
import { isRoot } from './state.js';
import { pythonModuleVersion } from './python-servers.js';

interface Case {
  name: string;
  banner: RegExp;
  /** A kex every build of the peer offers. */
  kex: string;
  password: boolean;
  root: boolean;
  /** Whether start() takes algorithm lists (else it must refuse them). */
  configurable: boolean;
}

const cases: Case[] = [
  { name: 'dropbear', banner: /^SSH-2\.0-dropbear_/, kex: 'curve25519-sha256', password: true, root: true, configurable: false },
  { name: 'tinyssh', banner: /^SSH-2\.0-tinyssh_/, kex: 'curve25519-sha256', password: false, root: true, configurable: false },
  { name: 'paramiko', banner: /^SSH-2\.0-paramiko_/, kex: 'ecdh-sha2-nistp256', password: true, root: false, configurable: true },
  { name: 'asyncssh', banner: /^SSH-2\.0-AsyncSSH_/, kex: 'curve25519-sha256', password: true, root: false, configurable: true },
  { name: 'ssh2', banner: /^SSH-2\.0-ssh2js/, kex: 'curve25519-sha256', password: true, root: false, configurable: true },
];

it('registers every server target of issue 6', () => {
  expect(targetNames()).to.include.members(['openssh', 'openssh:bookworm', 'openssh:trixie', 'sshd', 'dropbear', 'tinyssh', 'paramiko', 'asyncssh', 'ssh2']);
});

it('a Python peer whose module is missing is unavailable, naming the package to install', async () => {
  const a = await pythonModuleVersion('no_such_ssh_module');
  expect(a.available).to.equal(false);
  expect(a.reason).to.match(/install python3-no_such_ssh_module \(run `ssh-harness peers setup`\)/);
});

for (const c of cases) {
  describe(`target ${c.name}`, function () {
    let target: Target;
    let t: RunningTarget | undefined;
    before(async function () {
      target = await getTarget(c.name);
      await needPeer(this, c.name, async () => {
        const a = await target.availability();
        return a.available && c.root && !isRoot() ? { available: false, reason: 'needs root (system account auth)' } : a;
      });
    });
    afterEach(async () => { await t?.stop(); t = undefined; });

    it('starts, sends its banner and a KEXINIT, accepts the test credentials, stops leaving no process behind', async function () {
      t = await target.start();
      expect(t.host).to.equal('127.0.0.1');
      expect(t.banner).to.match(c.banner);
      expect(t.version).to.be.a('string').and.not.equal('');
      expect(t.hostKeys.map((k) => k.type)).to.include('ssh-ed25519');
      const p = await probe(t.host, t.port, { readKexInit: true });
      expect(p.kexInit!.kex).to.include(c.kex);
      expect(p.kexInit!.hostKey.length).to.be.greaterThan(0);
      expect(p.kexInit!.cipherC2S.length).to.be.greaterThan(0);

      // until our engine drives peers, a real client proves the credentials (see report: where our client plugs in)
      const client = await getClientPeer('openssh-client');
      if ((await client.availability()).available) {
        const base = { host: t.host, port: t.port, user: t.credentials.user };
        const byKey = await client.run({ ...base, identity: t.credentials.privateKeyPath, command: 'echo key-ok' });
        expect(byKey.stdout, byKey.stderr).to.equal('key-ok\n');
        if (c.password) {
          const byPw = await client.run({ ...base, password: t.credentials.password, command: 'echo pw-ok; exit 4' });
          expect(byPw.stdout, byPw.stderr).to.equal('pw-ok\n');
          expect(byPw.exitCode).to.equal(4);
        }
      }
      expect(t.logs().length).to.be.greaterThan(0);
      const pid = t.pid!;
      await t.stop();
      await t.stop();
      expect(pidAlive(pid)).to.equal(false);
      expect(runningCount()).to.equal(0);
    });

    if (c.configurable) {
      it('offers exactly the algorithm lists it is given', async () => {
        t = await target.start({ algorithms: { kex: ['diffie-hellman-group14-sha256'], cipher: ['aes256-ctr'], mac: ['hmac-sha2-512'] } });
        const k = (await probe(t.host, t.port, { readKexInit: true })).kexInit!;
        expect(k.kex.filter((n) => !/^(ext-info|kex-strict)/.test(n))).to.deep.equal(['diffie-hellman-group14-sha256']);
        expect(k.cipherS2C).to.deep.equal(['aes256-ctr']);
        expect(k.macC2S).to.deep.equal(['hmac-sha2-512']);
      });

      it('a taken fixed port is a clear port-in-use error', async () => {
        const blocker = net.createServer();
        await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
        try {
          const err = await target.start({ port: (blocker.address() as net.AddressInfo).port }).then(() => undefined, (e: unknown) => e);
          expect(isPeerError(err, 'port-in-use'), String(err)).to.equal(true);
          expect((err as Error).message).to.match(/already in use; choose another port/);
        } finally {
          blocker.close();
        }
        expect(runningCount()).to.equal(0);
      });
    } else {
      it('refuses algorithm lists it cannot honour, naming why', async () => {
        const err = await target.start({ algorithms: { cipher: ['aes128-ctr'] } }).then(() => undefined, (e: unknown) => e);
        expect(isPeerError(err, 'unsupported-option'), String(err)).to.equal(true);
        expect(runningCount()).to.equal(0);
      });
    }
  });
}
