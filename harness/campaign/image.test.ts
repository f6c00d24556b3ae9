import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerPing } from '../targets/docker-api.js';
import { packageRoot } from '../targets/state.js';
import { docker } from './docker-cli.js';
import { ensureHarnessImage, imageHashes, projectFiles } from './image.js';

describe('campaign: the harness image', function () {
  this.timeout(600_000);

  it('is keyed by a hash of what goes in: sources count, tests do not', () => {
    const root = mkdtempSync(join(tmpdir(), 'img-'));
    try {
      mkdirSync(join(root, 'harness', 'x'), { recursive: true });
      writeFileSync(join(root, 'package.json'), '{}');
      writeFileSync(join(root, 'harness', 'x', 'a.ts'), 'export const a = 1;\n');
      writeFileSync(join(root, 'harness', 'x', 'a.test.ts'), 'test 1\n');
      writeFileSync(join(root, 'harness', 'x', 'README.md'), 'docs\n');
      expect(projectFiles(root)).to.deep.equal(['package.json', 'harness/x/a.ts']);
      const h1 = imageHashes({}, root);
      writeFileSync(join(root, 'harness', 'x', 'a.test.ts'), 'test 2\n');
      expect(imageHashes({}, root)).to.deep.equal(h1);
      writeFileSync(join(root, 'harness', 'x', 'a.ts'), 'export const a = 2;\n');
      const h2 = imageHashes({}, root);
      expect(h2.full).to.not.equal(h1.full);
      expect(h2.base, 'the base does not depend on the sources').to.equal(h1.base);
      expect(imageHashes({ packages: ['openssh-server'] }, root).base).to.not.equal(h1.base);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('is found, not rebuilt, for unchanged sources, and runs the CLI with Node ≥ 20 inside', async function () {
    const ping = await dockerPing();
    if (!ping.ok) {
      if (process.env['CI'] === 'true') throw new Error(`Docker daemon unavailable (${ping.error}): run \`ssh-harness peers setup\``);
      this.skip();
    }
    await ensureHarnessImage();
    const again = await ensureHarnessImage();
    expect(again.built).to.equal(false);
    expect(again.sizeBytes).to.be.greaterThan(50 << 20);
    expect(await docker(['run', '--rm', '--network', 'none', again.image, '--version'], 60_000)).to.equal((JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version);
    const v = await docker(['run', '--rm', '--network', 'none', '--entrypoint', 'node', again.image, '-p', 'process.versions.node'], 60_000);
    expect(Number(v.split('.')[0])).to.be.at.least(20);
    // no development packages: the compiler ran inside and was removed
    expect(await docker(['run', '--rm', '--network', 'none', '--entrypoint', 'sh', again.image, '-c', 'ls node_modules/typescript dist/harness/cli/main.js 2>&1 || true'], 60_000))
      .to.match(/No such file[\s\S]*dist\/harness\/cli\/main\.js/);
  });
});
