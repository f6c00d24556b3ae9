/**
 * Start → ready → stop of every server peer added for the ecosystem survey (Twisted Conch, GNU lsh, Erlang/OTP,
 * Go x/crypto/ssh, libssh), and each of their clients against a real server. Under CI=true a missing peer fails.
 */
import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { ClientPeer, RunningTarget, Target } from './types.js';
import { BUILTIN_PEERS, clientPeerNames, getClientPeer, getTarget, targetNames } from './registry.js';
import { probe } from './banner.js';
import { pidAlive, runningCount } from './cleanup.js';
import { isPeerError } from './errors.js';
import { needPeer } from './peer-test-kit.js';
import { isRoot } from './state.js';
import { clientKeys } from './test-user.js';
import { listeningPorts } from './setup/packages.js';

interface ServerCase {
  readonly name: string;
  readonly banner: RegExp;
  /** A kex it offers by default, and the host key algorithms it must offer with the keys we give it. */
  readonly kex: string;
  readonly hostKeys: readonly string[];
  readonly root: boolean;
  /** An algorithm list it honours (undefined: it refuses lists of more than one name). */
  readonly restrict?: { readonly cipher: readonly string[]; readonly mac: readonly string[] };
}

const SERVERS: readonly ServerCase[] = [
  { name: 'twisted', banner: /^SSH-2\.0-Twisted_/, kex: 'curve25519-sha256', hostKeys: ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512'], root: false, restrict: { cipher: ['aes256-ctr'], mac: ['hmac-sha2-512'] } },
  { name: 'lsh', banner: /^SSH-2\.0-lshd-2\.1/, kex: 'diffie-hellman-group14-sha1', hostKeys: ['ssh-rsa'], root: true },
  { name: 'erlang', banner: /^SSH-2\.0-Erlang\//, kex: 'curve25519-sha256', hostKeys: ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512'], root: false, restrict: { cipher: ['aes256-ctr'], mac: ['hmac-sha2-512'] } },
  { name: 'go', banner: /^SSH-2\.0-Go$/, kex: 'curve25519-sha256', hostKeys: ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-256'], root: false, restrict: { cipher: ['aes256-ctr'], mac: ['hmac-sha2-256'] } },
  { name: 'libssh', banner: /^SSH-2\.0-libssh_0\.10/, kex: 'curve25519-sha256', hostKeys: ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'rsa-sha2-512'], root: false, restrict: { cipher: ['aes256-ctr'], mac: ['hmac-sha2-512'] } },
];

/** Our temp dirs for a label (tempDir() in local-tools.ts names them ssh-harness-<label>-XXXXXX). */
function tempDirsOf(label: string): string[] {
  return readdirSync(tmpdir()).filter((n) => n.startsWith(`ssh-harness-${label}-`));
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

it('registers the ecosystem peers as built-in targets and client peers', () => {
  expect(targetNames()).to.include.members(['twisted', 'lsh', 'erlang', 'go', 'libssh', 'libssh:defaults']);
  expect(clientPeerNames()).to.include.members(['twisted-client', 'lsh-client', 'erlang-client', 'go-client', 'libssh-client']);
  expect(BUILTIN_PEERS.filter((n) => !n.endsWith('-client') && !['dbclient', 'plink'].includes(n)).length).to.be.at.least(14);
});

for (const c of SERVERS) {
  describe(`target ${c.name}`, function () {
    this.timeout(60_000);
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

    it('starts, offers its host keys, accepts the test account by key and by password, stops leaving nothing behind', async () => {
      const dirsBefore = tempDirsOf(c.name).length;
      t = await target.start();
      const port = t.port;
      expect(t.host).to.equal('127.0.0.1');
      expect(t.banner).to.match(c.banner);
      const p = await probe(t.host, t.port, { readKexInit: true });
      expect(p.kexInit!.kex).to.include(c.kex);
      expect(p.kexInit!.hostKey).to.include.members([...c.hostKeys]);
      expect(tempDirsOf(c.name).length).to.equal(dirsBefore + 1);

      // lshd speaks only SHA-1 kex and ssh-rsa signatures, which OpenSSH 9.2's client no longer uses for user keys: lsh's own client
      const client = await getClientPeer(c.name === 'lsh' ? 'lsh-client' : 'openssh-client');
      if ((await client.availability()).available) {
        const base = { host: t.host, port: t.port, user: t.credentials.user };
        const byKey = await client.run({ ...base, identity: t.credentials.privateKeyPath, command: 'echo key-ok' });
        expect(byKey.stdout, byKey.stderr).to.equal('key-ok\n');
        const byPw = await client.run({ ...base, password: t.credentials.password, command: 'echo pw-ok; exit 4' });
        expect(byPw.stdout, byPw.stderr).to.equal('pw-ok\n');
        expect(byPw.exitCode).to.equal(4);
        const bad = await client.run({ ...base, password: 'not-the-password', command: 'echo never' });
        expect(bad.stdout).to.equal('');
        expect(bad.exitCode).to.not.equal(0);
      }
      expect(t.logs().length).to.be.greaterThan(0);
      const pid = t.pid!;
      await t.stop();
      await t.stop();
      expect(pidAlive(pid)).to.equal(false);
      expect(groupAlive(pid), 'a process of the peer\'s group is still running').to.equal(false);
      expect(runningCount()).to.equal(0);
      expect(tempDirsOf(c.name).length).to.equal(dirsBefore);
      expect(listeningPorts().has(port), `port ${port} still listening`).to.equal(false);
    });

    if (c.restrict) {
      const r = c.restrict;
      it('offers exactly the cipher and MAC lists it is given', async () => {
        t = await target.start({ algorithms: { cipher: r.cipher, mac: r.mac } });
        const k = (await probe(t.host, t.port, { readKexInit: true })).kexInit!;
        expect(k.cipherS2C).to.deep.equal(r.cipher);
        expect(k.macC2S).to.deep.equal(r.mac);
      });
    } else {
      it('refuses algorithm lists it cannot honour, naming why', async () => {
        const err = await target.start({ algorithms: { kex: ['curve25519-sha256'] } }).then(() => undefined, (e: unknown) => e);
        expect(isPeerError(err, 'unsupported-option'), String(err)).to.equal(true);
        expect(runningCount()).to.equal(0);
      });
    }
  });
}

describe('target libssh:defaults (as shipped)', function () {
  this.timeout(30_000);
  it('sends a KEXINIT whose cipher name-lists end in an empty name (RFC 4251 §5)', async function () {
    const target = await getTarget('libssh:defaults');
    await needPeer(this, 'libssh', () => target.availability());
    const t = await target.start();
    try {
      const err = await probe(t.host, t.port, { readKexInit: true }).then(() => undefined, (e: unknown) => e);
      expect(String(err)).to.match(/empty name/);
    } finally {
      await t.stop();
    }
  });
});

const CLIENTS: readonly string[] = ['twisted-client', 'erlang-client', 'go-client', 'libssh-client', 'lsh-client'];

describe('ecosystem client peers', function () {
  this.timeout(90_000);
  // the Go server (any peer of ours would do) for the four that speak current algorithms; lshd for lsh
  const servers = new Map<string, RunningTarget>();
  after(async () => { for (const s of servers.values()) await s.stop(); });

  async function serverFor(ctx: Mocha.Context, client: string): Promise<RunningTarget> {
    const name = client === 'lsh-client' ? 'lsh' : 'go';
    const have = servers.get(name);
    if (have) return have;
    const target = await getTarget(name);
    await needPeer(ctx, `${name} (server for ${client})`, async () => {
      const a = await target.availability();
      return a.available && name === 'lsh' && !isRoot() ? { available: false, reason: 'needs root' } : a;
    });
    const s = await target.start();
    servers.set(name, s);
    return s;
  }

  for (const name of CLIENTS) {
    describe(name, function () {
      let peer: ClientPeer;
      let server: RunningTarget;
      before(async function () {
        peer = await getClientPeer(name);
        await needPeer(this, name, () => peer.availability());
        server = await serverFor(this, name);
      });
      const base = () => ({ host: server.host, port: server.port, user: server.credentials.user, hostKeyFingerprints: server.hostKeys.map((k) => k.fingerprint) });

      it('runs a command with password auth and reports its exit status, stdout and stderr', async () => {
        const r = await peer.run({ ...base(), password: server.credentials.password, command: 'echo out; nosuchcommand' });
        expect(r.timedOut).to.equal(false);
        expect(r.stdout).to.equal('out\n');
        expect(r.exitCode).to.equal(127);
        if (name !== 'lsh-client') expect(r.stderr).to.include('not found');
      });

      it('runs a command with publickey auth and forwards stdin until EOF', async () => {
        const r = await peer.run({ ...base(), identity: server.credentials.privateKeyPath, command: 'cat; exit 3', stdin: 'line one\nline two\n' });
        expect(r.stdout).to.equal('line one\nline two\n');
        expect(r.exitCode).to.equal(3);
      });

      it('fails with a non-zero status on a wrong password', async () => {
        const r = await peer.run({ ...base(), password: 'not-the-password', command: 'echo never' });
        expect(r.stdout).to.equal('');
        expect(r.exitCode).to.not.equal(0);
      });
    });
  }

  it('a client that checks host keys refuses an unknown one', async function () {
    const peer = await getClientPeer('go-client');
    await needPeer(this, 'go-client', () => peer.availability());
    const server = await serverFor(this, 'go-client');
    const r = await peer.run({ host: server.host, port: server.port, user: server.credentials.user, password: server.credentials.password, command: 'echo never', hostKeyFingerprints: ['SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'] });
    expect(r.stdout).to.equal('');
    expect(r.exitCode).to.equal(255);
  });

  it('lsh-client uses the RSA key of the test account and refuses a key type lsh lacks without a password', async function () {
    const peer = await getClientPeer('lsh-client');
    await needPeer(this, 'lsh-client', () => peer.availability());
    const [ed25519] = await clientKeys();
    const err = await peer.run({ host: '127.0.0.1', port: 1, user: 'x', identity: ed25519!.privatePath, command: 'true' }).then(() => undefined, (e: unknown) => e);
    expect(isPeerError(err, 'unsupported-option'), String(err)).to.equal(true);
  });
});
