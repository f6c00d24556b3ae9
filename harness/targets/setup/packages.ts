/**
 * Debian packages the peers need, installed non-interactively and without letting any of them
 * start a daemon: a temporary /usr/sbin/policy-rc.d answers 101 ("action forbidden") to every
 * invoke-rc.d call during the install, so nothing ever listens on :22.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PeerError } from '../errors.js';
import { isRoot, stateDir } from '../state.js';

const run = promisify(execFile);

export const PEER_PACKAGES: readonly string[] = [
  'openssh-server', 'openssh-client', 'dropbear-bin', 'tinysshd', 'python3-paramiko', 'python3-asyncssh',
  'putty-tools', 'sshpass', 'ssh-audit', 'tshark', 'docker.io', 'debootstrap',
  // not peers: the browser the HTML report test drives headless (harness/report/browser.test.ts), and a font
  // for it that apt would otherwise only recommend
  'chromium', 'fonts-liberation',
  // Graphviz's dot draws learned state machines (ssh-harness learn: SVG in the report)
  'graphviz',
  // more independent implementations: Twisted Conch, GNU lsh (+ nettle's sexp-conv/pkcs1-conv for its keys),
  // Erlang/OTP ssh, Go's x/crypto/ssh (GOPATH sources) and libssh, the last three built into small peers of ours
  'python3-twisted', 'lsh-server', 'lsh-client', 'lsh-utils', 'nettle-bin', 'erlang-base', 'erlang-ssh',
  'golang-go', 'golang-golang-x-crypto-dev', 'libssh-dev', 'gcc',
];

export async function missingPackages(pkgs: readonly string[] = PEER_PACKAGES): Promise<string[]> {
  let out: string;
  try {
    // dpkg-query exits 1 when some package is unknown but still prints the known ones
    out = (await run('dpkg-query', ['-W', '-f=${Package} ${db:Status-Abbrev}\n', ...pkgs]).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }))).stdout;
  } catch {
    throw new PeerError('setup-failed', 'dpkg-query not found: peer setup needs a Debian/Ubuntu machine with apt');
  }
  if (!existsSync('/usr/bin/dpkg-query')) throw new PeerError('setup-failed', 'dpkg-query not found: peer setup needs a Debian/Ubuntu machine with apt');
  const installed = new Set(out.split('\n').filter((l) => / ii\s*$/.test(l)).map((l) => l.split(' ')[0]));
  return pkgs.filter((p) => !installed.has(p));
}

/** Ports in LISTEN state on any address, from /proc/net/tcp{,6} (no iproute2 needed). */
export function listeningPorts(): Set<number> {
  const ports = new Set<number>();
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try { text = readFileSync(f, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A') ports.add(parseInt(cols[1]!.split(':')[1]!, 16)); // 0A = TCP_LISTEN
    }
  }
  return ports;
}

function runLogged(cmd: string, args: readonly string[], logPath: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    const keep = (d: Buffer): void => { log += d.toString(); if (log.length > 1 << 20) log = log.slice(-(1 << 19)); };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      writeFileSync(logPath, log, { flag: 'a' });
      if (code === 0) resolve();
      else reject(new PeerError('setup-failed', `${cmd} ${args.slice(0, 3).join(' ')} failed (${sig ?? `exit ${code}`}); see ${logPath}`, log));
    });
  });
}

export interface PackageResult { readonly installed: readonly string[]; readonly log: string }

export async function installPackages(missing: readonly string[]): Promise<PackageResult> {
  if (missing.length === 0) return { installed: [], log: '' };
  if (!isRoot()) throw new PeerError('not-root', `missing packages ${missing.join(' ')}; run setup as root (sudo npx ssh-harness peers setup) or install them with apt-get`);
  const log = join(stateDir(), 'setup-apt.log');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', NEEDRESTART_MODE: 'a' };
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !existsSync(policy);
  if (ownPolicy) writeFileSync(policy, '#!/bin/sh\n# ssh-harness setup: no service may start while peers install\nexit 101\n', { mode: 0o755 });
  const before = listeningPorts().has(22);
  try {
    // tshark asks whether non-root users may capture; answer no, without a prompt
    await new Promise<void>((resolve) => {
      const c = execFile('debconf-set-selections', () => resolve());
      c.stdin?.end('wireshark-common wireshark-common/install-setuid boolean false\n');
    });
    // wait for a dpkg lock held by another apt run instead of failing at once
    const lock = ['-o', 'DPkg::Lock::Timeout=120'];
    await runLogged('apt-get', [...lock, 'update', '-q'], log, env, 300_000);
    await runLogged('apt-get', [...lock, 'install', '-y', '-q', '--no-install-recommends', '-o', 'Dpkg::Options::=--force-confold', ...missing], log, env, 900_000);
  } finally {
    if (ownPolicy) rmSync(policy, { force: true });
  }
  if (!before && listeningPorts().has(22)) {
    // belt and braces: a package started its daemon despite policy-rc.d; stop that service, not a process pattern
    for (const svc of ['ssh', 'dropbear', 'tinysshd', 'lsh-server']) await run('service', [svc, 'stop']).catch(() => undefined);
    if (listeningPorts().has(22)) throw new PeerError('setup-failed', 'after installing packages something listens on :22; stop it (`service ssh stop`) and rerun setup');
  }
  const still = await missingPackages(missing);
  if (still.length) throw new PeerError('setup-failed', `apt-get did not install ${still.join(' ')}; see ${log}`);
  return { installed: missing, log };
}
