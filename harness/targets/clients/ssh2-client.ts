/** `ssh2-client`: the ssh2 (npm) client in a child Node process (ssh2-client-process.ts). */
import type { Availability, ClientPeer, ClientResult, ClientRunOptions } from '../types.js';
import { childModule } from '../state.js';
import { ssh2Version } from '../ssh2-server.js';
import { PeerError } from '../errors.js';
import { runClientProcess } from './run-client.js';

const FIX = 'run `npm install` (ssh2 is an npm dependency of ssh-harness)';

async function run(o: ClientRunOptions): Promise<ClientResult> {
  if (!ssh2Version()) throw new PeerError('missing-binary', `ssh2-client: the ssh2 package is not installed; ${FIX}`);
  const child = childModule(import.meta.url, 'ssh2-client-process');
  return runClientProcess({
    command: process.execPath, args: [...child.nodeArgs, child.file],
    env: { ...process.env, SSH_HARNESS_CLIENT_CONFIG: JSON.stringify({ host: o.host, port: o.port, user: o.user, password: o.password, identity: o.identity, algorithms: o.algorithms ?? {}, command: o.command }) },
    stdin: o.stdin, timeoutMs: o.timeoutMs, fix: FIX,
  });
}

async function availability(): Promise<Availability> {
  const v = ssh2Version();
  return v ? { available: true, version: `ssh2 ${v}` } : { available: false, reason: `ssh2 package not installed; ${FIX}` };
}

export const ssh2Client: ClientPeer = { name: 'ssh2-client', kind: 'client', description: 'ssh2 (npm) client in a child Node process', availability, run };
