/** Runs one client peer process to completion with a hard deadline; output is bounded. */
import { spawn } from 'node:child_process';
import type { ClientResult } from '../types.js';
import { PeerError } from '../errors.js';

const OUTPUT_LIMIT = 16 << 20;
export const DEFAULT_CLIENT_TIMEOUT_MS = 20_000;

export interface ClientProcessOptions {
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly stdin?: string | Uint8Array;
  readonly timeoutMs?: number;
  /** For the error when the binary is missing. */
  readonly fix: string;
}

export function runClientProcess(o: ClientProcessOptions): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    // own process group, so a timeout also ends helpers the client forked (askpass, ProxyCommand...)
    const child = spawn(o.command, [...o.args], { env: o.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => { if ((outLen += d.length) <= OUTPUT_LIMIT) out.push(d); });
    child.stderr.on('data', (d: Buffer) => { if ((errLen += d.length) <= OUTPUT_LIMIT) err.push(d); });
    child.stdin.on('error', () => { /* the client may exit before reading stdin */ });
    child.stdin.end(o.stdin ?? '');
    const kill = (): void => {
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { child.kill('SIGKILL'); }
    };
    const timer = setTimeout(() => { timedOut = true; kill(); }, o.timeoutMs ?? DEFAULT_CLIENT_TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
      reject(new PeerError('missing-binary', `${missing ? `${o.command} not found` : e.message}; ${o.fix}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ exitCode: timedOut ? null : code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), timedOut });
    });
  });
}
