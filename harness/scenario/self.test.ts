/**
 * The CI bar for our own server (issue 7): `run --target self` passes every MUST check (any other failure is
 * explained in scenarios/KNOWN.md), every deliberately broken variant is flagged by the suite, and two runs
 * give identical verdicts. Durations are printed, never asserted (timing belongs to the bench).
 */
import { expect } from 'chai';
import { runChecks } from './runner.js';
import { startTarget } from './session.js';
import { knownFor } from './known.js';
import { builtinChecksSync, filterChecks } from './suite.js';
import type { Check, CheckResult } from './types.js';
import { VARIANTS } from './variants.js';
import { setTimeScale } from './expect.js';
import { autoTimeScale } from '../cli/survey.js';

function glob(p: string): RegExp {
  return new RegExp(`^${p.split('*').map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

async function run(target: string, checks: readonly Check[], seed: string): Promise<{ results: CheckResult[]; ms: number }> {
  const t0 = Date.now();
  const { running, info } = await startTarget(target);
  try {
    const results = await runChecks(checks, { target: info, seed, known: knownFor(target, info.version) });
    return { results, ms: Date.now() - t0 };
  } finally {
    await running.stop();
  }
}

const describeResults = (rs: readonly CheckResult[]) => rs.map((r) => `${r.verdict} ${r.level} ${r.id}: ${r.reason}`).join('\n');

describe('harness/scenario: the suite against our own server (self)', function () {
  this.timeout(240_000);
  const server = filterChecks(builtinChecksSync(), { roles: ['server'] });
  let first: CheckResult[];
  // on a busy machine the checks' waits stretch with the load, as `run`/`survey --time-scale auto` do (1 when idle)
  before(() => setTimeScale(autoTimeScale()));
  after(() => setTimeScale(1));

  it(`runs all ${server.length} server checks: every MUST passes, nothing unexplained fails`, async () => {
    const { results, ms } = await run('self', server, 'c1a55e1f00d5eed1');
    console.log(`      self in-process: ${results.length} checks in ${(ms / 1000).toFixed(1)} s`);
    first = results;
    const mustBad = results.filter((r) => r.level === 'MUST' && (r.verdict === 'fail' || r.verdict === 'inconclusive'));
    expect(mustBad.map((r) => r.id), describeResults(mustBad)).to.deep.equal([]);
    const unexplained = results.filter((r) => !r.known && (r.verdict === 'fail' || r.verdict === 'inconclusive'));
    expect(unexplained.map((r) => r.id), describeResults(unexplained)).to.deep.equal([]);
  });

  it('gives the same verdicts on a second run with the same seed', async () => {
    if (!first) throw new Error('the first run did not complete');
    const { results } = await run('self', server, 'c1a55e1f00d5eed1');
    const diff = results.filter((r, i) => r.id !== first[i]!.id || r.verdict !== first[i]!.verdict);
    expect(diff.map((r) => `${r.id}: ${r.verdict}`)).to.deep.equal([]);
  });

  for (const v of VARIANTS) {
    it(`flags the broken variant self:${v.name} (${v.description})`, async () => {
      const subset = server.filter((c) => v.catchers.some((p) => glob(p).test(c.id)));
      expect(subset.length, `catchers ${v.catchers.join(', ')} select no check`).to.be.greaterThan(0);
      const { results } = await run(`self:${v.name}`, subset, '5eed0f1a11a57a75');
      const flagged = results.filter((r) => r.verdict === 'fail' || (r.verdict === 'inconclusive' && r.level === 'MUST'));
      expect(flagged.length, `no check flagged self:${v.name}:\n${describeResults(results)}`).to.be.greaterThan(0);
      // the same checks pass on the reference server (first run)
      for (const f of flagged) expect(first?.find((r) => r.id === f.id)?.verdict, f.id).to.be.oneOf(['pass', undefined]);
    });
  }
});
