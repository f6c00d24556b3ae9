/** Small helpers shared by the local-daemon targets: binaries, versions, temp dirs. */
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PeerError } from './errors.js';
import { isRoot } from './state.js';

const run = promisify(execFile);

export function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** First executable among absolute candidates or $PATH lookups of a bare name. */
export function findBinary(...candidates: string[]): string | undefined {
  for (const c of candidates) {
    if (c.includes('/')) {
      if (executable(c)) return c;
      continue;
    }
    for (const dir of (process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin').split(':').concat(['/usr/sbin', '/sbin'])) {
      if (dir && executable(join(dir, c))) return join(dir, c);
    }
  }
  return undefined;
}

export function requireBinary(label: string, aptPackage: string, ...candidates: string[]): string {
  const found = findBinary(...candidates);
  if (!found) throw new PeerError('missing-binary', `${label}: ${candidates[0]} not found; install ${aptPackage} (run \`ssh-harness peers setup\`)`);
  return found;
}

export function requireRoot(label: string): void {
  if (!isRoot()) throw new PeerError('not-root', `${label}: must run as root (it authenticates system accounts and drops privileges); run the harness as root or use a container target`);
}

/** Runs `cmd args` and returns stdout+stderr even when it exits non-zero (`sshd -V` does). */
export async function outputOf(cmd: string, args: readonly string[], timeoutMs = 5000): Promise<string> {
  try {
    const { stdout, stderr } = await run(cmd, [...args], { timeout: timeoutMs });
    return stdout + stderr;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    return (err.stdout ?? '') + (err.stderr ?? '') || err.message;
  }
}

export interface TempDir { readonly path: string; remove(): void }

export function tempDir(label: string): TempDir {
  const path = mkdtempSync(join(tmpdir(), `ssh-harness-${label.replace(/[^a-z0-9]+/gi, '-')}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
