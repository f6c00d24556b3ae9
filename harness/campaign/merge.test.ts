import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFuzz } from '../cli/fuzz.js';
import { runMerge } from '../cli/fuzz-merge.js';
import { mergeCampaigns, messagePath } from './merge.js';
import { minimiseCorpus } from './minimise.js';
import type { ShardState } from './shard-state.js';

const ENTRY = JSON.parse(readFileSync(new URL('../../corpora/self-hang-zero-data/c1c48baf930f.json', import.meta.url), 'utf8')) as Record<string, unknown>;

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, say: (s: string) => { out.push(s); }, warn: (s: string) => { err.push(s); } };
}

function state(shard: string, cases: number, startedAt: string, endedAt: string, findings: ShardState['findings'] = []): ShardState {
  return {
    kind: 'fuzz-shard', version: 1, target: 'self-hang-zero-data', targetVersion: 'ssh-harness 0.1.0', seed: 7, shard, plan: { runs: 100 }, nextBatch: 2,
    attempts: [{ host: 'h', pid: 1, startedAt, updatedAt: endedAt, firstBatch: 0, cases }],
    totals: { cases, elapsedMs: Date.parse(endedAt) - Date.parse(startedAt), cpuMs: 1000, freshConnections: 1, reusedCases: 0, unreached: 0, closedByPeer: 0, states: { channel: cases }, coverage: { 'SSH_MSG_CHANNEL_DATA@channel': cases } },
    findings, finished: { at: endedAt, stoppedBy: 'runs' },
  };
}

