import { expect } from 'chai';
import net from 'node:net';
import type { ClientPeer, RunningTarget } from './types.js';
import { sshdTarget } from './sshd.js';
import { clientPeerNames, getClientPeer } from './registry.js';
import { isPeerError, PeerError } from './errors.js';
import { needPeer } from './peer-test-kit.js';
import { isRoot } from './state.js';

describe('client peers against the host sshd', function () {
  let server: RunningTarget | undefined;
  before(async function () {
    await needPeer(this, 'sshd (server for the client peers)', async () => {
      const a = await sshdTarget.availability();
      return a.available && !isRoot() ? { available: false, reason: 'needs root' } : a;
    });
    server = await sshdTarget.start();
  });
  after(async () => { await server?.stop(); });

  it('registers every client peer of issue 6', () => {
    expect(clientPeerNames()).to.include.members(['openssh-client', 'dbclient', 'plink', 'paramiko-client', 'asyncssh-client', 'ssh2-client']);
  });

  for (const name of ['openssh-client', 'dbclient', 'plink', 'paramiko-client', 'asyncssh-client', 'ssh2-client']) {
    describe(name, function () {
      let peer: ClientPeer;
      before(async function () {
        peer = await getClientPeer(name);
        await needPeer(this, name, () => peer.availability());
      });
      const base = () => ({ host: server!.host, port: server!.port, user: server!.credentials.user, hostKeyFingerprints: server!.hostKeys.map((k) => k.fingerprint) });

      it('runs a command with password auth and reports its exit status and output', async () => {
        const r = await peer.run({ ...base(), password: server!.credentials.password, command: 'echo out-$USER; echo err >&2; exit 7' });
        expect(r.timedOut).to.equal(false);
        expect(r.stdout).to.equal('out-sshharness\n');
        expect(r.stderr).to.include('err');
        expect(r.exitCode).to.equal(7);
      });

      it('runs a command with publickey auth and forwards stdin until EOF', async () => {
        const r = await peer.run({ ...base(), identity: server!.credentials.privateKeyPath, command: 'cat', stdin: 'line one\nline two\n' });
        expect(r.stdout).to.equal('line one\nline two\n');
        expect(r.exitCode).to.equal(0);
      });

      it('fails with a non-zero status on a wrong password', async () => {
        const r = await peer.run({ ...base(), password: 'not-the-password', command: 'echo never' });
        expect(r.stdout).to.equal('');
        expect(r.exitCode).to.not.equal(0);
      });
    });
  }
});

describe('client peers: limits', function () {
  it('a server that never answers ends in timedOut, not a hang', async function () {
    const peer = await getClientPeer('openssh-client');
    await needPeer(this, 'openssh-client', () => peer.availability());
    const silent = net.createServer(() => { /* accept and say nothing */ });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const r = await peer.run({ host: '127.0.0.1', port: (silent.address() as net.AddressInfo).port, user: 'x', password: 'y', command: 'true', timeoutMs: 1500 });
      expect(r.timedOut).to.equal(true);
      expect(r.exitCode).to.equal(null);
    } finally {
      silent.close();
    }
  });

  it('clients that cannot choose algorithms say so instead of ignoring them', async () => {
    for (const name of ['plink', 'dbclient']) {
      const peer = await getClientPeer(name);
      const err = await peer.run({ host: '127.0.0.1', port: 1, user: 'x', command: 'true', algorithms: { kex: ['curve25519-sha256'] } }).then(() => undefined, (e: unknown) => e);
      expect(isPeerError(err, 'unsupported-option'), String(err)).to.equal(true);
    }
  });

  it('an unknown client peer name lists the known ones', async () => {
    const err = await getClientPeer('nope').then(() => undefined, (e: unknown) => e);
    expect((err as Error).message).to.match(/unknown client peer "nope"; known: openssh-client/);
  });
});
