/**
 * `plink`: PuTTY's command-line client. It never accepts an unknown host key in -batch mode, so the
 * server's fingerprints are passed with -hostkey (from the caller, else from ssh-keyscan). Password via
 * -pwfile, key via a cached .ppk made by puttygen. PuTTY takes algorithm preferences only from saved
 * sessions, so algorithm lists (other than compression, -C) are refused.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Availability, ClientPeer, ClientResult, ClientRunOptions } from '../types.js';
import { PeerError } from '../errors.js';
import { findBinary, outputOf, tempDir } from '../local-tools.js';
import { stateSubdir } from '../state.js';
import { fingerprintOf } from '../host-keys.js';
import { runClientProcess } from './run-client.js';

const execFileP = promisify(execFile);
const FIX = 'install putty-tools (run `ssh-harness peers setup`)';

async function ppkOf(openSshKey: string): Promise<string> {
  const st = statSync(openSshKey);
  const id = createHash('sha256').update(`${openSshKey}:${st.mtimeMs}:${st.size}`).digest('hex').slice(0, 16);
  const out = join(stateSubdir('client-ppk'), `${id}.ppk`);
  if (existsSync(out)) return out;
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    await execFileP(findBinary('puttygen') ?? 'puttygen', [openSshKey, '-O', 'private', '-o', tmp]);
  } catch (e) {
    throw new PeerError('missing-binary', `puttygen could not convert ${openSshKey} (${(e as Error).message.split('\n')[0]}); ${FIX}`);
  }
  renameSync(tmp, out);
  return out;
}

/** Fingerprints of every host key the server offers, via ssh-keyscan (OpenSSH client tools). */
async function scanFingerprints(host: string, port: number): Promise<string[]> {
  const out = await outputOf(findBinary('ssh-keyscan') ?? 'ssh-keyscan', ['-T', '5', '-p', String(port), host], 10_000);
  return out.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.trim().split(/\s+/)[2]).filter((b): b is string => !!b)
    .map((b64) => fingerprintOf(new Uint8Array(Buffer.from(b64, 'base64'))));
}

async function run(o: ClientRunOptions): Promise<ClientResult> {
  const a = o.algorithms ?? {};
  if (a.kex?.length || a.hostKey?.length || a.cipher?.length || a.mac?.length) {
    throw new PeerError('unsupported-option', 'plink takes algorithm preferences only from saved sessions; give no kex/hostKey/cipher/mac lists (compression: zlib via -C)');
  }
  const fps = o.hostKeyFingerprints?.length ? [...o.hostKeyFingerprints] : await scanFingerprints(o.host, o.port);
  const dir = tempDir('plink');
  try {
    const args = ['-ssh', '-batch', '-no-antispoof', '-noagent', '-T', '-P', String(o.port), '-l', o.user];
    for (const fp of fps) args.push('-hostkey', fp);
    if (o.password !== undefined) {
      const pwfile = join(dir.path, 'pw');
      writeFileSync(pwfile, o.password, { mode: 0o600 });
      args.push('-pwfile', pwfile);
    }
    if (o.identity) args.push('-i', await ppkOf(o.identity));
    if (a.compression?.some((n) => n !== 'none')) args.push('-C');
    args.push(o.host, o.command);
    // HOME in the temp dir: plink must not read or write the user's ~/.putty
    const env = { ...process.env, HOME: dir.path };
    return await runClientProcess({ command: findBinary('plink') ?? 'plink', args, env, stdin: o.stdin, timeoutMs: o.timeoutMs, fix: FIX });
  } finally {
    dir.remove();
  }
}

async function availability(): Promise<Availability> {
  const bin = findBinary('plink');
  if (!bin) return { available: false, reason: `plink not found; ${FIX}` };
  return { available: true, version: /Release ([\d.]+)/.exec(await outputOf(bin, ['-V']))?.[1] ?? 'unknown' };
}

export const plink: ClientPeer = { name: 'plink', kind: 'client', description: 'PuTTY plink', availability, run };
