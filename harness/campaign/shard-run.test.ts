import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFuzz } from '../cli/fuzz.js';
import { readShardState } from './shard-state.js';
import { getTarget } from '../targets/registry.js';
import { needPeer } from '../targets/peer-test-kit.js';
import { isRoot } from '../targets/state.js';

const MAIN = new URL('../cli/main.ts', import.meta.url).pathname;

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, say: (s: string) => { out.push(s); }, warn: (s: string) => { err.push(s); } };
}

function fuzzChild(args: readonly string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', MAIN, 'fuzz', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

async function until(what: string, ms: number, ok: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('campaign: a shard on a shared volume (fuzz --out)', function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'shard-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a shard killed with SIGKILL resumes from its checkpoint and keeps every finding it had written', async () => {
    const out = join(dir, 'out');
    // 100 batches of 64: a deterministic end; the broken variant yields a finding within the first batches
    const opts = { target: 'self:hang-zero-data', runs: '6400', seed: '9', shrinkTime: '2', findingsExitCode: '0' };
    const args = ['--target', opts.target, '--shard', 'auto', '--out', out, '--runs', opts.runs, '--seed', opts.seed, '--shrink-time', opts.shrinkTime, '--findings-exit-code', opts.findingsExitCode];
    const env = { SSH_HARNESS_SHARDS: '2', JOB_COMPLETION_INDEX: '1' };
    const shardDir = join(out, 'shard-2-of-2');
    const corpus = join(shardDir, 'corpus', 'self-hang-zero-data');
    const first = fuzzChild(args, env);
    const exited = new Promise<number | null>((r) => first.once('exit', (c) => r(c)));
    try {
      await until('a finding and a checkpoint past batch 3', 60_000, () => {
        if (!existsSync(join(shardDir, 'state.json')) || !existsSync(corpus) || readdirSync(corpus).length === 0) return false;
        return readShardState(join(shardDir, 'state.json')).nextBatch > 3;
      });
    } finally {
      first.kill('SIGKILL');
    }
    expect(await exited).to.equal(null);
    const before = new Map(readdirSync(corpus).map((f) => [f, readFileSync(join(corpus, f), 'utf8')]));
    const killedAt = readShardState(join(shardDir, 'state.json'));
    expect(killedAt.finished).to.equal(undefined);

    const second = fuzzChild(args, env);
    let log = '';
    second.stdout!.on('data', (d: Buffer) => { log += d.toString(); });
    const code = await new Promise<number | null>((r) => second.once('exit', (c) => r(c)));
    expect(code, log).to.equal(0);
    expect(log).to.match(/resuming shard 2\/2 \(attempt 2\) at batch \d+, 1 findings known/);

    const st = readShardState(join(shardDir, 'state.json'));
    expect(st.finished?.stoppedBy).to.equal('runs');
    expect(st.attempts.map((a) => a.firstBatch)).to.deep.equal([0, killedAt.nextBatch]);
    // cases are deterministic per batch: the two attempts add up to exactly the uninterrupted shard
    const whole = join(dir, 'whole');
    const c = capture();
    expect(await runFuzz({ ...opts, corpus: 'unused', report: 'unused', out: whole, shard: '2/2' }, c.say, c.warn), c.err.join('')).to.equal(0);
    const ref = readShardState(join(whole, 'shard-2-of-2', 'state.json'));
    expect(st.totals.cases).to.equal(ref.totals.cases);
    expect(st.totals.coverage).to.deep.equal(ref.totals.coverage);
    for (const [f, text] of before) expect(readFileSync(join(corpus, f), 'utf8'), f).to.equal(text);
    const report = JSON.parse(readFileSync(join(shardDir, 'report.json'), 'utf8')) as { restarts: number; cases: number; findings: unknown[] };
    expect(report.restarts).to.equal(1);
    expect(report.cases).to.equal(st.totals.cases);
    // every finding the shard recorded (the broken variant can yield more than one signature), none twice
    expect(report.findings).to.have.length(st.findings.length).and.to.have.length.greaterThan(0);
  });

  it('refuses a directory that holds another campaign, and a finished shard is not run again', async () => {
    const out = join(dir, 'o');
    const c1 = capture();
    expect(await runFuzz({ target: 'self', corpus: 'unused', report: 'unused', out, shard: '1/1', runs: '64', seed: '3' }, c1.say, c1.warn)).to.equal(0);
    const c2 = capture();
    expect(await runFuzz({ target: 'self', corpus: 'unused', report: 'unused', out, shard: '1/1', runs: '64', seed: '4' }, c2.say, c2.warn)).to.equal(2);
    expect(c2.err.join('')).to.match(/holds another campaign \(seed 3\)/);
    const c3 = capture();
    // no --seed: a restart takes the seed of the first attempt
    expect(await runFuzz({ target: 'self', corpus: 'unused', report: 'unused', out, shard: '1/1', runs: '64' }, c3.say, c3.warn)).to.equal(0);
    expect(c3.out.join('')).to.match(/shard 1\/1 finished before/);
  });

  it('a corrupted state file is a clear error (exit 2), not a crash', async () => {
    const out = join(dir, 'bad');
    mkdirSync(join(out, 'shard-1-of-1'), { recursive: true });
    writeFileSync(join(out, 'shard-1-of-1', 'state.json'), '{"kind":"fuzz-shard","version":1,"target":"self"');
    const c = capture();
    expect(await runFuzz({ target: 'self', corpus: 'unused', report: 'unused', out, shard: '1/1', runs: '64' }, c.say, c.warn)).to.equal(2);
    expect(c.err.join('')).to.match(/state\.json: cannot read the shard state/);
  });

  describe('a grey-box shard', function () {
    before(async function () {
      await needPeer(this, 'dropbear:instrumented', async () => {
        const a = await (await getTarget('dropbear:instrumented')).availability();
        return a.available && !isRoot() ? { available: false, reason: 'needs root (system account auth)' } : a;
      });
    });

    it("writes the campaign's coverage into the shard's report: JSON series, Markdown table, HTML plots", async () => {
      const out = join(dir, 'gb');
      const c = capture();
      expect(await runFuzz({ target: 'dropbear:instrumented', corpus: 'unused', report: 'unused', out, shard: '1/1', time: '4', seed: '5', concurrency: '2' }, c.say, c.warn)).to.equal(0);
      const shardDir = join(out, 'shard-1-of-1');
      const json = JSON.parse(readFileSync(join(shardDir, 'report.json'), 'utf8')) as { greybox?: { mode: string; edges: number; files?: { file: string; edges: number; reached: number }[] }[] };
      expect(json.greybox?.[0]?.mode).to.equal('greybox');
      expect(json.greybox?.[0]?.edges).to.be.greaterThan(100);
      // per source file, from the binary's own code: every reached edge is attributed to a Dropbear source file
      const files = json.greybox![0]!.files!;
      expect(files.map((f) => f.file)).to.include.members(['svr-auth.c', 'common-kex.c']);
      expect(files.filter((f) => /(^|\/)\.\.?\//.test(f.file)), 'paths normalised').to.deep.equal([]);
      expect(files.reduce((n, f) => n + f.reached, 0)).to.equal(json.greybox![0]!.edges);
      // the Markdown table lists the most reached files first (40 of them): its first row is the JSON's top file.
      // (Naming svr-auth.c here was flaky: in 4 s it ranks 30th–45th, behind libtommath files from algorithm mutants.)
      const top = [...files].sort((x, y) => y.reached - x.reached)[0]!;
      const md = readFileSync(join(shardDir, 'report.md'), 'utf8');
      expect(md).to.match(/## Coverage \(SanitizerCoverage edges\)\n/);
      expect(md.slice(md.indexOf('### Coverage by source file')).split('\n').find((l) => l.startsWith('| `'))).to.equal(`| \`${top.file}\` | ${top.edges} | ${top.reached} (${Math.round((100 * top.reached) / top.edges)} %) |`);
      expect(readFileSync(join(shardDir, 'report.html'), 'utf8')).to.contain('<svg').and.contain('<h3>Coverage by source file</h3>');
      expect(c.out.join('')).to.match(/greybox: \d+ edges of \d+/);
    });
  });
});
