/**
 * One arbitrary per message type (RFC 4250 §4.1), derived from each codec in `allCodecs`: its fields, its
 * variants (RFC 4252 §5 methods), and for requests and channel opens the typed request data of
 * impl/messages/payloads.ts. Plus messages with numbers nobody assigned.
 */
import fc from 'fast-check';
import { allCodecs, channelOpenData, channelRequestData, globalRequestData, type AnyMessageCodec, type Fields } from '../../../impl/messages/index.js';
import type { FuzzMessage } from '../wire-encode.js';
import { encodeFuzzFields } from '../wire-encode.js';
import { fieldsArb, type ArbContext } from './fields.js';
import { asciiArb, bytesArb } from './primitives.js';
import { CHANNEL_REQUESTS, CHANNEL_TYPES, GLOBAL_REQUESTS } from './names.js';
import { blobTypeName } from './key-blobs.js';
import { EXTRA_CHANNEL_OPENS, EXTRA_CHANNEL_REQUESTS, EXTRA_GLOBAL_REQUESTS } from './openssh-payloads.js';

/** Request-specific data chosen together with its name, so the data matches (or deliberately does not). */
function namedDataArb(
  nameField: string,
  cases: Readonly<Record<string, { readonly fields: Fields }>>,
  extraNames: readonly string[],
  ctx: ArbContext,
): fc.Arbitrary<Record<string, unknown>> {
  const known = Object.entries(cases).map(([name, c]) =>
    fieldsArb(c.fields, ctx).map((v) => ({ [nameField]: name, data: encodeFuzzFields(c.fields, v) })));
  const other = fc.record({ [nameField]: asciiArb(extraNames), data: bytesArb(48) });
  return fc.oneof({ weight: 5, arbitrary: fc.oneof(...known) }, { weight: 1, arbitrary: other });
}

