/**
 * Helpers for the serve/exec tests that drive real programs (ssh, sshpass, ssh-keygen, python3-paramiko):
 * a missing program skips locally and FAILS under CI=true (preamble rule).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function have(bin: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function havePython(module: string): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', `import ${module}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Skips (locally) or fails (CI=true) when `ok` is false. */
export function need(ctx: { skip(): void }, ok: boolean, what: string): void {
  if (ok) return;
  if (process.env.CI === 'true') throw new Error(`${what} is missing (run \`ssh-harness peers setup\`)`);
  console.log(`      (skipped: ${what} missing)`);
  ctx.skip();
}

export interface RunResult { code: number | null; stdout: Buffer; stderr: string }

/** Runs a program with optional stdin; kills it after timeoutMs. */
export function run(cmd: string, args: readonly string[], opts: { input?: Uint8Array | string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    const out: Buffer[] = [];
    let err = '';
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    p.stdin.on('error', () => undefined);
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    p.on('error', reject);
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout: Buffer.concat(out), stderr: err }); });
    p.stdin.end(opts.input ?? '');
  });
}

export interface KeyFiles { dir: string; files: Record<'ed25519' | 'ecdsa' | 'rsa', string>; publicLines: Record<'ed25519' | 'ecdsa' | 'rsa', string>; cleanup(): void }

/** Client key pairs made by ssh-keygen in a temp dir (optionally with a passphrase). */
export function sshKeygenKeys(passphrase = ''): KeyFiles {
  const dir = mkdtempSync(join(tmpdir(), 'ssh-harness-keys-'));
  const files = { ed25519: join(dir, 'id_ed25519'), ecdsa: join(dir, 'id_ecdsa'), rsa: join(dir, 'id_rsa') };
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-f', files.ed25519]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ecdsa', '-b', '256', '-N', passphrase, '-f', files.ecdsa]);
  execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', passphrase, '-f', files.rsa]);
  const pub = (f: string) => readFileSync(`${f}.pub`, 'utf8').trim();
  return {
    dir, files,
    publicLines: { ed25519: pub(files.ed25519), ecdsa: pub(files.ecdsa), rsa: pub(files.rsa) },
    cleanup: () => { if (existsSync(dir)) rmSync(dir, { recursive: true, force: true }); },
  };
}
