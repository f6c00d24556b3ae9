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
import { imageName, VERSION_LABEL, type Suite } from '../openssh-container.js';
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
    // pipefail: a tar error must fail the import, not produce a truncated image
    await runLogged('bash', ['-o', 'pipefail', '-c', 'tar -C "$1" -c . | docker import -c "LABEL $2=$3" - "$4"', 'import', dir, VERSION_LABEL, version, imageName(suite)], log, 600_000)
      .catch((e: Error) => { throw new PeerError('setup-failed', `docker import of ${imageName(suite)} failed: ${e.message}`); });
    return { suite, built: true, version };
  } finally {
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  }
}
