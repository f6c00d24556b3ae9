/**
 * `local/tshark:trixie`: Debian 13's tshark (Wireshark 4.4) as a second trace judge next to the host's 4.0. Built
 * from the local `local/openssh:trixie` image (no registry is reachable): `apt-get install tshark` in a container
 * on the host network (the Debian mirror serves trixie), then `docker commit`. The tshark version is stored as an
 * image label, so a present image is reused without starting a container.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PeerError } from '../errors.js';
import { imageInspect } from '../docker-api.js';
import { imageName } from '../openssh-container.js';
import { stateDir } from '../state.js';

const run = promisify(execFile);

export const TSHARK_IMAGE = 'local/tshark:trixie';
export const TSHARK_VERSION_LABEL = 'org.ssh-harness.tshark-version';

export interface TsharkImageResult { readonly built: boolean; readonly version: string }

function runLogged(cmd: string, args: readonly string[], logPath: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const out = openSync(logPath, 'a');
    const child = spawn(cmd, [...args], { stdio: ['ignore', out, out] });
    closeSync(out);
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.slice(0, 2).join(' ')} failed (${sig ?? `exit ${code}`}); see ${logPath}`));
    });
  });
}

/** Builds the image when it is missing; needs dockerd and `local/openssh:trixie` (the images step comes first). */
export async function ensureTsharkImage(): Promise<TsharkImageResult> {
  const existing = await imageInspect(TSHARK_IMAGE);
  if (existing) return { built: false, version: existing.labels[TSHARK_VERSION_LABEL] ?? 'unknown' };
  const base = imageName('trixie');
  if (!(await imageInspect(base))) throw new PeerError('image-missing', `${TSHARK_IMAGE} is built from ${base}, which is missing; run \`ssh-harness peers setup\``);
  const log = join(stateDir(), 'image-tshark.log');
  const name = `ssh-harness-tshark-build-${process.pid}`;
  // "no" to the setuid-dumpcap question without a prompt; --no-install-recommends keeps the image small
  const script = [
    'set -e',
    'export DEBIAN_FRONTEND=noninteractive',
    'echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections',
    'apt-get -q update',
    'apt-get install -y -q --no-install-recommends tshark',
    'apt-get clean',
    'rm -rf /var/lib/apt/lists/*',
  ].join('\n');
  try {
    await runLogged('docker', ['run', '--name', name, '--network', 'host', base, 'sh', '-c', script], log, 900_000)
      .catch((e: Error) => { throw new PeerError('setup-failed', `installing tshark in ${base} failed: ${e.message} (the Debian mirror must serve trixie)`); });
    const version = await tsharkVersionIn(name);
    await runLogged('docker', ['commit', '--change', `LABEL ${TSHARK_VERSION_LABEL}=${version}`, '--change', 'CMD ["tshark", "--version"]', name, TSHARK_IMAGE], log, 300_000)
      .catch((e: Error) => { throw new PeerError('setup-failed', `docker commit ${TSHARK_IMAGE} failed: ${e.message}`); });
    return { built: true, version };
  } finally {
    await run('docker', ['rm', '-f', name], { timeout: 60_000 }).catch(() => undefined);
  }
}

/** The installed tshark package version, read from the stopped build container's dpkg database. */
async function tsharkVersionIn(container: string): Promise<string> {
  const { stdout } = await run('docker', ['cp', `${container}:/var/lib/dpkg/status`, '-'], { timeout: 60_000, maxBuffer: 64 << 20, encoding: 'latin1' });
  // `docker cp … -` writes a tar stream; the status file is plain text inside it
  const m = /Package: tshark\n(?:[^\n]+\n)*?Version: ([^\n]+)/.exec(stdout);
  return m ? m[1]!.trim() : 'unknown';
}
