import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { buildDir, pruneSupersededBuilds, RECIPES } from './instrumented.js';

describe('instrumented builds: the cache keeps the current build of each recipe only', () => {
  let root: string;
  beforeEach(() => { root = mkdtempSync(join(tmpdir(), 'instr-cache-')); });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const dir = (name: string, complete: boolean): string => {
    const d = join(root, name);
    mkdirSync(join(d, 'bin'), { recursive: true });
    if (complete) writeFileSync(join(d, 'BUILD.json'), '{}\n');
    return d;
  };

  it('removes complete superseded builds of the same recipe; keeps the current one, builds in progress and other recipes', () => {
    const current = dir(basename(buildDir(RECIPES.dropbear, root)), true);
    const old = dir('dropbear-2022.83-0123456789', true);
    const unfinished = dir('dropbear-2022.83-abcdefabcd', false);
    const work = dir('dropbear-2022.83-fedcbafedc.work', false);
    const other = dir('openssh-9.2p1-0123456789', true);
    expect(pruneSupersededBuilds(RECIPES.dropbear, root)).to.deep.equal([old]);
    for (const d of [current, unfinished, work, other]) expect(existsSync(d), d).to.equal(true);
    expect(existsSync(old)).to.equal(false);
    expect(pruneSupersededBuilds(RECIPES.dropbear, join(root, 'missing'))).to.deep.equal([]);
  });
});
