/**
 * The OpenSSH container images, built locally because no registry is reachable: debootstrap a minbase
 * Debian with openssh-server, then `docker import` the tree. The openssh-server version is stored as an
 * image label so targets know it (PerSourcePenalties for 10.x) without starting a container.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PeerError } from '../errors.js';
import { imageInspect } from '../docker-api.js';
import { accountTag, ACCOUNT_LABEL, imageName, VERSION_LABEL, type Suite } from '../openssh-container.js';
import { TEST_PASSWORD, TEST_USER } from '../test-user.js';
import { isRoot, stateDir } from '../state.js';
import { findBinary } from '../local-tools.js';

const run = promisify(execFile);

export const SUITES: readonly Suite[] = ['bookworm', 'trixie'];

export interface ImageResult { readonly suite: Suite; readonly built: boolean; readonly version: string }

function runLogged(cmd: string, args: readonly string[], logPath: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const out = openSync(logPath, 'a');
    const child = spawn(cmd, [...args], { stdio: ['ignore', out, out] });
    closeSync(out);
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      code === 0 ? resolve() : reject(new Error(`${cmd} failed (${sig ?? `exit ${code}`}); see ${logPath}`));
    });
  });
}

/**
 * The test account is created in the image at build time: creating it (useradd + chpasswd hashing) at every
 * container start would cost ~100-200 ms of the 0.5 s start budget.
 */
async function bakeAccount(dir: string): Promise<void> {
  await run('chroot', [dir, 'useradd', '--create-home', '--shell', '/bin/sh', TEST_USER]);
  await new Promise<void>((resolve, reject) => {
    const c = execFile('chroot', [dir, 'chpasswd'], (err) => (err ? reject(err) : resolve()));
    c.stdin?.end(`${TEST_USER}:${TEST_PASSWORD}\n`);
  });
  mkdirSync(join(dir, 'run/sshd'), { recursive: true, mode: 0o755 });
}

export async function ensureImage(suite: Suite, mirror = process.env['DEBIAN_MIRROR']): Promise<ImageResult> {
  const existing = await imageInspect(imageName(suite));
  if (existing) return { suite, built: false, version: existing.labels[VERSION_LABEL] ?? 'unknown' };
  if (!isRoot()) throw new PeerError('not-root', `image ${imageName(suite)} is missing and debootstrap needs root; run setup as root`);
  if (!findBinary('debootstrap')) throw new PeerError('missing-binary', 'debootstrap not found; install debootstrap (apt-get install debootstrap)');
  const work = join(process.env['PEERS_WORK'] ?? '/var/tmp', 'ssh-harness-rootfs');
  mkdirSync(work, { recursive: true });
  const dir = join(work, suite);
  const log = join(stateDir(), `image-${suite}.log`);
  rmSync(dir, { recursive: true, force: true }); // a half-built rootfs is never reused
  try {
    try {
      await runLogged('debootstrap', ['--variant=minbase', '--include=openssh-server', suite, dir, ...(mirror ? [mirror] : [])], log, 900_000);
    } catch (e) {
      throw new PeerError('setup-failed', `debootstrap ${suite} failed: ${(e as Error).message} (a Debian mirror must be reachable; set DEBIAN_MIRROR to use another)`);
    }
    const { stdout } = await run('dpkg-query', [`--admindir=${join(dir, 'var/lib/dpkg')}`, '-W', '-f=${Version}', 'openssh-server']);
    const version = stdout.trim();
    await bakeAccount(dir);
    // pipefail: a tar error must fail the import, not produce a truncated image
    const labels = `LABEL ${VERSION_LABEL}=${version} ${ACCOUNT_LABEL}=${accountTag()}`;
    await runLogged('bash', ['-o', 'pipefail', '-c', 'tar -C "$1" -c . | docker import -c "$2" - "$3"', 'import', dir, labels, imageName(suite)], log, 600_000)
      .catch((e: Error) => { throw new PeerError('setup-failed', `docker import of ${imageName(suite)} failed: ${e.message}`); });
    return { suite, built: true, version };
  } finally {
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  }
}
