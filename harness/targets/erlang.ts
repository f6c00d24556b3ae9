/**
 * `erlang`: the Erlang/OTP ssh daemon (Debian's erlang-ssh), started by a module of ours
 * (harness/targets/erlang/ssh_harness_peer.erl, compiled with erlc at setup) that gives it the test account
 * (password and publickey), every host key type it implements (ed25519, ecdsa-256/384/521, rsa: a key callback
 * serves each by algorithm), algorithm lists at runtime, and a session channel running the built-in commands.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Availability, RunningTarget, StartOptions, Target } from './types.js';
import { ALL_HOST_KEY_TYPES, openSshHostKeys } from './host-keys.js';
import { authorizedKeyLines, testCredentials } from './test-user.js';
import { builtArtifact, ensureBuilt, ERLANG_PEER, fixFor } from './compiled-peers.js';
import { cleanEnv, envConfig, passwordAndKey, startListeningPeer } from './listening-peer.js';
import { findBinary, outputOf } from './local-tools.js';
import { PeerError } from './errors.js';

/**
 * `erl` for our module: -noinput (the shell would read our stdin), no distribution (no epmd is started), and
 * logger warnings only (OTP's info reports would mix into a client's stderr).
 */
export function erlArgs(ebin: string, fn: 'server' | 'client'): string[] {
  return ['-noinput', '-pa', ebin, '-kernel', 'logger_level', fn === 'server' ? 'info' : 'warning', '-run', 'ssh_harness_peer', fn];
}

async function start(opts: StartOptions = {}): Promise<RunningTarget> {
  if (opts.extraConfig?.length) throw new PeerError('unsupported-option', 'erlang: extraConfig is not supported');
  const methods = passwordAndKey('erlang', opts);
  const erl = findBinary('erl');
  if (!erl) throw new PeerError('missing-binary', `erlang: erl not found; ${fixFor(ERLANG_PEER)}`);
  const { artifact } = await ensureBuilt(ERLANG_PEER);
  const credentials = await testCredentials();
  const authorizedLines = await authorizedKeyLines();
  const keys = await openSshHostKeys(ALL_HOST_KEY_TYPES);
  return startListeningPeer({
    label: 'erlang', command: erl, args: erlArgs(dirname(artifact), 'server'), opts, credentials, hostKeys: keys, fix: fixFor(ERLANG_PEER),
    env: (dir) => {
      const authorized = join(dir, 'authorized_keys');
      writeFileSync(authorized, `${authorizedLines.join('\n')}\n`);
      return cleanEnv({ ...envConfig({ port: opts.port ?? 0, hostKeys: keys.map((k) => k.privatePath), credentials, authorizedKeysFile: authorized, methods, ...(opts.algorithms ? { algorithms: opts.algorithms } : {}) }), HOME: dir });
    },
  });
}

/** The version of OTP's ssh application (what the banner says: `SSH-2.0-Erlang/4.15.2`). */
export async function erlangSshVersion(): Promise<string | undefined> {
  const erl = findBinary('erl');
  if (!erl) return undefined;
  const out = await outputOf(erl, ['-noinput', '-eval', 'application:load(ssh), {ok, V} = application:get_key(ssh, vsn), io:format("v=~s~n", [V]), halt().'], 15_000);
  return /v=(\S+)/.exec(out)?.[1];
}

export async function erlangAvailability(): Promise<Availability> {
  if (!builtArtifact(ERLANG_PEER)) return { available: false, reason: `the Erlang peer module is not built; ${fixFor(ERLANG_PEER)}` };
  const v = await erlangSshVersion();
  return v ? { available: true, version: `Erlang/OTP ssh ${v}` } : { available: false, reason: `erl cannot load the ssh application; ${fixFor(ERLANG_PEER)}` };
}

export const erlangTarget: Target = {
  name: 'erlang', kind: 'server', description: 'Erlang/OTP ssh daemon (ssh:daemon, our harness/targets/erlang module)',
  availability: erlangAvailability, start,
};
