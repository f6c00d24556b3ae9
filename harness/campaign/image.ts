/**
 * The harness's own container image, built locally as the peer images are (no registry is reachable):
 *
 * 1. base `local/ssh-harness-base:<hash>`: `debootstrap --variant=minbase` of Debian (bookworm, like the host, so
 *    the node binary's libc and libstdc++ match), plus this machine's `node` binary in /usr/local/bin, imported
 *    with `docker import`. Rebuilt only when the suite, the extra packages or the node binary change.
 * 2. `local/ssh-harness:<hash>` (also tagged `:latest`): a container of the base copies the project's sources,
 *    lock file, node_modules and native addon from a read-only bind mount, compiles the TypeScript inside
 *    (`tsc -p tsconfig.build.json`), removes the development-only packages the lock file names, and is committed
 *    with `docker commit` (entrypoint: the `ssh-harness` command). Rebuilt only when what goes in changes: the
 *    hash covers the base, every copied source file (tests excluded), the lock file and the addon.
 *
 * Old tags of both repositories are removed after a successful build, so repeated builds do not fill the disk.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PeerError } from '../targets/errors.js';
import { docker } from './docker-cli.js';
import { imageInspect } from '../targets/docker-api.js';
import { findBinary } from '../targets/local-tools.js';
import { isRoot, packageRoot, stateDir } from '../targets/state.js';

const run = promisify(execFile);

export const HARNESS_IMAGE = 'local/ssh-harness';
export const BASE_IMAGE = 'local/ssh-harness-base';
export const HASH_LABEL = 'org.ssh-harness.image-hash';
/** Bump when the recipe below changes in a way the inputs do not show. */
const RECIPE = 3;
const APP = '/opt/ssh-harness';

/** What goes into the image, relative to the package root: directories are copied without their tests. */
const PROJECT_FILES = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'bin', 'impl', 'harness', 'scenarios', 'corpora'];
/** Left out (and out of the hash): tests, and READMEs, which nothing reads at run time (KNOWN.md and data files are read). */
const isTest = (rel: string): boolean => /\.test\.ts$/.test(rel) || rel.startsWith('harness/test/') || /(^|\/)README\.md$/.test(rel);

export interface HarnessImageOptions {
  readonly suite?: 'bookworm' | 'trixie';
  /** Extra Debian packages in the base (e.g. peers for survey tasks: openssh-server, dropbear-bin). */
  readonly packages?: readonly string[];
  readonly mirror?: string;
  readonly progress?: (line: string) => void;
  /** Rebuild even when an image with the same hash exists. */
  readonly force?: boolean;
}

export interface HarnessImage {
  /** `local/ssh-harness:<hash12>`. */
  readonly image: string;
  readonly hash: string;
  readonly built: boolean;
  readonly baseBuilt: boolean;
  readonly buildMs: number;
  readonly sizeBytes: number;
  readonly nodeVersion: string;
}

function hashFile(h: ReturnType<typeof createHash>, file: string): void {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0;) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}

/** Every file the project layer copies (sorted, relative), tests excluded. */
export function projectFiles(root = packageRoot()): string[] {
  const out: string[] = [];
  const visit = (rel: string): void => {
    const abs = join(root, rel);
    const st = statSync(abs);
    if (st.isDirectory()) { for (const n of readdirSync(abs).sort()) visit(rel ? `${rel}/${n}` : n); return; }
    if (st.isFile() && !isTest(rel)) out.push(rel);
  };
  for (const p of PROJECT_FILES) if (existsSync(join(root, p))) visit(p);
  return out;
}

export function imageHashes(o: HarnessImageOptions = {}, root = packageRoot()): { base: string; full: string; files: number } {
  const suite = o.suite ?? 'bookworm';
  const b = createHash('sha256').update(JSON.stringify({ RECIPE, suite, packages: [...(o.packages ?? [])].sort(), mirror: o.mirror ?? '' }));
  hashFile(b, process.execPath);
  const base = b.digest('hex');
  const f = createHash('sha256').update(base);
  const files = projectFiles(root);
  for (const rel of files) { f.update(`\0${rel}\0`); hashFile(f, join(root, rel)); }
  return { base, full: f.digest('hex'), files: files.length };
}

function runLogged(cmd: string, args: readonly string[], log: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = execFile(cmd, [...args], { timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      try { appendFileSync(log, `$ ${cmd} ${args.join(' ')}\n${stdout}${stderr}\n`); } catch { /* the log is a convenience */ }
      if (err) reject(new PeerError('setup-failed', `${cmd} failed (${err.message.split('\n')[0]}); see ${log}`));
      else resolve();
    });
    c.stdin?.end();
  });
}

