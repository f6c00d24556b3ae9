/**
 * The suite against real peers (issue 7, "Must show"): host sshd, the OpenSSH containers, dropbear, and the
 * client direction against OpenSSH `ssh` and paramiko. Each run must complete, and every failure must be a
 * departure documented in scenarios/KNOWN.md (or fixed). sshd also runs twice to show identical verdicts.
 * A missing peer skips locally and FAILS under CI=true. Durations are printed, not asserted.
 */
import { expect } from 'chai';
import { getClientPeer, getTarget } from '../targets/registry.js';
import { needPeer } from '../targets/peer-test-kit.js';
import { runChecks } from './runner.js';
import { defaultConcurrency, expandClientChecks, startTarget } from './session.js';
import { knownFor } from './known.js';
import { builtinChecksSync, filterChecks } from './suite.js';
import type { Check, CheckResult } from './types.js';

const unexplained = (rs: readonly CheckResult[]) => rs.filter((r) => !r.known && (r.verdict === 'fail' || r.verdict === 'inconclusive'));
const show = (rs: readonly CheckResult[]) => rs.map((r) => `${r.verdict} ${r.level} ${r.id}: ${r.reason}`).join('\n');

async function runOn(target: string, checks: readonly Check[], seed: string, peers: readonly string[] = []): Promise<{ results: CheckResult[]; ms: number; version?: string }> {
  const t0 = Date.now();
  const { running, info } = await startTarget(target);
  try {
    const server = knownFor(target, info.version);
    const byPeer = new Map(peers.map((p) => [p, knownFor(p)] as const));
    const known = (id: string) => { const at = id.lastIndexOf('@'); return at > 0 && byPeer.has(id.slice(at + 1)) ? byPeer.get(id.slice(at + 1))!(id) : server(id); };
    const results = await runChecks(expandClientChecks(checks, peers), { target: info, seed, known, concurrency: defaultConcurrency(info) });
    return { results, ms: Date.now() - t0, ...(info.version ? { version: info.version } : {}) };
  } finally {
    await running.stop();
  }
}

describe('harness/scenario: the suite against real peers', function () {
  this.timeout(180_000);
  const all = builtinChecksSync();
  const server = filterChecks(all, { roles: ['server'] });
  const client = all.filter((c) => c.role === 'client');

  describe('host sshd (OpenSSH)', () => {
    let first: CheckResult[] | undefined;
    before(async function () { await needPeer(this, 'sshd', async () => (await getTarget('sshd')).availability()); });

    it(`all ${server.length} server checks complete; every failure is explained in KNOWN.md`, async () => {
      const { results, ms, version } = await runOn('sshd', server, '0ff1ce5eed000001');
      console.log(`      sshd ${version}: ${results.length} checks in ${(ms / 1000).toFixed(1)} s, ${results.filter((r) => r.known).length} known departures`);
      first = results;
      expect(unexplained(results).map((r) => r.id), show(unexplained(results))).to.deep.equal([]);
    });

    it('a second run gives identical verdicts', async () => {
      if (!first) throw new Error('the first run did not complete');
      const { results } = await runOn('sshd', server, '0ff1ce5eed000001');
      const diff = results.filter((r, i) => r.id !== first![i]!.id || r.verdict !== first![i]!.verdict).map((r, i) => `${r.id}: ${first![i]?.verdict} then ${r.verdict}`);
      expect(diff).to.deep.equal([]);
    });
  });

  for (const target of ['openssh:bookworm', 'openssh:trixie', 'dropbear']) {
    describe(target, () => {
      before(async function () { await needPeer(this, target, async () => (await getTarget(target)).availability()); });
      it('all server checks complete; every failure is explained in KNOWN.md', async () => {
        const { results, ms, version } = await runOn(target, server, '0ff1ce5eed000002');
        console.log(`      ${target} ${version}: ${results.length} checks in ${(ms / 1000).toFixed(1)} s, ${results.filter((r) => r.known).length} known departures`);
        expect(unexplained(results).map((r) => r.id), show(unexplained(results))).to.deep.equal([]);
      });
    });
  }

  describe('client direction: OpenSSH ssh and paramiko against our deviating server', () => {
    const peers = ['openssh-client', 'paramiko-client'];
    before(async function () {
      for (const p of peers) await needPeer(this, p, async () => (await getClientPeer(p)).availability());
    });
    it(`${client.length} client checks × ${peers.length} clients complete; every failure is explained in KNOWN.md`, async () => {
      const { results, ms } = await runOn('self', client, '0ff1ce5eed000003', peers);
      console.log(`      client direction: ${results.length} checks in ${(ms / 1000).toFixed(1)} s, ${results.filter((r) => r.known).length} known departures`);
      expect(results.length).to.equal(client.length * peers.length);
      expect(unexplained(results).map((r) => r.id), show(unexplained(results))).to.deep.equal([]);
    });
  });
});
