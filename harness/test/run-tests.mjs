#!/usr/bin/env node
// Runs the mocha suite. Exists so that `npm test` always ends with the "N passed, N failed" line,
// even when mocha cannot load a spec file (then it prints "0 passed, 1 failed" and exits 1).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const mochaBin = require.resolve('mocha/bin/mocha.js');
const args = process.argv.slice(2);
const specs = args.some((a) => !a.startsWith('-')) ? [] : ['impl/**/*.test.ts', 'harness/**/*.test.ts'];
const child = spawn(process.execPath, [mochaBin, ...specs, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
let tail = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  tail = (tail + chunk.toString()).slice(-4096);
});
child.on('close', (code, signal) => {
  if (!/^\d+ passed, \d+ failed/m.test(tail)) {
    console.log(`mocha ended (${signal ?? `exit ${code}`}) without its summary; see above`);
    console.log('0 passed, 1 failed');
  }
  process.exit(code ?? 1);
});
