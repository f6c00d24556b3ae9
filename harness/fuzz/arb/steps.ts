/**
 * Arbitraries for steps (steps.ts) and for whole cases: a start phase plus fast-check model-based commands
 * (`fc.commands`), one command per step kind, each checked against the live connection state.
 */
import fc from 'fast-check';
import type { FuzzDictionary } from '../link.js';
import { PHASES, type Mutation, type PacketDeviation, type Phase, type Step } from '../steps.js';
import type { ForwardKind } from '../forward.js';
import type { ArbContext } from './fields.js';
import { messageArb, type MessageFamilyWeights, DEFAULT_FAMILY_WEIGHTS } from './messages.js';
import { BOUNDARY_U32, bytesArb, nameListArb, uint32Arb } from './primitives.js';
import { edgeVersionLineArb, oddVersionLineArb } from './edges.js';
import { sftpPacketArb, sftpVersionArb } from './sftp.js';
import { CHEAP_KEX_NAMES, CHANNEL_TYPES, CIPHER_NAMES, COMMANDS, COMPRESSION_NAMES, GLOBAL_REQUESTS, HOSTKEY_NAMES, KEX_NAMES, MAC_NAMES, SERVICE_NAMES } from './names.js';

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat({ max: 64 }) }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat({ max: 256 }), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('setU32' as const), at: fc.nat({ max: 64 }), value: fc.constantFrom(...BOUNDARY_U32) }),
  fc.record({ kind: fc.constant('append' as const), data: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('id' as const), id: fc.integer({ min: 0, max: 255 }) }),
);

export const deviationArb: fc.Arbitrary<PacketDeviation> = fc.oneof(
  fc.constant({ kind: 'skip' as const }),
  fc.constant({ kind: 'duplicate' as const }),
  fc.record({ kind: fc.constant('delay' as const), after: fc.integer({ min: 1, max: 3 }) }),
  fc.constant({ kind: 'corrupt' as const, mac: true }),
  fc.record({ kind: fc.constant('corrupt' as const), seqOffset: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('corrupt' as const), padding: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 4, max: 255 })) }),
  fc.record({ kind: fc.constant('corrupt' as const), packetLength: uint32Arb }),
  fc.record({ kind: fc.constant('corrupt' as const), truncate: fc.nat({ max: 48 }) }),
);

/** Message numbers a deviation targets: ours during kex (KEXINIT, method, NEWKEYS) and common later ones. */
const deviationTargets = fc.option(fc.constantFrom(20, 21, 30, 5, 50, 90, 94, 98), { nil: undefined, freq: 2 });

const kexListsArb = fc.record({
  kexAlgorithms: fc.oneof({ weight: 6, arbitrary: nameListArb(CHEAP_KEX_NAMES) }, { weight: 1, arbitrary: nameListArb(KEX_NAMES) }), serverHostKeyAlgorithms: nameListArb(HOSTKEY_NAMES),
  encryptionC2S: nameListArb(CIPHER_NAMES), encryptionS2C: nameListArb(CIPHER_NAMES),
  macC2S: nameListArb(MAC_NAMES), macS2C: nameListArb(MAC_NAMES),
  compressionC2S: nameListArb(COMPRESSION_NAMES), compressionS2C: nameListArb(COMPRESSION_NAMES),
  languagesC2S: nameListArb(['en']), languagesS2C: nameListArb(['en']),
  firstKexPacketFollows: fc.boolean(), reserved: fc.oneof(fc.constant(0), uint32Arb),
}, { requiredKeys: [] });

/** Version lines and junk for the identification phase (RFC 4253 §4.2), at the edge lengths too. */
const wireBytesArb = fc.oneof(
  bytesArb(64),
  edgeVersionLineArb,
  oddVersionLineArb,
  fc.constantFrom('SSH-2.0-fuzz\r\n', 'SSH-1.99-fuzz\r\n', 'SSH-1.5-old\r\n', 'SSH-2.0-\r\n', 'SSH-2.0-x\n', `SSH-2.0-${'v'.repeat(300)}\r\n`, 'GET / HTTP/1.0\r\n\r\n', '\r\n\r\n')
    .map((s) => Uint8Array.from(Buffer.from(s, 'latin1'))),
);

/** SFTP packets on a session channel (the first such step starts the subsystem; INIT first, usually). */
export const sftpStepArb: fc.Arbitrary<Step> = fc.record({
  op: fc.constant('sftp' as const),
  chan: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(1) }),
  init: fc.option(sftpVersionArb, { nil: undefined, freq: 12 }),
  packets: fc.array(sftpPacketArb, { minLength: 1, maxLength: 4 }),
});

