/**
 * `lsh-client`: GNU lsh's client 2.1. Password via --askpass (a script that prints it without a newline: lsh
 * reads the helper's whole output as the password), publickey via the test account's RSA key converted to lsh's
 * format (lsh-keys.ts; lsh has no Ed25519/ECDSA, so an identity of another type falls back to the password when
 * one is given). lsh trusts an unknown host key only after asking on a terminal, which -q skips: it runs with
 * -q --sloppy-host-authentication and does not check the fingerprints it is given (and -q also silences its own
 * error messages; the exit status still says whether the session worked). HOME is a temp dir of ours with a seed file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AlgorithmLists, Availability, ClientPeer, ClientResult, ClientRunOptions } from '../types.js';
import { findBinary, outputOf, tempDir } from '../local-tools.js';
import { lshHome, lshIdentity, LSH_FIX } from '../lsh-keys.js';
import { lshAlgorithmArgs } from '../lsh.js';
import { cleanEnv } from '../listening-peer.js';
import { PeerError } from '../errors.js';
import { runClientProcess } from './run-client.js';

/** What our server must offer besides its defaults for lsh to connect at all: lsh 2.1 knows only these. */
export const LSH_SERVER_ALGORITHMS: AlgorithmLists = { kex: ['diffie-hellman-group14-sha1'], hostKey: ['ssh-rsa'], cipher: ['aes256-cbc'] };

function isRsaKey(path: string): boolean {
  const pub = (() => { try { return readFileSync(`${path}.pub`, 'utf8'); } catch { return ''; } })();
  return pub.startsWith('ssh-rsa ');
}

async function run(o: ClientRunOptions): Promise<ClientResult> {
  const algArgs = lshAlgorithmArgs('lsh-client', o.algorithms);
  const bin = findBinary('lsh');
  if (!bin) throw new PeerError('missing-binary', `lsh-client: lsh not found; ${LSH_FIX}`);
  let identity: string | undefined;
  if (o.identity) {
    if (isRsaKey(o.identity)) identity = await lshIdentity(o.identity);
    else if (o.password === undefined) throw new PeerError('unsupported-option', 'lsh-client: lsh 2.1 authenticates with RSA or DSA keys only');
  }
  const dir = tempDir('lsh-client');
  try {
    const home = await lshHome(dir.path);
    const args = ['-q', '--sloppy-host-authentication', `--capture-to=${join(dir.path, 'captured')}`, '--no-pty', '-p', String(o.port), '-l', o.user, ...algArgs];
    if (identity) args.push('-i', identity);
    else args.push('--no-publickey');
    if (o.password !== undefined) {
      const askpass = join(dir.path, 'askpass');
      writeFileSync(askpass, '#!/bin/sh\nprintf %s "$SSH_HARNESS_PASSWORD"\n', { mode: 0o700 });
      args.push(`--askpass=${askpass}`);
    }
    args.push(o.host, o.command);
    const env = cleanEnv({ HOME: home, ...(o.password !== undefined ? { SSH_HARNESS_PASSWORD: o.password } : {}) });
    return await runClientProcess({ command: bin, args, env, stdin: o.stdin, timeoutMs: o.timeoutMs, fix: LSH_FIX });
  } finally {
    dir.remove();
  }
}

async function availability(): Promise<Availability> {
  const bin = findBinary('lsh');
  if (!bin) return { available: false, reason: `lsh not found; ${LSH_FIX}` };
  for (const t of ['lsh-make-seed', 'pkcs1-conv']) if (!findBinary(t)) return { available: false, reason: `${t} not found; ${LSH_FIX}` };
  return { available: true, version: `lsh ${/lsh-([\d.]+)/.exec(await outputOf(bin, ['--version']))?.[1] ?? 'unknown'}` };
}

export const lshClient: ClientPeer = {
  name: 'lsh-client', kind: 'client', description: 'GNU lsh client (lsh -q --sloppy-host-authentication)', availability, run,
  serverAlgorithms: LSH_SERVER_ALGORITHMS, userKeyTypes: ['ssh-rsa', 'ssh-dss'],
};
