/**
 * Checks at the public edge (never in the packet loop): every argument a library user
 * passes is checked here, and a wrong one is an SSHError('USAGE') naming the argument — not a TypeError from deep
 * inside. Each helper returns the value with its type narrowed.
 */
import { SSHError } from './errors.js';

/** A short, safe description of what was passed instead (never the value of a string, which may be a secret). */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v instanceof Uint8Array) return `${v.constructor.name}(${v.length})`;
  if (typeof v === 'object') return `an object (${v.constructor?.name ?? 'no prototype'})`;
  if (typeof v === 'string') return `a string of ${v.length} characters`;
  if (typeof v === 'number') return `the number ${v}`;
  return typeof v;
}

export function usage(what: string, expected: string, got: unknown): SSHError {
  return new SSHError('USAGE', `${what}: expected ${expected}, got ${describeValue(got)}`);
}

export function checkString(v: unknown, what: string, opts: { readonly nonEmpty?: boolean; readonly max?: number } = {}): string {
  if (typeof v !== 'string') throw usage(what, 'a string', v);
  if (opts.nonEmpty && v.length === 0) throw new SSHError('USAGE', `${what}: must not be empty`);
  if (opts.max !== undefined && v.length > opts.max) throw new SSHError('USAGE', `${what}: longer than ${opts.max} characters`);
  return v;
}

export function checkOptionalString(v: unknown, what: string): string | undefined {
  return v === undefined ? undefined : checkString(v, what);
}

export function checkBoolean(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') throw usage(what, 'true or false', v);
  return v;
}

/** An integer in [min, max]. */
export function checkInt(v: unknown, what: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw usage(what, `an integer from ${min} to ${max}`, v);
  return v;
}

/** A duration in milliseconds: finite, ≥ 0 (0 meaning "none" where the option says so). */
export function checkMs(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw usage(what, 'a number of milliseconds ≥ 0', v);
  return v;
}

export function checkOptionalMs(v: unknown, what: string): number | undefined {
  return v === undefined ? undefined : checkMs(v, what);
}

export function checkPort(v: unknown, what: string, allowZero = false): number {
  return checkInt(v, what, allowZero ? 0 : 1, 65535);
}

export function checkBytes(v: unknown, what: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw usage(what, 'a Uint8Array or Buffer', v);
  return v;
}

export function checkFunction<F extends (...args: never[]) => unknown>(v: unknown, what: string): F {
  if (typeof v !== 'function') throw usage(what, 'a function', v);
  return v as F;
}

export function checkOptionalFunction<F extends (...args: never[]) => unknown>(v: unknown, what: string): F | undefined {
  return v === undefined ? undefined : checkFunction<F>(v, what);
}

/** A plain options object (or undefined → {}). */
export function checkObject<T extends object>(v: unknown, what: string): T {
  if (v === undefined) return {} as T;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw usage(what, 'an options object', v);
  return v as T;
}

/** Option names the object may have: a misspelt option ('hostkey' for 'hostKey') is an error, not silently ignored. */
export function checkKnownKeys(v: object, what: string, known: readonly string[]): void {
  for (const k of Object.keys(v)) {
    if (!known.includes(k)) throw new SSHError('USAGE', `${what}: unknown option ${JSON.stringify(k)} (known: ${known.join(', ')})`);
  }
}

export function checkStringList(v: unknown, what: string): readonly string[] {
  if (!Array.isArray(v)) throw usage(what, 'an array of strings', v);
  v.forEach((x, i) => checkString(x, `${what}[${i}]`));
  return v as readonly string[];
}

/** [host, port] as taken by openChannel and friends. */
export function checkHostPort(v: unknown, what: string, allowZeroPort = true): readonly [string, number] {
  if (!Array.isArray(v) || v.length !== 2) throw usage(what, 'a [host, port] pair', v);
  checkString(v[0], `${what}[0] (host)`);
  checkPort(v[1], `${what}[1] (port)`, allowZeroPort);
  return v as unknown as readonly [string, number];
}