async function buildBase(tag: string, o: HarnessImageOptions, log: string): Promise<void> {
  if (!isRoot()) throw new PeerError('not-root', `image ${tag} is missing and debootstrap needs root; run as root`);
  if (!findBinary('debootstrap')) throw new PeerError('missing-binary', 'debootstrap not found (apt-get install debootstrap; `ssh-harness peers setup` installs it)');
  const suite = o.suite ?? 'bookworm';
  const dir = join(process.env['PEERS_WORK'] ?? '/var/tmp', 'ssh-harness-rootfs', `harness-${suite}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  try {
    const include = o.packages?.length ? [`--include=${o.packages.join(',')}`] : [];
    await runLogged('debootstrap', ['--variant=minbase', ...include, suite, dir, ...(o.mirror ? [o.mirror] : [])], log, 900_000);
    copyFileSync(process.execPath, join(dir, 'usr/local/bin/node'));
    await run('chmod', ['0755', join(dir, 'usr/local/bin/node')]);
    // the copied binary must run on the base's libraries (libstdc++, glibc) before it is worth an image
    const { stdout } = await run('chroot', [dir, '/usr/local/bin/node', '-p', 'process.versions.node'], { timeout: 30_000 });
    if (Number(stdout.trim().split('.')[0]) < 20) throw new PeerError('setup-failed', `node ${stdout.trim()} in the image: the project needs Node ≥ 20`);
    await runLogged('bash', ['-o', 'pipefail', '-c', 'tar -C "$1" -c . | docker import -c "$2" - "$3"', 'import', dir, `LABEL ${HASH_LABEL}=${tag.split(':')[1]}`, tag], log, 600_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The shell script run in the build container: copy, compile, prune. */
function projectScript(): string {
  return [
    'set -eu',
    `mkdir -p ${APP} && cd /src`,
    `for p in ${PROJECT_FILES.join(' ')}; do [ -e "$p" ] && cp -a "$p" ${APP}/; done`,
    // impl/ came whole: the library's bundle (impl/dist, which exec loads as 'ssh-harness') and its native addon (impl/build)
    `cp -a node_modules ${APP}/`,
    `cd ${APP}`,
    "find harness impl scenarios corpora bin \\( -name '*.test.ts' -o -name README.md \\) -delete; rm -rf harness/test",
    'node node_modules/typescript/bin/tsc -p tsconfig.build.json',
    // development-only packages (lock file "dev": true) are not needed to run: typescript, mocha, tsx, …
    `node -e "const l=require('./package-lock.json');const fs=require('fs');for(const[p,v]of Object.entries(l.packages||{}))if(p&&v.dev)fs.rmSync(p,{recursive:true,force:true})"`,
    `node bin/ssh-harness.js --version`,
  ].join('\n');
}

async function removeStale(repo: string, keep: string): Promise<void> {
  const tags = (await docker(['image', 'ls', repo, '--format', '{{.Repository}}:{{.Tag}}'], 30_000)).split('\n').filter(Boolean);
  for (const t of tags) {
    if (t === keep || t.endsWith(':latest') || t.endsWith(':<none>')) continue;
    // an image a container still uses is refused: left for the next build
    await docker(['image', 'rm', t], 60_000).catch(() => undefined);
  }
}

/** Builds (or finds) the harness image for the current sources. */
export async function ensureHarnessImage(o: HarnessImageOptions = {}): Promise<HarnessImage> {
  const t0 = performance.now();
  const root = packageRoot();
  const h = imageHashes(o, root);
  const image = `${HARNESS_IMAGE}:${h.full.slice(0, 12)}`;
  const baseTag = `${BASE_IMAGE}:${h.base.slice(0, 12)}`;
  const size = async (): Promise<number> => Number(await docker(['image', 'inspect', '-f', '{{.Size}}', image], 30_000));
  const nodeVersion = process.versions.node;
  if (!o.force && (await imageInspect(image))) {
    return { image, hash: h.full, built: false, baseBuilt: false, buildMs: performance.now() - t0, sizeBytes: await size(), nodeVersion };
  }
  if (!existsSync(join(root, 'node_modules', 'typescript'))) throw new PeerError('setup-failed', `no node_modules in ${root}: run npm ci first (the image copies them)`);
  const log = join(stateDir(), 'image-harness.log');
  let baseBuilt = false;
  if (o.force || !(await imageInspect(baseTag))) {
    o.progress?.(`building ${baseTag} (debootstrap ${o.suite ?? 'bookworm'} + node ${nodeVersion})`);
    await buildBase(baseTag, o, log);
    baseBuilt = true;
  }
  o.progress?.(`building ${image} (${h.files} project files, compiled inside)`);
  const name = `ssh-harness-image-build-${process.pid}`;
  await docker(['rm', '-f', name], 30_000).catch(() => undefined);
  try {
    await docker(['run', '--name', name, '--network', 'none', '-v', `${root}:/src:ro`, '--entrypoint', '/bin/sh', baseTag, '-c', projectScript()], 600_000);
    await docker(['commit',
      '--change', `WORKDIR ${APP}`,
      '--change', 'ENV PATH=/usr/local/bin:/usr/bin:/bin SSH_HARNESS_STATE=/var/lib/ssh-harness',
      '--change', `ENTRYPOINT ["/usr/local/bin/node", "${APP}/bin/ssh-harness.js"]`,
      '--change', 'CMD ["--help"]',
      '--change', `LABEL ${HASH_LABEL}=${h.full} org.ssh-harness.node=${nodeVersion}`,
      name, image], 300_000);
  } finally {
    await docker(['rm', '-f', name], 60_000).catch(() => undefined);
  }
  await docker(['tag', image, `${HARNESS_IMAGE}:latest`], 30_000);
  await removeStale(HARNESS_IMAGE, image);
  await removeStale(BASE_IMAGE, baseTag);
  return { image, hash: h.full, built: true, baseBuilt, buildMs: performance.now() - t0, sizeBytes: await size(), nodeVersion };
}