/**
 * A remote forward used from outside (forward.ts): what the outside program writes to the peer's listener
 * (nothing, a few bytes, or more than one channel packet) and whether it then half-closes.
 */
export const forwardStepArb: fc.Arbitrary<Step> = fc.record({
  op: fc.constant('forward' as const),
  kind: fc.constantFrom<ForwardKind>('tcp', 'tcp', 'unix'),
  data: fc.oneof({ weight: 3, arbitrary: bytesArb(64) }, { weight: 1, arbitrary: fc.constant(new Uint8Array(0)) }, { weight: 1, arbitrary: fc.nat({ max: 255 }).map((b) => new Uint8Array(40_000).fill(b)) }),
  halfClose: fc.boolean(),
});

export interface StepArbOptions {
  readonly dict: FuzzDictionary;
  /** 1 in N generated fields is wrong-shaped (default 12). */
  readonly brokenOdds?: number;
  readonly families?: MessageFamilyWeights;
}

export function stepArb(o: StepArbOptions): fc.Arbitrary<Step> {
  const ctx: ArbContext = { dict: o.dict, brokenOdds: o.brokenOdds ?? 12 };
  const send = fc.record({
    op: fc.constant('send' as const),
    msg: messageArb(ctx, o.families ?? DEFAULT_FAMILY_WEIGHTS),
    mutate: fc.option(fc.array(mutationArb, { minLength: 1, maxLength: 2 }), { nil: undefined, freq: 5 }),
  }, { requiredKeys: ['op', 'msg'] });
  return fc.oneof(
    { weight: 12, arbitrary: send },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('deviate' as const), id: deviationTargets, deviation: deviationArb }, { requiredKeys: ['op', 'deviation'] }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('bytes' as const), data: wireBytesArb }) },
    { weight: 1, arbitrary: fc.constant({ op: 'start' as const }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('kexinit' as const), lists: kexListsArb }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('service' as const), name: fc.oneof({ weight: 4, arbitrary: fc.constant('ssh-userauth') }, { weight: 1, arbitrary: fc.constantFrom(...SERVICE_NAMES, '') }) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('auth' as const), method: fc.constantFrom('password' as const, 'publickey' as const, 'keyboard-interactive' as const, 'none' as const), valid: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('open' as const), channelType: fc.oneof({ weight: 4, arbitrary: fc.constant('session') }, { weight: 1, arbitrary: fc.constantFrom(...CHANNEL_TYPES, '') }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('exec' as const), chan: fc.nat({ max: 1 }), command: fc.constantFrom(...COMMANDS) }) },
    { weight: 2, arbitrary: sftpStepArb },
    { weight: 1, arbitrary: forwardStepArb },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('global' as const), name: fc.constantFrom(...GLOBAL_REQUESTS, '') }) },
    { weight: 1, arbitrary: fc.constant({ op: 'rekey' as const }) },
  );
}

/** Start phases, weighted toward the deep ones (each reference prefix is cheap in-process). */
export const startArb: fc.Arbitrary<Phase> = fc.oneof(
  { weight: 1, arbitrary: fc.constant<Phase>('pre-kex') },
  { weight: 1, arbitrary: fc.constant<Phase>('kex') },
  { weight: 1, arbitrary: fc.constant<Phase>('newkeys') },
  { weight: 2, arbitrary: fc.constant<Phase>('userauth') },
  { weight: 2, arbitrary: fc.constant<Phase>('authenticated') },
  { weight: 3, arbitrary: fc.constant<Phase>('channel') },
  { weight: 1, arbitrary: fc.constant<Phase>('rekey') },
);

/**
 * Over TCP a fresh connection is the expensive part (sshd forks and re-executes per connection: ~50/s here),
 * so network campaigns favour the phases a reused connection can start from (pool.ts).
 */
export const networkStartArb: fc.Arbitrary<Phase> = fc.oneof(
  { weight: 1, arbitrary: fc.constant<Phase>('pre-kex') },
  { weight: 1, arbitrary: fc.constant<Phase>('kex') },
  { weight: 1, arbitrary: fc.constant<Phase>('newkeys') },
  { weight: 3, arbitrary: fc.constant<Phase>('userauth') },
  { weight: 5, arbitrary: fc.constant<Phase>('authenticated') },
  { weight: 8, arbitrary: fc.constant<Phase>('channel') },
  { weight: 1, arbitrary: fc.constant<Phase>('rekey') },
);

export function startArbFrom(phases: readonly Phase[]): fc.Arbitrary<Phase> {
  for (const p of phases) if (!PHASES.includes(p)) throw new RangeError(`unknown phase ${JSON.stringify(p)}`);
  return fc.constantFrom(...phases);
}
