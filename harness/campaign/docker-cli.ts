/**
 * The docker command line, for what the Engine API calls in harness/targets/docker-api.ts do not cover (swarm,
 * services, volumes, commit): every call bounded in time, its stderr in the error.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { PeerError } from '../targets/errors.js';

const run = promisify(execFile);

export async function docker(args: readonly string[], timeoutMs: number): Promise<string> {
  try {
    return (await run('docker', [...args], { timeout: timeoutMs, maxBuffer: 16 << 20 })).stdout.trim();
  } catch (e) {
    const err = e as { stderr?: string; message: string; code?: unknown };
    if (err.code === 'ENOENT') throw new PeerError('missing-binary', 'the docker command is not installed (ssh-harness peers setup installs docker.io)');
    throw new PeerError('setup-failed', `docker ${args.slice(0, 2).join(' ')} failed: ${(err.stderr || err.message).trim().slice(-2000)}`);
  }
}
