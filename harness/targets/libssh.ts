/**
 * `libssh`: a small server of ours in C on libssh (harness/targets/libssh/peer.c), compiled at setup against
 * Debian's libssh-dev. One process per connection (forked, like sshd), the test account (password and
 * publickey), host keys ed25519, ecdsa and rsa (libssh's server holds one key per type, so one ECDSA curve: P-256),
 * and kex/host key/cipher/MAC/compression lists at runtime.
 *
 * libssh 0.10.6's own default cipher list ends in a comma, so its KEXINIT carries an empty name (RFC 4251 §5:
 * "A name MUST have a non-zero length"), which our implementation rightly refuses; `libssh` therefore names the
 * default ciphers explicitly, and `libssh:defaults` starts it as shipped (scenarios/KNOWN.md, corpora/libssh/).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Availability, RunningTarget, StartOptions, Target } from './types.js';
import { openSshHostKeys } from './host-keys.js';
import { authorizedKeyLines, testCredentials } from './test-user.js';
import { builtArtifact, ensureBuilt, fixFor, LIBSSH_PEER } from './compiled-peers.js';
import { cleanEnv, envConfig, passwordAndKey, startListeningPeer } from './listening-peer.js';
import { outputOf } from './local-tools.js';
import { PeerError } from './errors.js';

/** libssh 0.10's default cipher preference (src/kex.c), without the trailing empty name. */
export const LIBSSH_DEFAULT_CIPHERS = [
  'chacha20-poly1305@openssh.com', 'aes256-gcm@openssh.com', 'aes128-gcm@openssh.com', 'aes256-ctr', 'aes192-ctr', 'aes128-ctr',
] as const;

function libsshTarget(name: string, shipped: boolean): Target {
  const start = async (opts: StartOptions = {}): Promise<RunningTarget> => {
    if (opts.extraConfig?.length) throw new PeerError('unsupported-option', `${name}: extraConfig is not supported`);
    const methods = passwordAndKey(name, opts);
    const { artifact } = await ensureBuilt(LIBSSH_PEER);
    const credentials = await testCredentials();
    const authorizedLines = await authorizedKeyLines();
    const keys = await openSshHostKeys(['ed25519', 'ecdsa', 'rsa']);
    const algorithms = shipped || opts.algorithms?.cipher?.length ? opts.algorithms : { ...opts.algorithms, cipher: LIBSSH_DEFAULT_CIPHERS };
    return startListeningPeer({
      label: name, command: artifact, args: ['server'], opts, credentials, hostKeys: keys, fix: fixFor(LIBSSH_PEER),
      env: (dir) => {
        const authorized = join(dir, 'authorized_keys');
        writeFileSync(authorized, `${authorizedLines.join('\n')}\n`);
        return cleanEnv(envConfig({ port: opts.port ?? 0, hostKeys: keys.map((k) => k.privatePath), credentials, authorizedKeysFile: authorized, methods, ...(algorithms ? { algorithms } : {}) }));
      },
    });
  };
  return {
    name, kind: 'server', start, availability: libsshAvailability,
    description: shipped ? 'libssh server (ours, harness/targets/libssh/peer.c) with libssh\'s shipped algorithm lists' : 'libssh server (ours, harness/targets/libssh/peer.c)',
  };
}

export async function libsshAvailability(): Promise<Availability> {
  const bin = builtArtifact(LIBSSH_PEER);
  if (!bin) return { available: false, reason: `the libssh peer is not built; ${fixFor(LIBSSH_PEER)}` };
  return { available: true, version: `libssh ${(await outputOf(bin, ['version'])).trim().split('/')[0]}` };
}

export const libsshServerTarget = libsshTarget('libssh', false);
export const libsshShippedTarget = libsshTarget('libssh:defaults', true);
