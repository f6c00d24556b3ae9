import { expect } from 'chai';
import net from 'node:net';
import { listeningPorts, missingPackages, PEER_PACKAGES } from './packages.js';
import { ensureImage } from './images.js';
import { ensureTsharkImage } from './tshark-image.js';
import { stepTable } from './run-setup.js';
import { dockerPing } from '../docker-api.js';
import { needPeer } from '../peer-test-kit.js';
import { findBinary } from '../local-tools.js';

describe('peers setup steps', () => {
  it('knows which packages are missing (unknown names count as missing)', async function () {
    if (!findBinary('dpkg-query')) this.skip(); // not a Debian machine: setup itself says so
    expect(await missingPackages(['no-such-package-ssh-harness'])).to.deep.equal(['no-such-package-ssh-harness']);
    expect(PEER_PACKAGES).to.include.members(['openssh-server', 'dropbear-bin', 'tinysshd', 'python3-paramiko', 'python3-asyncssh', 'putty-tools', 'docker.io', 'debootstrap']);
  });

  it('sees listening ports from /proc/net/tcp (the :22 check)', async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    try {
      expect(listeningPorts().has((srv.address() as net.AddressInfo).port)).to.equal(true);
    } finally {
      srv.close();
    }
  });

  it('skips an image that exists and reports its OpenSSH version', async function () {
    await needPeer(this, 'docker', async () => dockerPing().then((p) => ({ available: p.ok, reason: p.error })));
    const r = await ensureImage('trixie');
    expect(r.built).to.equal(false);
    expect(r.version).to.match(/^1:10\./);
  });

  it('skips the tshark 4.4 image when it exists and reports its version; chromium is in the package list', async function () {
    await needPeer(this, 'docker', async () => dockerPing().then((p) => ({ available: p.ok, reason: p.error })));
    const r = await ensureTsharkImage();
    expect(r.built).to.equal(false);
    expect(r.version).to.match(/^4\.4\./);
    expect(PEER_PACKAGES).to.include.members(['chromium', 'tshark']);
  });

  it('prints a summary table', () => {
    const t = stepTable([{ step: 'packages', status: 'ok', ms: 120, detail: 'all installed' }, { step: 'dockerd', status: 'FAILED', ms: 30000, detail: 'dockerd did not answer\nsecond line' }]);
    expect(t.split('\n')).to.deep.equal([
      'step      status  time    detail',
      '--------  ------  ------  ' + '-'.repeat('dockerd did not answer second line'.length),
      'packages  ok      0.1 s   all installed',
      'dockerd   FAILED  30.0 s  dockerd did not answer second line',
    ]);
  });
});
