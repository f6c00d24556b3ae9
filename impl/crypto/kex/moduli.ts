/**
 * Groups for diffie-hellman-group-exchange (RFC 4419): OpenSSH moduli files (moduli(5), /etc/ssh/moduli), a
 * built-in fallback list, and the server's choice of a group for the client's (min, n, max) request.
 *
 * moduli(5) lines: `time type tests tries size generator modulus`, where type 2 is a safe prime, tests is a bit
 * mask (0x01 = found composite; anything else names a test it passed), and size is the modulus length in bits
 * minus one (ssh-keygen writes 2047 for a 2048-bit prime).
 */
import { getDiffieHellman } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { bigintFromBytes } from '../bytes.js';
import type { DhGroup, Rng } from '../types.js';
import { GEX_MAX_BITS } from './dh-gex.js';

export interface GexGroup extends DhGroup {
  /** Bit length of p (the moduli file's size field + 1). */
  readonly bits: number;
}

/** RFC 8270 §3: group-exchange moduli below 2048 bits are refused unless legacy groups are explicitly allowed. */
export const GEX_MIN_BITS = 2048;
/** The floor when legacy groups are allowed (OpenSSH's pre-8270 DH_GRP_MIN). */
export const GEX_LEGACY_MIN_BITS = 1024;

const MODULI_TYPE_SAFE = 2;
const MODULI_TESTS_COMPOSITE = 0x01;
/** Bounds on what a moduli file may cost us to read. */
const MAX_FILE_BYTES = 16 << 20;
const MAX_LINE = 8192;

export interface ModuliRejection {
  readonly line: number;
  readonly reason: string;
}

export interface ParsedModuli {
  readonly groups: readonly GexGroup[];
  /** Lines that are neither comments nor blank and were not accepted, with why (as sshd logs them). */
  readonly rejected: readonly ModuliRejection[];
}

/** Parses moduli(5) text. Accepts safe primes that passed a primality test, whose size field matches the modulus. */
export function parseModuli(text: string): ParsedModuli {
  const groups: GexGroup[] = [];
  const rejected: ModuliRejection[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const reject = (reason: string): void => { rejected.push({ line: i + 1, reason }); };
    if (raw.length > MAX_LINE) { reject('line too long'); continue; }
    const f = line.split(/\s+/);
    if (f.length !== 7) { reject(`expected 7 fields, got ${f.length}`); continue; }
    const [, typeStr, testsStr, , sizeStr, genStr, modStr] = f as [string, string, string, string, string, string, string];
    if (!/^\d+$/.test(typeStr) || Number(typeStr) !== MODULI_TYPE_SAFE) { reject(`type is not ${MODULI_TYPE_SAFE} (safe prime)`); continue; }
    const tests = /^\d+$/.test(testsStr) ? Number(testsStr) : NaN;
    if (!(tests >= 0 && tests <= 0x1f) || (tests & MODULI_TESTS_COMPOSITE) !== 0 || (tests & ~MODULI_TESTS_COMPOSITE) === 0) { reject('invalid tests flag'); continue; }
    if (!/^\d{1,5}$/.test(sizeStr)) { reject('invalid size'); continue; }
    const bits = Number(sizeStr) + 1;
    if (bits > 2 * GEX_MAX_BITS) { reject(`modulus of ${bits} bits is too large`); continue; }
    if (!/^[0-9a-fA-F]{1,16}$/.test(genStr) || !/^[0-9a-fA-F]+$/.test(modStr)) { reject('generator or modulus is not hex'); continue; }
    const p = BigInt('0x' + modStr);
    const g = BigInt('0x' + genStr);
    const actual = p.toString(2).length;
    if (actual !== bits) { reject(`prime has wrong size: actual ${actual}, listed ${bits - 1}`); continue; }
    if ((p & 1n) === 0n || g < 2n || g >= p - 1n) { reject('modulus even or generator out of range'); continue; }
    groups.push({ bits, p, g });
  }
  return { groups, rejected };
}

