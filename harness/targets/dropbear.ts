/**
 * `dropbear`: Dropbear's server in the foreground (`-F -E`) on a free loopback port with our cached
 * Dropbear-format host keys (`-r`, never the system's /etc/dropbear keys). Dropbear authenticates system
 * accounts, so it needs root and the `sshharness` account. Its algorithms are fixed at compile time.
 */
import { join } from 'node:path';
import type { Availability, RunningTarget, StartOptions, Target } from './types.js';
import { dropbearHostKey } from './host-keys.js';
import { ensureTestUser, testCredentials } from './test-user.js';
import { freePort } from './ports.js';
import { spawnPeer, startWithPortRetry } from './process-peer.js';
import { findBinary, outputOf, requireBinary, requireRoot, tempDir } from './local-tools.js';
import { PeerError } from './errors.js';

const LABEL = 'dropbear';
const FIX = 'install dropbear-bin (run `ssh-harness peers setup`)';

/** Who runs: the packaged binary by default; harness/targets/instrumented.ts passes its sanitizer build, env and log. */
export interface LocalDaemonSpec {
  readonly label: string;
  readonly bin: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Where stdout+stderr go (default: in the run's temp dir). */
  readonly logPath?: string;
}

async function start(opts: StartOptions = {}): Promise<RunningTarget> {
  return startDropbear(opts, { label: LABEL, bin: requireBinary(LABEL, 'dropbear-bin', '/usr/sbin/dropbear', 'dropbear') });
}

export async function startDropbear(opts: StartOptions, spec: LocalDaemonSpec): Promise<RunningTarget> {
  if (opts.algorithms && Object.values(opts.algorithms).some((l) => l?.length)) {
    throw new PeerError('unsupported-option', 'dropbear chooses its algorithms at compile time; restrict them on the client side instead');
  }
  if (opts.extraConfig?.length) throw new PeerError('unsupported-option', 'dropbear: extraConfig is not supported');
  const auth = new Set(opts.authMethods ?? ['password', 'publickey']);
  if (auth.has('keyboard-interactive')) throw new PeerError('unsupported-option', 'dropbear serves password and publickey only');
  // dropbear has no switch to refuse keys; a caller relying on that must know up front
  if (!auth.has('publickey')) throw new PeerError('unsupported-option', 'dropbear cannot disable publickey auth');
  const { bin, label } = spec;
  requireRoot(label);
  await ensureTestUser();
  const credentials = await testCredentials();
  const keys = await Promise.all((['ed25519', 'ecdsa', 'rsa'] as const).map(dropbearHostKey));
  const dir = tempDir(label);
  try {
    const started = await startWithPortRetry(opts.port, () => freePort(), async (port) => {
      const p = await spawnPeer({
        label: `${label} on 127.0.0.1:${port}`, command: bin, ...(spec.env ? { env: spec.env } : {}),
        // -s: no password logins (only when password auth is not wanted); -P: pid file in our temp dir, not /var/run
        args: ['-F', '-E', '-m', '-w', ...(auth.has('password') ? [] : ['-s']), ...keys.flatMap((k) => ['-r', k.privatePath]), '-P', join(dir.path, 'dropbear.pid'), '-p', `127.0.0.1:${port}`],
        logPath: spec.logPath ?? join(dir.path, `dropbear-${port}.log`), timeoutMs: opts.startupTimeoutMs ?? 15_000,
        probeAddress: { host: '127.0.0.1', port }, fix: FIX,
      });
      return { p, port };
    });
    let stopped: Promise<void> | undefined;
    return {
      name: label, host: '127.0.0.1', port: started.port, pid: started.p.pid,
      banner: started.p.probe?.banner, version: started.p.probe?.version,
      hostKeys: keys.map((k) => k.info), credentials,
      logs: () => started.p.log.toString(), logPath: started.p.log.path,
      stop: () => (stopped ??= started.p.stop().finally(() => dir.remove())),
    };
  } catch (e) {
    dir.remove();
    throw e;
  }
}

async function availability(): Promise<Availability> {
  const bin = findBinary('/usr/sbin/dropbear', 'dropbear');
  if (!bin) return { available: false, reason: `dropbear not found; ${FIX}` };
  return { available: true, version: /v(\d[\d.]*)/.exec(await outputOf(bin, ['-V']))?.[0] ?? 'unknown' };
}

export const dropbearTarget: Target = { name: LABEL, kind: 'server', description: 'Dropbear server on loopback (-F -E)', availability, start };
