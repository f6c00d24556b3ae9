/**
 * `tinyssh`: tinysshd (publickey only, ed25519 + curve25519/sntrup761 + chacha20-poly1305) behind an accept
 * loop we own (python/tinyssh_accept_loop.py), which binds port 0 itself and spawns tinysshd per
 * connection. tinysshd reads ~sshharness/.ssh/authorized_keys, so it needs root and the test account.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Availability, HostKeyInfo, RunningTarget, StartOptions, Target } from './types.js';
import { ed25519Blob, fingerprintOf } from './host-keys.js';
import { ensureTestUser, testCredentials } from './test-user.js';
import { spawnPeer } from './process-peer.js';
import { shippedFile, stateDir } from './state.js';
import { executable, findBinary, requireBinary, requireRoot, tempDir } from './local-tools.js';
import { SYSTEM_PYTHON } from './python-servers.js';
import { probe } from './banner.js';
import { PeerError, isPeerError } from './errors.js';

const run = promisify(execFile);
const LABEL = 'tinyssh';
const FIX = 'install tinysshd (run `ssh-harness peers setup`)';

/** tinysshd-makekey refuses an existing directory: make the key dir under a temp name, then rename. */
async function keyDir(): Promise<string> {
  const dir = join(stateDir(), 'tinyssh-keys');
  if (existsSync(join(dir, 'ed25519.pk'))) return dir;
  const makekey = requireBinary(LABEL, 'tinysshd', '/usr/sbin/tinysshd-makekey', 'tinysshd-makekey');
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  await run(makekey, [tmp]);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return dir;
}

function hostKeys(dir: string): HostKeyInfo[] {
  const blob = ed25519Blob(new Uint8Array(readFileSync(join(dir, 'ed25519.pk'))));
  return [{ type: 'ssh-ed25519', blob, fingerprint: fingerprintOf(blob) }];
}

async function start(opts: StartOptions = {}): Promise<RunningTarget> {
  if (opts.algorithms && Object.values(opts.algorithms).some((l) => l?.length)) {
    throw new PeerError('unsupported-option', 'tinysshd has a fixed algorithm set (-s/-p switches only); restrict on the client side instead');
  }
  if (opts.extraConfig?.length) throw new PeerError('unsupported-option', 'tinyssh: extraConfig is not supported');
  if ((opts.authMethods ?? ['publickey']).some((m) => m !== 'publickey')) {
    throw new PeerError('unsupported-option', 'tinysshd serves publickey auth only');
  }
  const tinysshd = requireBinary(LABEL, 'tinysshd', '/usr/sbin/tinysshd', 'tinysshd');
  if (!executable(SYSTEM_PYTHON)) throw new PeerError('missing-binary', `${LABEL}: ${SYSTEM_PYTHON} (runs our accept loop) not found; install python3`);
  requireRoot(LABEL);
  await ensureTestUser();
  const { user, privateKeyPath, publicKeyLine } = await testCredentials();
  const keys = await keyDir();
  const dir = tempDir(LABEL);
  try {
    const proc = await spawnPeer({
      label: LABEL, command: SYSTEM_PYTHON, args: ['-u', shippedFile('python', 'tinyssh_accept_loop.py'), tinysshd, keys, '127.0.0.1', String(opts.port ?? 0)],
      logPath: join(dir.path, 'tinyssh.log'), timeoutMs: opts.startupTimeoutMs ?? 15_000,
      readyPattern: / listening on 127\.0\.0\.1:(\d+)/, fix: FIX,
    });
    const port = Number(proc.readyMatch![1]);
    const banner = await probe('127.0.0.1', port, { timeoutMs: 5000 }).catch(() => undefined);
    let stopped: Promise<void> | undefined;
    return {
      name: LABEL, host: '127.0.0.1', port, pid: proc.pid, banner: banner?.banner, version: banner?.version,
      hostKeys: hostKeys(keys), credentials: { user, ...(privateKeyPath ? { privateKeyPath } : {}), ...(publicKeyLine ? { publicKeyLine } : {}) },
      logs: () => proc.log.toString(),
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
  if (!findBinary('/usr/sbin/tinysshd', 'tinysshd')) return { available: false, reason: `tinysshd not found; ${FIX}` };
  if (!executable(SYSTEM_PYTHON)) return { available: false, reason: `${SYSTEM_PYTHON} not found (runs the accept loop); install python3` };
  // tinysshd has no version switch; the package version is the honest answer
  const v = await run('dpkg-query', ['-W', '-f=${Version}', 'tinysshd']).then((r) => r.stdout.trim(), () => 'unknown');
  return { available: true, version: `tinysshd ${v}` };
}

export const tinysshTarget: Target = { name: LABEL, kind: 'server', description: 'tinysshd behind our accept loop (publickey only)', availability, start };
