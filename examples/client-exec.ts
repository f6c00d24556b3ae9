/**
 * The reference client against any SSH server: connect (with a pinned host key from known_hosts), authenticate,
 * run a command, read stdout/stderr and the exit status (paramiko: Transport + open_session + exec_command).
 * Run: SSH_HOST=127.0.0.1 SSH_PORT=22 SSH_USER=me SSH_PASSWORD=... npx tsx examples/client-exec.ts 'uname -a'
 */
import { readFileSync } from 'node:fs';
import { checkKnownHost, HostKeyMismatch, parseKnownHosts, Transport } from '../impl/index.js';

const host = process.env.SSH_HOST ?? '127.0.0.1';
const port = Number(process.env.SSH_PORT ?? 22);
const knownHostsFile = process.env.SSH_KNOWN_HOSTS;
const knownHosts = knownHostsFile ? parseKnownHosts(readFileSync(knownHostsFile, 'utf8')) : undefined;

const t = new Transport([host, port], {
  // strict host key checking against known_hosts (hashed entries and [host]:port included)
  verifyHostKey: (key) => {
    if (!knownHosts) return true;
    const status = checkKnownHost(knownHosts, host, port, key.blob);
    if (status !== 'match') throw new HostKeyMismatch(`host key for ${host}:${port}: ${status}`);
    return true;
  },
});
await t.connect({ username: process.env.SSH_USER ?? 'root', password: process.env.SSH_PASSWORD ?? '' });
const session = await t.openSession();
await session.exec(process.argv[2] ?? 'echo hello');
session.pipe(process.stdout);
session.stderr.pipe(process.stderr);
const code = await session.exitStatus();
await t.close();
process.exitCode = code ?? 1;
