/**
 * Field kinds of the message schema (the schema is data). Each kind names one RFC 4251 §5 data
 * type, or a structure built from them; the TypeScript value type of a field falls out of its kind
 * (`FieldValue`), and of a whole schema (`WireValue`). A fuzzer, the JSONL printer and the codec in
 * define-message.ts all read the same frozen objects.
 */

export type ScalarKind =
  | 'byte' | 'boolean' | 'uint32' | 'uint64'
  | 'string'    // arbitrary bytes → Uint8Array
  | 'utf8'      // ISO-10646 UTF-8 text → string
  | 'ascii'     // US-ASCII names (algorithms, services, request types) → string (bytes >0x7f kept as latin1)
  | 'nameList'  // comma-separated names → string[]
  | 'mpint'     // → bigint
  | 'rest';     // every remaining byte → Uint8Array; only as the last field

/** Fields with a `when` are present on the wire iff the named earlier boolean field is true. */
interface Conditional { readonly when?: string }

export interface ScalarField<K extends ScalarKind = ScalarKind> extends Conditional { readonly kind: K }
export interface FixedBytesField extends Conditional { readonly kind: 'bytes'; readonly length: number }
/** uint32 count, then that many items (RFC 8308 §2.3, RFC 4256 §3.2). `max` bounds the count we accept. */
export interface ListField<I extends ItemSchema = ItemSchema> extends Conditional { readonly kind: 'list'; readonly items: I; readonly max: number }
/** Items repeated until the end of the payload, no count (OpenSSH `hostkeys-00@openssh.com`); only as the last field. */
export interface RepeatField<I extends ItemSchema = ItemSchema> extends Conditional { readonly kind: 'repeat'; readonly items: I }

export type Field = ScalarField | FixedBytesField | ListField | RepeatField;
/** Field names in wire order (JS keeps string keys in insertion order). */
export type Fields = { readonly [name: string]: Field };
/** A list item is either one field (→ its value) or a record of fields (→ an object). */
export type ItemSchema = Field | Fields;

const scalar = <K extends ScalarKind>(kind: K): ScalarField<K> => Object.freeze({ kind });

export const byte = scalar('byte');
export const boolean = scalar('boolean');
export const uint32 = scalar('uint32');
export const uint64 = scalar('uint64');
export const string = scalar('string');
export const utf8 = scalar('utf8');
export const ascii = scalar('ascii');
/** Algorithm, service and request names are US-ASCII strings (RFC 4251 §6). */
export const name = ascii;
export const nameList = scalar('nameList');
export const mpint = scalar('mpint');
export const rest = scalar('rest');

export function bytes(length: number): FixedBytesField {
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`bytes(${length}): length must be a non-negative integer`);
  return Object.freeze({ kind: 'bytes', length });
}

export function list<const I extends ItemSchema>(items: I, opts: { readonly max: number }): ListField<I> {
  if (!Number.isSafeInteger(opts.max) || opts.max < 0 || opts.max > 0xffffffff) throw new RangeError(`list: max must be a uint32, got ${opts.max}`);
  return Object.freeze({ kind: 'list', items, max: opts.max });
}

export function repeat<const I extends ItemSchema>(items: I): RepeatField<I> {
  return Object.freeze({ kind: 'repeat', items });
}

/** Present iff the earlier boolean field `flag` is true (e.g. RFC 4252 §7 signature, §8 new password). */
export function when<const W extends string, F extends Field>(flag: W, field: F): F & { readonly when: W } {
  const f: F & { readonly when: W } = { ...field, when: flag };
  Object.freeze(f);
  return f;
}

export function isField(s: ItemSchema): s is Field {
  return typeof (s as { kind?: unknown }).kind === 'string';
}

// ---- types that fall out of the schema ----

/** 'decoded' values come out of decode(); 'input' values go into encode() (arrays may be readonly). */
export type Mode = 'decoded' | 'input';

type Arr<T, M extends Mode> = M extends 'input' ? readonly T[] : T[];

interface ScalarValues<M extends Mode> {
  byte: number; boolean: boolean; uint32: number; uint64: bigint; string: Uint8Array; utf8: string; ascii: string;
  nameList: Arr<string, M>; mpint: bigint; rest: Uint8Array;
}

export type FieldValue<F, M extends Mode = 'decoded'> =
  F extends { readonly kind: 'list' | 'repeat'; readonly items: infer I } ? Arr<ItemValue<I, M>, M>
  : F extends { readonly kind: 'bytes' } ? Uint8Array
  : F extends { readonly kind: infer K extends ScalarKind } ? ScalarValues<M>[K]
  : never;

// The first two branches stop the recursion for the wide (non-literal) schema types used by generic code.
type ItemValue<I, M extends Mode> =
  [ItemSchema] extends [I] ? unknown
  : I extends { readonly kind: string } ? FieldValue<I, M>
  : I extends Fields ? (string extends keyof I ? Record<string, unknown> : WireValue<I, M>)
  : never;

/** Flattens intersections for readable hovers; distributes over unions. */
export type Flat<T> = T extends unknown ? { [K in keyof T]: T[K] } : never;

type RequiredKeys<S> = { [K in keyof S]-?: S[K] extends { readonly when: string } ? never : K }[keyof S];

export type WireValue<S extends Fields, M extends Mode = 'decoded'> = Flat<
  { -readonly [K in RequiredKeys<S>]: FieldValue<S[K], M> } &
  { -readonly [K in Exclude<keyof S, RequiredKeys<S>>]?: FieldValue<S[K], M> }
>;
