import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { EdgeFeedback } from './feedback.js';
import { CoverageMap, COV_ENV, createCoverageFile, removeCoverageFile } from './coverage-map.js';
import { parseSanitizerReport, sanitizerEnv, sanitizerFinding, LogCursor } from './sanitizer.js';
import { GreyboxQueue, edgeIds, readGreyboxSeed } from './queue.js';
import { algorithmChoices, algorithmMutationArb, mutantArb } from './mutate.js';
import { coverageHtml, coverageSvg } from './plot.js';
import { coverageByFile, loadEdgeSources } from './edge-sources.js';
import { armsLine, fileTable } from './file-table.js';
import { ArmScheduler, MIN_SHARE } from './arms.js';
import { coverageMarkdown } from '../report.js';
import type { CoverageSummary } from './session.js';
import { fleetProgress, instanceShard, mergeBackoff } from './fleet.js';
import { batchOf, type CampaignProgress } from '../campaign.js';
import { CC, SANITIZE_CFLAGS, SANITIZE_LDFLAGS, coverageSectionProblem, runtimeSourcePath, sanitizeLdflags } from '../../targets/setup/instrumented.js';
import { packageRoot } from '../../targets/state.js';
import { loadReplayInput } from '../replay.js';
import { StepCommand } from '../model.js';
import { needPeer } from '../../targets/peer-test-kit.js';
import { findBinary } from '../../targets/local-tools.js';
import type { Step } from '../steps.js';

