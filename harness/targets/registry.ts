/**
 * Name → peer. Built-in peers register lazily (a container target loads testcontainers only when used);
 * the lead's `self` target plugs in with registerTarget('self', factory).
 */
import type { ClientPeer, Credentials, Target } from './types.js';
import { PeerError } from './errors.js';
import { tcpTarget } from './tcp.js';

export type TargetFactory = () => Target | Promise<Target>;
export type ClientPeerFactory = () => ClientPeer | Promise<ClientPeer>;

const targets = new Map<string, TargetFactory>();
const clients = new Map<string, ClientPeerFactory>();

export function registerTarget(name: string, factory: TargetFactory): void {
  targets.set(name, factory);
}

export function registerClientPeer(name: string, factory: ClientPeerFactory): void {
  clients.set(name, factory);
}

export function targetNames(): string[] {
  return [...targets.keys()];
}

export function clientPeerNames(): string[] {
  return [...clients.keys()];
}

/** `name` is a registered target or `tcp://host:port` (then `credentials` are what the server accepts). */
export async function getTarget(name: string, credentials?: Credentials): Promise<Target> {
  if (name.startsWith('tcp://')) return tcpTarget(name, credentials);
  const f = targets.get(name);
  if (!f) throw new PeerError('unknown-target', `unknown target ${JSON.stringify(name)}; known: ${[...targets.keys(), 'tcp://HOST:PORT'].join(', ')}`);
  return f();
}

export async function getClientPeer(name: string): Promise<ClientPeer> {
  const f = clients.get(name);
  if (!f) throw new PeerError('unknown-target', `unknown client peer ${JSON.stringify(name)}; known: ${[...clients.keys()].join(', ')}`);
  return f();
}

/** The peers this module registers (what `peers setup` installs and must leave available). */
export const BUILTIN_PEERS: readonly string[] = [
  'openssh', 'openssh:bookworm', 'openssh:trixie', 'sshd', 'dropbear', 'tinyssh', 'paramiko', 'asyncssh', 'ssh2',
  'twisted', 'lsh', 'erlang', 'go', 'libssh', 'dropbear:instrumented', 'openssh:instrumented',
  'openssh-client', 'dbclient', 'plink', 'paramiko-client', 'asyncssh-client', 'ssh2-client',
  'twisted-client', 'lsh-client', 'erlang-client', 'go-client', 'libssh-client',
];

// Built-in server peers. More register here as they land.
registerTarget('openssh', async () => (await import('./openssh-container.js')).opensshContainerTarget('openssh', 'bookworm'));
registerTarget('openssh:bookworm', async () => (await import('./openssh-container.js')).opensshContainerTarget('openssh:bookworm', 'bookworm'));
registerTarget('openssh:trixie', async () => (await import('./openssh-container.js')).opensshContainerTarget('openssh:trixie', 'trixie'));
registerTarget('sshd', async () => (await import('./sshd.js')).sshdTarget);
registerTarget('dropbear', async () => (await import('./dropbear.js')).dropbearTarget);
registerTarget('tinyssh', async () => (await import('./tinyssh.js')).tinysshTarget);
registerTarget('paramiko', async () => (await import('./python-servers.js')).paramikoTarget);
registerTarget('asyncssh', async () => (await import('./python-servers.js')).asyncsshTarget);
registerTarget('ssh2', async () => (await import('./ssh2-server.js')).ssh2Target);
registerTarget('twisted', async () => (await import('./python-servers.js')).twistedTarget);
registerTarget('lsh', async () => (await import('./lsh.js')).lshTarget);
registerTarget('erlang', async () => (await import('./erlang.js')).erlangTarget);
registerTarget('go', async () => (await import('./go.js')).goTarget);
registerTarget('go:cbc', async () => (await import('./go.js')).goCbcTarget);
registerTarget('libssh', async () => (await import('./libssh.js')).libsshServerTarget);
// libssh as shipped (its default cipher list carries an empty name): what corpora/libssh/ reproduces against
// built from Debian's source with sanitizers and edge coverage (setup/instrumented.ts): grey-box fuzzing
registerTarget('dropbear:instrumented', async () => (await import('./instrumented.js')).instrumentedDropbearTarget);
registerTarget('openssh:instrumented', async () => (await import('./instrumented.js')).instrumentedOpensshTarget);
registerTarget('libssh:defaults', async () => (await import('./libssh.js')).libsshShippedTarget);

// Built-in client peers (client-direction suites drive them against our server).
registerClientPeer('openssh-client', async () => (await import('./clients/openssh-client.js')).opensshClient);
registerClientPeer('dbclient', async () => (await import('./clients/dbclient.js')).dbclient);
registerClientPeer('plink', async () => (await import('./clients/plink.js')).plink);
registerClientPeer('paramiko-client', async () => (await import('./clients/python-clients.js')).paramikoClient);
registerClientPeer('asyncssh-client', async () => (await import('./clients/python-clients.js')).asyncsshClient);
registerClientPeer('ssh2-client', async () => (await import('./clients/ssh2-client.js')).ssh2Client);
registerClientPeer('twisted-client', async () => (await import('./clients/python-clients.js')).twistedClient);
registerClientPeer('lsh-client', async () => (await import('./clients/lsh-client.js')).lshClient);
registerClientPeer('erlang-client', async () => (await import('./clients/compiled-clients.js')).erlangClient);
registerClientPeer('go-client', async () => (await import('./clients/compiled-clients.js')).goClient);
registerClientPeer('libssh-client', async () => (await import('./clients/compiled-clients.js')).libsshClient);
