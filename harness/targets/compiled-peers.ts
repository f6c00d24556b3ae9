/**
 * Peers that are small programs of ours compiled against an implementation Debian ships: the Go
 * golang.org/x/crypto/ssh peer (GOPATH mode, offline, from golang-golang-x-crypto-dev), the libssh peer (C, against
 * libssh-dev) and the Erlang/OTP ssh peer (a module compiled with erlc). `peers setup` builds them into
 * `<state>/peers/<name>/`; a build is redone only when its source changed (a hash of the sources is kept beside
 * the output), and a target builds on first use when setup has not run yet but the toolchain is there.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PeerError } from './errors.js';
import { findBinary } from './local-tools.js';
import { shippedFile, stateSubdir } from './state.js';

const run = promisify(execFile);
const BUILD_TIMEOUT_MS = 300_000;

export interface CompiledPeer {
  readonly name: string;
  /** Source files under harness/targets/. */
  readonly sources: readonly string[];
  /** The file `build` produces inside the output directory (what availability checks). */
  readonly artifact: string;
  /** Compiler binary and the Debian packages that provide the toolchain and the library. */
  readonly toolchain: string;
  readonly aptPackages: readonly string[];
  /** Compiles into `outDir` (a fresh temporary directory, renamed into place afterwards). */
  build(outDir: string, sources: readonly string[]): Promise<void>;
}

function sourcesHash(p: CompiledPeer): string {
  const h = createHash('sha256');
  for (const s of p.sources) h.update(s).update('\0').update(readFileSync(shippedFile(...s.split('/'))));
  return h.digest('hex');
}

export function outputDir(p: CompiledPeer): string {
  return join(stateSubdir('peers'), p.name);
}

export function fixFor(p: CompiledPeer): string {
  return `install ${p.aptPackages.join(' ')} and build it (run \`ssh-harness peers setup\`)`;
}

/** The built artifact when it exists and matches the current sources. */
export function builtArtifact(p: CompiledPeer): string | undefined {
  const dir = outputDir(p);
  const artifact = join(dir, p.artifact);
  try {
    return existsSync(artifact) && readFileSync(join(dir, 'sources.sha256'), 'utf8') === sourcesHash(p) ? artifact : undefined;
  } catch {
    return undefined;
  }
}

export interface BuildResult { readonly artifact: string; readonly built: boolean }

/** Builds when missing or stale; concurrent builders each build into a temp dir and the last rename wins. */
export async function ensureBuilt(p: CompiledPeer): Promise<BuildResult> {
  const ready = builtArtifact(p);
  if (ready) return { artifact: ready, built: false };
  if (!findBinary(p.toolchain)) throw new PeerError('missing-binary', `${p.name}: ${p.toolchain} not found; ${fixFor(p)}`);
  const dir = outputDir(p);
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    await p.build(tmp, p.sources.map((s) => shippedFile(...s.split('/'))));
    writeFileSync(join(tmp, 'sources.sha256'), sourcesHash(p));
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    const err = e as { stderr?: string; message: string };
    throw new PeerError('setup-failed', `${p.name}: build failed: ${(err.stderr || err.message).trim().split('\n').slice(-6).join('\n')}; ${fixFor(p)}`);
  }
  return { artifact: join(dir, p.artifact), built: true };
}

/** Builds into the state dir but leaves every other environment variable alone. */
function buildEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...process.env, ...extra };
}

export const GO_PEER: CompiledPeer = {
  name: 'go', sources: ['go/peer.go'], artifact: 'peer', toolchain: 'go',
  aptPackages: ['golang-go', 'golang-golang-x-crypto-dev'],
  async build(out, [src]) {
    // GOPATH mode against Debian's packaged sources: no module proxy, no network
    const env = buildEnv({ GOPATH: '/usr/share/gocode', GO111MODULE: 'off', GOFLAGS: '', GOPROXY: 'off', GOCACHE: join(stateSubdir('peers'), 'go-build-cache') });
    await run(findBinary('go')!, ['build', '-o', join(out, 'peer'), src!], { env, timeout: BUILD_TIMEOUT_MS });
  },
};

export const LIBSSH_PEER: CompiledPeer = {
  name: 'libssh', sources: ['libssh/peer.c'], artifact: 'peer', toolchain: 'gcc',
  aptPackages: ['gcc', 'libssh-dev'],
  async build(out, [src]) {
    await run(findBinary('gcc')!, ['-O2', '-Wall', '-o', join(out, 'peer'), src!, '-lssh'], { timeout: BUILD_TIMEOUT_MS });
  },
};

export const ERLANG_PEER: CompiledPeer = {
  name: 'erlang', sources: ['erlang/ssh_harness_peer.erl'], artifact: 'ssh_harness_peer.beam', toolchain: 'erlc',
  aptPackages: ['erlang-base', 'erlang-ssh'],
  async build(out, [src]) {
    await run(findBinary('erlc')!, ['-o', out, src!], { timeout: BUILD_TIMEOUT_MS });
  },
};

export const COMPILED_PEERS: readonly CompiledPeer[] = [GO_PEER, LIBSSH_PEER, ERLANG_PEER];
