/**
 * The one generic codec behind every message. A definition is data — `{ id, name, spec, fields }`
 * plus optional `variants` (a tail chosen by a discriminating field, e.g. RFC 4252 §5 `method name`) — and
 * `encode`/`decode` interpret it. encode∘decode round-trips exactly for every canonical payload (booleans
 * 0/1; RFC 4251 §5 still makes us read any non-zero byte as TRUE).
 *
 * Errors: malformed input → DecodeError{offset} (bounded: every length and count is checked before anything
 * is allocated); a value that cannot be encoded → TypeError (wrong kind) or RangeError (out of range),
 * naming the field. Decoded byte fields are views into the payload, not copies.
 */
import { DecodeError } from '../errors.js';
import { Reader, type WireLimits } from '../wire/index.js';
import { Encoder, describeValue, minEncodedSize, prepareField, readField, type Compiled, type Entry } from './field-codec.js';
import { isField, type Field, type Fields, type Flat, type Mode, type WireValue } from './fields.js';

/** A tail of fields chosen by the value of the ascii/utf8 field `on`. */
export interface Variants {
  readonly on: string;
  readonly cases: { readonly [value: string]: Fields };
  /** Fields for any other value; without it, an unknown value is a DecodeError. */
  readonly otherwise?: Fields;
}

type FieldsValue<X, M extends Mode> = X extends Fields ? WireValue<X, M> : never;
type CaseValues<S extends Fields, V extends Variants, M extends Mode> = {
  [K in keyof V['cases'] & string]: Flat<Omit<WireValue<S, M>, V['on']> & { [P in V['on']]: K } & FieldsValue<V['cases'][K], M>>
}[keyof V['cases'] & string];
type OtherwiseValue<S extends Fields, V extends Variants, M extends Mode> =
  V extends { readonly otherwise: infer O extends Fields } ? Flat<WireValue<S, M> & WireValue<O, M>> : never;

/** The value described by `fields` (and `variants`, as a discriminated union on `variants.on`). */
export type BodyValue<S extends Fields, V, M extends Mode = 'decoded'> =
  [V] extends [Variants] ? CaseValues<S, V, M> | OtherwiseValue<S, V, M> : WireValue<S, M>;

/** Decoded message: `{ type: 'SSH_MSG_…', …fields }`. */
export type MessageValue<N extends string, S extends Fields, V, M extends Mode = 'decoded'> =
  BodyValue<S, V, M> extends infer B ? B extends unknown ? Flat<{ type: N } & B> : never : never;
/** What encode() takes: the same object, `type` optional. */
export type EncodeInput<N extends string, S extends Fields, V> =
  BodyValue<S, V, 'input'> extends infer B ? B extends unknown ? Flat<{ type?: N } & B> : never : never;

export interface StructCodec<S extends Fields = Fields, V extends Variants | undefined = Variants | undefined> {
  readonly name: string;
  readonly spec: string;
  readonly fields: S;
  readonly variants: V;
  encode(value: BodyValue<S, V, 'input'>): Uint8Array;
  decode(bytes: Uint8Array, limits?: WireLimits): BodyValue<S, V>;
}

export interface MessageCodec<Id extends number = number, N extends string = string, S extends Fields = Fields, V extends Variants | undefined = Variants | undefined> {
  /** The message number, RFC 4250 §4.1. */
  readonly id: Id;
  /** RFC spelling, also the `type` of decoded values. */
  readonly name: N;
  /** Where the layout is defined, e.g. 'RFC 4253 §7.1'. */
  readonly spec: string;
  readonly fields: S;
  readonly variants: V;
  /** The payload, message number byte first. */
  encode(value: EncodeInput<N, S, V>): Uint8Array;
  /** Reads a whole payload (message number byte first); trailing bytes are a DecodeError. */
  decode(payload: Uint8Array, limits?: WireLimits): MessageValue<N, S, V>;
}

/** The decoded value of a codec: `type KexInit = ValueOf<typeof KexInit>`. */
export type ValueOf<C> = C extends { decode(payload: Uint8Array, limits?: WireLimits): infer R } ? R : never;

/** Any message codec, for tables and fuzzers (methods are bivariant, so every MessageCodec fits). */
export interface AnyMessageCodec {
  readonly id: number;
  readonly name: string;
  readonly spec: string;
  readonly fields: Fields;
  readonly variants: Variants | undefined;
  encode(value: object): Uint8Array;
  decode(payload: Uint8Array, limits?: WireLimits): { type: string };
}

export function defineMessage<const Id extends number, const N extends string, const S extends Fields, const V extends Variants | undefined = undefined>(
  def: { readonly id: Id; readonly name: N; readonly spec: string; readonly fields: S; readonly variants?: V },
): MessageCodec<Id, N, S, V> {
  const { id, name, spec, fields } = def;
  if (!Number.isInteger(id) || id < 0 || id > 255) throw new RangeError(`${name}: message number ${id} is not a byte`);
  const body = compile(fields, def.variants, name, 'type');
  return Object.freeze({
    id, name, spec, fields, variants: def.variants as V,
    encode(value: EncodeInput<N, S, V>): Uint8Array {
      const e = new Encoder();
      e.u8(id);
      body.prepare(e, value, name);
      return e.finish();
    },
    decode(payload: Uint8Array, limits?: WireLimits): MessageValue<N, S, V> {
      const r = new Reader(payload, limits);
      const got = r.byte();
      if (got !== id) throw new DecodeError(`${name}: message number ${got}, expected ${id}`, 0);
      const out: Record<string, unknown> = { type: name };
      body.read(r, out);
      r.end(name);
      return out as MessageValue<N, S, V>;
    },
  });
}

