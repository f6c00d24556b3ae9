/**
 * `openssh-client`: the OpenSSH `ssh` binary. Password via SSH_ASKPASS with SSH_ASKPASS_REQUIRE=force
 * (OpenSSH >= 8.4; no tty, no sshpass needed), publickey via -i. User config and known_hosts are ignored.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Availability, ClientPeer, ClientResult, ClientRunOptions } from '../types.js';
import { findBinary, outputOf, tempDir } from '../local-tools.js';
import { runClientProcess } from './run-client.js';

const FIX = 'install openssh-client (run `ssh-harness peers setup`)';

export function opensshAlgorithmOptions(a: ClientRunOptions['algorithms']): string[] {
  if (!a) return [];
  const o: string[] = [];
  if (a.kex?.length) o.push('-o', `KexAlgorithms=${a.kex.join(',')}`);
  if (a.hostKey?.length) o.push('-o', `HostKeyAlgorithms=${a.hostKey.join(',')}`);
  if (a.cipher?.length) o.push('-o', `Ciphers=${a.cipher.join(',')}`);
  if (a.mac?.length) o.push('-o', `MACs=${a.mac.join(',')}`);
  // ssh_config(5): Compression yes offers zlib@openssh.com,zlib,none; no offers none only
  if (a.compression?.length) o.push('-o', `Compression=${a.compression.some((n) => n !== 'none') ? 'yes' : 'no'}`);
  return o;
}

async function run(o: ClientRunOptions): Promise<ClientResult> {
  const bin = findBinary('ssh') ?? 'ssh';
  const dir = tempDir('ssh-client');
  try {
    const env: NodeJS.ProcessEnv = { ...process.env };
    const auth: string[] = [];
    if (o.password !== undefined) {
      const askpass = join(dir.path, 'askpass');
      writeFileSync(askpass, '#!/bin/sh\nprintf \'%s\\n\' "$SSH_HARNESS_PASSWORD"\n', { mode: 0o700 });
      Object.assign(env, { SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', SSH_HARNESS_PASSWORD: o.password, DISPLAY: env['DISPLAY'] ?? ':0' });
      auth.push('-o', 'NumberOfPasswordPrompts=1', '-o', 'BatchMode=no');
    } else {
      auth.push('-o', 'BatchMode=yes');
    }
    if (o.identity) auth.push('-i', o.identity, '-o', 'IdentitiesOnly=yes');
    else auth.push('-o', 'PubkeyAuthentication=no');
    const methods = [...(o.identity ? ['publickey'] : []), ...(o.password !== undefined ? ['password', 'keyboard-interactive'] : [])];
    const args = [
      '-F', '/dev/null', '-T',
      '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'GlobalKnownHostsFile=/dev/null',
      '-o', 'IdentityAgent=none', '-o', 'LogLevel=ERROR', '-o', `ConnectTimeout=${Math.ceil((o.timeoutMs ?? 20_000) / 1000)}`,
      ...(methods.length ? ['-o', `PreferredAuthentications=${methods.join(',')}`] : []),
      ...auth, ...opensshAlgorithmOptions(o.algorithms),
      '-p', String(o.port), '-l', o.user, o.host, '--', o.command,
    ];
    return await runClientProcess({ command: bin, args, env, stdin: o.stdin, timeoutMs: o.timeoutMs, fix: FIX });
  } finally {
    dir.remove();
  }
}

async function availability(): Promise<Availability> {
  const bin = findBinary('ssh');
  if (!bin) return { available: false, reason: `ssh not found; ${FIX}` };
  return { available: true, version: /OpenSSH_[^\s,]+/.exec(await outputOf(bin, ['-V']))?.[0] ?? 'unknown' };
}

export const opensshClient: ClientPeer = { name: 'openssh-client', kind: 'client', description: 'OpenSSH ssh', availability, run };
