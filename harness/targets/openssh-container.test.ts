import { expect } from 'chai';
import type { RunningTarget } from './types.js';
import { opensshContainerTarget, type Suite } from './openssh-container.js';
import { containerExists } from './docker-api.js';
import { probe } from './banner.js';
import { runningCount } from './cleanup.js';
import { isPeerError, PeerError } from './errors.js';
import { needPeer } from './peer-test-kit.js';

const cases: Array<{ suite: Suite; major: RegExp; kex: string }> = [
  { suite: 'bookworm', major: /^OpenSSH_9\./, kex: 'curve25519-sha256' },
  { suite: 'trixie', major: /^OpenSSH_10\./, kex: 'mlkem768x25519-sha256' },
];

for (const c of cases) {
  describe(`target openssh:${c.suite} (testcontainers, host network)`, function () {
    const target = opensshContainerTarget(`openssh:${c.suite}`, c.suite);
    let t: RunningTarget | undefined;
    before(async function () { await needPeer(this, `openssh:${c.suite}`, () => target.availability()); });
    afterEach(async () => { await t?.stop(); t = undefined; });

    it('starts, sends its banner and a KEXINIT, stops leaving no container behind', async () => {
      t = await target.start();
      expect(t.version).to.match(c.major);
      expect(t.containerId).to.match(/^[0-9a-f]{64}$/);
      const p = await probe(t.host, t.port, { readKexInit: true });
      expect(p.kexInit!.kex).to.include(c.kex);
      expect(p.kexInit!.hostKey).to.include('ssh-ed25519');
      expect(t.hostKeys.map((k) => k.type)).to.include.members(['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ssh-rsa']);
      expect(t.logs()).to.match(/Server listening on 127\.0\.0\.1 port/);
      const id = t.containerId!;
      await t.stop();
      await t.stop();
      expect(await containerExists(id)).to.equal(false);
      expect(runningCount()).to.equal(0);
    });

    it('re-enables legacy algorithms when they are named', async () => {
      t = await target.start({ algorithms: { kex: ['diffie-hellman-group14-sha1', 'curve25519-sha256'], cipher: ['aes256-cbc'], mac: ['hmac-sha1'] } });
      const k = (await probe(t.host, t.port, { readKexInit: true })).kexInit!;
      expect(k.kex.filter((n) => !/^(ext-info|kex-strict)/.test(n))).to.deep.equal(['diffie-hellman-group14-sha1', 'curve25519-sha256']);
      expect(k.cipherC2S).to.deep.equal(['aes256-cbc']);
      expect(k.macS2C).to.deep.equal(['hmac-sha1']);
    });
  });
}

describe('openssh container targets: bad setup', function () {
  it('a missing image is a clear error naming `peers setup`', async function () {
    await needPeer(this, 'docker', async () => (await import('./docker-api.js')).dockerPing().then((p) => ({ available: p.ok, reason: p.error })));
    const err = await opensshContainerTarget('openssh:sid', 'sid' as Suite).start().then(() => undefined, (e: unknown) => e);
    expect(isPeerError(err, 'image-missing'), String(err)).to.equal(true);
    expect((err as Error).message).to.match(/local\/openssh:sid is not built; run `ssh-harness peers setup`/);
  });

  it('an absent Docker daemon is a clear error naming `peers setup`, without a hang', async () => {
    const saved = process.env['DOCKER_HOST'];
    process.env['DOCKER_HOST'] = 'unix:///nonexistent/docker.sock';
    try {
      const err = await opensshContainerTarget('openssh', 'bookworm').start().then(() => undefined, (e: unknown) => e);
      expect(isPeerError(err, 'docker-unavailable'), String(err)).to.equal(true);
      expect((err as Error).message).to.match(/Docker daemon not reachable .*run `ssh-harness peers setup` \(starts dockerd\)/);
      expect((await opensshContainerTarget('openssh', 'bookworm').availability()).available).to.equal(false);
    } finally {
      if (saved === undefined) delete process.env['DOCKER_HOST'];
      else process.env['DOCKER_HOST'] = saved;
    }
  });
});
