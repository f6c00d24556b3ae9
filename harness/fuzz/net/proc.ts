/**
 * Resource use of a local peer from /proc (Linux): resident memory and open file descriptors of the daemon
 * and every process below it (sshd forks a child, and a privsep child, per connection). The resource oracle
 * compares samples taken when no fuzz connection is open, so per-connection processes do not count as growth.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { PeerResources } from '../link.js';

function children(): Map<number, number[]> {
  const kids = new Map<number, number[]>();
  let entries: string[];
  try { entries = readdirSync('/proc'); } catch { return kids; }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'latin1');
      // pid (comm) state ppid …: comm may contain spaces and parentheses, so split after the last ')'
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = kids.get(ppid) ?? [];
      list.push(Number(e));
      kids.set(ppid, list);
    } catch { /* the process ended meanwhile */ }
  }
  return kids;
}

export function peerResources(pid: number): PeerResources | undefined {
  const kids = children();
  const todo = [pid];
  let rssKiB = 0;
  let fds = 0;
  let processes = 0;
  for (let guard = 0; todo.length > 0 && guard < 10_000; guard++) {
    const p = todo.pop()!;
    try {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'latin1'));
      rssKiB += Number(m?.[1] ?? 0);
      fds += readdirSync(`/proc/${p}/fd`).length;
      processes++;
    } catch { /* gone */ }
    todo.push(...(kids.get(p) ?? []));
  }
  return processes > 0 ? { rssKiB, fds, processes } : undefined;
}
