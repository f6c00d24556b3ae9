#!/usr/bin/env node
/**
 * Builds the optional native packet-protection addon (the package's binding.gyp → build/Release/ssh_harness_native.node,
 * both relative to the package root: impl/ in the repository, the installed package's folder for a user).
 * Run by `npm install` (the package's "install" script) and by hand: `node impl/native/build.mjs`.
 * It never fails the install: no compiler, no headers, a failed build or an addon that does not load → one
 * line on stderr, the broken output removed, exit 0, and impl/native falls back to node:crypto.
 * SSH_HARNESS_NO_NATIVE=1 skips the build.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const addon = join(root, 'build', 'Release', 'ssh_harness_native.node');
const log = join(root, 'build', 'native-build.log');
const BUILD_TIMEOUT_MS = 5 * 60_000;

const notice = (msg) => process.stderr.write(`ssh-harness: ${msg}\n`);

function giveUp(reason) {
  rmSync(addon, { force: true });
  notice(`native fast path not built (${reason}); using node:crypto${existsSync(log) ? ` — see ${log}` : ''}`);
  process.exit(0);
}

/** node-gyp: the one npm runs us with, else this package's or npm's bundled copy, else one on PATH. */
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  for (const c of candidates) if (c && existsSync(c)) return [process.execPath, c];
  const onPath = spawnSync('node-gyp', ['--version'], { stdio: 'ignore', timeout: 30_000 });
  return onPath.status === 0 ? ['node-gyp'] : null;
}

/** Headers of the running node, so the build works offline (node-gyp otherwise downloads them). */
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return []; // node-gyp reads it from the environment
  const prefix = join(dirname(process.execPath), '..');
  const ok = existsSync(join(prefix, 'include', 'node', 'node_api.h')) && existsSync(join(prefix, 'include', 'node', 'common.gypi'));
  return ok ? [`--nodedir=${prefix}`] : [];
}

function run(cmd, args, options) {
  return spawnSync(cmd, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
}

if (process.env.SSH_HARNESS_NO_NATIVE && process.env.SSH_HARNESS_NO_NATIVE !== '0') {
  notice('SSH_HARNESS_NO_NATIVE is set: native fast path not built; using node:crypto');
  process.exit(0);
}

const gyp = findNodeGyp();
if (gyp === null) giveUp('node-gyp not found');
const [cmd, ...pre] = gyp;
const built = run(cmd, [...pre, 'rebuild', ...nodedirArgs()], { timeout: BUILD_TIMEOUT_MS });
mkdirSync(dirname(log), { recursive: true });
writeFileSync(log, `${built.stdout ?? ''}${built.stderr ?? ''}${built.error ? `\n${built.error.message}\n` : ''}`);
if (built.error || built.status !== 0 || !existsSync(addon)) {
  const lines = `${built.stderr ?? ''}`.split('\n');
  const first = lines.find((l) => /\berror\b/i.test(l) && !/^gyp (ERR!|info)/.test(l)) ?? lines.find((l) => /gyp ERR! stack Error/.test(l));
  giveUp(built.error?.code === 'ETIMEDOUT' ? 'build timed out' : (first ?? built.error?.message ?? 'node-gyp failed').replace(/^gyp ERR! stack /, '').trim().slice(0, 160));
}

// Load it in a separate process: a broken addon must not take this one down, and must not be left behind.
const probe = run(process.execPath, ['-e', `
  const b = require(${JSON.stringify(addon)});
  const v = b.opensslVersion();
  if (!v.includes(process.versions.openssl)) throw new Error('addon resolved ' + v + ', node has ' + process.versions.openssl);
  const s = b.gcmNew(new Uint8Array(16), new Uint8Array(12), true), o = b.gcmNew(new Uint8Array(16), new Uint8Array(12), false);
  const p = new Uint8Array(36); p[3] = 32; const w = new Uint8Array(52), back = new Uint8Array(32);
  if (b.gcmSeal(s, p, w) !== 0 || b.gcmOpen(o, w, back) !== 0) throw new Error('AES-GCM round trip failed');
  b.chachaNew(new Uint8Array(64));
  b.ctrHmacNew(new Uint8Array(16), new Uint8Array(16), 'SHA256', new Uint8Array(32), 32, true);
  process.stdout.write(v);
`], { timeout: 60_000 });
if (probe.status !== 0) giveUp(`built but does not load: ${(probe.stderr || probe.error?.message || '').trim().split('\n').find((l) => /Error/.test(l)) ?? 'unknown error'}`);
notice(`native fast path built (${probe.stdout.trim()})`);
