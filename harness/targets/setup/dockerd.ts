/**
 * A Docker daemon for the container peers: reuse a running one, else start `dockerd` detached in its own
 * session with no bridge and no iptables changes (the machine's networking stays untouched; containers use
 * the host network), log to a file, and wait a bounded time for it to answer.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PeerError, lastLines } from '../errors.js';
import { dockerPing, dockerServerVersion, dockerSocketPath } from '../docker-api.js';
import { findBinary } from '../local-tools.js';
import { isRoot, stateDir } from '../state.js';
import { pidAlive, procStartTime } from '../cleanup.js';

const DOCKERD_ARGS = ['--bridge=none', '--iptables=false', '--ip-masq=false'];
const READY_TIMEOUT_MS = 30_000;

export const dockerdLogPath = (): string => join(stateDir(), 'dockerd.log');
const dockerdPidRecord = (): string => join(stateDir(), 'dockerd.pid.json');

function comm(pid: number): string {
  try { return readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { return ''; }
}

/** A pid file left by a killed dockerd/containerd blocks the next start (/run is on disk on some VMs). */
function removeStalePidFiles(): string[] {
  const removed: string[] = [];
  for (const f of ['/var/run/docker.pid', '/var/run/docker/containerd/containerd.pid']) {
    if (!existsSync(f)) continue;
    const pid = Number(readFileSync(f, 'utf8').trim());
    if (!(pid > 0 && pidAlive(pid) && /^(dockerd|containerd)$/.test(comm(pid)))) {
      rmSync(f, { force: true });
      removed.push(f);
    }
  }
  return removed;
}

export interface DockerdResult { readonly started: boolean; readonly version: string; readonly note: string }

export async function ensureDockerd(): Promise<DockerdResult> {
  if ((await dockerPing()).ok) return { started: false, version: (await dockerServerVersion()) ?? '?', note: 'already running' };
  const bin = findBinary('dockerd');
  if (!bin) throw new PeerError('missing-binary', 'dockerd not found; install docker.io (run `ssh-harness peers setup` as root)');
  if (!isRoot()) throw new PeerError('not-root', `Docker daemon not reachable at ${dockerSocketPath()} and only root can start it; run setup as root`);
  const stale = removeStalePidFiles();
  const logPath = dockerdLogPath();
  const fd = openSync(logPath, 'a');
  // detached = setsid: dockerd survives this command and our terminal
  const child = spawn(bin, DOCKERD_ARGS, { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const failed = new Promise<string>((resolve) => {
    child.once('error', (e) => resolve(e.message));
    child.once('exit', (code, sig) => resolve(sig ? `signal ${sig}` : `exit ${code}`));
  });
  child.unref();
  if (child.pid) writeFileSync(dockerdPidRecord(), JSON.stringify({ pid: child.pid, pidStart: procStartTime(child.pid) }));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exited: string | undefined;
  void failed.then((why) => { exited = why; });
  while (Date.now() < deadline && exited === undefined) {
    if ((await dockerPing(1000)).ok) {
      return { started: true, version: (await dockerServerVersion()) ?? '?', note: `started pid ${child.pid}, log ${logPath}${stale.length ? `, removed stale ${stale.join(' ')}` : ''}` };
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const tail = lastLines(existsSync(logPath) ? readFileSync(logPath, 'utf8') : '', 30);
  throw new PeerError('docker-unavailable', `dockerd ${exited ? `exited (${exited})` : `did not answer within ${READY_TIMEOUT_MS / 1000} s`}; see ${logPath}`, tail);
}

/** `peers stop --dockerd`: stops the dockerd that setup started (by its recorded PID only). */
export async function stopOwnDockerd(): Promise<string> {
  const rec = dockerdPidRecord();
  if (!existsSync(rec)) return 'no dockerd started by setup';
  const { pid, pidStart } = JSON.parse(readFileSync(rec, 'utf8')) as { pid: number; pidStart?: string };
  rmSync(rec, { force: true });
  if (!pidAlive(pid) || procStartTime(pid) !== pidStart) return `dockerd pid ${pid} already gone`;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && pidAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (pidAlive(pid)) {
    process.kill(pid, 'SIGKILL');
    return `dockerd pid ${pid} killed after 10 s`;
  }
  return `dockerd pid ${pid} stopped`;
}
