/**
 * The library's API documentation builds (typedoc over impl/index.ts, as `npm run docs` does) with no warning: every
 * type the public API mentions is exported and documented, and links resolve.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('API docs (typedoc)', function () {
  this.timeout(180_000);

  it('npm run docs builds the library reference without warnings', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ssh-harness-docs-'));
    try {
      const typedoc = join(root, 'node_modules', 'typedoc', 'bin', 'typedoc');
      const r = await promisify(execFile)(process.execPath, [typedoc, '--out', out, '--entryPoints', 'impl/index.ts', '--tsconfig', 'tsconfig.docs.json',
        '--excludePrivate', '--treatWarningsAsErrors', '--logLevel', 'Warn'], { cwd: root, timeout: 170_000 }).catch((e: { stdout: string; stderr: string }) => e);
      expect(`${r.stdout}${r.stderr}`.trim(), 'typedoc output').to.equal('');
      for (const page of ['index.html', 'classes/SSHClient.html', 'classes/SSHServer.html', 'classes/Transport.html']) expect(existsSync(join(out, page)), page).to.equal(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
