/**
 * `openssh`, `openssh:bookworm`, `openssh:trixie`: sshd in the locally built `local/openssh:<suite>` image
 * (see setup), started with testcontainers 11 on the host network, on a free loopback port, with a generated
 * config, our host keys and the test account created inside the container at start.
 */
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Availability, RunningTarget, StartOptions, Target } from './types.js';
import { PeerError } from './errors.js';
import { dockerPing, dockerSocketPath, imageInspect } from './docker-api.js';
import { openSshHostKeys } from './host-keys.js';
import { testCredentials, TEST_PASSWORD, TEST_USER } from './test-user.js';
import { freePort, looksLikeAddressInUse } from './ports.js';
import { startWithPortRetry } from './process-peer.js';
import { hostKeyTypesFor, opensshMajor, sshdConfig } from './sshd-config.js';
import { tempDir } from './local-tools.js';
import { track } from './cleanup.js';
import { probe } from './banner.js';

export type Suite = 'bookworm' | 'trixie';
export const imageName = (suite: Suite): string => `local/openssh:${suite}`;
/** Label written by setup at import time: the image's openssh-server package version. */
export const VERSION_LABEL = 'org.ssh-harness.openssh-version';
/** Label written by setup when the test account is baked into the image; its value changes with the password. */
export const ACCOUNT_LABEL = 'org.ssh-harness.account';
export const accountTag = (): string => createHash('sha256').update(`${TEST_USER}:${TEST_PASSWORD}`).digest('hex').slice(0, 16);
const MOUNT = '/harness';

/** Both must be set before testcontainers loads: Ryuk would need a registry pull, and without the override
 * testcontainers looks for a "bridge" gateway (dockerd runs with --bridge=none) by pulling alpine. */
function testcontainersEnv(): void {
  process.env['TESTCONTAINERS_RYUK_DISABLED'] ??= 'true';
  process.env['TESTCONTAINERS_HOST_OVERRIDE'] ??= '127.0.0.1';
}

export async function checkDockerAndImage(suite: Suite): Promise<{ labels: Readonly<Record<string, string>> }> {
  const ping = await dockerPing();
  if (!ping.ok) {
    throw new PeerError('docker-unavailable', `Docker daemon not reachable at ${dockerSocketPath()} (${ping.error}); run \`ssh-harness peers setup\` (starts dockerd)`);
  }
  const img = await imageInspect(imageName(suite));
  if (!img) throw new PeerError('image-missing', `image ${imageName(suite)} is not built; run \`ssh-harness peers setup\` (builds it locally, no registry needed)`);
  return { labels: img.labels };
}

function startScript(configName: string, accountBaked: boolean): string {
  // runs as PID 1's shell, then exec's sshd so `docker stop` signals sshd itself
  return [
    'set -e',
    ...(accountBaked ? [] : [
      `id ${TEST_USER} >/dev/null 2>&1 || useradd --create-home --shell /bin/sh ${TEST_USER}`,
      `echo '${TEST_USER}:${TEST_PASSWORD}' | chpasswd`,
    ]),
    'mkdir -p /run/sshd',
    `exec /usr/sbin/sshd -D -e -f ${MOUNT}/${configName}`,
  ].join('\n') + '\n';
}

