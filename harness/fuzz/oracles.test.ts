import { expect } from 'chai';
import { getTarget } from '../targets/index.js';
import { needPeer } from '../targets/peer-test-kit.js';
import { isRoot } from '../targets/state.js';
import { CaseRun } from './executor.js';
import { resolveTarget } from './targets.js';
import { selfTarget } from './self/self-target.js';
import type { FuzzTarget } from './link.js';
import type { Step } from './steps.js';

/** The test account's password login, with a byte after the message's last field (a byte mutation). */
const passwordWithTrailingByte = (t: FuzzTarget): Step => ({
  op: 'send',
  msg: { type: 'SSH_MSG_USERAUTH_REQUEST', user: t.credentials.user, service: 'ssh-connection', method: 'password', changePassword: false, password: t.credentials.password! } as never,
  mutate: [{ kind: 'append', data: Uint8Array.of(0) }],
});

describe('fuzz oracles: valid credentials with trailing bytes (RFC 4252 §5.1)', function () {
  this.timeout(60_000);

  it('a valid password followed by bytes after the message still counts as valid credentials presented', async () => {
    const t = selfTarget();
    const link = await t.connect();
    try {
      const run = new CaseRun(link, t);
      expect(await run.reach('userauth')).to.equal(true);
      await run.step(passwordWithTrailingByte(t));
      expect(link.client.validCredentialsSent).to.equal(true);
    } finally {
      link.close();
    }
  });

  describe('against Dropbear, which ignores the trailing byte and logs the user in', () => {
    let target: FuzzTarget | undefined;
    before(async function () {
      await needPeer(this, 'dropbear', async () => {
        const a = await (await getTarget('dropbear')).availability();
        return a.available && !isRoot() ? { available: false, reason: 'needs root (system account auth)' } : a;
      });
      target = await resolveTarget('dropbear');
    });
    after(async () => { await target?.close(); });

    it('is not an auth bypass (seen as a false positive in a campaign against dropbear:instrumented)', async () => {
      const link = await target!.connect();
      try {
        const run = new CaseRun(link, target!);
        expect(await run.reach('userauth')).to.equal(true);
        await run.step(passwordWithTrailingByte(target!));
        await run.finish();
        expect(link.client.authenticated, 'Dropbear accepted the password').to.equal(true);
      } finally {
        link.close();
      }
    });
  });
});
