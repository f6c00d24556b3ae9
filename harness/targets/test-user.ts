/**
 * Local daemons (sshd, dropbear, tinysshd) authenticate against real system accounts, so the harness owns
 * one: `sshharness`, with a known password and the harness client keys in its authorized_keys. Created
 * idempotently by `peers setup` and, as a fallback, by the first local target that needs it (root only).
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Credentials } from './types.js';
import { cachedOpenSshKey, type KeyFile } from './host-keys.js';
import { isRoot, stateDir } from './state.js';
import { PeerError } from './errors.js';

const run = promisify(execFile);

export const TEST_USER = 'sshharness';
/** Not a secret: the account exists only on test machines and only loopback daemons of ours accept it. */
export const TEST_PASSWORD = 'sshharness-Pw-4253';

/** The harness's client key pairs (ed25519 first: every peer, tinysshd included, accepts it). */
export async function clientKeys(): Promise<KeyFile[]> {
  return [await cachedOpenSshKey('client', 'ed25519'), await cachedOpenSshKey('client', 'rsa')];
}

/** Every authorized_keys line of the test account (servers of ours accept all its keys, as sshd does). */
export async function authorizedKeyLines(): Promise<string[]> {
  return (await clientKeys()).map((k) => k.publicLine);
}

export async function testCredentials(): Promise<Credentials> {
  const [key] = await clientKeys();
  return { user: TEST_USER, password: TEST_PASSWORD, privateKeyPath: key!.privatePath, publicKeyLine: key!.publicLine };
}

export interface PasswdEntry { uid: number; gid: number; home: string }

/** The account's passwd entry (undefined when it does not exist). */
export async function lookup(user: string = TEST_USER): Promise<PasswdEntry | undefined> {
  try {
    const { stdout } = await run('getent', ['passwd', user]);
    const f = stdout.trim().split(':');
    return { uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? `/home/${user}` };
  } catch {
    return undefined;
  }
}

export interface TestUserState { readonly created: boolean; readonly changed: boolean; readonly home: string }

/** Creates/repairs the account; reports whether anything changed (setup's summary shows it). */
export async function ensureTestUser(): Promise<TestUserState> {
  const keys = await clientKeys();
  let entry = await lookup(TEST_USER);
  const wantKeys = keys.map((k) => k.publicLine);
  if (entry && authorizedKeysOk(entry.home, wantKeys) && (await passwordOk())) return { created: false, changed: false, home: entry.home };
  if (!isRoot()) {
    throw new PeerError('not-root', `the test account ${TEST_USER} is missing or incomplete and only root can create it; run \`sudo ssh-harness peers setup\``);
  }
  let created = false;
  if (!entry) {
    try {
      await run('useradd', ['--create-home', '--shell', '/bin/sh', '--comment', 'ssh-harness test peer account', TEST_USER]);
      created = true;
    } catch (e) {
      if (!(await lookup(TEST_USER))) throw new PeerError('setup-failed', `useradd ${TEST_USER} failed: ${(e as Error).message}`);
    }
    entry = (await lookup(TEST_USER))!;
  }
  await setPassword();
  const sshDir = join(entry.home, '.ssh');
  mkdirSync(sshDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(sshDir, 'authorized_keys'), wantKeys.join('\n') + '\n', { mode: 0o600 });
  // sshd (StrictModes) and tinysshd refuse an authorized_keys the user does not own
  for (const p of [entry.home, sshDir, join(sshDir, 'authorized_keys')]) chownSync(p, entry.uid, entry.gid);
  return { created, changed: true, home: entry.home };
}

function authorizedKeysOk(home: string, want: readonly string[]): boolean {
  const file = join(home, '.ssh', 'authorized_keys');
  if (!existsSync(file)) return false;
  const have = readFileSync(file, 'utf8');
  return want.every((line) => have.includes(line));
}

function shadowHash(): string {
  const line = readFileSync('/etc/shadow', 'utf8').split('\n').find((l) => l.startsWith(TEST_USER + ':'));
  return line?.split(':')[1] ?? '';
}

/**
 * We cannot re-hash portably (yescrypt), so after setting the password we remember the shadow hash it
 * produced; the password is still ours while that hash is unchanged. Needs root to read /etc/shadow.
 */
async function passwordOk(): Promise<boolean> {
  if (!isRoot()) return true; // cannot tell; assume setup did it
  const marker = join(stateDir(), 'test-user.shadow');
  const hash = shadowHash();
  return hash.length > 2 && existsSync(marker) && readFileSync(marker, 'utf8') === hash;
}

async function setPassword(): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = execFile('chpasswd', [], (err) => (err ? reject(new PeerError('setup-failed', `chpasswd failed: ${err.message}`)) : resolve()));
    child.stdin?.end(`${TEST_USER}:${TEST_PASSWORD}\n`);
  });
  writeFileSync(join(stateDir(), 'test-user.shadow'), shadowHash(), { mode: 0o600 });
}
