import { expect } from 'chai';
import { runCampaign } from './campaign.js';
import { countMessages } from './corpus.js';
import { selfTarget } from './self/self-target.js';
import { VARIANTS } from './self/variants.js';

describe('fuzz: self in-process (CI smoke)', function () {
  this.timeout(120_000);

  it('2 000 cases against our reference server: no crash, hang, bypass, escaped exception or invariant violation', async () => {
    const r = await runCampaign({ target: selfTarget(), seed: 8, runs: 2000 });
    expect(r.cases).to.equal(2000);
    expect(r.findings.map((f) => `[${f.finding.oracle}] ${f.finding.message} (start ${f.start}, ${f.steps.length} steps)`)).to.deep.equal([]);
    // the model walks deep: every phase is reached, and most cases end with the peer refusing our input
    for (const s of ['pre-kex', 'kex', 'newkeys', 'userauth', 'authenticated', 'channel', 'rekey', 'closed'] as const) expect(r.states.get(s) ?? 0, s).to.be.greaterThan(0);
    expect(r.coverage.size).to.be.greaterThan(150);
  });
});

describe('fuzz: finding power against deliberately broken variants of our server', function () {
  this.timeout(120_000);
  for (const [name, variant] of Object.entries(VARIANTS)) {
    it(`finds ${name} from a fixed seed within 60 s and shrinks it to ≤ 3 messages`, async () => {
      const expected = { 'crash-kexinit': 'crash', 'auth-malformed-signature': 'auth-bypass', 'hang-zero-data': 'hang' }[name];
      const r = await runCampaign({ target: selfTarget({ variant }), seed: 2, timeSeconds: 60, stopOnFinding: true, shrinkTimeMs: 10_000 });
      expect(r.findings, `${variant.description}: not found in ${r.cases} cases`).to.have.length(1);
      const f = r.findings[0]!;
      expect(f.finding.oracle).to.equal(expected);
      expect(countMessages(f.steps)).to.be.at.most(3);
      expect(f.reproduced).to.equal(true);
    });
  }
});
