import { expect } from 'chai';
import { getTarget } from '../../targets/index.js';
import { needPeer } from '../../targets/peer-test-kit.js';
import { runCampaign } from '../campaign.js';
import type { FuzzTarget } from '../link.js';
import { resolveTarget } from '../targets.js';
import { watchPeer } from '../peer-watch.js';

describe('fuzz: host OpenSSH sshd over loopback (CI smoke)', function () {
  this.timeout(120_000);
  let target: FuzzTarget | undefined;

  before(async function () {
    this.timeout(60_000);
    await needPeer(this, 'host sshd', async () => (await getTarget('sshd')).availability());
    target = await resolveTarget('sshd');
  });
  after(async () => { await target?.close(); });

  it('200 cases: no crash, hang, bypass or integrity finding; the daemon stays alive and logs no crash', async () => {
    const t = target!;
    const watch = watchPeer(t);
    const r = await runCampaign({ target: t, seed: 9, runs: 200, concurrency: 8, afterCase: watch.afterCase });
    await watch.stop();
    expect(r.cases).to.equal(200);
    const must = r.findings.filter((f) => f.finding.severity === 'must').map((f) => `[${f.finding.oracle}] ${f.finding.message}`);
    expect(must).to.deep.equal([]);
    expect(watch.findings().filter((f) => f.oracle !== 'resource')).to.deep.equal([]);
    // deep states are reached over TCP too, and authenticated connections are reused across cases
    for (const s of ['userauth', 'authenticated', 'channel'] as const) expect(r.states.get(s) ?? 0, s).to.be.greaterThan(0);
    expect(r.reusedCases).to.be.greaterThan(0);
  });
});
