import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { getTarget } from './registry.js';
import { needPeer } from './peer-test-kit.js';
import { isRoot } from './state.js';
import { pidAlive } from './cleanup.js';
import { listeningPorts } from './setup/packages.js';
import { ensureInstrumented, readBuild, RECIPES } from './setup/instrumented.js';
import { resolveTarget } from '../fuzz/targets.js';
import { runCase } from '../fuzz/executor.js';
import { CoverageLedger, CoverageSession } from '../fuzz/greybox/session.js';
import type { FuzzTarget } from '../fuzz/link.js';
import type { Phase, Step } from '../fuzz/steps.js';

const FLAVOURS = [
  { name: 'dropbear:instrumented', recipe: RECIPES.dropbear },
  { name: 'openssh:instrumented', recipe: RECIPES.openssh },
] as const;

for (const f of FLAVOURS) {
  describe(`target ${f.name}`, function () {
    this.timeout(120_000);
    let target: FuzzTarget | undefined;
    let session: CoverageSession | undefined;
    before(async function () {
      await needPeer(this, f.name, async () => {
        const a = await (await getTarget(f.name)).availability();
        return a.available && !isRoot() ? { available: false, reason: 'needs root (system account auth)' } : a;
      });
    });
    after(async () => {
      session?.close();
      await target?.close();
    });

    it('the build cache is idempotent: a second setup is a no-op', async () => {
      const t0 = Date.now();
      const r = await ensureInstrumented(f.recipe);
      expect(r.built).to.equal(false);
      expect(r.dir).to.equal(readBuild(f.recipe)!.dir);
      expect(Date.now() - t0).to.be.lessThan(5000);
    });

    it('coverage grows when a case reaches new code, and the novel case joins the queue', async () => {
      target = await resolveTarget(f.name);
      expect(target.coverageMapPath).to.be.a('string');
      session = new CoverageSession(target.coverageMapPath!, new CoverageLedger('greybox'), target.dictionary);
      const one = async (start: Phase, steps: Step[]): Promise<number> => {
        session!.beforeCase();
        const r = await runCase(target!, start, steps);
        expect(r.finding, r.finding?.message).to.equal(undefined);
        session!.afterCase({ start, algorithms: {}, executed: r.record.executed, reached: r.record.reached });
        return session!.feedback.edges;
      };
      // key exchange: OpenSSH runs it in the privsep pre-auth child (re-executed, chrooted, unprivileged)
      const kex = await one('newkeys', []);
      expect(kex).to.be.greaterThan(500);
      expect(session.queue.size).to.equal(1);
      // service request and login: more of the pre-auth child (userauth), then the post-auth one
      const auth = await one('authenticated', []);
      expect(auth).to.be.greaterThan(kex + 100);
      expect(session.queue.size).to.equal(2);
      // the same case again finds (almost: timing-dependent paths such as EINTR retries) nothing new
      const again = await one('newkeys', []);
      expect(again - auth).to.be.lessThan(kex / 10);
    });

    it('stop leaves nothing: no process, no port, no coverage file', async () => {
      const t = await getTarget(f.name);
      const r = await t.start();
      const map = (r as { coverageMapPath?: string }).coverageMapPath!;
      expect(existsSync(map)).to.equal(true);
      await r.stop();
      expect(pidAlive(r.pid!)).to.equal(false);
      expect(listeningPorts().has(r.port)).to.equal(false);
      expect(existsSync(map)).to.equal(false);
    });
  });
}
