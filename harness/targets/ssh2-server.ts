/**
 * `ssh2`: the ssh2 npm package's server, in a child Node process (ssh2-server-process.ts) so its event loop,
 * crashes and logs stay apart from the harness. The child binds port 0 and prints the port: no race.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Availability, RunningTarget, StartOptions, Target } from './types.js';
import { ALL_HOST_KEY_TYPES, openSshHostKeys } from './host-keys.js';
import { authorizedKeyLines, testCredentials } from './test-user.js';
import { spawnPeer } from './process-peer.js';
import { childModule } from './state.js';
import { tempDir } from './local-tools.js';
import { probe } from './banner.js';
import { PeerError, isPeerError } from './errors.js';

const FIX = 'run `npm install` (ssh2 is an npm dependency of ssh-harness)';

export function ssh2Version(): string | undefined {
  try {
    return (createRequire(import.meta.url)('ssh2/package.json') as { version: string }).version;
  } catch {
    return undefined;
  }
}

async function start(opts: StartOptions = {}): Promise<RunningTarget> {
  if (opts.extraConfig?.length) throw new PeerError('unsupported-option', 'ssh2: extraConfig is not supported');
  if (opts.authMethods?.includes('keyboard-interactive')) throw new PeerError('unsupported-option', 'ssh2: only password and publickey auth are served');
  if (!ssh2Version()) throw new PeerError('missing-binary', `ssh2: the ssh2 package is not installed; ${FIX}`);
  const credentials = await testCredentials();
  const keys = await openSshHostKeys(ALL_HOST_KEY_TYPES);
  const config = {
    host: '127.0.0.1', port: opts.port ?? 0, hostKeys: keys.map((k) => k.privatePath),
    user: credentials.user, password: credentials.password, authorizedKeys: await authorizedKeyLines(),
    authMethods: opts.authMethods ?? ['password', 'publickey'], algorithms: opts.algorithms ?? {},
  };
  const child = childModule(import.meta.url, 'ssh2-server-process');
  const dir = tempDir('ssh2');
  try {
    const proc = await spawnPeer({
      label: 'ssh2', command: process.execPath, args: [...child.nodeArgs, child.file],
      env: { ...process.env, SSH_HARNESS_PEER_CONFIG: JSON.stringify(config) },
      logPath: join(dir.path, 'ssh2.log'), timeoutMs: opts.startupTimeoutMs ?? 15_000,
      readyPattern: / listening on 127\.0\.0\.1:(\d+)/, fix: FIX,
    });
    const port = Number(proc.readyMatch![1]);
    const banner = await probe('127.0.0.1', port, { timeoutMs: 5000 }).catch(() => undefined);
    let stopped: Promise<void> | undefined;
    return {
      name: 'ssh2', host: '127.0.0.1', port, pid: proc.pid, banner: banner?.banner, version: banner?.version,
      hostKeys: keys.map((k) => k.info), credentials,
      logs: () => proc.log.toString(), logPath: proc.log.path,
      stop: () => (stopped ??= proc.stop().finally(() => dir.remove())),
    };
  } catch (e) {
    dir.remove();
    if (isPeerError(e, 'port-in-use') && opts.port !== undefined) {
      throw new PeerError('port-in-use', `port ${opts.port} is already in use; choose another port or omit it to get a free one`, e.peerLog);
    }
    throw e;
  }
}

async function availability(): Promise<Availability> {
  const v = ssh2Version();
  return v ? { available: true, version: `ssh2 ${v}` } : { available: false, reason: `ssh2 package not installed; ${FIX}` };
}

export const ssh2Target: Target = { name: 'ssh2', kind: 'server', description: 'ssh2 (npm) server in a child Node process', availability, start };
