/**
 * GNU lsh's key material, made once per machine with lsh's own tools and cached in the state dir:
 * - a host key for lshd (RSA; lsh 2.1 serves ssh-rsa and spki-sign-rsa with it), its OpenSSH public line via
 *   `lsh-export-key --openssh`;
 * - the test account's RSA client key as lsh reads it: `pkcs1-conv` of a PEM copy of the OpenSSH key (the client
 *   identity), and its SPKI public key under ~sshharness/.lsh/authorized_keys_sha1/<sha1> (what lshd accepts,
 *   as `lsh-authorize` would write it);
 * - a random seed file per HOME (lsh refuses to run without ~/.lsh/yarrow-seed-file).
 * lsh 2.1 has no Ed25519 or ECDSA.
 */
import { execFile, spawn } from 'node:child_process';
import { chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { HostKeyInfo } from './types.js';
import { cachedOpenSshKey, parsePublicKeyLine } from './host-keys.js';
import { findBinary } from './local-tools.js';
import { stateSubdir } from './state.js';
import { PeerError } from './errors.js';

const run = promisify(execFile);
export const LSH_FIX = 'install lsh-server, lsh-client and lsh-utils (run `ssh-harness peers setup`)';

function tool(name: string): string {
  const bin = findBinary(name);
  if (!bin) throw new PeerError('missing-binary', `lsh: ${name} not found; ${LSH_FIX}`);
  return bin;
}

/** Runs `cmd` with `input` on stdin; rejects with its stderr. */
function pipe(cmd: string, args: readonly string[], input: Buffer | string, env?: NodeJS.ProcessEnv): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, [...args], { env: env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    c.stdout.on('data', (d: Buffer) => out.push(d));
    c.stderr.on('data', (d: Buffer) => err.push(d));
    c.on('error', reject);
    c.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new PeerError('setup-failed', `${cmd} exited ${code}: ${Buffer.concat(err).toString().trim().slice(0, 300)}`))));
    c.stdin.end(input);
  });
}

/** Runs a tool with stdin closed and a time limit; its exit status does not matter (the caller checks the file). */
function quiet(cmd: string, args: readonly string[], timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve) => {
    const c = spawn(cmd, [...args], { stdio: ['ignore', 'ignore', 'ignore'] });
    const timer = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.on('error', () => { clearTimeout(timer); resolve(); });
    c.on('close', () => { clearTimeout(timer); resolve(); });
  });
}

/** A HOME with a seed file, so lsh, lsh-keygen and lsh-writekey run without asking for keystrokes. */
export async function lshHome(dir: string): Promise<string> {
  const seed = join(dir, '.lsh', 'yarrow-seed-file');
  if (existsSync(seed)) return dir;
  mkdirSync(join(dir, '.lsh'), { recursive: true, mode: 0o700 });
  const master = join(stateSubdir('lsh'), 'yarrow-seed-file');
  if (!existsSync(master)) {
    const tmp = `${master}.tmp-${process.pid}`;
    // --sloppy: no keystroke timing on a machine without a terminal; the seed only feeds lsh's own Yarrow RNG.
    // stdin must be closed (an open pipe makes it wait for keystrokes) and the run bounded
    await quiet(tool('lsh-make-seed'), ['--sloppy', '-o', tmp]);
    if (!existsSync(tmp)) throw new PeerError('setup-failed', `lsh-make-seed could not write a seed file; ${LSH_FIX}`);
    renameSync(tmp, master);
  }
  copyFileSync(master, seed);
  return dir;
}

/** The server's seed file (lshd reads /var/spool/lsh/yarrow-seed-file; the package's postinst normally makes it). */
export async function ensureServerSeed(): Promise<boolean> {
  if (existsSync('/var/spool/lsh/yarrow-seed-file')) return false;
  await quiet(tool('lsh-make-seed'), ['--server', '--sloppy']);
  if (!existsSync('/var/spool/lsh/yarrow-seed-file')) throw new PeerError('setup-failed', `lsh-make-seed --server could not write /var/spool/lsh/yarrow-seed-file; ${LSH_FIX}`);
  return true;
}

export interface LshHostKey { readonly privatePath: string; readonly info: HostKeyInfo }

export async function lshHostKey(): Promise<LshHostKey> {
  const dir = stateSubdir('lsh');
  const privatePath = join(dir, 'host-key');
  const pubLine = join(dir, 'host-key.openssh.pub');
  if (!existsSync(privatePath) || !existsSync(pubLine)) {
    const home = await lshHome(join(dir, 'home'));
    const env = { ...process.env, HOME: home };
    const tmp = `${privatePath}.tmp-${process.pid}`;
    rmSync(tmp, { force: true });
    rmSync(`${tmp}.pub`, { force: true });
    const key = await pipe(tool('lsh-keygen'), ['-a', 'rsa', '-l', '2048'], '', env);
    await pipe(tool('lsh-writekey'), ['-c', 'none', '-o', tmp], key, env);
    const line = (await pipe(tool('lsh-export-key'), ['--openssh'], readFileSync(`${tmp}.pub`))).toString().trim();
    writeFileSync(pubLine, `${line}\n`);
    renameSync(`${tmp}.pub`, `${privatePath}.pub`);
    renameSync(tmp, privatePath);
  }
  return { privatePath, info: parsePublicKeyLine(readFileSync(pubLine, 'utf8')) };
}

/** The test account's RSA client key converted for the lsh client (sexp, unencrypted). */
export async function lshIdentity(openSshKey: string): Promise<string> {
  const dir = stateSubdir('lsh');
  const out = join(dir, `identity-${openSshKey.replace(/[^A-Za-z0-9]+/g, '_')}`);
  if (existsSync(out)) return out;
  const pem = `${out}.pem-${process.pid}`;
  copyFileSync(openSshKey, pem);
  try {
    // ssh-keygen rewrites the key as a PEM RSA PRIVATE KEY, which nettle's pkcs1-conv turns into lsh's sexp
    await run(tool('ssh-keygen'), ['-q', '-p', '-N', '', '-P', '', '-m', 'PEM', '-f', pem]);
    const sexp = await pipe(tool('pkcs1-conv'), [pem], '');
    writeFileSync(`${out}.tmp`, sexp, { mode: 0o600 });
    renameSync(`${out}.tmp`, out);
  } finally {
    rmSync(pem, { force: true });
  }
  return out;
}

/** ~user/.lsh/authorized_keys_sha1/<sha1 of the canonical SPKI key>, as lsh-authorize writes it. */
export async function ensureLshAuthorizedKey(home: string, uid: number, gid: number, publicKeyLine: string): Promise<boolean> {
  const spki = await pipe(tool('ssh-conv'), [], `${publicKeyLine}\n`);
  const hash = (await pipe(tool('sexp-conv'), ['--once', '--hash=sha1'], spki)).toString().trim();
  const canonical = await pipe(tool('sexp-conv'), ['-s', 'canonical', '--once'], spki);
  const dir = join(home, '.lsh', 'authorized_keys_sha1');
  const file = join(dir, hash);
  if (existsSync(file) && readFileSync(file).equals(canonical)) return false;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(file, canonical, { mode: 0o600 });
  for (const p of [join(home, '.lsh'), dir, file]) chownSync(p, uid, gid);
  return true;
}

/** The test account's RSA key pair (lsh's only user key type besides DSA). */
export function lshClientKey(): ReturnType<typeof cachedOpenSshKey> {
  return cachedOpenSshKey('client', 'rsa');
}