/** Reads and parses a moduli file (default /etc/ssh/moduli). Throws when it cannot be read or is over 16 MiB. */
export function loadModuli(path = '/etc/ssh/moduli'): ParsedModuli {
  const size = statSync(path).size;
  if (size > MAX_FILE_BYTES) throw new RangeError(`${path}: ${size} bytes is more than a moduli file should be`);
  return parseModuli(readFileSync(path, 'latin1'));
}

// ───────────────────────────── built-in groups ─────────────────────────────

const primeCache = new Map<string, bigint>();
/** A group whose prime is fetched from node's copy of the RFC on first use (the 8192-bit one costs nothing until asked). */
function lazy(nodeName: string, bits: number): GexGroup {
  return {
    bits, g: 2n,
    get p() {
      let p = primeCache.get(nodeName);
      if (p === undefined) {
        p = bigintFromBytes(getDiffieHellman(nodeName).getPrime());
        primeCache.set(nodeName, p);
      }
      return p;
    },
  };
}

/**
 * The fallback when no moduli file serves a request: RFC 3526 groups 14, 15, 16, 17, 18 (2048–8192 bits) and,
 * for legacy requests only, RFC 2409 §6.2 Oakley group 2 (1024 bits). All have generator 2.
 */
export const builtinGexGroups: readonly GexGroup[] = Object.freeze([
  lazy('modp2', 1024), lazy('modp14', 2048), lazy('modp15', 3072), lazy('modp16', 4096), lazy('modp17', 6144), lazy('modp18', 8192),
]);

// ───────────────────────────── the server's choice ─────────────────────────────

export interface ChooseOptions {
  /** Allow groups below 2048 bits (down to 1024), for legacy peers only (RFC 8270 §3). */
  readonly legacy?: boolean;
  /** Picks among several groups of the chosen size (OpenSSH: arc4random_uniform); the first one when absent. */
  readonly rng?: Rng;
}

/**
 * OpenSSH's choose_dh (dh.c) for an RFC 4419 §3 request: clamp (min, n, max) to [2048, 8192] (RFC 8270; 1024 with
 * `legacy`), then among the groups whose size lies in [min, max] take the smallest size ≥ n, or failing that the
 * largest; a random one of that size. Undefined when the request is inconsistent or nothing fits.
 */
export function chooseGexGroup(groups: readonly GexGroup[], min: number, n: number, max: number, opts: ChooseOptions = {}): GexGroup | undefined {
  const floor = opts.legacy ? GEX_LEGACY_MIN_BITS : GEX_MIN_BITS;
  // OpenSSH kexgexs.c: min = MAX(DH_GRP_MIN, min); max = MIN(DH_GRP_MAX, max); nbits clamped to both
  const lo = Math.max(floor, min), hi = Math.min(GEX_MAX_BITS, max);
  const want = Math.min(GEX_MAX_BITS, Math.max(floor, n));
  if (hi < lo || want < lo || want > hi) return undefined;
  let best = 0;
  for (const grp of groups) {
    const s = grp.bits;
    if (s < lo || s > hi) continue;
    if ((s >= want && (best < want || s < best)) || (best < want && s > best)) best = s;
  }
  if (best === 0) return undefined;
  const candidates = groups.filter((grp) => grp.bits === best);
  if (candidates.length === 1 || !opts.rng) return candidates[0];
  const r = opts.rng(4);
  const idx = ((r[0]! << 24) | (r[1]! << 16) | (r[2]! << 8) | r[3]!) >>> 0;
  return candidates[idx % candidates.length];
}

/**
 * What a server's `gexGroup(min, n, max)` hook needs: a group from the loaded moduli, else from the built-in
 * list (OpenSSH falls back the same way when the moduli file has nothing suitable).
 */
export function serverGexGroup(moduli: readonly GexGroup[], min: number, n: number, max: number, opts: ChooseOptions = {}): GexGroup | undefined {
  return chooseGexGroup(moduli, min, n, max, opts) ?? chooseGexGroup(builtinGexGroups, min, n, max, opts);
}
