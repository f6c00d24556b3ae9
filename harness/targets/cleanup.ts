/**
 * Guaranteed cleanup of what this process started. Everything running is tracked in memory (stopped on
 * normal exit, SIGINT, SIGTERM) and on disk under `<state>/running/` so `ssh-harness peers stop` can end
 * leftovers of a run that was killed outright. Only PIDs/container ids we recorded are ever signalled; a PID
 * is signalled only if its start time still matches (the kernel may have reused the number).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stateSubdir } from './state.js';

export interface RunningRecord {
  readonly kind: 'process' | 'container';
  readonly label: string;
  /** Process (group leader) id; signals go to the group so per-connection children end too. */
  readonly pid?: number;
  /** /proc/<pid>/stat starttime, to recognise the same process later. */
  readonly pidStart?: string;
  readonly containerId?: string;
  readonly owner: number;
  readonly startedAt: string;
}

interface Live { record: RunningRecord; file: string; stop: () => Promise<void> }

const live = new Map<string, Live>();
let seq = 0;
let handlersInstalled = false;

export function procStartTime(pid: number): string | undefined {
  try {
    // field 22 of /proc/PID/stat; the comm field (2) may contain spaces, so split after its closing ')'
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // a zombie is gone for our purposes
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** Registers something running; returns the function that forgets it once it is stopped. */
export function track(record: Omit<RunningRecord, 'owner' | 'startedAt' | 'pidStart'>, stop: () => Promise<void>): () => void {
  installHandlers();
  const key = `${process.pid}-${++seq}`;
  const full: RunningRecord = {
    ...record,
    ...(record.pid !== undefined ? { pidStart: procStartTime(record.pid) } : {}),
    owner: process.pid,
    startedAt: new Date().toISOString(),
  };
  const file = join(stateSubdir('running'), `${key}.json`);
  try {
    writeFileSync(file, JSON.stringify(full));
  } catch {
    // the on-disk record is a convenience for `peers stop`; in-memory tracking still guarantees cleanup
  }
  live.set(key, { record: full, file, stop });
  return () => {
    live.delete(key);
    rmSync(file, { force: true });
  };
}

export function runningCount(): number {
  return live.size;
}

/** Stops everything this process started (used by signal handlers and test `after` hooks). */
export async function stopAll(): Promise<void> {
  await Promise.allSettled([...live.values()].map((l) => l.stop()));
}

function killRecordSync(r: RunningRecord): void {
  if (r.pid !== undefined && (r.pidStart === undefined || procStartTime(r.pid) === r.pidStart)) {
    try { process.kill(-r.pid, 'SIGKILL'); } catch { /* not a group leader or gone */ }
    try { process.kill(r.pid, 'SIGKILL'); } catch { /* gone */ }
  }
  if (r.containerId) {
    try { execFileSync('docker', ['rm', '-f', r.containerId], { stdio: 'ignore', timeout: 10_000 }); } catch { /* gone or no docker */ }
  }
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  // 'exit' handlers must be synchronous: kill by PID / remove by container id, no waiting
  process.on('exit', () => {
    for (const l of live.values()) {
      killRecordSync(l.record);
      rmSync(l.file, { force: true });
    }
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      // the first signal of a command that can end gracefully goes to it; the next one ends the process
      if (graceful.size > 0 && !gracefulAsked) {
        gracefulAsked = true;
        for (const f of [...graceful]) f(sig);
        return;
      }
      process.off(sig, onSignal);
      const bound = setTimeout(() => process.exit(sig === 'SIGINT' ? 130 : 143), 5000);
      void stopAll().finally(() => {
        clearTimeout(bound);
        process.exit(sig === 'SIGINT' ? 130 : 143);
      });
    };
    process.on(sig, onSignal);
  }
}

const graceful = new Set<(sig: NodeJS.Signals) => void>();
let gracefulAsked = false;

/**
 * Lets a long command (a fuzz campaign) end gracefully on the first SIGINT/SIGTERM/SIGHUP: `onFirst` is called
 * instead of stopping everything and exiting, so the command can finish what is in flight and write its report
 * while its peers still run. A second signal stops the peers and exits at once, as without this. Returns the
 * function that unregisters `onFirst`.
 */
export function onFirstSignal(onFirst: (sig: NodeJS.Signals) => void): () => void {
  installHandlers();
  graceful.add(onFirst);
  return () => { graceful.delete(onFirst); };
}

export interface StopReport { readonly label: string; readonly what: string; readonly result: 'stopped' | 'already gone' }

/** `peers stop`: ends every recorded process/container of any harness run on this machine. */
export function stopRecorded(): StopReport[] {
  const dir = stateSubdir('running');
  const out: StopReport[] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
    const file = join(dir, name);
    let r: RunningRecord;
    try {
      r = JSON.parse(readFileSync(file, 'utf8')) as RunningRecord;
    } catch {
      rmSync(file, { force: true });
      continue;
    }
    const what = r.containerId ? `container ${r.containerId.slice(0, 12)}` : `pid ${r.pid}`;
    const alive = r.pid !== undefined ? pidAlive(r.pid) && procStartTime(r.pid) === r.pidStart : containerExists(r.containerId);
    if (alive) killRecordSync(r);
    rmSync(file, { force: true });
    out.push({ label: r.label, what, result: alive ? 'stopped' : 'already gone' });
  }
  return out;
}

function containerExists(id: string | undefined): boolean {
  if (!id || !existsSync('/var/run/docker.sock')) return false;
  try {
    execFileSync('docker', ['inspect', '--type', 'container', id], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}
