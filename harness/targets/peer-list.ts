/** What `ssh-harness peers list` shows: every registered peer, whether it can run here, and its version. */
import { clientPeerNames, getClientPeer, getTarget, targetNames } from './registry.js';

export interface PeerRow {
  readonly name: string;
  readonly kind: 'server' | 'client';
  readonly available: boolean;
  readonly version?: string;
  readonly reason?: string;
  readonly description: string;
}

export async function listPeers(only?: readonly string[]): Promise<PeerRow[]> {
  const rows: Promise<PeerRow>[] = [];
  const wanted = (name: string): boolean => !only || only.includes(name);
  for (const name of targetNames().filter(wanted)) {
    rows.push((async () => {
      try {
        const t = await getTarget(name);
        return { name, kind: 'server' as const, description: t.description, ...(await t.availability()) };
      } catch (e) {
        return { name, kind: 'server' as const, description: '', available: false, reason: (e as Error).message };
      }
    })());
  }
  for (const name of clientPeerNames().filter(wanted)) {
    rows.push((async () => {
      try {
        const c = await getClientPeer(name);
        return { name, kind: 'client' as const, description: c.description, ...(await c.availability()) };
      } catch (e) {
        return { name, kind: 'client' as const, description: '', available: false, reason: (e as Error).message };
      }
    })());
  }
  return Promise.all(rows);
}

/** Plain fixed-width table; peer-supplied text is single-lined. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const clean = (s: string): string => s.replace(/\s+/g, ' ').trim();
  const all = [header, ...rows].map((r) => r.map(clean));
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(all[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...all.slice(1).map(line)].join('\n');
}

export function peerTable(rows: readonly PeerRow[]): string {
  return formatTable(['peer', 'kind', 'available', 'version / reason'],
    rows.map((r) => [r.name, r.kind, r.available ? 'yes' : 'NO', r.available ? (r.version ?? '') : (r.reason ?? '')]));
}
