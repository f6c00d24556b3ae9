import { expect } from 'chai';
import { CaseRun } from '../executor.js';
import type { TraceTap } from '../link.js';
import { PROFILES } from '../arb/profiles.js';
import { selfTarget } from './self-target.js';

/** Counts what crossed the in-process wire (the SelfLink tap). */
function countingTap(): TraceTap & { bytes: number; keys: number } {
  return { bytes: 0, keys: 0, onBytes(_d, b) { this.bytes += b.length; }, onKeys() { this.keys++; }, onClose() {} };
}

describe('fuzz self target: cases after the kex run on a pair resumed from a snapshot', function () {
  this.timeout(60_000);

  for (const p of PROFILES) {
    it(`${p.name}: a connection resumed after login skips kex and login, opens a channel, rekeys for real, ignores a later USERAUTH_REQUEST`, async () => {
      const t = selfTarget();
      await t.connect(p.algorithms, undefined, 'channel'); // the first one per profile takes the snapshots
      const link = t.connectSync(p.algorithms, undefined, 'channel');
      const run = new CaseRun(link, t);
      expect(await run.reach('channel')).to.equal(true);
      expect(link.client.log.inbound.includes(20), 'a KEXINIT from the server').to.equal(false);
      expect(link.client.log.inbound.includes(52), 'a USERAUTH_SUCCESS').to.equal(false);
      expect(link.server.authenticatedBy).to.equal('password');
      expect(link.client.validCredentialsSent && link.client.authenticated && link.client.serviceAccepted).to.equal(true);
      // RFC 4252 §5.1: requests after success are ignored, as on the connection that really logged in
      link.client.auth('password', false);
      link.settleSync(() => true);
      expect(link.client.log.inbound.filter((id) => id === 51 || id === 52)).to.deep.equal([]);
      link.client.engine.rekey();
      link.settleSync(() => true);
      expect(link.client.kexCount).to.equal(2);
      expect(link.client.engine.testing.inspect()).to.include({ phase: 'established', kexInProgress: false });
      link.client.probe();
      link.settleSync(() => true);
      expect(link.client.log.unansweredProbes).to.equal(0);
      expect(link.client.alive && !link.server.engine.isClosed).to.equal(true);
      link.close();
    });
  }

  it('a case starting in ssh-userauth resumes after the kex and logs in for real', async () => {
    const t = selfTarget();
    const link = t.connectSync(PROFILES[0]!.algorithms, undefined, 'userauth');
    expect(await new CaseRun(link, t).reach('userauth')).to.equal(true);
    expect(link.client.authenticated).to.equal(false);
    link.client.auth('password', false);
    link.settleSync(() => true);
    link.client.auth('password', true);
    link.settleSync(() => true);
    expect(link.client.log.inbound.filter((id) => id === 51 || id === 52)).to.deep.equal([51, 52]);
    expect(link.client.log.inbound.includes(20)).to.equal(false);
  });

  it('each resumed connection has keys of its own: bytes from one are refused by another (MAC/tag failure)', async () => {
    const t = selfTarget();
    const a = t.connectSync(PROFILES[1]!.algorithms, undefined, 'userauth');
    const b = t.connectSync(PROFILES[1]!.algorithms, undefined, 'userauth');
    a.client.start(0);
    b.client.start(0);
    a.settleSync(() => true);
    b.settleSync(() => true);
    a.client.requestService('ssh-userauth');
    const wire = a.client.engine.pollTransmit()!;
    b.server.receive(wire, 0);
    expect(b.server.engine.closeError?.code).to.equal('MAC');
  });

  it('a traced connection and a case starting before the kex run the real key exchange', async () => {
    const t = selfTarget();
    const tap = countingTap();
    for (const [start, withTap] of [['pre-kex', false], ['kex', false], ['authenticated', true]] as const) {
      const link = t.connectSync(PROFILES[0]!.algorithms, withTap ? tap : undefined, start);
      expect(await new CaseRun(link, t).reach('authenticated')).to.equal(true);
      expect(link.client.log.inbound.includes(20), start).to.equal(true);
      link.close();
    }
    expect(tap.keys).to.equal(1);
  });
});
