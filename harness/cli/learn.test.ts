import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LearnCliOptions, runDiff, runLearn } from './learn.js';

describe('cli: ssh-harness learn / learn diff', function () {
  this.timeout(120_000);
  let dir: string;
  const base: LearnCliOptions = { alphabet: 'handshake', time: '120', seed: '1', depth: '1', walks: '50', probe: true };
  const quiet = <T>(fn: () => Promise<T> | T): Promise<T> => {
    // the command prints its summary on stdout; keep the test output readable
    const write = process.stdout.write.bind(process.stdout), err = process.stderr.write.bind(process.stderr);
    process.stdout.write = (() => true) as typeof process.stdout.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    return Promise.resolve().then(fn).finally(() => { process.stdout.write = write; process.stderr.write = err; });
  };
  before(() => { dir = mkdtempSync(join(tmpdir(), 'learn-cli-')); });
  after(() => { rmSync(dir, { recursive: true, force: true }); });

  it('usage errors exit 2: no target, a bad number, an unknown alphabet, a file that is not an alphabet', async () => {
    expect(await quiet(() => runLearn({ ...base }))).to.equal(2);
    expect(await quiet(() => runLearn({ ...base, target: 'self', time: 'soon' }))).to.equal(2);
    expect(await quiet(() => runLearn({ ...base, target: 'self', alphabet: 'nope' }))).to.equal(2);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"name": "x", "start": "connected", "inputs": ["NOT_AN_INPUT"]}');
    expect(await quiet(() => runLearn({ ...base, target: 'self', alphabet: bad }))).to.equal(2);
    expect(await quiet(() => runLearn({ ...base, target: 'no-such-peer' }))).to.equal(2);
  });

  it('learns self into --out (exit 0: every property holds), and diff of a model with itself exits 0', async () => {
    const out = join(dir, 'self');
    expect(await quiet(() => runLearn({ ...base, target: 'self', out }))).to.equal(0);
    const files = readdirSync(out);
    for (const ext of ['json', 'dot', 'html', 'md', 'junit.xml']) expect(files).to.include(`self-handshake.${ext}`);
    expect(await quiet(() => runDiff(join(out, 'self-handshake.json'), join(out, 'self-handshake.json'), { max: '5' }))).to.equal(0);
    expect(await quiet(() => runDiff(join(out, 'self-handshake.json'), join(dir, 'bad.json'), { max: '5' }))).to.equal(2);
  });
});
