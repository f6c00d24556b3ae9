/**
 * Host keys and client keys for peers, generated once per machine with the peers' own tools and cached in
 * the state dir (a fresh RSA key per start would cost more than the whole container start).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { HostKeyInfo } from './types.js';
import { stateSubdir } from './state.js';
import { PeerError, isPeerError } from './errors.js';

const run = promisify(execFile);

/** `SHA256:` + unpadded base64 of SHA-256(blob), as `ssh-keygen -l` prints it. */
export function fingerprintOf(blob: Uint8Array): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

/** One `type base64 [comment]` line (authorized_keys / .pub format). */
export function parsePublicKeyLine(line: string): HostKeyInfo {
  const [type, b64] = line.trim().split(/\s+/);
  if (!type || !b64) throw new Error(`not a public key line: ${JSON.stringify(line.slice(0, 80))}`);
  const blob = new Uint8Array(Buffer.from(b64, 'base64'));
  return { type, blob, fingerprint: fingerprintOf(blob) };
}

/** RFC 4253 §6.6 blob for a raw Ed25519 public key: string "ssh-ed25519", string key. */
export function ed25519Blob(pk: Uint8Array): Uint8Array {
  const name = Buffer.from('ssh-ed25519');
  const out = Buffer.alloc(4 + name.length + 4 + pk.length);
  out.writeUInt32BE(name.length, 0);
  name.copy(out, 4);
  out.writeUInt32BE(pk.length, 4 + name.length);
  Buffer.from(pk).copy(out, 8 + name.length);
  return new Uint8Array(out);
}

/** `ecdsa` is NIST P-256 (its cached file name predates the other curves); `ecdsa384`/`ecdsa521` are P-384/P-521. */
export type OpenSshKeyType = 'ed25519' | 'ecdsa' | 'ecdsa384' | 'ecdsa521' | 'rsa' | 'dsa';

/** Every host key type the peers can be given (RFC 5656 §6.2 curves, RFC 8709 ed25519, RFC 8332 rsa). */
export const ALL_HOST_KEY_TYPES: readonly OpenSshKeyType[] = ['ed25519', 'ecdsa', 'ecdsa384', 'ecdsa521', 'rsa'];

/** Generates into a temp name then renames, so concurrent runs never see half a key. */
async function generateOnce(path: string, generate: (tmp: string) => Promise<void>): Promise<void> {
  if (existsSync(path)) return;
  const tmp = `${path}.tmp-${process.pid}`;
  rmSync(tmp, { force: true });
  rmSync(tmp + '.pub', { force: true });
  await generate(tmp);
  if (existsSync(tmp + '.pub')) renameSync(tmp + '.pub', path + '.pub');
  renameSync(tmp, path);
}

const KEYGEN: Readonly<Record<OpenSshKeyType, readonly string[]>> = {
  ed25519: ['-t', 'ed25519'], ecdsa: ['-t', 'ecdsa', '-b', '256'], ecdsa384: ['-t', 'ecdsa', '-b', '384'],
  ecdsa521: ['-t', 'ecdsa', '-b', '521'], rsa: ['-t', 'rsa', '-b', '3072'], dsa: ['-t', 'dsa'],
};

async function sshKeygen(type: OpenSshKeyType, file: string): Promise<void> {
  try {
    await run('ssh-keygen', ['-q', ...KEYGEN[type], '-N', '', '-C', 'ssh-harness', '-f', file]);
  } catch (e) {
    throw new PeerError('missing-binary', `ssh-keygen failed (${(e as Error).message.split('\n')[0]}); install openssh-client (\`ssh-harness peers setup\`)`);
  }
}

export interface KeyFile {
  readonly privatePath: string;
  readonly publicLine: string;
  readonly info: HostKeyInfo;
}

/** A cached OpenSSH-format key pair in `<state>/<group>/<type>`. */
export async function cachedOpenSshKey(group: string, type: OpenSshKeyType): Promise<KeyFile> {
  const privatePath = join(stateSubdir(group), `ssh_${type}_key`);
  await generateOnce(privatePath, (tmp) => sshKeygen(type, tmp));
  const publicLine = readFileSync(privatePath + '.pub', 'utf8').trim();
  return { privatePath, publicLine, info: parsePublicKeyLine(publicLine) };
}

/** Host keys in OpenSSH format, generated once per machine; default: every type (ed25519, ecdsa-256/384/521, rsa-3072). */
export async function openSshHostKeys(types: readonly OpenSshKeyType[] = ALL_HOST_KEY_TYPES): Promise<KeyFile[]> {
  const out: KeyFile[] = [];
  for (const t of types) out.push(await cachedOpenSshKey('hostkeys', t));
  return out;
}

/** Dropbear reads its own key format; `dropbearkey -y` prints the public line (cached beside the key). */
export async function dropbearHostKey(type: 'ed25519' | 'ecdsa' | 'rsa'): Promise<KeyFile> {
  const privatePath = join(stateSubdir('dropbear-hostkeys'), `dropbear_${type}_host_key`);
  try {
    await generateOnce(privatePath, async (tmp) => {
      await run('dropbearkey', ['-t', type, ...(type === 'rsa' ? ['-s', '2048'] : []), '-f', tmp]);
      const { stdout } = await run('dropbearkey', ['-y', '-f', tmp]);
      writeFileSync(tmp + '.pub', (stdout.split('\n').find((l) => /^(ssh-|ecdsa-)/.test(l))?.trim() ?? '') + '\n');
    });
    if (!existsSync(privatePath + '.pub')) { // keys made before the .pub cache existed
      const { stdout } = await run('dropbearkey', ['-y', '-f', privatePath]);
      writeFileSync(privatePath + '.pub', (stdout.split('\n').find((l) => /^(ssh-|ecdsa-)/.test(l))?.trim() ?? '') + '\n');
    }
    const publicLine = readFileSync(privatePath + '.pub', 'utf8').trim();
    return { privatePath, publicLine, info: parsePublicKeyLine(publicLine) };
  } catch (e) {
    if (isPeerError(e)) throw e;
    throw new PeerError('missing-binary', `dropbearkey failed (${(e as Error).message.split('\n')[0]}); install dropbear-bin (\`ssh-harness peers setup\`)`);
  }
}
