/**
 * The values a fuzz case carries, and their JSON form for corpus files. A generated message is a plain
 * object whose fields follow the impl/messages schema, except that any field may instead hold
 *   { $raw: bytes }  — written to the wire verbatim in place of the field (wrong types, lying lengths,
 *                      non-minimal mpints: near-valid inputs the typed codecs refuse to produce);
 *   { $chan: n }     — the peer's number for the n-th channel this case opened (resolved when sent).
 * Bytes and bigints survive JSON as { $hex } and { $bigint } so a corpus entry replays byte for byte.
 */

export interface RawField { readonly $raw: Uint8Array }
export interface ChannelRef { readonly $chan: number }

export function isRaw(v: unknown): v is RawField {
  return typeof v === 'object' && v !== null && (v as RawField).$raw instanceof Uint8Array;
}

export function isChannelRef(v: unknown): v is ChannelRef {
  return typeof v === 'object' && v !== null && typeof (v as ChannelRef).$chan === 'number';
}

export type Json = null | boolean | number | string | readonly Json[] | { readonly [k: string]: Json };

/** Uint8Array → { $hex }, bigint → { $bigint }, recursively; everything else as is. */
export function toJson(v: unknown): Json {
  if (v instanceof Uint8Array) return { $hex: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex') };
  if (typeof v === 'bigint') return { $bigint: v.toString() };
  if (Array.isArray(v)) return v.map(toJson);
  if (v === undefined) return null;
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, Json> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = toJson(x);
    return out;
  }
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' || v === null) return v;
  throw new TypeError(`cannot serialise ${typeof v}`);
}

/** The inverse of toJson. Throws a TypeError naming the path on anything malformed (corrupted corpus files). */
export function fromJson(v: unknown, path = '$'): unknown {
  if (Array.isArray(v)) return v.map((x, i) => fromJson(x, `${path}[${i}]`));
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    if ('$hex' in o) {
      if (typeof o.$hex !== 'string' || !/^(?:[0-9a-f]{2})*$/i.test(o.$hex)) throw new TypeError(`${path}.$hex: expected an even-length hex string`);
      return Uint8Array.from(Buffer.from(o.$hex, 'hex'));
    }
    if ('$bigint' in o) {
      if (typeof o.$bigint !== 'string' || !/^-?\d+$/.test(o.$bigint)) throw new TypeError(`${path}.$bigint: expected a decimal integer string`);
      return BigInt(o.$bigint);
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) out[k] = fromJson(x, `${path}.${k}`);
    return out;
  }
  return v;
}

export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
export const unhex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
