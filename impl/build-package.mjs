#!/usr/bin/env node
/**
 * Builds the ssh-harness package into dist/: declarations per module (tsc, dist/types/) and the JavaScript as one
 * ES module per entry point with a shared chunk (esbuild). One file instead of ~100 is what makes `import` cheap:
 * resolving, reading and linking each module costs Node about a millisecond. Dependencies stay external.
 * Run by `npm pack` (prepack) and `npm run build -w impl`.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const dist = join(here, 'dist');

rmSync(dist, { recursive: true, force: true });

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
