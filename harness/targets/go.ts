/**
 * `go`: a small server of ours on Go's golang.org/x/crypto/ssh (harness/targets/go/peer.go), built at setup in
 * GOPATH mode from Debian's golang-golang-x-crypto-dev. It takes the test account (password and publickey), every
 * host key type x/crypto implements (ed25519, ecdsa-256/384/521, rsa), and kex/cipher/MAC lists at runtime;
 * a host key list keeps the keys of the types it names (x/crypto 0.4 cannot narrow rsa-sha2-* further), and only
 * compression "none" exists.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Availability, RunningTarget, StartOptions, Target } from './types.js';
import { ALL_HOST_KEY_TYPES, openSshHostKeys } from './host-keys.js';
import { authorizedKeyLines, testCredentials } from './test-user.js';
import { builtArtifact, ensureBuilt, fixFor, GO_PEER } from './compiled-peers.js';
import { cleanEnv, passwordAndKey, startListeningPeer } from './listening-peer.js';
import { PeerError } from './errors.js';

const run = promisify(execFile);

async function start(opts: StartOptions = {}): Promise<RunningTarget> {
  if (opts.extraConfig?.length) throw new PeerError('unsupported-option', 'go: extraConfig is not supported');
  if (opts.algorithms?.compression?.some((c) => c !== 'none')) throw new PeerError('unsupported-option', 'go: golang.org/x/crypto/ssh implements no compression');
  const methods = passwordAndKey('go', opts);
  const { artifact } = await ensureBuilt(GO_PEER);
  const credentials = await testCredentials();
  const keys = await openSshHostKeys(ALL_HOST_KEY_TYPES);
  const config = {
    host: '127.0.0.1', port: opts.port ?? 0, hostKeys: keys.map((k) => k.privatePath),
    user: credentials.user, password: credentials.password, authorizedKeys: await authorizedKeyLines(),
    authMethods: methods, algorithms: opts.algorithms ?? {},
  };
  return startListeningPeer({
    label: 'go', command: artifact, args: ['server'], opts, credentials, hostKeys: keys, fix: fixFor(GO_PEER),
    env: () => cleanEnv({ SSH_HARNESS_PEER_CONFIG: JSON.stringify(config) }),
  });
}

/** The x/crypto version Debian packages (its sources carry none). */
export async function goCryptoVersion(): Promise<string | undefined> {
  const v = await run('dpkg-query', ['-W', '-f=${Version}', 'golang-golang-x-crypto-dev']).then((r) => r.stdout.trim(), () => '');
  return v ? v.replace(/^\d+:/, '').replace(/-[^-]*$/, '') : undefined;
}

export async function goAvailability(): Promise<Availability> {
  if (!builtArtifact(GO_PEER)) return { available: false, reason: `the Go peer is not built; ${fixFor(GO_PEER)}` };
  const v = await goCryptoVersion();
  return { available: true, version: `golang.org/x/crypto/ssh ${v ?? 'unknown'}` };
}

/** `go:cbc`: the same server with CBC ciphers enabled (ServerConfig.Ciphers), as an operator would: corpora/go/ reproduces against it. */
export const goCbcTarget: Target = {
  name: 'go:cbc', kind: 'server', description: 'golang.org/x/crypto/ssh server (ours) with aes128-cbc and 3des-cbc enabled',
  availability: goAvailability,
  start: (opts: StartOptions = {}) => start({ ...opts, algorithms: { cipher: ['aes128-cbc', '3des-cbc', 'aes128-ctr'], ...opts.algorithms } }),
};

export const goTarget: Target = {
  name: 'go', kind: 'server', description: 'golang.org/x/crypto/ssh server (ours, harness/targets/go/peer.go)',
  availability: goAvailability, start,
};
