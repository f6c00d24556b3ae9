import { expect } from 'chai';
import * as net from 'node:net';
import { getTarget } from '../../targets/index.js';
import { needPeer } from '../../targets/peer-test-kit.js';
import type { RunningTarget, StartOptions } from '../../targets/types.js';
import { ConnectionGovernor } from '../backoff.js';
import { runCampaign, type CampaignResult } from '../campaign.js';
import type { FuzzTarget } from '../link.js';
import { watchPeer } from '../peer-watch.js';
import { reportMarkdown } from '../report.js';
import { resolveTarget } from '../targets.js';

/**
 * Campaigns against real servers whose connection limits refuse us (Dropbear's compiled-in MAX_UNAUTH_PER_IP
 * of 5 unauthenticated connections per source address; OpenSSH with `MaxStartups 2:100:2`): the campaign backs
 * off, lowers its parallelism and runs on; only a peer that is really gone ends it, after the grace period.
 * The peers are reached as `tcp://` targets so that only the wire tells what happened (no process watching).
 */

/** Opens `n` connections that wait unauthenticated (each has read the server's identification line). */
async function holdIdle(host: string, port: number, n: number): Promise<net.Socket[]> {
  const held: net.Socket[] = [];
  for (let i = 0; i < n; i++) {
    const s = net.connect({ host, port });
    s.on('error', () => undefined);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 5000);
      const done = (): void => { clearTimeout(t); resolve(); };
      s.once('data', done);
      s.once('close', done);
    });
    held.push(s);
  }
  return held;
}

async function tcpTarget(running: RunningTarget): Promise<FuzzTarget> {
  const c = running.credentials;
  return resolveTarget(`tcp://${running.host}:${running.port}`, { user: c.user, ...(c.password !== undefined ? { password: c.password } : {}) });
}

interface LimitedRun { readonly r: CampaignResult; readonly livenessFindings: string[]; readonly md: string }

/** A bounded campaign while `held` idle connections saturate the peer for the first `holdMs`. */
async function campaignThroughRefusals(target: FuzzTarget, running: RunningTarget, idle: number, holdMs: number, seconds: number): Promise<LimitedRun> {
  const held = await holdIdle(running.host, running.port, idle);
  const release = setTimeout(() => { for (const s of held) s.destroy(); }, holdMs);
  const governor = new ConnectionGovernor({ parallelism: 3, graceMs: 30_000, maxMs: 1000 });
  const watch = watchPeer(target, { governor, livenessEveryMs: 1500 });
  let r: CampaignResult;
  try {
    r = await runCampaign({ target, seed: 23, timeSeconds: seconds, concurrency: 3, governor, afterCase: watch.afterCase, shrinkTimeMs: 2000 });
  } finally {
    clearTimeout(release);
    for (const s of held) s.destroy();
    await watch.stop();
  }
  const livenessFindings = watch.findings().filter((f) => f.oracle === 'liveness').map((f) => f.message);
  return { r, livenessFindings, md: reportMarkdown(r, watch.notes(), watch.findings()) };
}

/** The peer goes away mid-campaign: the campaign ends after the (short) grace period with a liveness finding. */
async function campaignUntilGone(target: FuzzTarget, stop: () => Promise<void>): Promise<{ r: CampaignResult; liveness: string[] }> {
  const governor = new ConnectionGovernor({ parallelism: 3, graceMs: 3000, maxMs: 1000 });
  const watch = watchPeer(target, { governor, livenessEveryMs: 1500 });
  const kill = setTimeout(() => { void stop(); }, 2000);
  let r: CampaignResult;
  try {
    r = await runCampaign({ target, seed: 24, timeSeconds: 60, concurrency: 3, governor, afterCase: watch.afterCase, shrinkTimeMs: 2000 });
  } finally {
    clearTimeout(kill);
    await watch.stop();
  }
  return { r, liveness: watch.findings().filter((f) => f.oracle === 'liveness' && f.severity === 'must').map((f) => f.message) };
}

function expectSurvived(run: LimitedRun): void {
  const { r } = run;
  expect(r.stoppedBy, r.peerDown).to.equal('time');
  expect(run.livenessFindings, 'liveness must not fail while the peer only refuses').to.deep.equal([]);
  const b = r.backoff!;
  expect(b.refusals, 'refusals seen').to.be.greaterThan(0);
  expect(b.backoffs).to.be.greaterThan(0);
  expect(b.totalBackoffMs).to.be.greaterThan(0);
  expect(b.parallelism.min).to.be.lessThan(3);
  // the campaign went on once the limit let it: fresh logins and deep states after the refusals
  expect(r.states.get('authenticated') ?? 0).to.be.greaterThan(0);
  expect(r.cases).to.be.greaterThan(20);
  expect(run.md).to.match(/connection limits: \d+ connections refused/);
  expect(run.md).to.match(/parallelism: 3 at start, [12] at least/);
}

function expectEndedOnLiveness(run: { r: CampaignResult; liveness: string[] }): void {
  expect(run.r.stoppedBy).to.equal('peer-down');
  expect(run.r.elapsedMs, 'ends soon after the grace period').to.be.lessThan(30_000);
  expect(run.r.peerDown).to.match(/unreachable|served no connection/);
  expect(run.liveness.join('\n')).to.match(/served no connection for \d+ s \(grace 3 s\)/);
}

describe('fuzz: campaigns survive connection limits of real servers', function () {
  this.timeout(180_000);

  describe('Dropbear 2022.83 (MAX_UNAUTH_PER_IP 5)', () => {
    let running: RunningTarget | undefined;
    let target: FuzzTarget | undefined;
    before(async function () {
      this.timeout(60_000);
      await needPeer(this, 'dropbear', async () => (await getTarget('dropbear')).availability());
      running = await (await getTarget('dropbear')).start();
      target = await tcpTarget(running);
    });
    after(async () => { await target?.close(); await running?.stop(); });

    it('5 idle unauthenticated connections held for 3 s: the campaign backs off, lowers its parallelism and runs its 9 s', async () => {
      expectSurvived(await campaignThroughRefusals(target!, running!, 5, 3000, 9));
    });

    it('the peer killed mid-campaign: liveness fails after the grace period and the campaign ends', async () => {
      expectEndedOnLiveness(await campaignUntilGone(target!, () => running!.stop()));
    });
  });

  describe('OpenSSH 9.2p1 in a container (MaxStartups 2:100:2)', () => {
    let running: RunningTarget | undefined;
    let target: FuzzTarget | undefined;
    before(async function () {
      this.timeout(120_000);
      await needPeer(this, 'openssh:bookworm', async () => (await getTarget('openssh:bookworm')).availability());
      const opts: StartOptions = { extraConfig: ['MaxStartups 2:100:2', 'LogLevel INFO'] };
      running = await (await getTarget('openssh:bookworm')).start(opts);
      target = await tcpTarget(running);
    });
    after(async () => { await target?.close(); await running?.stop(); });

    it('2 idle unauthenticated connections held for 3 s ("Exceeded MaxStartups"): the campaign backs off and runs its 9 s', async () => {
      expectSurvived(await campaignThroughRefusals(target!, running!, 2, 3000, 9));
    });

    it('the container stopped mid-campaign: liveness fails after the grace period and the campaign ends', async () => {
      expectEndedOnLiveness(await campaignUntilGone(target!, () => running!.stop()));
    });
  });
});
