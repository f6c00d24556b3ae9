import { expect } from 'chai';
import { batchOf, caseSeed, parseShard, runCampaign, signatureOf, type FindingRecord } from './campaign.js';
import { reportMarkdown } from './report.js';
import { selfTarget } from './self/self-target.js';
import { crashOnKexinitZlib } from './self/variants.js';

describe('fuzz campaign: shards, seeds, reports', () => {
  it('shards K/N are disjoint and together are the unsharded campaign', () => {
    const n = 4;
    const seen = new Map<number, number>();
    for (let k = 1; k <= n; k++) for (let local = 0; local < 250; local++) {
      const b = batchOf(local, { k, n });
      expect(seen.has(b), `batch ${b} in two shards`).to.equal(false);
      seen.set(b, k);
    }
    expect([...seen.keys()].sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 1000 }, (_, i) => i));
  });

  it('case seeds are deterministic and distinct per batch', () => {
    const seeds = new Set(Array.from({ length: 10_000 }, (_, i) => caseSeed(42, i)));
    expect(seeds.size).to.equal(10_000);
    expect(caseSeed(42, 7)).to.equal(caseSeed(42, 7));
    expect(caseSeed(42, 7)).not.to.equal(caseSeed(43, 7));
  });

  it("campaigns sharing a finding book (a grey-box fleet's instances) record a failure once and count the rest", async function () {
    this.timeout(120_000);
    const book = new Map<string, FindingRecord>();
    const recorded: string[] = [];
    const run = (k: number) => runCampaign({
      target: selfTarget({ variant: crashOnKexinitZlib }), seed: 2, runs: 512, shard: { k, n: 2 }, shrinkTimeMs: 5_000,
      sharedFindings: book, onFinding: (f) => recorded.push(f.signature),
    });
    const [a, b] = await Promise.all([run(1), run(2)]);
    const sigs = [...book.keys()];
    expect(sigs.some((s) => s.startsWith('crash:')), sigs.join('; ')).to.equal(true);
    expect(sigs.length).to.be.greaterThan(0);
    // each signature was minimised, confirmed and reported by one campaign only
    expect([...recorded].sort()).to.deep.equal([...sigs].sort());
    for (const f of book.values()) expect(f.steps.length, f.signature).to.be.at.most(3);
    // both saw the failure: the book counts every occurrence
    const occurrences = [...book.values()].reduce((n, f) => n + f.occurrences, 0);
    expect(occurrences).to.be.greaterThan(sigs.length);
    expect(a.findings.map((f) => f.signature).sort()).to.deep.equal(b.findings.map((f) => f.signature).sort());
  });

  it('parses --shard K/N and refuses nonsense', () => {
    expect(parseShard('2/5')).to.deep.equal({ k: 2, n: 5 });
    for (const bad of ['0/5', '6/5', '1/0', '1-5', '', 'a/b', '1/5/2']) expect(() => parseShard(bad), bad).to.throw(RangeError);
  });

  it('the same seed runs the same cases (coverage identical), shards split them', async function () {
    this.timeout(60_000);
    const a = await runCampaign({ target: selfTarget(), seed: 77, runs: 128 });
    const b = await runCampaign({ target: selfTarget(), seed: 77, runs: 128 });
    expect([...b.coverage]).to.deep.equal([...a.coverage]);
    const s1 = await runCampaign({ target: selfTarget(), seed: 77, runs: 64, shard: { k: 1, n: 2 } });
    const s2 = await runCampaign({ target: selfTarget(), seed: 77, runs: 64, shard: { k: 2, n: 2 } });
    const sum = new Map(s1.coverage);
    for (const [k, v] of s2.coverage) sum.set(k, (sum.get(k) ?? 0) + v);
    expect(new Map([...sum].sort())).to.deep.equal(new Map([...a.coverage].sort()));
  });

  it('reports list findings, states and the message × state coverage matrix', async () => {
    const r = await runCampaign({ target: selfTarget(), seed: 5, runs: 64 });
    const md = reportMarkdown(r);
    expect(md).to.match(/# Fuzz campaign: self/);
    expect(md).to.match(/\| message \| pre-kex \| kex \| newkeys \| userauth \| authenticated \| channel \| rekey \| closed \|/);
    expect(md).to.match(/\| SSH_MSG_CHANNEL_DATA \|/);
  });

  it('an aborted signal ends the campaign at the next case: the cases run so far are counted, stopped by "interrupted"', async () => {
    const interrupt = new AbortController();
    let seen = 0;
    const t0 = performance.now();
    const r = await runCampaign({
      target: selfTarget(), seed: 9, runs: 10_000_000, signal: interrupt.signal,
      onProgress: (p) => { seen = p.cases; if (p.cases > 0) interrupt.abort(); },
    });
    expect(r.stoppedBy).to.equal('interrupted');
    expect(r.cases).to.be.greaterThan(0);
    expect(r.cases).to.be.at.most(seen + 64); // at most the batch in flight when it was asked
    expect(performance.now() - t0).to.be.below(30_000);
  });

  it('groups findings that are the same bug', () => {
    const f = (message: string) => signatureOf({ oracle: 'hang', severity: 'must', message });
    expect(f('owed 3 replies on channel 0x10')).to.equal(f('owed 5 replies on channel 0x7f'));
  });
});

describe('fuzz corpus entries replay through fast-check itself (seed + path + replayPath)', function () {
  this.timeout(60_000);
  it('each committed variant entry fails again with the same oracle', async () => {
    const { readdirSync } = await import('node:fs');
    const { readEntry } = await import('./corpus.js');
    const { replayFastCheckPath } = await import('./campaign.js');
    const { VARIANTS } = await import('./self/variants.js');
    for (const [name, variant] of Object.entries(VARIANTS)) {
      const dir = `corpora/self-${name}`;
      const e = readEntry(`${dir}/${readdirSync(dir)[0]}`);
      const f = await replayFastCheckPath(selfTarget({ variant }), e.seed, e.path, e.replayPath);
      expect(f?.oracle, name).to.equal(e.finding.oracle);
    }
  });
});
