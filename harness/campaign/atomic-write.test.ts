import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTempName, writeFileAtomic } from './atomic-write.js';

describe('campaign: atomic writes', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'atomic-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('replaces a file whole and leaves no temporary behind', () => {
    const f = join(dir, 'sub', 'a.json');
    writeFileAtomic(f, 'one');
    writeFileAtomic(f, 'two');
    expect(readFileSync(f, 'utf8')).to.equal('two');
    expect(readdirSync(join(dir, 'sub'))).to.deep.equal(['a.json']);
    expect(isTempName('.a.json.123-abcd.tmp')).to.equal(true);
    expect(isTempName('a.json')).to.equal(false);
  });

  it('a writer killed with SIGKILL mid-loop leaves only whole files', async function () {
    this.timeout(30_000);
    // a child that rewrites 1 MiB files as fast as it can; killed at a random moment, more than once
    const script = `
      const { writeFileAtomic } = await import(${JSON.stringify(new URL('./atomic-write.ts', import.meta.url).href)});
      const body = (i) => JSON.stringify({ i, pad: 'x'.repeat(1 << 20) });
      process.stdout.write('ready\\n');
      for (let i = 0; ; i++) writeFileAtomic(${JSON.stringify(dir)} + '/f' + (i % 7) + '.json', body(i));
    `;
    for (let round = 0; round < 3; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        child.stdout.once('data', () => resolve());
        child.once('exit', (c) => reject(new Error(`writer exited early (${c})`)));
      });
      await new Promise((r) => setTimeout(r, 150 + Math.random() * 300));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      for (const name of readdirSync(dir).filter((n) => !isTempName(n))) {
        const v = JSON.parse(readFileSync(join(dir, name), 'utf8')) as { i: number; pad: string };
        expect(v.pad.length, name).to.equal(1 << 20);
      }
    }
    expect(readdirSync(dir).filter((n) => !isTempName(n)).length).to.be.greaterThan(0);
  });
});
