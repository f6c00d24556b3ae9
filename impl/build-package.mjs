#!/usr/bin/env node
/**
 * Builds the ssh-harness package into dist/: declarations per module (tsc, dist/types/) and the JavaScript as one
 * ES module per entry point with a shared chunk (esbuild). One file instead of ~100 is what makes `import` cheap:
 * resolving, reading and linking each module costs Node about a millisecond. Dependencies stay external.
 * Run by `npm pack` (prepack) and `npm run build -w impl`.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const dist = join(here, 'dist');

rmSync(dist, { recursive: true, force: true });

/**
 * The package's README (what npm shows) is the repository README's library section, so the two cannot drift:
 * written here, git-ignored. Links into the repository become plain names (the package does not ship those files).
 */
function writePackageReadme() {
  const top = readFileSync(join(here, '..', 'README.md'), 'utf8');
  const start = top.indexOf('\n## The library\n');
  if (start < 0) throw new Error('README.md has no "## The library" section');
  const end = top.indexOf('\n## ', start + 1);
  const section = top.slice(start + 1, end < 0 ? undefined : end).replace(/^## The library\n/, '');
  const body = section.replace(/\[`?([^\]`]+)`?\]\((?!https?:)[^)]+\)/g, '`$1`').replace(/<!-- example: [^>]*-->\n/g, '');
  writeFileSync(join(here, 'README.md'), `# ssh-harness

A complete SSH-2 implementation in TypeScript for Node.js (>= 20.19): client and server, a typed, Promise-based
counterpart of paramiko's \`SSHClient\` and \`Transport\`, with an optional native fast path over Node's own OpenSSL
(built at install; without a compiler it falls back to node:crypto). ES module; \`require()\` works on Node >= 20.19.

\`\`\`sh
npm install ssh-harness
\`\`\`

It is the reference implementation of the ssh-harness SSH conformance and fuzzing harness, whose repository also holds
the examples and tests named below.
${body}`);
}
writePackageReadme();

const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(here, 'tsconfig.json')], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

const { build } = await import('esbuild');
await build({
  absWorkingDir: here,
  entryPoints: { index: 'index.ts', testing: 'testing.ts' },
  outdir: 'dist',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true, // one copy of every class for both entries (instanceof SSHError holds across them)
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  legalComments: 'none',
  logLevel: 'warning',
});