describe('grey-box feedback', () => {
  it('counts a new edge once and a new hit-count bucket as a feature', () => {
    const f = new EdgeFeedback();
    expect(f.observe(Uint8Array.from([0, 1, 0, 0]))).to.deep.equal({ newEdges: 1, newFeatures: 1 });
    expect(f.observe(Uint8Array.from([0, 1, 0, 0]))).to.deep.equal({ newEdges: 0, newFeatures: 0 });
    // same edge hit 5 times: bucket 4-7 is new, the edge is not
    expect(f.observe(Uint8Array.from([0, 5, 0, 0]))).to.deep.equal({ newEdges: 0, newFeatures: 1 });
    expect(f.observe(Uint8Array.from([0, 6, 2, 0, 1]))).to.deep.equal({ newEdges: 2, newFeatures: 2 });
    expect(f.edges).to.equal(3);
  });

  it('keeps a novel case as a replayable queue entry and mutates it with the step arbitraries', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gb-queue-'));
    try {
      const q = new GreyboxQueue(dir, { target: 't', targetVersion: 'v' });
      const steps: Step[] = [{ op: 'service', name: 'ssh-userauth' }, { op: 'bytes', data: Uint8Array.from([1, 2, 3]) }];
      const e = q.add({ start: 'newkeys', algorithms: {}, steps, newEdges: 3, newFeatures: 4, caseIndex: 7 }, ['e:1', 'e:9'])!;
      expect(q.size).to.equal(1);
      const back = readGreyboxSeed(e.file!);
      expect(back.steps).to.deep.equal(steps);
      expect(back.coverage).to.deep.equal({ source: 'sancov-edges', features: ['e:1', 'e:9'] });
      const r = loadReplayInput(e.file!);
      expect(r.start).to.equal('newkeys');
      expect(r.steps).to.deep.equal(steps);
      const dict = { users: ['u'], passwords: ['p'], keyBlobs: [] };
      const mutants = fc.sample(mutantArb(q, dict), { numRuns: 40, seed: 3 });
      for (const [start, , cmds] of mutants) {
        expect(start).to.equal('newkeys');
        expect([...cmds].every((c) => c instanceof StepCommand)).to.equal(true);
      }
      // mutants differ from the parent (insert/replace/mutate/drop/splice all change the list)
      expect(mutants.some(([, , cmds]) => JSON.stringify([...cmds].map((c) => (c as StepCommand).step)) !== JSON.stringify(steps))).to.equal(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('schedules by rarity: an entry with edges no other entry has is picked before shared ones, until picked often', () => {
    const q = new GreyboxQueue();
    const shared = edgeIds(Uint8Array.from([1, 1, 1, 1, 0, 0, 0, 0, 0, 0]));
    expect([...shared]).to.deep.equal([0, 1, 2, 3]);
    const steps: Step[] = [{ op: 'service', name: 'ssh-userauth' }];
    for (let i = 0; i < 3; i++) q.add({ start: 'newkeys', algorithms: {}, steps: [...steps, { op: 'bytes', data: Uint8Array.from([i]) }], newEdges: 1, newFeatures: 1, caseIndex: i, edges: shared });
    const rare = q.add({ start: 'newkeys', algorithms: {}, steps, newEdges: 1, newFeatures: 1, caseIndex: 9, edges: edgeIds(Uint8Array.from([1, 0, 0, 0, 1, 1, 1, 1, 1, 1])) })!;
    // 6 edges only it has (1 each) + edge 0, shared by all four (1/4); the others: edge 0 and three edges of three
    expect(q.rarity(rare)).to.be.closeTo(6.25, 1e-9);
    expect(q.rarity(q.entries[0]!)).to.be.closeTo(1.25, 1e-9);
    const picks = Array.from({ length: 8 }, (_, i) => q.pick(i * 104729 + 3).id);
    const count = (id: string): number => picks.filter((x) => x === id).length;
    expect(count(rare.id)).to.be.greaterThan(Math.max(...q.entries.filter((x) => x !== rare).map((x) => count(x.id))));
    // energy falls with picks: the others get their turn
    expect(new Set(picks).size).to.be.greaterThan(1);
  });

  it('mutates one algorithm slot to a name both sides have (AEAD ciphers lose the MAC slot)', () => {
    const choices = algorithmChoices({ kex: ['curve25519-sha256', 'ecdh-sha2-nistp521', 'kex-strange@example.com'], cipher: ['aes128-ctr', 'chacha20-poly1305@openssh.com'], mac: ['hmac-sha1'], hostKey: ['ssh-rsa'], compression: ['none', 'zlib@openssh.com'] });
    expect(choices.kex).to.deep.equal(['curve25519-sha256', 'ecdh-sha2-nistp521']);
    expect(choices.compression).to.deep.equal(['none', 'zlib@openssh.com']);
    const parent = { kex: ['curve25519-sha256'], cipher: ['chacha20-poly1305@openssh.com'] };
    const out = fc.sample(algorithmMutationArb(choices)(parent), { numRuns: 200, seed: 5 });
    const changed = new Set<string>();
    for (const a of out) {
      const diff = (['kex', 'hostKey', 'cipher', 'mac', 'compression'] as const).filter((k) => JSON.stringify(a[k]) !== JSON.stringify((parent as Record<string, unknown>)[k]));
      expect(diff.length).to.be.at.most(2);
      for (const k of diff) changed.add(k);
      for (const k of diff) expect(choices[k]).to.include.members([...a[k]!]);
      if (a.mac) expect(a.cipher).to.deep.equal(['aes128-ctr']);
    }
    expect([...changed].sort()).to.deep.equal(['cipher', 'compression', 'hostKey', 'kex', 'mac']);
  });

  it('merges the fleet instances\' back-offs (each instance has its own governor)', () => {
    const b = (refusals: number, ms: number, outage: number) => ({
      refusals, byKind: { 'closed-before-version': refusals }, backoffs: refusals, totalBackoffMs: ms, parallelism: { start: 1, min: 1, end: 1 }, changes: [], longestOutageMs: outage,
    });
    const m = mergeBackoff([b(2, 500, 900), b(0, 0, 100), b(3, 750, 2000)])!;
    expect(m).to.include({ refusals: 5, backoffs: 5, totalBackoffMs: 1250, longestOutageMs: 2000 });
    expect(m.byKind).to.deep.equal({ 'closed-before-version': 5 });
    expect(mergeBackoff([])).to.equal(undefined);
  });

  it('--shard K/N with grey-box fleets: each machine runs its share only, and the N shares are the whole campaign', () => {
    const N = 3;
    const fleet = 4;
    const owner = new Map<number, string>();
    for (let k = 1; k <= N; k++) {
      for (let i = 0; i < fleet; i++) {
        const s = instanceShard({ k, n: N }, i, fleet);
        for (let local = 0; local < 25; local++) {
          const b = batchOf(local, s);
          expect(owner.has(b), `batch ${b} twice`).to.equal(false);
          owner.set(b, `${k}/${N} #${i}`);
        }
      }
    }
    // every batch below N·fleet·25 belongs to exactly one machine's instance
    expect([...owner.keys()].sort((a, b) => a - b)).to.deep.equal(Array.from({ length: N * fleet * 25 }, (_, b) => b));
    expect(instanceShard(undefined, 2, 5)).to.deep.equal({ k: 3, n: 5 }); // no --shard: the fleet's own split
  });

  it("a fleet's progress is the sum of its instances', reported with the shared coverage", () => {
    const seen: CampaignProgress[] = [];
    const p = fleetProgress(3, (x) => seen.push(x), () => ({ edges: 77, queue: 4 }));
    const at = (cases: number, states: CampaignProgress['states']): CampaignProgress => ({ cases, elapsedMs: 10_000, casesPerSecond: cases / 10, findings: 1, states, unreached: 1 });
    p(1)(at(300, ['kex']));
    p(2)(at(200, ['channel']));
    expect(seen).to.have.length(0); // only the first instance's report prints
    p(0)(at(500, ['kex', 'authenticated']));
    expect(seen).to.have.length(1);
    expect(seen[0]).to.deep.include({ cases: 1000, casesPerSecond: 100, findings: 1, unreached: 3, coverage: { edges: 77, queue: 4 } });
    expect([...seen[0]!.states].sort()).to.deep.equal(['authenticated', 'channel', 'kex']);
  });

  it('splits cases between fresh ones and mutants by what each has been finding lately, never below 20 % each', () => {
    const s = new ArmScheduler();
    expect(s.freshShare).to.equal(0.5);
    expect(s.choose(0.49)).to.equal('fresh');
    expect(s.choose(0.51)).to.equal('mutant');
    // mutants keep finding, fresh cases do not: mutants get more, down to the floor for fresh ones
    for (let i = 0; i < 400; i++) { s.record('mutant', i % 2 === 0); s.record('fresh', false); }
    expect(s.freshShare).to.equal(MIN_SHARE);
    // later the mutants' neighbourhoods are exhausted and fresh cases find: the window forgets the old yield
    for (let i = 0; i < 400; i++) { s.record('mutant', false); s.record('fresh', i % 10 === 0); }
    expect(s.freshShare).to.equal(1 - MIN_SHARE);
    expect(s.summary()).to.deep.equal({ fresh: { cases: 800, novel: 40 }, mutant: { cases: 800, novel: 200 } });
    expect(armsLine({ fresh: { cases: 800, novel: 40 }, mutant: { cases: 800, novel: 200 } })).to.equal('Grey-box cases: fresh 800 (40 reached new edges, 5.0 %), mutants of queue entries 800 (200 reached new edges, 25.0 %).');
  });

  it('tables coverage by source file, most reached first, with what grey-box reached beyond black-box', () => {
    const run = (mode: 'greybox' | 'blackbox', files: [string, number, number][]): CoverageSummary => ({
      mode, guards: 4096, edges: files.reduce((n, f) => n + f[2], 0), features: 0, queue: 0, cases: 10, seconds: 1, instances: 1, samples: [],
      files: files.map(([file, edges, reached]) => ({ file, edges, reached })),
    });
    const runs = [run('blackbox', [['kex.c', 100, 40], ['umac.c', 50, 0], ['never.c', 10, 0]]), run('greybox', [['kex.c', 100, 42], ['umac.c', 50, 30], ['never.c', 10, 0]])];
    const t = fileTable(runs)!;
    expect(t.header).to.deep.equal(['source file', 'edges', 'blackbox reached', 'greybox reached', 'grey − black']);
    expect(t.rows).to.deep.equal([['kex.c', '100', '40 (40 %)', '42 (42 %)', '+2'], ['umac.c', '50', '0 (0 %)', '30 (60 %)', '+30']]);
    expect(fileTable(runs, 1)!.more).to.equal(1);
    expect(fileTable([{ ...runs[0]!, files: undefined }])).to.equal(undefined);
    expect(coverageMarkdown(runs)).to.include('### Coverage by source file').and.include('| `umac.c` | 50 | 0 (0 %) | 30 (60 %) | +30 |');
    expect(coverageHtml(runs)).to.include('<h3>Coverage by source file</h3>').and.include('<code>umac.c</code>');
  });

  it('plots edges against cases and seconds as SVG', () => {
    const svg = coverageSvg([
      { mode: 'greybox', guards: 100, edges: 40, features: 50, queue: 3, cases: 10, seconds: 2, instances: 3, samples: [{ cases: 0, seconds: 0, edges: 0 }, { cases: 10, seconds: 2, edges: 40 }] },
      { mode: 'blackbox', guards: 100, edges: 20, features: 20, queue: 0, cases: 30, seconds: 2, instances: 1, samples: [{ cases: 0, seconds: 0, edges: 0 }, { cases: 30, seconds: 2, edges: 20 }] },
    ], 'cases', 'edges vs cases');
    expect(svg).to.match(/^<svg /);
    expect(svg.match(/<polyline/g)).to.have.length(2);
    expect(svg).to.contain('greybox: 40 edges');
  });
});

/** The demo program built with the servers' flags and runtime (seconds with clang). */
describe('sanitizer oracle and coverage map on a real instrumented binary', function () {
  let dir: string;
  let bin: string;
  before(async function () {
    this.timeout(120_000);
    await needPeer(this, 'clang-14 (instrumented builds)', async () => (findBinary(CC) ? { available: true } : { available: false, reason: `${CC} not installed; run \`ssh-harness peers setup --instrumented\`` }));
    dir = mkdtempSync(join(tmpdir(), 'gb-demo-'));
    bin = join(dir, 'fault-demo');
    const rt = join(dir, 'rt.o');
    execFileSync(CC, ['-O2', '-fPIC', '-c', runtimeSourcePath(), '-o', rt]);
    execFileSync(CC, [...SANITIZE_CFLAGS.split(' '), ...sanitizeLdflags().split(' '), join(packageRoot(), 'harness/targets/instrumented/fault-demo.c'), rt, '-o', bin]);
  });
  after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  const run = (input: string, map?: string): { stderr: string; status: number | null } => {
    const r = spawnSync(bin, [], { input: `${input}\n`, env: { ...process.env, ...sanitizerEnv(), ...(map ? { [COV_ENV]: map } : {}) }, encoding: 'utf8', timeout: 30_000 });
    return { stderr: r.stderr, status: r.status };
  };

  it('an AddressSanitizer report is a must-level sanitizer finding with its stack', () => {
    const r = run('heap');
    expect(r.status).to.not.equal(0);
    const rep = parseSanitizerReport(r.stderr);
    expect(rep?.tool).to.equal('AddressSanitizer');
    expect(rep?.kind).to.equal('heap-buffer-overflow');
    const f = sanitizerFinding(rep!);
    expect(f.oracle).to.equal('sanitizer');
    expect(f.severity).to.equal('must');
    expect(f.message).to.match(/heap-buffer-overflow in heap_overflow fault-demo\.c:\d+/);
    expect(f.detail).to.match(/#1 0x[0-9a-f]+ in main /);
  });

  it('an UndefinedBehaviorSanitizer report is one too, and a clean run is not', () => {
    const rep = parseSanitizerReport(run('shift').stderr);
    expect(rep?.tool).to.equal('UndefinedBehaviorSanitizer');
    expect(rep?.kind).to.match(/shift exponent 40 is too large/);
    expect(rep?.where).to.match(/^fault-demo\.c:\d+$/);
    expect(rep?.text).to.match(/#0 0x[0-9a-f]+ in bad_shift/);
    expect(parseSanitizerReport(run('ok').stderr)).to.equal(undefined);
  });

  it('the log cursor hands out each report once', () => {
    const log = join(dir, 'log');
    execFileSync('sh', ['-c', `printf 'noise\\n' > ${log}`]);
    const c = new LogCursor(log);
    expect(c.next()).to.equal('');
    execFileSync('sh', ['-c', `printf 'shift\\n' | env UBSAN_OPTIONS=print_stacktrace=1 ${bin} 2>> ${log}`]);
    expect(parseSanitizerReport(c.next())?.tool).to.equal('UndefinedBehaviorSanitizer');
    expect(c.next()).to.equal('');
  });

  it('the edge flags sit on pages of their own; without the linker script the setup check and the runtime refuse', () => {
    expect(coverageSectionProblem(execFileSync('nm', [bin], { encoding: 'utf8' }))).to.equal(undefined);
    const loose = join(dir, 'fault-demo-unaligned');
    execFileSync(CC, [...SANITIZE_CFLAGS.split(' '), ...SANITIZE_LDFLAGS.split(' '), join(packageRoot(), 'harness/targets/instrumented/fault-demo.c'), join(dir, 'rt.o'), '-o', loose]);
    const problem = coverageSectionProblem(execFileSync('nm', [loose], { encoding: 'utf8' }));
    expect(problem).to.match(/not page-aligned/);
    const path = createCoverageFile('demo-unaligned', 4096);
    const m = new CoverageMap(path, 4096);
    try {
      spawnSync(loose, [], { input: 'ok\n', env: { ...process.env, ...sanitizerEnv(), [COV_ENV]: path }, timeout: 30_000 });
      expect(m.guards(), 'the runtime must not map over a section sharing its pages').to.equal(0);
      expect([...m.read()].filter(Boolean).length).to.equal(0);
    } finally {
      m.close();
      removeCoverageFile(path);
    }
    expect(coverageSectionProblem('')).to.match(/no __sancov_bools/);
  });

  it('the coverage runtime sets edge flags in the mapped file, more for the longer path', () => {
    const path = createCoverageFile('demo', 4096);
    const m = new CoverageMap(path, 4096);
    try {
      run('ok', path);
      expect(m.guards()).to.be.greaterThan(10);
      const short = [...m.read()].filter(Boolean).length;
      const fb = new EdgeFeedback();
      fb.observe(m.read());
      m.reset();
      expect([...m.read()].filter(Boolean).length).to.equal(0);
      run('longer', path);
      const nov = fb.observe(m.read());
      expect(short).to.be.greaterThan(0);
      expect(nov.newEdges).to.be.greaterThan(0); // the "long" branch
    } finally {
      m.close();
      removeCoverageFile(path);
    }
    expect(existsSync(path)).to.equal(false);
  });

  it('a coverage file this process created is removed when it exits without stopping its target (Ctrl-C)', function () {
    this.timeout(30_000);
    const script = `import { createCoverageFile } from ${JSON.stringify(join(packageRoot(), 'harness/fuzz/greybox/coverage-map.ts'))};
      console.log(createCoverageFile('exit-test', 4096)); process.exit(130);`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    const path = r.stdout.trim();
    expect(path).to.match(/ssh-harness-cov-exit-test-/);
    expect(existsSync(path)).to.equal(false);
  });

  it("maps each edge to its source file from the binary's code, and caches the map beside it", async function () {
    this.timeout(60_000);
    const src = await loadEdgeSources(bin);
    expect(src, 'objdump/nm read the binary').to.not.equal(undefined);
    expect(src!.files).to.include('fault-demo.c');
    expect(existsSync(`${bin}.edge-sources.json`)).to.equal(true);
    const path = createCoverageFile('demo-files', 4096);
    const m = new CoverageMap(path, 4096);
    try {
      run('longer', path);
      const fb = new EdgeFeedback();
      fb.observe(m.read());
      // every edge the run set belongs to the demo's own code (the runtime is not instrumented)
      const rows = coverageByFile(src!, fb.reached());
      const demo = rows.find((r) => r.file === 'fault-demo.c')!;
      expect(demo.reached).to.equal(fb.edges);
      expect(demo.edges).to.be.greaterThan(demo.reached); // the heap and shift paths did not run
      expect(await loadEdgeSources(bin)).to.deep.equal(src); // read back from the cache
    } finally {
      m.close();
      removeCoverageFile(path);
    }
  });
});
