/**
 * Server peers that bind port 0 themselves and print `listening on 127.0.0.1:PORT` (our Python, Go, libssh and
 * Erlang peers): no port race. The process runs in its own group with its log in a temp dir of ours, removed
 * when it stops (process-peer.ts); the test account's credentials and the given host keys describe it.
 */
import { join } from 'node:path';
import type { AuthMethod, Credentials, RunningTarget, StartOptions } from './types.js';
import type { KeyFile } from './host-keys.js';
import { spawnPeer } from './process-peer.js';
import { tempDir, type TempDir } from './local-tools.js';
import { probe } from './banner.js';
import { PeerError, isPeerError } from './errors.js';

export interface ListeningPeerOptions {
  readonly label: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Built from the temp dir (for files the peer reads: authorized keys, config). */
  env(dir: string): NodeJS.ProcessEnv;
  readonly opts: StartOptions;
  readonly credentials: Credentials;
  readonly hostKeys: readonly KeyFile[];
  readonly fix: string;
}

export async function startListeningPeer(o: ListeningPeerOptions): Promise<RunningTarget> {
  const dir: TempDir = tempDir(o.label);
  try {
    const proc = await spawnPeer({
      label: o.label, command: o.command, args: o.args, env: o.env(dir.path),
      logPath: join(dir.path, `${o.label}.log`), timeoutMs: o.opts.startupTimeoutMs ?? 15_000,
      readyPattern: / listening on 127\.0\.0\.1:(\d+)/, fix: o.fix,
    });
    const port = Number(proc.readyMatch![1]);
    const banner = await probe('127.0.0.1', port, { timeoutMs: 5000 }).catch(() => undefined);
    let stopped: Promise<void> | undefined;
    return {
      name: o.label, host: '127.0.0.1', port, pid: proc.pid, banner: banner?.banner, version: banner?.version,
      hostKeys: o.hostKeys.map((k) => k.info), credentials: o.credentials,
      logs: () => proc.log.toString(), logPath: proc.log.path,
      stop: () => (stopped ??= proc.stop().finally(() => dir.remove())),
    };
  } catch (e) {
    dir.remove();
    if (isPeerError(e, 'port-in-use') && o.opts.port !== undefined) {
      throw new PeerError('port-in-use', `port ${o.opts.port} is already in use; choose another port or omit it to get a free one`, e.peerLog);
    }
    throw e;
  }
}

/** The auth methods a peer that serves password and publickey (only) is asked for; anything else is refused. */
export function passwordAndKey(label: string, opts: StartOptions): readonly AuthMethod[] {
  const methods = opts.authMethods ?? ['password', 'publickey'];
  if (methods.some((m) => m !== 'password' && m !== 'publickey')) {
    throw new PeerError('unsupported-option', `${label}: only password and publickey auth are served`);
  }
  return methods;
}

/**
 * The configuration of our libssh and Erlang peers, as SSH_HARNESS_* variables (they have no JSON parser
 * at hand): lists comma-separated, host key paths ':'-separated.
 */
export function envConfig(o: {
  port: number; hostKeys: readonly string[]; credentials: Credentials; authorizedKeysFile: string;
  methods: readonly AuthMethod[]; algorithms?: StartOptions['algorithms'];
}): NodeJS.ProcessEnv {
  const a = o.algorithms ?? {};
  const lists: Array<[string, readonly string[] | undefined]> = [
    ['SSH_HARNESS_KEX', a.kex], ['SSH_HARNESS_HOSTKEY_ALGORITHMS', a.hostKey], ['SSH_HARNESS_CIPHERS', a.cipher],
    ['SSH_HARNESS_MACS', a.mac], ['SSH_HARNESS_COMPRESSION', a.compression],
  ];
  return {
    SSH_HARNESS_HOST: '127.0.0.1', SSH_HARNESS_PORT: String(o.port), SSH_HARNESS_HOSTKEYS: o.hostKeys.join(':'),
    SSH_HARNESS_USER: o.credentials.user, SSH_HARNESS_PASSWORD: o.credentials.password ?? '',
    SSH_HARNESS_AUTHORIZED_KEYS: o.authorizedKeysFile, SSH_HARNESS_METHODS: o.methods.join(','),
    // SSH_HARNESS_PEER_LOG_LEVEL=3 (libssh's SSH_LOG_PACKET …) makes the peer's log verbose for a closer look
    ...(process.env['SSH_HARNESS_PEER_LOG_LEVEL'] ? { SSH_HARNESS_LOG_LEVEL: process.env['SSH_HARNESS_PEER_LOG_LEVEL'] } : {}),
    ...Object.fromEntries(lists.filter(([, l]) => l?.length).map(([k, l]) => [k, l!.join(',')])),
  };
}

/** Environment for a client peer: ours minus any SSH_HARNESS_* a caller left set, plus `extra`. */
export function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SSH_HARNESS_')) env[k] = v;
  return { ...env, ...extra };
}