function codecArb(c: AnyMessageCodec, ctx: ArbContext): fc.Arbitrary<FuzzMessage> {
  const type = c.name;
  const withType = (a: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<FuzzMessage> => a.map((v) => ({ type, ...v }));
  switch (type) {
    case 'SSH_MSG_GLOBAL_REQUEST':
      return withType(fc.tuple(fieldsArb(c.fields, ctx, ['name', 'data']), namedDataArb('name', { ...globalRequestData.cases, ...EXTRA_GLOBAL_REQUESTS }, GLOBAL_REQUESTS, ctx)).map(([a, b]) => ({ ...a, ...b })));
    case 'SSH_MSG_CHANNEL_OPEN':
      return withType(fc.tuple(fieldsArb(c.fields, ctx, ['channelType', 'data']), namedDataArb('channelType', { ...channelOpenData.cases, ...EXTRA_CHANNEL_OPENS }, CHANNEL_TYPES, ctx)).map(([a, b]) => ({ ...a, ...b })));
    case 'SSH_MSG_CHANNEL_REQUEST':
      return withType(fc.tuple(fieldsArb(c.fields, ctx, ['requestType', 'data']), namedDataArb('requestType', { ...channelRequestData.cases, ...EXTRA_CHANNEL_REQUESTS }, CHANNEL_REQUESTS, ctx)).map(([a, b]) => ({ ...a, ...b })));
    default:
      break;
  }
  const v = c.variants;
  if (!v) return withType(fieldsArb(c.fields, ctx));
  const base = fieldsArb(c.fields, ctx, [v.on]);
  const tails = Object.entries(v.cases).map(([on, f]) => ({
    weight: VARIANT_WEIGHTS[on] ?? 1,
    arbitrary: fc.tuple(base, fieldsArb(f, ctx), fc.boolean()).map(([a, b, pair]) => pairAlgorithm(addressed(type, { ...a, [v.on]: on, ...b }, pair, ctx), pair)),
  }));
  if (v.otherwise) tails.push({ weight: 1, arbitrary: fc.tuple(base, asciiArb([]), fieldsArb(v.otherwise, ctx)).map(([a, on, b]) => ({ ...a, [v.on]: on, ...b })) });
  return withType(fc.oneof(...tails));
}

/**
 * RFC 4252 §5: a server runs a method's checks (the key lookup, the certificate's trust and options, the
 * password) only for an account it has, and OpenSSH refuses a later change of user or service. When `pair`
 * says so, a USERAUTH_REQUEST names the target's account and ssh-connection, like a real client; otherwise
 * its independently drawn user and service stay.
 */
function addressed(type: string, m: Record<string, unknown>, pair: boolean, ctx: ArbContext): Record<string, unknown> {
  const user = ctx.dict.users[0];
  return pair && type === 'SSH_MSG_USERAUTH_REQUEST' && user !== undefined ? { ...m, user, service: 'ssh-connection' } : m;
}

/**
 * A publickey request whose algorithm names its key's type (RFC 4252 §7: servers refuse a mismatch before they
 * look at the key), when `pair` says so; else the independently drawn name stays.
 */
function pairAlgorithm(m: Record<string, unknown>, pair: boolean): Record<string, unknown> {
  if (!pair || !(m.key instanceof Uint8Array) || typeof m.algorithm !== 'string') return m;
  const t = blobTypeName(m.key);
  return t === undefined ? m : { ...m, algorithm: t === 'ssh-rsa' ? 'rsa-sha2-256' : t };
}

/** RFC 4252 §5 methods where servers hold most logic (signature checks, state) come up more often. */
const VARIANT_WEIGHTS: Readonly<Record<string, number>> = { publickey: 3, password: 2 };

/**
 * Messages a client really sends (and peers parse with the most logic) weigh more than server-only ones
 * inside their family; everything stays possible.
 */
const CODEC_WEIGHTS: Readonly<Record<string, number>> = {
  SSH_MSG_KEXINIT: 3, SSH_MSG_SERVICE_REQUEST: 2, SSH_MSG_USERAUTH_REQUEST: 6, SSH_MSG_USERAUTH_INFO_RESPONSE: 2,
  SSH_MSG_KEX_ECDH_INIT: 2, SSH_MSG_KEXDH_INIT: 2, SSH_MSG_CHANNEL_OPEN: 3, SSH_MSG_CHANNEL_DATA: 3,
  SSH_MSG_CHANNEL_REQUEST: 3, SSH_MSG_CHANNEL_WINDOW_ADJUST: 2, SSH_MSG_GLOBAL_REQUEST: 2,
};

/** Numbers RFC 4250 §4.1 leaves unassigned (and the local-extension range 192–255). */
const UNASSIGNED_IDS = [0, 9, 10, 15, 19, 22, 29, 35, 49, 54, 59, 62, 79, 83, 89, 101, 127, 128, 191, 192, 254, 255] as const;

const unknownArb: fc.Arbitrary<FuzzMessage> = fc.record({
  type: fc.constant('unknown'),
  id: fc.oneof(fc.constantFrom(...UNASSIGNED_IDS), fc.integer({ min: 0, max: 255 })),
  body: bytesArb(32),
});

export interface MessageFamilyWeights {
  readonly transport: number;
  readonly kex: number;
  readonly userauth: number;
  readonly connection: number;
  readonly unknown: number;
}

export const DEFAULT_FAMILY_WEIGHTS: MessageFamilyWeights = { transport: 3, kex: 2, userauth: 3, connection: 6, unknown: 1 };

/** Per start phase: the families whose messages that phase parses with the most logic come first. */
export const PHASE_FAMILY_WEIGHTS: Readonly<Record<string, MessageFamilyWeights>> = {
  'pre-kex': { transport: 4, kex: 3, userauth: 1, connection: 1, unknown: 1 },
  kex: { transport: 3, kex: 5, userauth: 1, connection: 1, unknown: 1 },
  newkeys: { transport: 4, kex: 1, userauth: 3, connection: 2, unknown: 1 },
  userauth: { transport: 1, kex: 1, userauth: 8, connection: 2, unknown: 1 },
  authenticated: { transport: 2, kex: 1, userauth: 1, connection: 8, unknown: 1 },
  channel: { transport: 1, kex: 1, userauth: 1, connection: 10, unknown: 1 },
  rekey: { transport: 2, kex: 6, userauth: 1, connection: 3, unknown: 1 },
};

function family(id: number): keyof MessageFamilyWeights {
  if (id < 20) return 'transport';
  if (id < 50) return 'kex';
  if (id < 80) return 'userauth';
  return 'connection';
}

/** Every message type, per-type arbitraries grouped into families so deep-state messages are frequent. */
export function messageArb(ctx: ArbContext, weights: MessageFamilyWeights = DEFAULT_FAMILY_WEIGHTS): fc.Arbitrary<FuzzMessage> {
  const groups: Record<string, fc.WeightedArbitrary<FuzzMessage>[]> = {};
  for (const c of allCodecs) (groups[family(c.id)] ??= []).push({ weight: CODEC_WEIGHTS[c.name] ?? 1, arbitrary: codecArb(c, ctx) });
  const entries: fc.WeightedArbitrary<FuzzMessage>[] = Object.entries(groups)
    .map(([k, arbs]) => ({ weight: weights[k as keyof MessageFamilyWeights], arbitrary: fc.oneof(...arbs) }))
    .filter((e) => e.weight > 0);
  if (weights.unknown > 0) entries.push({ weight: weights.unknown, arbitrary: unknownArb });
  return fc.oneof(...entries);
}

/** The arbitrary for one named message type (tests, targeted campaigns). */
export function messageArbFor(type: string, ctx: ArbContext): fc.Arbitrary<FuzzMessage> {
  const c = allCodecs.find((x) => x.name === type);
  if (!c) throw new RangeError(`no codec named ${JSON.stringify(type)}`);
  return codecArb(c, ctx);
}
