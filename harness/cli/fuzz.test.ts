import { expect } from 'chai';
import { Command } from 'commander';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register as registerFuzz, runFuzz } from './fuzz.js';
import { register as registerReplay, runReplay } from './replay.js';
import { VARIANTS } from '../fuzz/self/variants.js';
import { keylogDecryptor } from '../trace/decrypt.js';
import { importPcap } from '../trace/import.js';
import type { TraceLine } from '../trace/jsonl.js';
import { parseKeylog } from '../trace/keylog.js';

const CORPUS = join(process.cwd(), 'corpora');

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, say: (s: string) => { out.push(s); }, warn: (s: string) => { err.push(s); } };
}

describe('cli: ssh-harness fuzz / replay', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'fuzz-cli-')); });
  after(() => { rmSync(dir, { recursive: true, force: true }); });

  const base = () => ({ target: 'self', corpus: join(dir, 'corpora'), report: join(dir, 'reports') });

  describe('bad input → a clear error and exit 2', () => {
    const cases: [string, Record<string, string>, RegExp][] = [
      ['a non-numeric --runs', { runs: 'many' }, /--runs expects an integer/],
      ['--runs 0', { runs: '0' }, /--runs expects 1\.\./],
      ['neither --runs nor --time', {}, /--runs N and\/or --time/],
      ['a malformed --shard', { runs: '5', shard: '3/2' }, /--shard expects K\/N/],
      ['--shard 0/4', { runs: '5', shard: '0/4' }, /--shard expects K\/N/],
      ['an unknown --start phase', { runs: '5', start: 'channel,nowhere' }, /unknown phase "nowhere"/],
      ['a seed that is not an integer', { runs: '5', seed: '1.5' }, /--seed expects an integer/],
      ['a --seeds directory that does not exist', { runs: '5', seeds: '/nonexistent/seeds' }, /--seeds "\/nonexistent\/seeds" does not exist/],
      ['--liveness-grace 0', { runs: '5', livenessGrace: '0' }, /--liveness-grace expects 1\.\./],
    ];
    for (const [what, o, re] of cases) {
      it(what, async () => {
        const c = capture();
        expect(await runFuzz({ ...base(), ...o }, c.say, c.warn)).to.equal(2);
        expect(c.err.join('')).to.match(re);
      });
    }

    it('an unknown target', async () => {
      const c = capture();
      expect(await runFuzz({ ...base(), target: 'no-such-peer', runs: '5' }, c.say, c.warn)).to.equal(2);
      expect(c.err.join('')).to.match(/unknown target "no-such-peer"/);
    });

    it('an unreachable tcp:// target', async () => {
      const c = capture();
      expect(await runFuzz({ ...base(), target: 'tcp://127.0.0.1:1', runs: '5', user: 'x', password: 'y' }, c.say, c.warn)).to.equal(2);
      expect(c.err.join('')).to.match(/tcp:\/\/127\.0\.0\.1:1/);
    });

    it('replay: a missing file, invalid JSON, a wrong kind, a corrupted step, an unknown target', async () => {
      const good = readFileSync(join(CORPUS, 'self-hang-zero-data', readdirSync(join(CORPUS, 'self-hang-zero-data'))[0]!), 'utf8');
      const files: [string, string, RegExp][] = [
        ['missing.json', '', /cannot read/],
        ['truncated.json', good.slice(0, good.length / 2), /invalid JSON/],
        ['kind.json', JSON.stringify({ ...JSON.parse(good), kind: 'something' }), /kind must be "fuzz-finding"/],
        ['hex.json', good.replace(/"\$hex": "[0-9a-f]*"/, '"$hex": "zz"'), /\$hex: expected an even-length hex string/],
        ['op.json', good.replace('"op": "send"', '"op": "explode"'), /steps\[0\]\.op "explode" is not a step/],
        ['start.json', good.replace(/"start": "[a-z-]+"/, '"start": "elsewhere"'), /start must be one of/],
      ];
      for (const [name, text, re] of files) {
        const f = join(dir, name);
        if (text) writeFileSync(f, text);
        const c = capture();
        expect(await runReplay(f, { target: 'self' }, c.say, c.warn), name).to.equal(2);
        expect(c.err.join(''), name).to.match(re);
      }
      const c = capture();
      const f = join(dir, 'ok.json');
      writeFileSync(f, good);
      expect(await runReplay(f, { target: 'nowhere' }, c.say, c.warn)).to.equal(2);
      expect(c.err.join('')).to.match(/unknown target/);
    });
  });

  it('fuzz: a short bounded campaign exits 0 and writes its report', async () => {
    const c = capture();
    expect(await runFuzz({ ...base(), runs: '50', seed: '3' }, c.say, c.warn)).to.equal(0);
    const reports = readdirSync(join(dir, 'reports'));
    expect(reports.some((r) => r.startsWith('fuzz-self-'))).to.equal(true);
    const json = JSON.parse(readFileSync(join(dir, 'reports', reports[0]!, 'report.json'), 'utf8')) as { cases: number; coverage: object };
    expect(json.cases).to.equal(50);
    expect(readFileSync(join(dir, 'reports', reports[0]!, 'junit.xml'), 'utf8')).to.match(/tests="1" failures="0" errors="0"/);
    expect(Object.keys(json.coverage).length).to.be.greaterThan(10);
  });

  it('fuzz: the first Ctrl-C ends the campaign, writes the report of the cases run so far and exits 130', async () => {
    const report = join(dir, 'reports-interrupted');
    const child = spawn(process.execPath, ['--import', 'tsx', 'harness/cli/main.ts', 'fuzz', '--target', 'self', '--time', '600', '--seed', '4',
      '--report', report, '--corpus', join(dir, 'corpora')], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
    let err = ''; // what it says, on either stream
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    child.stdout.on('data', (b: Buffer) => { err += b.toString(); });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      // progress lines come every 10 s without a TTY; the banner says the campaign has started
      for (let i = 0; i < 300 && !/fuzzing self/.test(err); i++) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 1500));
      child.kill('SIGINT');
      expect(await exited).to.equal(130);
    } finally {
      child.kill('SIGKILL');
    }
    expect(err).to.match(/SIGINT: finishing the cases in flight/);
    const [run] = readdirSync(report);
    const json = JSON.parse(readFileSync(join(report, run!, 'report.json'), 'utf8')) as { cases: number; stoppedBy: string };
    expect(json.stoppedBy).to.equal('interrupted');
    expect(json.cases).to.be.greaterThan(0);
    expect(readFileSync(join(report, run!, 'report.md'), 'utf8')).to.match(/stopped by interrupted/);
  });

  it('fuzz against a broken variant exits 1 and saves a replayable corpus entry; --pcap --keylog record its confirming run', async () => {
    const c = capture();
    const report = join(dir, 'reports-traced');
    expect(await runFuzz({ ...base(), report, target: 'self:hang-zero-data', time: '60', seed: '2', stopOnFinding: true, shrinkTime: '5', pcap: true, keylog: true }, c.say, c.warn)).to.equal(1);
    const entries = readdirSync(join(dir, 'corpora', 'self-hang-zero-data'));
    expect(entries).to.have.length(1);
    const file = join(dir, 'corpora', 'self-hang-zero-data', entries[0]!);
    const entry = JSON.parse(readFileSync(file, 'utf8')) as { id: string; replay: string; messages: number; reproduced: boolean };
    expect(entry.replay).to.equal(`npx ssh-harness replay ${file} --target self:hang-zero-data`);
    expect(entry.messages).to.be.at.most(3);
    expect(entry.reproduced).to.equal(true);

    // the trace of the confirming run, named by the entry's id, listed in the report and decryptable with its keylog
    const runDir = join(report, readdirSync(report)[0]!);
    const traces = join(runDir, 'traces');
    expect(readdirSync(traces).sort()).to.deep.equal([`${entry.id}.jsonl`, `${entry.id}.keylog`, `${entry.id}.pcap`]);
    expect(readFileSync(join(runDir, 'report.md'), 'utf8')).to.include(`${entry.id}.pcap`);
    expect(c.out.join('')).to.match(/  trace: .*\.pcap/);
    // JUnit for CI: the must-level finding is a failure with its replay command; the campaign is a passing case
    const junit = readFileSync(join(runDir, 'junit.xml'), 'utf8');
    expect(junit).to.match(/<testsuites name="ssh-harness fuzz" tests="2" failures="1" errors="0"/);
    expect(junit).to.match(/<failure message="\[hang\] [^"]*" type="hang">[^<]*replay: npx ssh-harness replay /);
    expect(junit).to.match(/<testcase classname="fuzz\.self-hang-zero-data" name="campaign: \d+ cases, stopped by finding"/);
    const live = readFileSync(join(traces, `${entry.id}.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TraceLine);
    const { entries: keys } = parseKeylog(readFileSync(join(traces, `${entry.id}.keylog`), 'utf8'));
    expect(keys.length).to.be.at.least(1);
    const imported = await importPcap(join(traces, `${entry.id}.pcap`), { collectLines: true, decryptor: keylogDecryptor(keys) });
    expect(imported.corpus.partial).to.equal(false);
    // per direction, message by message (the two directions interleave by capture time in the import)
    const names = (ls: readonly TraceLine[], d: string) => ls.filter((l) => l.direction === d).map((l) => `${l.seq} ${l.name} ${JSON.stringify(l.fields)}`);
    for (const d of ['c2s', 's2c']) expect(names(imported.lines!, d), d).to.deep.equal(names(live, d));
    // the confirming run walks the reference prefix from byte 0 (the login, at least)
    expect(live.map((l) => `${l.direction} ${l.name}`)).to.include.members(['c2s SSH_MSG_KEXINIT', 'c2s SSH_MSG_USERAUTH_REQUEST', 's2c SSH_MSG_USERAUTH_SUCCESS']);
  });

  it('replay: --pcap DIR and --keylog FILE put the trace where asked; --pcap with --no-trace is a usage error', async () => {
    const d = 'self-hang-zero-data';
    const f = join(CORPUS, d, readdirSync(join(CORPUS, d))[0]!);
    const pcapDir = join(dir, 'replay-pcap');
    const keylog = join(dir, 'replay-keys', 'all.keylog');
    const c = capture();
    expect(await runReplay(f, { target: 'self:hang-zero-data', pcap: pcapDir, keylog }, c.say, c.warn)).to.equal(1);
    expect(readdirSync(pcapDir).map((n) => n.replace(/^.*\./, '')).sort()).to.deep.equal(['jsonl', 'pcap']);
    expect(parseKeylog(readFileSync(keylog, 'utf8')).entries.length).to.be.at.least(1);
    expect(c.out.join('')).to.include(keylog);
    const bad = capture();
    expect(await runReplay(f, { target: 'self', pcap: pcapDir, trace: false }, bad.say, bad.warn)).to.equal(2);
    expect(bad.err.join('')).to.match(/--pcap .* contradicts --no-trace/);
  });

  it('replay: every committed self corpus entry reproduces on its variant and passes on the reference server', async () => {
    for (const d of Object.keys(VARIANTS).map((v) => `self-${v}`)) {
      for (const f of readdirSync(join(CORPUS, d))) {
        const c1 = capture();
        expect(await runReplay(join(CORPUS, d, f), { target: `self:${d.slice(5)}`, trace: join(dir, 'trace') }, c1.say, c1.warn), `${d}/${f}`).to.equal(1);
        expect(c1.out.join('')).to.match(/\(reproduced\)/);
        const c2 = capture();
        expect(await runReplay(join(CORPUS, d, f), { target: 'self', trace: false }, c2.say, c2.warn), `${d}/${f} on self`).to.equal(0);
      }
    }
    const traces = readdirSync(join(dir, 'trace'));
    expect(traces.some((t) => t.endsWith('.pcap')) && traces.some((t) => t.endsWith('.keylog')) && traces.some((t) => t.endsWith('.jsonl'))).to.equal(true);
  });

  it('--seeds runs the corpus first: regressions pass on the reference server and fire on their variant', async () => {
    const c1 = capture();
    expect(await runFuzz({ ...base(), runs: '1', seeds: CORPUS }, c1.say, c1.warn)).to.equal(0);
    const c2 = capture();
    expect(await runFuzz({ ...base(), target: 'self:crash-kexinit', runs: '1', seeds: join(CORPUS, 'self-crash-kexinit') }, c2.say, c2.warn)).to.equal(1);
    expect(c2.out.join('')).to.match(/finding \[crash\]/);
  });

  it('--seeds scenarios runs the suite\'s server checks as cases first; a --seeds file is refused', async () => {
    const c = capture();
    expect(await runFuzz({ ...base(), runs: '1', seeds: join(process.cwd(), 'scenarios') }, c.say, c.warn)).to.equal(0);
    const m = /seeds: 0 corpus entries, (\d+) scenario checks \((\d+) checks are not cases: .*step "if"/.exec(c.out.join(''));
    expect(m, c.out.join('')).to.not.equal(null);
    expect(Number(m![1])).to.be.greaterThan(100);
    expect(c.out.join('')).to.match(new RegExp(`${Number(m![1]) + 1} cases in`));
    const bad = capture();
    expect(await runFuzz({ ...base(), runs: '1', seeds: join(process.cwd(), 'scenarios', 'README.md') }, bad.say, bad.warn)).to.equal(2);
    expect(bad.err.join('')).to.match(/is not a directory/);
  });

  it('register() adds both commands to a program', () => {
    const p = new Command('ssh-harness');
    registerFuzz(p);
    registerReplay(p);
    expect(p.commands.map((x) => x.name())).to.include.members(['fuzz', 'replay']);
  });
});
