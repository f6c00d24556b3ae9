/**
 * Runs the real tshark (Debian's 4.0 at /usr/bin/tshark) on a file, for tests and for checking traces by hand.
 * Tests use it to prove interop; they fail, not skip, when tshark is missing and CI=true.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

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
