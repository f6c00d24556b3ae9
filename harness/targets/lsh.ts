/**
 * `lsh`: GNU lsh's lshd 2.1 (Debian's lsh-server) in the foreground on a free loopback port, with our cached RSA
 * host key in lsh's format. lshd authenticates system accounts (root needed): the test account by password, and by
 * its RSA client key, which setup authorizes in lsh's own layout (lsh-keys.ts). lsh 2.1 implements DH group1/group14
 * with SHA-1, ssh-rsa host keys, CBC/CTR ciphers and hmac-sha1/md5, all legacy to us; kex is not configurable and
 * each of -c, -m and --compression takes a single algorithm (a repeated flag replaces the earlier one).
 */
import { join } from 'node:path';
import type { AlgorithmLists, Availability, Credentials, RunningTarget, StartOptions, Target } from './types.js';
import { ensureTestUser, lookup, TEST_PASSWORD, TEST_USER } from './test-user.js';
import { freePort } from './ports.js';
import { spawnPeer, startWithPortRetry } from './process-peer.js';
import { findBinary, outputOf, requireBinary, requireRoot, tempDir } from './local-tools.js';
import { ensureLshAuthorizedKey, ensureServerSeed, lshClientKey, lshHome, lshHostKey, LSH_FIX } from './lsh-keys.js';
import { PeerError } from './errors.js';

const LABEL = 'lsh';

/** lshd's switches for one algorithm per kind (the only thing it can take). */
export function lshAlgorithmArgs(who: string, a: AlgorithmLists | undefined): string[] {
  if (!a) return [];
  if (a.kex?.length) throw new PeerError('unsupported-option', `${who}: lsh 2.1 cannot choose its key exchange (DH group14/group1 with SHA-1 are built in)`);
  const args: string[] = [];
  const one = (kind: string, list: readonly string[] | undefined, flag: string): void => {
    if (!list?.length) return;
    if (list.length > 1) throw new PeerError('unsupported-option', `${who}: lsh takes a single ${kind} algorithm (a repeated switch replaces the earlier one); got ${list.join(', ')}`);
    args.push(`${flag}=${list[0]}`);
  };
  one('cipher', a.cipher, '--crypto');
  one('MAC', a.mac, '--mac');
  one('compression', a.compression, '--compression');
  if (a.hostKey?.length) {
    // lshd offers what its key can do (ssh-rsa, spki-sign-rsa); --hostkey-algorithm only knows ssh-dss/spki
    if (!a.hostKey.every((h) => h === 'ssh-rsa')) throw new PeerError('unsupported-option', `${who}: lshd's RSA host key serves ssh-rsa only (no rsa-sha2-*, RFC 8332); got ${a.hostKey.join(', ')}`);
  }
  return args;
}

/** The account's RSA key authorized for lshd (idempotent; root). */
export async function ensureLshAccount(): Promise<{ changed: boolean; credentials: Credentials }> {
  const user = await ensureTestUser();
  const key = await lshClientKey();
  const entry = await lookup(TEST_USER);
  if (!entry) throw new PeerError('setup-failed', `lsh: the test account ${TEST_USER} does not exist`);
  const changed = await ensureLshAuthorizedKey(entry.home, entry.uid, entry.gid, key.publicLine);
  return { changed: changed || user.changed, credentials: { user: TEST_USER, password: TEST_PASSWORD, privateKeyPath: key.privatePath, publicKeyLine: key.publicLine } };
}

async function start(opts: StartOptions = {}): Promise<RunningTarget> {
  if (opts.extraConfig?.length) throw new PeerError('unsupported-option', 'lsh: extraConfig is not supported');
  const auth = new Set(opts.authMethods ?? ['password', 'publickey']);
  if (auth.has('keyboard-interactive')) throw new PeerError('unsupported-option', 'lshd serves password and publickey only');
  const algArgs = lshAlgorithmArgs(LABEL, opts.algorithms);
  const bin = requireBinary(LABEL, 'lsh-server', '/usr/sbin/lshd', 'lshd');
  requireRoot(LABEL);
  await ensureServerSeed();
  const { credentials } = await ensureLshAccount();
  const key = await lshHostKey();
  const dir = tempDir(LABEL);
  try {
    const home = await lshHome(join(dir.path, 'home'));
    const started = await startWithPortRetry(opts.port, () => freePort(), async (port) => {
      const p = await spawnPeer({
        label: `${LABEL} on 127.0.0.1:${port}`, command: bin,
        args: [
          '--no-daemonic', '--no-syslog', '--verbose', `--port=${port}`, '--interface=127.0.0.1', `--host-key=${key.privatePath}`,
          ...(auth.has('password') ? [] : ['--no-password']), ...(auth.has('publickey') ? [] : ['--no-publickey']),
          '--no-x11-forward', ...algArgs,
        ],
        env: { ...process.env, HOME: home },
        logPath: join(dir.path, `lshd-${port}.log`), timeoutMs: opts.startupTimeoutMs ?? 15_000,
        probeAddress: { host: '127.0.0.1', port }, fix: LSH_FIX,
      });
      return { p, port };
    });
    let stopped: Promise<void> | undefined;
    return {
      name: LABEL, host: '127.0.0.1', port: started.port, pid: started.p.pid,
      banner: started.p.probe?.banner, version: started.p.probe?.version,
      hostKeys: [key.info], credentials,
      logs: () => started.p.log.toString(), logPath: started.p.log.path,
      stop: () => (stopped ??= started.p.stop().finally(() => dir.remove())),
    };
  } catch (e) {
    dir.remove();
    throw e;
  }
}

export async function lshVersion(bin: string): Promise<string> {
  return /lshd?-([\d.]+)/.exec(await outputOf(bin, ['--version']))?.[1] ?? 'unknown';
}

async function availability(): Promise<Availability> {
  const bin = findBinary('/usr/sbin/lshd', 'lshd');
  if (!bin) return { available: false, reason: `lshd not found; ${LSH_FIX}` };
  for (const t of ['lsh-keygen', 'lsh-writekey', 'lsh-export-key', 'ssh-conv', 'sexp-conv', 'pkcs1-conv']) {
    if (!findBinary(t)) return { available: false, reason: `${t} not found; ${LSH_FIX}` };
  }
  return { available: true, version: `lshd ${await lshVersion(bin)}` };
}

export const lshTarget: Target = { name: LABEL, kind: 'server', description: 'GNU lsh lshd on loopback (system accounts)', availability, start };