/** A codec without a message number byte, for sub-payloads such as RFC 4254 §6.2 'pty-req' data. */
export function defineStruct<const S extends Fields, const V extends Variants | undefined = undefined>(
  def: { readonly name: string; readonly spec: string; readonly fields: S; readonly variants?: V; readonly reserved?: string },
): StructCodec<S, V> {
  const { name, spec, fields } = def;
  const body = compile(fields, def.variants, name, def.reserved);
  return Object.freeze({
    name, spec, fields, variants: def.variants as V,
    encode(value: BodyValue<S, V, 'input'>): Uint8Array {
      const e = new Encoder();
      body.prepare(e, value, name);
      return e.finish();
    },
    decode(bytes: Uint8Array, limits?: WireLimits): BodyValue<S, V> {
      const r = new Reader(bytes, limits);
      const out: Record<string, unknown> = {};
      body.read(r, out);
      r.end(name);
      return out as BodyValue<S, V>;
    },
  });
}

// ---- compiled layouts ----

function compile(fields: Fields, variants: Variants | undefined, label: string, reserved: string | undefined): Compiled {
  const base = compileFields(fields, label, variants === undefined, reserved);
  if (variants === undefined) return base;
  const on = fields[variants.on];
  if (on === undefined || (on.kind !== 'ascii' && on.kind !== 'utf8') || on.when !== undefined)
    throw new TypeError(`${label}: variants.on must name an unconditional ascii/utf8 field, got ${JSON.stringify(variants.on)}`);
  const cases = new Map<string, Compiled>();
  for (const [value, f] of Object.entries(variants.cases)) cases.set(value, compileFields(f, `${label}[${variants.on}=${value}]`, true, reserved, fields));
  const otherwise = variants.otherwise && compileFields(variants.otherwise, `${label}[${variants.on}=*]`, true, reserved, fields);
  const pick = (d: unknown): Compiled | undefined => cases.get(d as string) ?? otherwise;
  return {
    prepare(e, value, where) {
      base.prepare(e, value, where);
      const d = (value as Record<string, unknown>)[variants.on];
      const tail = pick(d);
      if (tail === undefined) throw new RangeError(`${where}: no layout for ${variants.on} ${JSON.stringify(d)}`);
      tail.prepare(e, value, where);
    },
    read(r, out) {
      base.read(r, out);
      const tail = pick(out[variants.on]);
      if (tail === undefined) throw new DecodeError(`${label}: unknown ${variants.on} ${JSON.stringify(out[variants.on])}`, r.offset);
      tail.read(r, out);
    },
  };
}

/** Checks the definition once (a bad schema fails at import, not on the wire), then builds prepare/read. */
function compileFields(fields: Fields, label: string, tailAllowed: boolean, reserved?: string, outer: Fields = {}): Compiled {
  const names = Object.keys(fields);
  const entries: Entry[] = names.map((name, i) => {
    const field = fields[name]!;
    const where = `${label}.${name}`;
    if (name === reserved || Object.hasOwn(outer, name)) throw new TypeError(`${where}: field name is taken`);
    if ((field.kind === 'rest' || field.kind === 'repeat') && !(tailAllowed && i === names.length - 1))
      throw new TypeError(`${where}: ${field.kind} must be the last field`);
    if (field.when !== undefined) {
      const flagAt = names.indexOf(field.when);
      if (flagAt < 0 || flagAt >= i || fields[field.when]!.kind !== 'boolean' || fields[field.when]!.when !== undefined)
        throw new TypeError(`${where}: when(${JSON.stringify(field.when)}) must name an earlier unconditional boolean field`);
    }
    let items: Compiled | undefined;
    if (field.kind === 'list' || field.kind === 'repeat') {
      if (field.kind === 'repeat' && minEncodedSize(field.items) === 0) throw new TypeError(`${where}: repeated items must take at least one byte`);
      items = isField(field.items) ? compileItem(field.items, `${where}[]`) : compileFields(field.items, `${where}[]`, false);
    }
    return { name, field, label: where, items };
  });
  return {
    prepare(e, value, where) {
      if (typeof value !== 'object' || value === null) throw new TypeError(`${where}: expected an object, got ${describeValue(value)}`);
      const v = value as Record<string, unknown>;
      for (const en of entries) {
        const x = v[en.name];
        const cond = en.field.when;
        if (cond !== undefined && v[cond] !== true) {
          if (x !== undefined) throw new TypeError(`${en.label}: must be absent when ${cond} is false`);
          continue;
        }
        if (x === undefined) throw new TypeError(`${en.label}: missing`);
        prepareField(e, en, x);
      }
    },
    read(r, out) {
      for (const en of entries) {
        const cond = en.field.when;
        if (cond !== undefined && out[cond] !== true) continue;
        out[en.name] = readField(r, en);
      }
    },
  };
}

/** A list whose items are single fields (e.g. RFC 4256 §3.4 responses): read/write the bare value. */
function compileItem(field: Field, label: string): Compiled {
  const en = compileFields({ item: field }, label, false);
  return {
    prepare: (e, value) => en.prepare(e, { item: value }, label),
    read(r, out) { en.read(r, out); },
  };
}
