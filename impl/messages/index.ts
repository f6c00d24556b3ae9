/**
 * One typed codec per SSH message number (RFC 4250 §4.1). Numbers 30–49 (kex method) and 60–79 (userauth
 * method) mean different things per method, so they decode only with a DecodeContext; without one, or for
 * a number nobody defined, the result is `{ type: 'unknown', id, body }` — never an exception.
 */
import { DecodeError } from '../errors.js';
import type { WireLimits } from '../wire/index.js';
import type { AnyMessageCodec } from './define-message.js';
import { toJSONSafe, type JsonValue } from './json.js';
import { kexCodecs, type KexFamily } from './kex.js';
import { transportCodecs } from './transport.js';
import { authMethodCodecs, userauthCodecs, type AuthMethodContext } from './userauth.js';
import { connectionCodecs } from './connection.js';

export * from './transport.js';
export * from './kex.js';
export * from './userauth.js';
export * from './connection.js';
export * from './payloads.js';
export { defineMessage, defineStruct } from './define-message.js';
export { minEncodedSize } from './field-codec.js';
export type { AnyMessageCodec, MessageCodec, StructCodec, Variants, BodyValue, MessageValue, EncodeInput, ValueOf } from './define-message.js';
export * as field from './fields.js';
export type { Field, Fields, FieldValue, WireValue, ItemSchema, ScalarKind } from './fields.js';
export { definePayloads, type PayloadUnion, type PayloadValue, type PayloadInput, type UnknownPayload } from './payload-union.js';
export { toJSONSafe, type JsonValue } from './json.js';

export interface DecodeContext {
  /** The negotiated kex method's family (30–49). */
  readonly kex?: KexFamily;
  /** The userauth method in progress (60–79). */
  readonly auth?: AuthMethodContext;
}

const fixedCodecs = [...transportCodecs, ...userauthCodecs, ...connectionCodecs] as const;
const contextCodecs = [...kexCodecs.ecdh, ...kexCodecs.dh, ...kexCodecs['dh-gex'],
  ...authMethodCodecs.publickey, ...authMethodCodecs.password, ...authMethodCodecs['keyboard-interactive']] as const;

/** Every codec, fixed and context-dependent (for fuzzers and printers). */
export const allCodecs: readonly AnyMessageCodec[] = Object.freeze([...fixedCodecs, ...contextCodecs]);

type AllCodec = (typeof fixedCodecs)[number] | (typeof contextCodecs)[number];
type Decoded<C> = C extends { decode(payload: Uint8Array, limits?: WireLimits): infer R } ? R : never;
type Input<C> = C extends { encode(value: infer I): Uint8Array } ? I : never;

/** A payload whose number has no codec in the context it was decoded in; `body` follows the number byte. */
export interface UnknownMessage { type: 'unknown'; id: number; body: Uint8Array }

/** Any decoded message, discriminated by `type` (the RFC name). */
export type Message = Decoded<AllCodec> | UnknownMessage;
/** What encodeMessage takes: a Message, or the same with readonly arrays. `type` is required here. */
export type MessageInput = { [C in AllCodec as C['name']]: Input<C> & { type: C['name'] } }[AllCodec['name']] | UnknownMessage;
/** Narrow a Message by its name: `MessageOf<'SSH_MSG_KEXINIT'>`. */
export type MessageOf<N extends Message['type']> = Extract<Message, { type: N }>;

type StripPrefix<N> = N extends `SSH_MSG_${infer R}` ? R : never;
/** Message numbers by name without the SSH_MSG_ prefix (`MessageId.KEXINIT === 20`), for a cheap look at payload[0]. */
export const MessageId = Object.freeze(Object.fromEntries(allCodecs.map((c) => [c.name.slice('SSH_MSG_'.length), c.id]))) as
  { readonly [C in AllCodec as StripPrefix<C['name']>]: C['id'] };

const fixedById = new Map<number, AnyMessageCodec>(fixedCodecs.map((c) => [c.id, c]));
const byName = new Map<string, AnyMessageCodec>(allCodecs.map((c) => [c.name, c]));
const byKex = new Map(Object.entries(kexCodecs).map(([k, cs]) => [k, new Map<number, AnyMessageCodec>(cs.map((c) => [c.id, c]))]));
const byAuth = new Map(Object.entries(authMethodCodecs).map(([k, cs]) => [k, new Map<number, AnyMessageCodec>(cs.map((c) => [c.id, c]))]));

/** RFC 4251 §7 ranges whose meaning depends on the method in use. */
const isKexNumber = (id: number): boolean => id >= 30 && id <= 49;
const isAuthMethodNumber = (id: number): boolean => id >= 60 && id <= 79;

/** The codec for a message number in a context, or undefined. */
export function codecFor(id: number, ctx?: DecodeContext): AnyMessageCodec | undefined {
  if (isKexNumber(id)) return ctx?.kex === undefined ? undefined : byKex.get(ctx.kex)?.get(id);
  if (isAuthMethodNumber(id)) return ctx?.auth === undefined ? undefined : byAuth.get(ctx.auth)?.get(id);
  return fixedById.get(id);
}

/** The codec for a message name ('SSH_MSG_KEXINIT'), or undefined. */
export function codecByName(name: string): AnyMessageCodec | undefined {
  return byName.get(name);
}

/** 'SSH_MSG_KEXINIT'; 'SSH_MSG_KEX_30' / 'SSH_MSG_USERAUTH_60' for method numbers without a codec in ctx; 'SSH_MSG_UNKNOWN_n' otherwise. */
export function messageName(id: number, ctx?: DecodeContext): string {
  const c = codecFor(id, ctx);
  if (c !== undefined) return c.name;
  if (isKexNumber(id)) return `SSH_MSG_KEX_${id}`;
  if (isAuthMethodNumber(id)) return `SSH_MSG_USERAUTH_${id}`;
  return `SSH_MSG_UNKNOWN_${id}`;
}

/** Decodes a whole payload (after decryption/decompression). Bytes in the result are views into `payload`. */
export function decodeMessage(payload: Uint8Array, ctx?: DecodeContext, limits?: WireLimits): Message {
  if (payload.length === 0) throw new DecodeError('empty payload: no message number', 0);
  const id = payload[0]!;
  const c = codecFor(id, ctx);
  if (c === undefined) return { type: 'unknown', id, body: payload.subarray(1) };
  return c.decode(payload, limits) as Message;
}

/** The payload for a message, number byte first. `{ type: 'unknown', id, body }` is written as is. */
export function encodeMessage(m: MessageInput): Uint8Array {
  if (m.type === 'unknown') {
    const { id, body } = m as UnknownMessage;
    if (!Number.isInteger(id) || id < 0 || id > 255) throw new RangeError(`unknown message: id ${id} is not a byte`);
    if (!(body instanceof Uint8Array)) throw new TypeError('unknown message: body must be a Uint8Array');
    const out = new Uint8Array(1 + body.length);
    out[0] = id;
    out.set(body, 1);
    return out;
  }
  const c = byName.get(m.type);
  if (c === undefined) throw new RangeError(`no codec for message type ${JSON.stringify(m.type)}`);
  return c.encode(m);
}

/** A JSON-safe copy of a message for JSONL traces and reports (bytes → hex, bigint → '0x…'). */
export function messageToJSON(m: Message): { readonly [key: string]: JsonValue } {
  return toJSONSafe(m) as { readonly [key: string]: JsonValue };
}
