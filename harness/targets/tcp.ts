/**
 * `tcp://host:port`: a server somebody else started. We only read its banner (and, when ssh-keyscan is
 * installed, its host keys); credentials come from the caller (`--user/--password/--identity`).
 */
import { readFileSync } from 'node:fs';
import type { Availability, Credentials, RunningTarget, StartOptions, Target } from './types.js';
import type { HostKeyInfo } from './types.js';
import { probe } from './banner.js';
import { PeerError } from './errors.js';
import { parsePublicKeyLine } from './host-keys.js';
import { findBinary, outputOf } from './local-tools.js';

export function parseTcpUrl(url: string): { host: string; port: number } {
  const m = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d{1,5})\/?$/.exec(url);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) throw new PeerError('unknown-target', `bad target ${JSON.stringify(url)}: expected tcp://HOST:PORT, e.g. tcp://127.0.0.1:2222`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

async function keyscan(host: string, port: number): Promise<HostKeyInfo[]> {
  const bin = findBinary('ssh-keyscan');
  if (!bin) return [];
  const out = await outputOf(bin, ['-T', '3', '-p', String(port), host], 8000);
  const keys: HostKeyInfo[] = [];
  for (const line of out.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (line.startsWith('#') || fields.length < 3) continue;
    try { keys.push(parsePublicKeyLine(fields.slice(1).join(' '))); } catch { /* not a key line */ }
  }
  return keys;
}

export function tcpTarget(url: string, credentials: Credentials = { user: process.env['USER'] ?? 'root' }): Target {
  const { host, port } = parseTcpUrl(url);
  const availability = async (): Promise<Availability> => {
    try {
      const p = await probe(host, port, { timeoutMs: 3000 });
      return { available: true, version: p.version };
    } catch (e) {
      return { available: false, reason: `${url}: ${(e as Error).message}; start the server or fix the address` };
    }
  };
  const start = async (opts: StartOptions = {}): Promise<RunningTarget> => {
    if (opts.algorithms || opts.authMethods || opts.port !== undefined || opts.extraConfig) {
      throw new PeerError('unsupported-option', `${url} is already running: algorithms, auth methods and port cannot be changed from here`);
    }
    let p;
    try {
      p = await probe(host, port, { timeoutMs: opts.startupTimeoutMs ?? 5000 });
    } catch (e) {
      throw new PeerError('startup-failed', `${url}: no SSH banner (${(e as Error).message}); is the server running?`);
    }
    const hostKeys = await keyscan(host, port);
    if (credentials.privateKeyPath && !credentials.publicKeyLine) {
      try { credentials = { ...credentials, publicKeyLine: readFileSync(credentials.privateKeyPath + '.pub', 'utf8').trim() }; } catch { /* optional */ }
    }
    return {
      name: url, host, port, banner: p.banner, version: p.version, hostKeys, credentials,
      logs: () => '', stop: async () => {},
    };
  };
  return { name: url, kind: 'server', description: 'an already-running server', availability, start };
}
