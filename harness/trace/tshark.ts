/**
 * Runs the real tshark (Debian's 4.0 at /usr/bin/tshark, and Debian 13's 4.4 in a container) on a file, for tests
 * and for checking traces by hand. Tests use them to prove interop; they fail, not skip, when a tshark is missing
 * and CI=true.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerPing, imageInspect } from '../targets/docker-api.js';
import { TSHARK_IMAGE } from '../targets/setup/tshark-image.js';
import { parseKeylog } from './keylog.js';

export const TSHARK = process.env.TSHARK ?? '/usr/bin/tshark';

export function haveTshark(): boolean {
  return existsSync(TSHARK);
}

/** tshark's stdout; throws with stderr when it exits non-zero. Bounded by a timeout. */
export function tshark(args: readonly string[], timeoutMs = 60_000): string {
  return execFileSync(TSHARK, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `tshark -r FILE -T fields -e F1 -e F2 …` as rows of fields (tab-separated by tshark). */
export function tsharkFields(file: string, fields: readonly string[], extra: readonly string[] = []): string[][] {
  const out = tshark(['-r', file, ...extra, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])]);
  return out.split('\n').filter((l) => l.length > 0).map((l) => l.split('\t'));
}

/**
 * Whether tshark 4.0 can decrypt the first (or last) key exchange a keylog holds: it fails when that shared secret K has a
 * leading zero byte (1 curve25519 session in 256; README "What tshark 4.0 decrypts"; 4.4 decrypts it). Tests with
 * a peer's random keys check the documented failure instead when this is false.
 */
export function tshark40CanDecrypt(keylogText: string, which: 'first' | 'last' = 'first'): boolean {
  const secrets = parseKeylog(keylogText).entries.filter((e) => e.type === 'SHARED_SECRET');
  const k = which === 'first' ? secrets[0] : secrets.at(-1);
  return k === undefined || k.key.length >= 64;
}

/** Checksum validation on, so bad IPv4/TCP checksums show up as expert info. */
export const CHECKSUM_PREFS: readonly string[] = ['-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE'];

/**
 * For tests: returns normally when tshark is here; skips the test when it is not, except under CI=true where
 * a missing peer is a failure (preamble rule: real peers prove interop).
 */
export function requireTshark(ctx: Mocha.Context): void {
  if (haveTshark()) return;
  if (process.env.CI === 'true') throw new Error(`tshark not found at ${TSHARK} (apt-get install tshark)`);
  ctx.skip();
}

/** Parses `tshark -q -z follow,tcp,raw,N` output into the bytes of each direction (server lines are tab-indented). */
export function parseFollowRaw(out: string): { c2s: Buffer; s2c: Buffer } {
  const c2s: Buffer[] = [], s2c: Buffer[] = [];
  let inBody = false;
  for (const line of out.split('\n')) {
    if (!inBody) { inBody = line.startsWith('Node 1:'); continue; }
    if (line.startsWith('=====')) break;
    if (line.startsWith('\t')) s2c.push(Buffer.from(line.slice(1), 'hex'));
    else if (line.length > 0) c2s.push(Buffer.from(line, 'hex'));
  }
  return { c2s: Buffer.concat(c2s), s2c: Buffer.concat(s2c) };
}

// ───────────────────────────── two judges: the host's tshark and Debian 13's in a container ─────────────────────────────

/** Debian 13's tshark (Wireshark 4.4), built by `ssh-harness peers setup`. */
export { TSHARK_IMAGE };

export interface TsharkOutput { readonly code: number; readonly stdout: string; readonly stderr: string }

/** A tshark that runs jobs (argument lists); file paths in them must lie under `dirs` given to the judge. */
export interface TsharkJudge {
  readonly name: string;
  run(jobs: readonly (readonly string[])[]): Promise<TsharkOutput[]>;
}

/** The host's tshark, one process per job. */
export function hostJudge(): TsharkJudge {
  return {
    name: `host ${TSHARK}`,
    async run(jobs) {
      return jobs.map((args) => {
        const r = spawnSync(TSHARK, [...args], { encoding: 'utf8', timeout: 60_000, maxBuffer: 256 << 20 });
        return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? (r.error ? String(r.error) : '') };
      });
    },
  };
}

const shQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * tshark 4.4 in one container per batch (a container start costs ~0.5-0.8 s, a tshark run ~0.3 s): `dirs` are
 * mounted read-only at the same paths, a scratch directory collects each job's stdout, stderr and exit code.
 * No network in the container; it is removed when the batch ends and cannot outlive `timeoutMs`.
 */
export function containerJudge(dirs: readonly string[], image = TSHARK_IMAGE, timeoutMs = 300_000): TsharkJudge {
  return {
    name: `${image} (docker)`,
    async run(jobs) {
      const scratch = mkdtempSync(join(tmpdir(), 'tshark-judge-'));
      try {
        const script = ['#!/bin/sh', ...jobs.map((args, i) => `tshark ${args.map(shQuote).join(' ')} >${scratch}/${i}.out 2>${scratch}/${i}.err; echo $? >${scratch}/${i}.rc`)].join('\n');
        writeFileSync(join(scratch, 'jobs.sh'), `${script}\n`);
        const mounts = dirs.flatMap((d) => ['-v', `${d}:${d}:ro`]);
        const r = spawnSync('docker', ['run', '--rm', '--network', 'none', ...mounts, '-v', `${scratch}:${scratch}`, image, 'sh', `${scratch}/jobs.sh`],
          { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 << 20 });
        if (r.status !== 0) throw new Error(`docker run ${image} failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr ?? '').slice(0, 500)}`);
        const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : '');
        return jobs.map((_, i) => ({ code: Number(read(join(scratch, `${i}.rc`)).trim() || -1), stdout: read(join(scratch, `${i}.out`)), stderr: read(join(scratch, `${i}.err`)) }));
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    },
  };
}

/**
 * For tests: returns when Docker answers and the tshark 4.4 image exists; skips otherwise, except under CI=true
 * where setup must have built it (a failure then).
 */
export async function requireTshark44(ctx: Mocha.Context): Promise<void> {
  const ping = await dockerPing();
  const why = !ping.ok ? `Docker not reachable (${ping.error})` : !(await imageInspect(TSHARK_IMAGE)) ? `image ${TSHARK_IMAGE} missing` : undefined;
  if (!why) return;
  if (process.env.CI === 'true') throw new Error(`tshark 4.4 unavailable: ${why}; run \`ssh-harness peers setup\``);
  ctx.skip();
}
