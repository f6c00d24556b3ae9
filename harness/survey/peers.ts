/**
 * Who the survey covers: every built-in server target and client peer, each implementation once (aliases of the
 * same software are left out: `openssh` is `openssh:bookworm`, the host's `sshd` is the same OpenSSH 9.2p1 build,
 * `libssh:defaults` is `libssh` as shipped), plus our own reference server as the baseline row.
 */
import { BUILTIN_PEERS, clientPeerNames } from '../targets/registry.js';

/** Display names of the implementations behind the harness names. */
export const IMPLEMENTATIONS: Readonly<Record<string, string>> = {
  'self': 'ssh-harness (ours)',
  'openssh:bookworm': 'OpenSSH', 'openssh:trixie': 'OpenSSH', 'openssh': 'OpenSSH', 'sshd': 'OpenSSH', 'openssh-client': 'OpenSSH',
  'dropbear': 'Dropbear', 'dbclient': 'Dropbear',
  'tinyssh': 'tinysshd',
  'paramiko': 'paramiko', 'paramiko-client': 'paramiko',
  'asyncssh': 'AsyncSSH', 'asyncssh-client': 'AsyncSSH',
  'ssh2': 'ssh2 (npm)', 'ssh2-client': 'ssh2 (npm)',
  'plink': 'PuTTY',
  'twisted': 'Twisted Conch', 'twisted-client': 'Twisted Conch',
  'lsh': 'GNU lsh', 'lsh-client': 'GNU lsh',
  'erlang': 'Erlang/OTP ssh', 'erlang-client': 'Erlang/OTP ssh',
  'go': 'Go x/crypto/ssh', 'go:cbc': 'Go x/crypto/ssh', 'go-client': 'Go x/crypto/ssh',
  'libssh': 'libssh', 'libssh:defaults': 'libssh', 'libssh-client': 'libssh',
};

/** Not surveyed on their own: the same software as another entry. */
export const ALIASES: readonly string[] = ['openssh', 'sshd', 'libssh:defaults', 'go:cbc'];

export function implementationOf(peer: string): string {
  return IMPLEMENTATIONS[peer] ?? peer;
}

export function defaultSurveyServers(): string[] {
  const clients = new Set(clientPeerNames());
  // the sanitizer builds (`dropbear:instrumented`, `openssh:instrumented`) are the same implementations as their plain
  // rows, for grey-box fuzzing; name them to survey them
  return ['self', ...BUILTIN_PEERS.filter((n) => !clients.has(n) && !ALIASES.includes(n) && !n.endsWith(':instrumented'))];
}

export function defaultSurveyClients(): string[] {
  return BUILTIN_PEERS.filter((n) => clientPeerNames().includes(n));
}