export function opensshContainerTarget(name: string, suite: Suite): Target {
  const availability = async (): Promise<Availability> => {
    try {
      const { labels } = await checkDockerAndImage(suite);
      return { available: true, version: labels[VERSION_LABEL] ?? 'unknown' };
    } catch (e) {
      return { available: false, reason: (e as Error).message };
    }
  };

  const start = async (opts: StartOptions = {}): Promise<RunningTarget> => {
    const { labels } = await checkDockerAndImage(suite);
    testcontainersEnv();
    const { GenericContainer, Wait } = await import('testcontainers');
    const credentials = await testCredentials();
    const keys = await openSshHostKeys(hostKeyTypesFor(opts.algorithms?.hostKey));
    // sshd 10 penalises clients that disconnect before auth; the label tells the major without starting it
    const major = opensshMajor('OpenSSH_' + (labels[VERSION_LABEL]?.replace(/^\d+:/, '') ?? (suite === 'trixie' ? '10' : '9')));
    const dir = tempDir(name);
    // sshd reads authorized_keys as the user (StrictModes): the mount must be traversable, the keys still 0600
    chmodSync(dir.path, 0o755);
    const hostKeyPaths = keys.map((k, i) => {
      const file = `host_key_${i}`;
      copyFileSync(k.privatePath, join(dir.path, file));
      chmodSync(join(dir.path, file), 0o600); // sshd refuses group/world-readable host keys
      return `${MOUNT}/${file}`;
    });
    writeFileSync(join(dir.path, 'authorized_keys'), credentials.publicKeyLine + '\n', { mode: 0o644 });
    writeFileSync(join(dir.path, 'start.sh'), startScript('sshd_config', labels[ACCOUNT_LABEL] === accountTag()));
    const timeoutMs = opts.startupTimeoutMs ?? 20_000;

    class TrackedContainer extends GenericContainer {
      id: string | undefined;
      untrack: (() => void) | undefined;
      // record the id as soon as it exists, so Ctrl-C during startup still removes the container
      protected override async containerCreated(containerId: string): Promise<void> {
        this.id = containerId;
        this.untrack = track({ kind: 'container', label: `${name} (creating)`, containerId }, async () => {});
      }
    }

    try {
      const started = await startWithPortRetry(opts.port, () => freePort(), async (port) => {
        writeFileSync(join(dir.path, 'sshd_config'),
          sshdConfig({ port, hostKeyPaths, authorizedKeysFile: `${MOUNT}/authorized_keys`, major, options: opts }));
        let log = '';
        const c = new TrackedContainer(imageName(suite))
          .withNetworkMode('host')
          .withBindMounts([{ source: dir.path, target: MOUNT, mode: 'ro' }])
          .withCommand(['/bin/sh', `${MOUNT}/start.sh`])
          .withLogConsumer((s: Readable) => { s.on('data', (d: Buffer | string) => { if (log.length < 4 << 20) log += d.toString(); }); })
          .withWaitStrategy(Wait.forLogMessage(/Server listening on 127\.0\.0\.1 port/))
          .withStartupTimeout(timeoutMs);
        try {
          const sc = await c.start();
          return { sc, port, logs: () => log, untrackCreate: c.untrack };
        } catch (e) {
          c.untrack?.(); // testcontainers removed the failed container
          if (looksLikeAddressInUse(log)) throw new PeerError('port-in-use', `${name}: port ${port} is in use`, log);
          const msg = (e as Error).message;
          throw new PeerError(/timeout|timed out/i.test(msg) ? 'startup-timeout' : 'startup-failed', `${name}: container did not become ready (${msg})`, log);
        }
      });
      const containerId = started.sc.getId();
      started.untrackCreate?.();
      let stopping: Promise<void> | undefined;
      let finalLog: string | undefined;
      const stop = (): Promise<void> => (stopping ??= (async () => {
        try {
          await started.sc.stop({ timeout: 0, remove: true });
        } finally {
          finalLog = started.logs();
          untrack();
          dir.remove();
        }
      })());
      const untrack = track({ kind: 'container', label: `${name} on 127.0.0.1:${started.port}`, containerId }, stop);
      const p = await probe('127.0.0.1', started.port, { timeoutMs: 5000 }).catch(() => undefined);
      return {
        name, host: '127.0.0.1', port: started.port, containerId,
        banner: p?.banner, version: p?.version,
        hostKeys: keys.map((k) => k.info), credentials: { ...credentials, user: TEST_USER },
        logs: () => finalLog ?? started.logs(),
        stop,
      };
    } catch (e) {
      dir.remove();
      throw e;
    }
  };

  return { name, kind: 'server', description: `OpenSSH in ${imageName(suite)} (testcontainers, host network)`, availability, start };
}