describe('campaign: fuzz merge', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'merge-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const shardDir = (k: number, s: ShardState, entries: Array<Record<string, unknown>>): string => {
    const d = join(dir, 'campaign', `shard-${k}-of-2`);
    mkdirSync(join(d, 'corpus', 'self-hang-zero-data'), { recursive: true });
    writeFileSync(join(d, 'state.json'), JSON.stringify(s));
    for (const e of entries) writeFileSync(join(d, 'corpus', 'self-hang-zero-data', `${e.id as string}.json`), JSON.stringify(e));
    return d;
  };

  it('deduplicates findings by signature across shards, keeps the smallest entry, sums the shard figures', () => {
    const bigger = { ...ENTRY, id: 'aaaaaaaaaaaa', steps: [{ op: 'send', msg: { type: 'SSH_MSG_CHANNEL_DATA', recipientChannel: { $chan: 0 }, data: { $hex: '' } } }, { op: 'rekey' }], messages: 2 };
    // another oracle is another finding; the same oracle after other messages (bigger: + rekey) is one too
    const other = { ...ENTRY, id: 'bbbbbbbbbbbb', start: 'authenticated', finding: { oracle: 'crash', severity: 'must', message: 'peer process 123 is gone' } };
    shardDir(1, state('1/2', 1000, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:10.000Z', [{ signature: 's', oracle: 'hang', severity: 'must', message: 'm', occurrences: 4, file: 'corpus/self-hang-zero-data/c1c48baf930f.json' }]), [ENTRY, other]);
    const d2 = shardDir(2, state('2/2', 3000, '2026-01-01T00:00:05.000Z', '2026-01-01T00:00:20.000Z'), [bigger]);
    writeFileSync(join(d2, 'corpus', 'self-hang-zero-data', '.x.json.1-ab.tmp'), '{"torn'); // a writer killed before its rename
    const m = mergeCampaigns([join(dir, 'campaign')]);
    expect(m.problems).to.deep.equal([]);
    expect(m.warnings).to.deep.equal([]);
    expect(m.shards.map((s) => [s.shard, s.cases])).to.deep.equal([['1/2', 1000], ['2/2', 3000]]);
    expect(m.totals.cases).to.equal(4000);
    expect(m.totals.wallMs).to.equal(20_000);
    expect(m.totals.casesPerSecond).to.equal(200);
    expect(m.totals.coverage['SSH_MSG_CHANNEL_DATA@channel']).to.equal(4000);
    expect(m.findings).to.have.length(3);
    const hang = m.findings.filter((f) => f.oracle === 'hang');
    expect(hang.map((f) => f.path).sort()).to.deep.equal(['authenticated: SSH_MSG_CHANNEL_DATA', 'authenticated: SSH_MSG_CHANNEL_DATA rekey']);
    expect(m.kept.map((k) => k.entry.id).sort()).to.deep.equal(['aaaaaaaaaaaa', 'bbbbbbbbbbbb', 'c1c48baf930f']);
    expect(hang.find((f) => f.path === 'authenticated: SSH_MSG_CHANNEL_DATA')!.occurrences).to.equal(4);
  });

  it('the same minimal case from two shards is one finding, seen by both; the merged corpus keeps one copy', () => {
    shardDir(1, state('1/2', 10, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z'), [ENTRY]);
    shardDir(2, state('2/2', 10, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z'), [{ ...ENTRY, campaign: { seed: 7, caseIndex: 77, shard: '2/2' } }]);
    const out = join(dir, 'merged');
    const c = capture();
    expect(runMerge([join(dir, 'campaign')], { out }, c.say, c.warn)).to.equal(1);
    const r = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { findings: Array<{ shards: string[]; duplicates: string[] }>; totals: { corpusKept: number } };
    expect(r.findings).to.have.length(1);
    expect(r.findings[0]!.shards).to.deep.equal(['self-hang-zero-data 1/2', 'self-hang-zero-data 2/2']);
    expect(r.findings[0]!.duplicates).to.have.length(1);
    expect(readdirSync(join(out, 'corpus', 'self-hang-zero-data'))).to.deep.equal(['c1c48baf930f.json']);
    expect(readFileSync(join(out, 'junit.xml'), 'utf8')).to.match(/<failure message="\[hang\]/);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).to.match(/1 distinct findings/);
  });

  it('reports missing and unfinished shards, and unreadable files (exit 2) without losing the rest', () => {
    const s = state('1/2', 10, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z');
    const { finished: _, ...running } = s;
    const d = shardDir(1, running as ShardState, [ENTRY]);
    writeFileSync(join(d, 'corpus', 'self-hang-zero-data', 'broken.json'), '{"kind":"fuzz-finding","version":1,');
    writeFileSync(join(d, 'corpus', 'self-hang-zero-data', 'wrong.json'), JSON.stringify({ ...ENTRY, steps: [{ op: 'teleport' }] }));
    const c = capture();
    expect(runMerge([join(dir, 'campaign')], { out: join(dir, 'm') }, c.say, c.warn)).to.equal(2);
    const err = c.err.join('');
    expect(err).to.match(/shard\(s\) 2\/2 missing/);
    expect(err).to.match(/has not finished/);
    expect(err).to.match(/broken\.json: invalid JSON/);
    expect(err).to.match(/wrong\.json: .*"teleport" is not a step/);
    expect(c.out.join('')).to.match(/1 distinct/);
    expect(runMerge([join(dir, 'nowhere')], {}, c.say, c.warn)).to.equal(2);
  });

  it('minimises by coverage when entries carry it: every feature and every finding kept, the smallest entries chosen', () => {
    const r = minimiseCorpus([
      { key: 'big', id: 'a', messages: 3, steps: 3, features: ['e1', 'e2', 'e3'] },
      { key: 'small1', id: 'b', messages: 1, steps: 1, features: ['e1', 'e2'] },
      { key: 'small2', id: 'c', messages: 1, steps: 1, features: ['e3'] },
      { key: 'dup', id: 'd', messages: 2, steps: 2, features: ['e2'] },
      { key: 'finding', id: 'e', messages: 4, steps: 4, signature: 'hang|x', features: ['e1'] },
    ]);
    expect([...r.kept].sort()).to.deep.equal(['finding', 'small1', 'small2']);
    expect(r.features).to.equal(3);
    expect(r.reasons.get('finding')!.forSignature).to.equal('hang|x');
  });

  it('merges grey-box coverage through fuzz merge (entries with a coverage field) and refuses malformed coverage', () => {
    const withCov = (id: string, steps: number, features: string[]) => ({ ...ENTRY, id, messages: steps, steps: Array.from({ length: steps }, () => ({ op: 'rekey' })), coverage: { source: 'test-edges', features } });
    shardDir(1, state('1/2', 10, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z'), [withCov('c00000000001', 1, ['a', 'b']), withCov('c00000000002', 2, ['b'])]);
    shardDir(2, state('2/2', 10, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z'), [withCov('c00000000003', 3, ['c']), { ...ENTRY, id: 'c00000000004', coverage: { source: 'test-edges', features: 'abc' } }]);
    const m = mergeCampaigns([join(dir, 'campaign')]);
    expect(m.coverageFeatures).to.equal(3);
    expect(m.entriesWithCoverage).to.equal(3);
    // c…02 adds no feature, but its message path (rekey rekey) makes it a finding of its own: kept for that
    expect(m.kept.map((k) => [k.entry.id, k.features])).to.deep.equal([['c00000000001', 2], ['c00000000002', 0], ['c00000000003', 1]]);
    expect(m.problems.join('\n')).to.match(/c00000000004\.json.*coverage\.features must be an array/);
  });

  it('names message paths by message and step kinds', () => {
    expect(messagePath([{ op: 'deviate', deviation: { kind: 'skip' } }, { op: 'auth', method: 'password', valid: false }])).to.equal('deviate:skip auth:password');
    expect(messagePath([])).to.equal('(no steps)');
  });

  it('two real shards of one campaign merge into the figures of both and one finding', async function () {
    this.timeout(120_000);
    const out = join(dir, 'real');
    for (const k of [1, 2]) {
      const c = capture();
      const code = await runFuzz({ target: 'self:hang-zero-data', corpus: 'unused', report: 'unused', out, shard: `${k}/2`, runs: '640', seed: '11', shrinkTime: '5', findingsExitCode: '0' }, c.say, c.warn);
      expect(code, c.err.join('')).to.equal(0);
    }
    const c = capture();
    expect(runMerge([out], { out: join(dir, 'merged') }, c.say, c.warn)).to.equal(1);
    const r = JSON.parse(readFileSync(join(dir, 'merged', 'report.json'), 'utf8')) as { totals: { cases: number; findings: number }; shards: Array<{ cases: number; findings: number }> };
    expect(r.shards).to.have.length(2);
    expect(r.totals.cases).to.equal(r.shards[0]!.cases + r.shards[1]!.cases);
    expect(r.shards.every((s) => s.findings === 1)).to.equal(true);
    expect(r.totals.findings).to.equal(1);
  });
});
