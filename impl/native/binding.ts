/**
 * Loads the optional packet-protection addon (native/src, built by native/build.mjs into the package's build/Release).
 * Loading never throws: a missing, stale or foreign build leaves the pure node:crypto path in charge, and
 * `nativeStatus()` says why. SSH_HARNESS_NO_NATIVE=1 turns the addon off (read on every call, so tests can
 * run both paths in one process).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** An OpenSSL context set owned by the addon (a type-tagged external); freed when garbage-collected. */
export type NativeContext = { readonly __nativeContext: unique symbol };

/** Per-packet results (impl/native/src/common.h). */
export const NativeResult = { Ok: 0, BadMac: 1, Misaligned: 2, CryptoFailed: 3 } as const;
export type NativeResult = (typeof NativeResult)[keyof typeof NativeResult];

/**
 * The addon's functions. `out` may be the input's own memory (seal: the packet itself, with room for the tag;
 * open: wire + 4) or a separate buffer; lengths are checked in C and a wrong call throws TypeError/RangeError.
 */
export interface NativeBinding {
  opensslVersion(): string;
  gcmNew(key: Uint8Array, iv: Uint8Array, encrypt: boolean): NativeContext;
  /** out.length = packet.length + 16 */
  gcmSeal(ctx: NativeContext, packet: Uint8Array, out: Uint8Array): NativeResult;
  /** out.length = wire.length - 20 */
  gcmOpen(ctx: NativeContext, wire: Uint8Array, out: Uint8Array): NativeResult;
  /** As gcmOpen for wire = a || b (a packet spanning two reads); out overlaps neither piece. */
  gcmOpenSplit(ctx: NativeContext, a: Uint8Array, b: Uint8Array, out: Uint8Array): NativeResult;
  chachaNew(key: Uint8Array): NativeContext;
  chachaLength(ctx: NativeContext, seq: number, header: Uint8Array): number;
  chachaSeal(ctx: NativeContext, seq: number, packet: Uint8Array, out: Uint8Array): NativeResult;
  chachaOpen(ctx: NativeContext, seq: number, wire: Uint8Array, out: Uint8Array): NativeResult;
  chachaOpenSplit(ctx: NativeContext, seq: number, a: Uint8Array, b: Uint8Array, out: Uint8Array): NativeResult;
  ctrHmacNew(key: Uint8Array, iv: Uint8Array, digest: 'SHA1' | 'SHA256' | 'SHA512', macKey: Uint8Array, macLen: number, etm: boolean): NativeContext;
  /** out.length = packet.length + macLen */
  ctrHmacSeal(ctx: NativeContext, seq: number, packet: Uint8Array, out: Uint8Array): NativeResult;
  ctrHmacLength(ctx: NativeContext, seq: number, header: Uint8Array): number;
  /** out.length = wire.length - 4 - macLen */
  ctrHmacOpen(ctx: NativeContext, seq: number, wire: Uint8Array, out: Uint8Array): NativeResult;
  ctrHmacOpenSplit(ctx: NativeContext, seq: number, a: Uint8Array, b: Uint8Array, out: Uint8Array): NativeResult;
  /**
   * ML-KEM (FIPS 203 §4.2.2) sampling for impl/crypto/kex/ml-kem-768.ts: Â from ρ into `out` (the bytes of a k·k·256
   * Int32Array); false when a long rejection run needs the TypeScript sampler.
   */
  mlkemSampleMatrix(rho: Uint8Array, k: number, out: Uint8Array): boolean;
  /** `count` SamplePolyCBD_2(PRF_2(s, firstNonce + c)) polynomials into `out` (the bytes of a count·256 Int32Array). */
  mlkemSampleCbd2(s: Uint8Array, firstNonce: number, count: number, out: Uint8Array): void;
  /** The offset of `buf`'s first byte at an address that is a multiple of `alignment` (for O_DIRECT writes). */
  alignOffset(buf: Uint8Array, alignment: number): number;
  /** RFC 1071 partial sum of `bytes` as big-endian 16-bit words, folded to 16 bits (for the trace writer). */
  inetSum(bytes: Uint8Array): number;
  /** Copies `src` into `dst` (same length, not overlapping) and returns `inetSum(src)`: one pass for the pcap writer. */
  inetCopySum(dst: Uint8Array, src: Uint8Array): number;
}

export interface NativeStatus {
  readonly loaded: boolean;
  /** Why the addon is not in use, or which file and OpenSSL it uses. */
  readonly detail: string;
}

const ADDON = join('build', 'Release', 'ssh_harness_native.node');

/**
 * The package root: the nearest ancestor with binding.gyp — impl/ from the sources, the installed package's folder
 * from its bundle (dist/) — or with impl/binding.gyp (the repository root, from the harness's compiled dist/impl/native).
 */
function addonPath(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'binding.gyp'))) return join(dir, ADDON);
    if (existsSync(join(dir, 'impl', 'binding.gyp'))) return join(dir, 'impl', ADDON);
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return null;
}

let cached: { binding: NativeBinding | null; detail: string } | undefined;

function load(): { binding: NativeBinding | null; detail: string } {
  const path = addonPath();
  if (path === null) return { binding: null, detail: 'package root (binding.gyp) not found' };
  if (!existsSync(path)) return { binding: null, detail: `not built (${path} missing; run node impl/native/build.mjs)` };
  try {
    const binding = createRequire(import.meta.url)(path) as NativeBinding;
    const version = binding.opensslVersion();
    // a build from an older checkout lacks the newest functions: rebuild rather than fail mid-run
    if (typeof binding.inetSum !== 'function' || typeof binding.inetCopySum !== 'function' || typeof binding.gcmOpenSplit !== 'function' || typeof binding.mlkemSampleMatrix !== 'function' || typeof binding.alignOffset !== 'function') return { binding: null, detail: `stale build at ${path} (run node impl/native/build.mjs)` };
    // the addon calls the OpenSSL linked into this node; refuse a build that resolved some other libcrypto
    if (!version.includes(process.versions.openssl ?? '\0')) {
      return { binding: null, detail: `addon sees ${JSON.stringify(version)}, node has OpenSSL ${process.versions.openssl}` };
    }
    return { binding, detail: `${path} (${version})` };
  } catch (e) {
    return { binding: null, detail: `failed to load ${path}: ${(e as Error).message.split('\n')[0]}` };
  }
}

/** True when SSH_HARNESS_NO_NATIVE asks for the pure node:crypto path. */
export function nativeDisabled(): boolean {
  const v = process.env.SSH_HARNESS_NO_NATIVE;
  return v !== undefined && v !== '' && v !== '0';
}

/** The addon, or null when it is disabled, not built or unusable. Loaded once per process. */
export function nativeBinding(): NativeBinding | null {
  if (nativeDisabled()) return null;
  cached ??= load();
  return cached.binding;
}

export function nativeStatus(): NativeStatus {
  if (nativeDisabled()) return { loaded: false, detail: 'disabled by SSH_HARNESS_NO_NATIVE' };
  cached ??= load();
  return { loaded: cached.binding !== null, detail: cached.detail };
}
