/**
 * The `deep` mode: messages whose framing and state are valid after authentication — addressed to the open
 * session channel, within its window, in the order RFC 4254 allows — with fuzzed contents (request types and
 * request-specific data, near-valid inside; channel data; global requests; debug text). A correct server
 * must process every one of them without disconnecting, so connections survive and are reused: this mode
 * exercises the connection layer's content parsing at many cases per kex.
 */
import fc from 'fast-check';
import { channelOpenData, channelRequestData, globalRequestData, type Fields } from '../../../impl/messages/index.js';
import type { FuzzDictionary } from '../link.js';
import type { Step } from '../steps.js';
import type { FuzzMessage } from '../wire-encode.js';
import { encodeFuzzFields } from '../wire-encode.js';
import { fieldsArb, type ArbContext } from './fields.js';
import { asciiArb, bytesArb, utf8Arb } from './primitives.js';
import { edgeU32Arb } from './edges.js';
import { forwardStepArb, sftpStepArb } from './steps.js';
import { EXTRA_CHANNEL_OPENS, EXTRA_CHANNEL_REQUESTS, EXTRA_GLOBAL_REQUESTS } from './openssh-payloads.js';
import { CHANNEL_REQUESTS, CHANNEL_TYPES, GLOBAL_REQUESTS, LANGUAGE_NAMES } from './names.js';
import type { Phase } from '../steps.js';

const chan0 = fc.constant({ $chan: 0 });

/** A valid integer most of the time, an edge value (0, 1, 2^31−1, 2^31, 2^32−1) sometimes. */
const orEdge = (valid: fc.Arbitrary<number>): fc.Arbitrary<number> => fc.oneof({ weight: 8, arbitrary: valid }, { weight: 1, arbitrary: edgeU32Arb });

/** A request name with data laid out for it (near-valid inside), or an unknown name with any bytes. */
function requestArb(cases: Readonly<Record<string, { readonly fields: Fields }>>, extra: readonly string[], ctx: ArbContext) {
  const known = Object.entries(cases).map(([name, c]) => fieldsArb(c.fields, ctx).map((v) => ({ name, data: encodeFuzzFields(c.fields, v) })));
  return fc.oneof({ weight: 5, arbitrary: fc.oneof(...known) }, { weight: 1, arbitrary: fc.record({ name: asciiArb(extra), data: bytesArb(48) }) });
}

export function deepStepArb(dict: FuzzDictionary): fc.Arbitrary<Step> {
  // broken fields only inside request-specific data: the SSH framing around them stays valid
  const inner: ArbContext = { dict, brokenOdds: 4 };
  const msgs: fc.Arbitrary<FuzzMessage>[] = [
    fc.record({ type: fc.constant('SSH_MSG_CHANNEL_DATA'), recipientChannel: chan0, data: bytesArb(64) }),
    fc.record({ type: fc.constant('SSH_MSG_CHANNEL_EXTENDED_DATA'), recipientChannel: chan0, dataTypeCode: orEdge(fc.oneof(fc.constant(1), fc.nat())), data: bytesArb(64) }),
    fc.tuple(requestArb({ ...channelRequestData.cases, ...EXTRA_CHANNEL_REQUESTS }, CHANNEL_REQUESTS, inner), fc.boolean())
      .map(([r, wantReply]) => ({ type: 'SSH_MSG_CHANNEL_REQUEST', recipientChannel: { $chan: 0 }, requestType: r.name, wantReply, data: r.data })),
    fc.tuple(requestArb({ ...globalRequestData.cases, ...EXTRA_GLOBAL_REQUESTS }, GLOBAL_REQUESTS, inner), fc.boolean())
      .map(([r, wantReply]) => ({ type: 'SSH_MSG_GLOBAL_REQUEST', name: r.name, wantReply, data: r.data })),
    fc.record({ type: fc.constant('SSH_MSG_CHANNEL_WINDOW_ADJUST'), recipientChannel: chan0, bytesToAdd: orEdge(fc.nat({ max: 1 << 20 })) }),
    fc.tuple(requestArb({ ...channelOpenData.cases, ...EXTRA_CHANNEL_OPENS }, CHANNEL_TYPES, inner), orEdge(fc.integer({ min: 100, max: 1000 })), orEdge(fc.nat({ max: 1 << 21 })), orEdge(fc.integer({ min: 1, max: 1 << 16 })))
      .map(([r, senderChannel, initialWindowSize, maximumPacketSize]) => ({ type: 'SSH_MSG_CHANNEL_OPEN', channelType: r.name, senderChannel, initialWindowSize, maximumPacketSize, data: r.data })),
    fc.record({ type: fc.constant('SSH_MSG_IGNORE'), data: bytesArb(64) }),
    fc.record({ type: fc.constant('SSH_MSG_DEBUG'), alwaysDisplay: fc.boolean(), message: utf8Arb, language: asciiArb(LANGUAGE_NAMES) }),
    // RFC 4252 §5.1: requests after success are silently ignored
    fc.record({ type: fc.constant('SSH_MSG_USERAUTH_REQUEST'), user: fc.constantFrom(...dict.users), service: fc.constant('ssh-connection'), method: fc.constant('none') }),
  ];
  return fc.oneof({ weight: 6, arbitrary: fc.oneof(...msgs).map((msg): Step => ({ op: 'send', msg })) }, { weight: 1, arbitrary: sftpStepArb }, { weight: 1, arbitrary: forwardStepArb });
}

export const deepStartArb: fc.Arbitrary<Phase> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Phase>('channel') },
  { weight: 1, arbitrary: fc.constant<Phase>('authenticated') },
);
