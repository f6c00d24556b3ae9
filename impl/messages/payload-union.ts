/**
 * Typed codecs for the request-specific `data` of GLOBAL_REQUEST, CHANNEL_OPEN and CHANNEL_REQUEST
 * (RFC 4254): the same schema machinery, no message number byte, chosen by the request/channel type that
 * travels in the enclosing message. Values are discriminated by `kind`; an unknown kind keeps its bytes.
 */
import type { WireLimits } from '../wire/index.js';
import { defineStruct, type StructCodec } from './define-message.js';
import type { Fields, Flat } from './fields.js';

export interface UnknownPayload { kind: 'unknown'; data: Uint8Array }

type Defs = { readonly [kind: string]: { readonly spec: string; readonly fields: Fields } };
export type PayloadCases<D extends Defs> = { readonly [K in keyof D]: StructCodec<D[K]['fields'], undefined> };

export type PayloadValue<D extends Defs> =
  | { [K in keyof D & string]: Flat<{ kind: K } & ReturnType<PayloadCases<D>[K]['decode']>> }[keyof D & string]
  | UnknownPayload;
export type PayloadInput<D extends Defs> =
  | { [K in keyof D & string]: Flat<{ kind: K } & Parameters<PayloadCases<D>[K]['encode']>[0]> }[keyof D & string]
  | UnknownPayload;

export interface PayloadUnion<D extends Defs> {
  /** Where the kinds are defined, e.g. 'RFC 4254 §6'. */
  readonly spec: string;
  readonly cases: PayloadCases<D>;
  /**
   * `kind` is the request or channel type from the enclosing message; unknown kinds never throw. A malformed
   * known kind is a DecodeError whose offset counts from the start of `data`.
   */
  decode(kind: string, data: Uint8Array, limits?: WireLimits): PayloadValue<D>;
  encode(value: PayloadInput<D>): Uint8Array;
}

export function definePayloads<const D extends Defs>(spec: string, defs: D): PayloadUnion<D> {
  const cases = new Map<string, StructCodec>();
  for (const [kind, d] of Object.entries(defs)) cases.set(kind, defineStruct({ name: kind, spec: d.spec, fields: d.fields, reserved: 'kind' }));
  return Object.freeze({
    spec,
    cases: Object.freeze(Object.fromEntries(cases)) as PayloadCases<D>,
    decode(kind: string, data: Uint8Array, limits?: WireLimits): PayloadValue<D> {
      const c = cases.get(kind);
      if (c === undefined) return { kind: 'unknown', data };
      return { kind, ...c.decode(data, limits) } as PayloadValue<D>;
    },
    encode(value: PayloadInput<D>): Uint8Array {
      if (value.kind === 'unknown' && !cases.has('unknown')) {
        const data = (value as UnknownPayload).data;
        if (!(data instanceof Uint8Array)) throw new TypeError(`${spec} unknown payload: data must be a Uint8Array`);
        return data;
      }
      const c = cases.get(value.kind);
      if (c === undefined) throw new RangeError(`${spec}: no codec for kind ${JSON.stringify(value.kind)}`);
      return c.encode(value as never);
    },
  });
}
