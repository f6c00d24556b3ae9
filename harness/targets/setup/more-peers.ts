/**
 * Setup of the peers beyond OpenSSH/Dropbear/tinysshd/paramiko/AsyncSSH/ssh2: building our compiled peers (Go
 * x/crypto/ssh, libssh, Erlang/OTP ssh), lsh's keys and the test account's lsh authorization, and a start/probe/stop
 * of each new server to prove it serves (and to leave nothing listening: the ports open before and after must match).
 */
import { COMPILED_PEERS, ensureBuilt } from '../compiled-peers.js';
import { ensureLshAccount } from '../lsh.js';
import { ensureServerSeed, lshHostKey, lshIdentity } from '../lsh-keys.js';
import { getTarget } from '../registry.js';
import { probe } from '../banner.js';
import { listeningPorts } from './packages.js';

export async function buildCompiledPeers(): Promise<{ changed: boolean; detail: string }> {
  const parts: string[] = [];
  let changed = false;
  for (const p of COMPILED_PEERS) {
    const t0 = Date.now();
    const r = await ensureBuilt(p);
    changed ||= r.built;
    parts.push(`${p.name} ${r.built ? `built (${((Date.now() - t0) / 1000).toFixed(1)} s)` : 'up to date'}`);
  }
  return { changed, detail: parts.join(', ') };
}

export async function prepareLsh(): Promise<{ changed: boolean; detail: string }> {
  const seeded = await ensureServerSeed();
  await lshHostKey();
  const { changed, credentials } = await ensureLshAccount();
  await lshIdentity(credentials.privateKeyPath!);
  return { changed: changed || seeded, detail: `host key, server seed, ${credentials.user}'s RSA key authorized for lshd and converted for lsh` };
}

/** Servers whose setup this module owns: each is started, answers with a KEXINIT, and is stopped. */
export const MORE_SERVERS: readonly string[] = ['twisted', 'lsh', 'erlang', 'go', 'libssh'];

export async function verifyMoreServers(): Promise<{ changed: boolean; detail: string }> {
  const ports: number[] = [];
  const seen = await Promise.all(MORE_SERVERS.map(async (name) => {
    const t = await (await getTarget(name)).start({ startupTimeoutMs: 30_000 });
    ports.push(t.port);
    try {
      const p = await probe(t.host, t.port, { readKexInit: true, timeoutMs: 10_000 });
      return `${name}: ${p.version}, ${t.hostKeys.length} host key${t.hostKeys.length === 1 ? '' : 's'}`;
    } finally {
      await t.stop();
    }
  }));
  // the machine may be shared: only the ports our peers bound must be free again
  const listening = listeningPorts();
  const left = ports.filter((p) => listening.has(p));
  if (left.length) throw new Error(`ports still listening after the peers stopped: ${left.join(', ')}`);
  return { changed: false, detail: seen.join('; ') };
}
