/**
 * `dbclient`: Dropbear's client. Password via DROPBEAR_PASSWORD, key via -i (a Dropbear-format copy made
 * with dropbearconvert and cached). Dropbear chooses kex, host key and compression at compile time, so only
 * cipher (-c) and MAC (-m) lists can be given.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Availability, ClientPeer, ClientResult, ClientRunOptions } from '../types.js';
import { PeerError } from '../errors.js';
import { findBinary, outputOf } from '../local-tools.js';
import { stateSubdir } from '../state.js';
import { runClientProcess } from './run-client.js';

const execFileP = promisify(execFile);
const FIX = 'install dropbear-bin (run `ssh-harness peers setup`)';

/** dbclient reads Dropbear's own key format; convert once per key file version. */
export async function dropbearIdentity(openSshKey: string): Promise<string> {
  const st = statSync(openSshKey);
  const id = createHash('sha256').update(`${openSshKey}:${st.mtimeMs}:${st.size}`).digest('hex').slice(0, 16);
  const out = join(stateSubdir('client-dropbear'), `${id}.dropbear`);
  if (existsSync(out)) return out;
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    await execFileP(findBinary('dropbearconvert') ?? 'dropbearconvert', ['openssh', 'dropbear', openSshKey, tmp]);
  } catch (e) {
    throw new PeerError('missing-binary', `dropbearconvert could not convert ${openSshKey} (${(e as Error).message.split('\n')[0]}); ${FIX}`);
  }
  renameSync(tmp, out);
  return out;
}

async function run(o: ClientRunOptions): Promise<ClientResult> {
  const a = o.algorithms ?? {};
  if (a.kex?.length || a.hostKey?.length || a.compression?.length) {
    throw new PeerError('unsupported-option', 'dbclient cannot choose kex, host key or compression algorithms at runtime (only -c ciphers, -m MACs)');
  }
  const args = ['-y', '-y', '-T', '-p', String(o.port), '-l', o.user];
  if (o.identity) args.push('-i', await dropbearIdentity(o.identity));
  if (a.cipher?.length) args.push('-c', a.cipher.join(','));
  if (a.mac?.length) args.push('-m', a.mac.join(','));
  args.push(o.host, o.command);
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (o.password !== undefined) env['DROPBEAR_PASSWORD'] = o.password;
  else delete env['DROPBEAR_PASSWORD'];
  const r = await runClientProcess({ command: findBinary('dbclient') ?? 'dbclient', args, env, stdin: o.stdin, timeoutMs: o.timeoutMs, fix: FIX });
  // dbclient exits 0 when the connection ends before a command ran (e.g. auth failed: "Connection to
  // user@host:port exited: Disconnect received"); report that like ssh does, as 255
  return r.exitCode === 0 && /Connection to \S+ exited: /.test(r.stderr) ? { ...r, exitCode: 255 } : r;
}

async function availability(): Promise<Availability> {
  const bin = findBinary('dbclient');
  if (!bin) return { available: false, reason: `dbclient not found; ${FIX}` };
  return { available: true, version: /v(\d[\d.]*)/.exec(await outputOf(bin, ['-V']))?.[0] ?? 'unknown' };
}

export const dbclient: ClientPeer = { name: 'dbclient', kind: 'client', description: 'Dropbear dbclient', availability, run };
