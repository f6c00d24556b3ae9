import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: impl/ (binding.gyp, native/). */
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A copy of the build inputs in a scratch directory, so a failing build cannot touch the real build/. */
function scratchCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ssh-harness-native-'));
  cpSync(join(root, 'binding.gyp'), join(dir, 'binding.gyp'));
  cpSync(join(root, 'native', 'build.mjs'), join(dir, 'native', 'build.mjs'));
  cpSync(join(root, 'native', 'src'), join(dir, 'native', 'src'), { recursive: true });
  return dir;
}

function runBuild(dir: string, env: Record<string, string>) {
  const base = { ...process.env };
  delete base.SSH_HARNESS_NO_NATIVE; // the suite itself may run with it
  return spawnSync(process.execPath, [join(dir, 'native', 'build.mjs')], { cwd: dir, env: { ...base, ...env }, encoding: 'utf8', timeout: 120_000 });
}

describe('impl/native/build.mjs (install-time build)', () => {
  let dir = '';
  beforeEach(() => { dir = scratchCopy(); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a broken toolchain gives one notice line and exit 0, and leaves no addon behind', () => {
    const r = runBuild(dir, { CC: join(dir, 'no-such-compiler'), CXX: join(dir, 'no-such-compiler') });
    expect(r.status, r.stderr).to.equal(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).to.have.length(1);
    expect(lines[0]).to.match(/^ssh-harness: native fast path not built \(.+\); using node:crypto/);
    expect(existsSync(join(dir, 'build', 'Release', 'ssh_harness_native.node'))).to.equal(false);
  });

  it('SSH_HARNESS_NO_NATIVE=1 skips the build', () => {
    const r = runBuild(dir, { SSH_HARNESS_NO_NATIVE: '1' });
    expect(r.status).to.equal(0);
    expect(r.stderr).to.match(/SSH_HARNESS_NO_NATIVE.*using node:crypto/);
    expect(existsSync(join(dir, 'build'))).to.equal(false);
  });
});
