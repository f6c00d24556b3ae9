/**
 * `sshd`: the host's own OpenSSH server binary (/usr/sbin/sshd, 9.2 on bookworm) with a temp config, our
 * cached host keys and the `sshharness` account, on a free loopback port. Never the system sshd service.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningTarget, StartOptions, Target, Availability } from './types.js';
import { openSshHostKeys } from './host-keys.js';
import { ensureTestUser, testCredentials } from './test-user.js';
import { freePort } from './ports.js';
import { spawnPeer, startWithPortRetry } from './process-peer.js';
import { hostKeyTypesFor, opensshMajor, sshdConfig } from './sshd-config.js';
import { findBinary, outputOf, requireBinary, requireRoot, tempDir } from './local-tools.js';
import type { LocalDaemonSpec } from './dropbear.js';

const LABEL = 'sshd';
const FIX_PACKAGE = 'openssh-server';

async function hostSshdVersion(bin: string): Promise<string> {
  // `sshd -V` prints "OpenSSH_9.2p1 ..., OpenSSL ..." (older builds print it inside the usage text)
  const m = /OpenSSH_[^\s,]+/.exec(await outputOf(bin, ['-V']));
  return m?.[0] ?? 'unknown';
}

async function start(opts: StartOptions = {}): Promise<RunningTarget> {
  return startSshd(opts, { label: LABEL, bin: requireBinary(LABEL, FIX_PACKAGE, '/usr/sbin/sshd', 'sshd') });
}

/** sshd from `spec.bin` (the packaged one, or harness/targets/instrumented.ts's sanitizer build). */
export async function startSshd(opts: StartOptions, spec: LocalDaemonSpec): Promise<RunningTarget> {
  const { bin, label } = spec;
  requireRoot(label);
  await ensureTestUser();
  const credentials = await testCredentials();
  const keys = await openSshHostKeys(hostKeyTypesFor(opts.algorithms?.hostKey));
  const major = opensshMajor(await hostSshdVersion(bin));
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // privilege separation dir, normally made by the service unit
  const dir = tempDir(label);
  try {
    const proc = await startWithPortRetry(opts.port, () => freePort(), async (port) => {
      const configPath = join(dir.path, 'sshd_config');
      writeFileSync(configPath, sshdConfig({ port, hostKeyPaths: keys.map((k) => k.privatePath), major, options: opts }), { mode: 0o600 });
      const p = await spawnPeer({
        label: `${label} on 127.0.0.1:${port}`, command: bin, args: ['-D', '-e', '-f', configPath], logPath: spec.logPath ?? join(dir.path, `sshd-${port}.log`),
        ...(spec.env ? { env: spec.env } : {}),
        timeoutMs: opts.startupTimeoutMs ?? 15_000, readyPattern: /Server listening on 127\.0\.0\.1 port \d+/,
        probeAddress: { host: '127.0.0.1', port }, fix: `install ${FIX_PACKAGE} (run \`ssh-harness peers setup\`)`,
      });
      return { p, port };
    });
    let stopped: Promise<void> | undefined;
    return {
      name: label, host: '127.0.0.1', port: proc.port, pid: proc.p.pid,
      banner: proc.p.probe?.banner, version: proc.p.probe?.version,
      hostKeys: keys.map((k) => k.info), credentials,
      logs: () => proc.p.log.toString(), logPath: proc.p.log.path,
      stop: () => (stopped ??= proc.p.stop().finally(() => dir.remove())),
    };
  } catch (e) {
    dir.remove();
    throw e;
  }
}

async function availability(): Promise<Availability> {
  const bin = findBinary('/usr/sbin/sshd', 'sshd');
  if (!bin) return { available: false, reason: `sshd not found; install ${FIX_PACKAGE} (run \`ssh-harness peers setup\`)` };
  // the package version is exact (`sshd -V` says 9.2 for 9.2p1) and matches what the container targets show
  const pkg = (await outputOf('dpkg-query', ['-W', '-f=${Version}', FIX_PACKAGE])).trim();
  return { available: true, version: /^\d+:[\w.+~-]+$/.test(pkg) ? pkg : await hostSshdVersion(bin) };
}

export const sshdTarget: Target = { name: LABEL, kind: 'server', description: "host's /usr/sbin/sshd with a temp config on loopback", availability, start };
