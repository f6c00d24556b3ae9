import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signCertificate } from '../../impl/keys/cert.js';
import { fuzzCa } from '../fuzz/arb/key-blobs.js';
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

describe('target openssh:instrumented trusts the fuzzer\'s user CA', function () {
  this.timeout(60_000);
  before(async function () {
    await needPeer(this, 'openssh:instrumented', async () => {
      const a = await (await getTarget('openssh:instrumented')).availability();
      return a.available && !isRoot() ? { available: false, reason: 'needs root (system account auth)' } : a;
    });
  });

  it('OpenSSH\'s ssh logs in with a certificate the CA signed (TrustedUserCAKeys), so generated certificates are parsed to the end', async () => {
    const r = await (await getTarget('openssh:instrumented')).start();
    const dir = mkdtempSync(join(tmpdir(), 'fuzz-ca-'));
    try {
      const key = join(dir, 'id');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
      const [type, b64] = readFileSync(`${key}.pub`, 'utf8').split(' ');
      const cert = signCertificate(fuzzCa(), { publicKey: Buffer.from(b64!, 'base64'), kind: 'user', keyId: 'test', principals: [r.credentials.user] });
      writeFileSync(`${key}-cert.pub`, `${type}-cert-v01@openssh.com ${Buffer.from(cert).toString('base64')}\n`);
      const out = execFileSync('ssh', ['-i', key, '-o', `CertificateFile=${key}-cert.pub`, '-o', 'IdentitiesOnly=yes', '-o', 'PasswordAuthentication=no', '-o', 'BatchMode=yes',
        '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-p', String(r.port), `${r.credentials.user}@127.0.0.1`, 'echo cert-ok'], { encoding: 'utf8', timeout: 30_000 });
      expect(out.trim()).to.equal('cert-ok');
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await r.stop();
    }
  });
});
