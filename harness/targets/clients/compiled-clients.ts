/**
 * `go-client` (golang.org/x/crypto/ssh), `libssh-client` (libssh) and `erlang-client` (Erlang/OTP ssh): the client
 * halves of our compiled peers (harness/targets/compiled-peers.ts). Each takes algorithm lists, a password and/or
 * an OpenSSH private key, checks the server's host key against the fingerprints it is given, forwards stdin, then
 * EOF, and exits with the remote exit status (255 when it cannot connect or authenticate).
 */
import { dirname } from 'node:path';
import type { Availability, ClientPeer, ClientResult, ClientRunOptions } from '../types.js';
import { ensureBuilt, ERLANG_PEER, fixFor, GO_PEER, LIBSSH_PEER } from '../compiled-peers.js';
import { goAvailability } from '../go.js';
import { libsshAvailability, LIBSSH_DEFAULT_CIPHERS } from '../libssh.js';
import { erlangAvailability, erlArgs } from '../erlang.js';
import { cleanEnv } from '../listening-peer.js';
import { findBinary } from '../local-tools.js';
import { PeerError } from '../errors.js';
import { runClientProcess } from './run-client.js';

/** SSH_HARNESS_* for the libssh and Erlang clients (the Go client reads the same as JSON). */
function clientEnv(o: ClientRunOptions): NodeJS.ProcessEnv {
  const a = o.algorithms ?? {};
  const lists: Array<[string, readonly string[] | undefined]> = [
    ['SSH_HARNESS_KEX', a.kex], ['SSH_HARNESS_HOSTKEY_ALGORITHMS', a.hostKey], ['SSH_HARNESS_CIPHERS', a.cipher],
    ['SSH_HARNESS_MACS', a.mac], ['SSH_HARNESS_COMPRESSION', a.compression],
  ];
  return cleanEnv({
    SSH_HARNESS_HOST: o.host, SSH_HARNESS_PORT: String(o.port), SSH_HARNESS_USER: o.user, SSH_HARNESS_COMMAND: o.command,
    ...(o.password !== undefined ? { SSH_HARNESS_PASSWORD: o.password } : {}),
    ...(o.identity ? { SSH_HARNESS_IDENTITY: o.identity } : {}),
    ...(o.hostKeyFingerprints?.length ? { SSH_HARNESS_FINGERPRINTS: o.hostKeyFingerprints.join(',') } : {}),
    ...Object.fromEntries(lists.filter(([, l]) => l?.length).map(([k, l]) => [k, l!.join(',')])),
  });
}

async function runGo(o: ClientRunOptions): Promise<ClientResult> {
  if (o.algorithms?.compression?.some((c) => c !== 'none')) throw new PeerError('unsupported-option', 'go-client: golang.org/x/crypto/ssh implements no compression');
  const { artifact } = await ensureBuilt(GO_PEER);
  const config = { host: o.host, port: o.port, user: o.user, password: o.password, identity: o.identity, command: o.command, hostKeyFingerprints: o.hostKeyFingerprints ?? [], algorithms: o.algorithms ?? {} };
  return runClientProcess({ command: artifact, args: ['client'], env: cleanEnv({ SSH_HARNESS_CLIENT_CONFIG: JSON.stringify(config) }), stdin: o.stdin, timeoutMs: o.timeoutMs, fix: fixFor(GO_PEER) });
}

async function runLibssh(o: ClientRunOptions): Promise<ClientResult> {
  const { artifact } = await ensureBuilt(LIBSSH_PEER);
  // libssh's own default cipher list ends in an empty name (see libssh.ts): name the defaults explicitly
  const algorithms = o.algorithms?.cipher?.length ? o.algorithms : { ...o.algorithms, cipher: LIBSSH_DEFAULT_CIPHERS };
  return runClientProcess({ command: artifact, args: ['client'], env: clientEnv({ ...o, algorithms }), stdin: o.stdin, timeoutMs: o.timeoutMs, fix: fixFor(LIBSSH_PEER) });
}

async function runErlang(o: ClientRunOptions): Promise<ClientResult> {
  const erl = findBinary('erl');
  if (!erl) throw new PeerError('missing-binary', `erlang-client: erl not found; ${fixFor(ERLANG_PEER)}`);
  const { artifact } = await ensureBuilt(ERLANG_PEER);
  return runClientProcess({ command: erl, args: erlArgs(dirname(artifact), 'client'), env: clientEnv(o), stdin: o.stdin, timeoutMs: o.timeoutMs, fix: fixFor(ERLANG_PEER) });
}

function peer(name: string, description: string, run: (o: ClientRunOptions) => Promise<ClientResult>, availability: () => Promise<Availability>): ClientPeer {
  return { name, kind: 'client', description, availability, run };
}

export const goClient = peer('go-client', 'golang.org/x/crypto/ssh client (ours, harness/targets/go/peer.go)', runGo, goAvailability);
export const libsshClient = peer('libssh-client', 'libssh client (ours, harness/targets/libssh/peer.c)', runLibssh, libsshAvailability);
export const erlangClient = peer('erlang-client', 'Erlang/OTP ssh client (ssh:connect, our harness/targets/erlang module)', runErlang, erlangAvailability);
