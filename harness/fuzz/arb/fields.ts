/**
 * Arbitraries derived from the impl/messages schemas: one per field kind, specialised by field name where
 * the name tells what the value means (a channel number, a user, an algorithm list), and each field
 * occasionally replaced by near-valid raw bytes. Adding a field to a codec adds it to the fuzzer.
 */
import fc from 'fast-check';
import { field as F, type Field, type Fields, type ItemSchema } from '../../../impl/messages/index.js';
import type { FuzzDictionary } from '../link.js';
import type { RawField } from '../value.js';
import {
  asciiArb, badMpintArb, bytesArb, mpintArb, nameListArb, uint32Arb, uint64Arb, utf8Arb, wrongTypeArb,
} from './primitives.js';
import { keyBlobArb, signatureLayoutArb } from './key-blobs.js';
import {
  AUTH_METHODS, CHEAP_KEX_NAMES, CHANNEL_REQUESTS, CHANNEL_TYPES, CIPHER_NAMES, COMMANDS, COMPRESSION_NAMES, GLOBAL_REQUESTS, HOSTKEY_NAMES,
  KEX_NAMES, LANGUAGE_NAMES, MAC_NAMES, SERVICE_NAMES, SIGNALS, SUBSYSTEMS,
} from './names.js';

export interface ArbContext {
  readonly dict: FuzzDictionary;
  /** 1 in `brokenOdds` fields is replaced by wrong-shaped bytes (0: never). */
  readonly brokenOdds: number;
}

const chanRefArb = fc.oneof(
  { weight: 8, arbitrary: fc.nat({ max: 2 }).map(($chan) => ({ $chan })) },
  { weight: 1, arbitrary: uint32Arb },
);

const u32be = (n: number): Uint8Array => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n >>> 0); return b; };
const sshString = (b: Uint8Array): Uint8Array => { const o = new Uint8Array(4 + b.length); o.set(u32be(b.length)); o.set(b, 4); return o; };

/** `string algorithm || string blob` (RFC 4253 §6.6), well-formed or not. */
const signatureBlobArb = fc.oneof(
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...HOSTKEY_NAMES), fc.uint8Array({ maxLength: 80 }))
    .map(([a, s]) => { const n = Buffer.from(a); const o = new Uint8Array(8 + n.length + s.length); o.set(sshString(n)); o.set(sshString(s), 4 + n.length); return o; }) },
  { weight: 1, arbitrary: signatureLayoutArb },
  { weight: 3, arbitrary: bytesArb(96) },
);

/** Q_C/Q_S of the ECDH-shaped methods (RFC 5656 §4, RFC 8731 §3): right size, low-order points, other sizes. */
const kexPublicArb = fc.oneof(
  fc.uint8Array({ minLength: 32, maxLength: 32 }),
  fc.constantFrom(new Uint8Array(32), Uint8Array.of(1, ...new Uint8Array(31)), new Uint8Array(32).fill(0xff)),
  fc.uint8Array({ minLength: 65, maxLength: 65 }).map((b) => { b[0] = 4; return b; }),
  fc.uint8Array({ minLength: 1216, maxLength: 1216 }),
  bytesArb(40),
);

/**
 * RFC 4254 §8 encoded terminal modes: opcode bytes 1-159 each with a uint32 argument, ended by TTY_OP_END (0);
 * the speeds (128, 129), opcodes nobody assigned, 160+ (which end parsing without an argument), and no end.
 */
const ttyModesArb: fc.Arbitrary<Uint8Array> = fc.tuple(
  fc.array(fc.tuple(
    fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 93 }) }, { weight: 2, arbitrary: fc.constantFrom(128, 129) }, { weight: 1, arbitrary: fc.integer({ min: 94, max: 255 }) }),
    fc.oneof(fc.constantFrom(0, 1, 3, 0x7f, 38400, 0xffffffff), fc.nat({ max: 255 })),
  ), { maxLength: 12 }),
  fc.oneof({ weight: 8, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
).map(([ops, end]) => {
  const b = Buffer.alloc(ops.length * 5 + (end ? 1 : 0));
  ops.forEach(([op, arg], i) => { b[i * 5] = op; b.writeUInt32BE(arg >>> 0, i * 5 + 1); });
  return Uint8Array.from(b);
});

/** Forwarding addresses (RFC 4254 §7): loopback forms that bind and connect here, wildcards, junk. */
const hostArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('127.0.0.1', 'localhost') },
  { weight: 2, arbitrary: fc.constantFrom('', '0.0.0.0', '*', '::1', '[::1]', 'localhost.', '127.1', '256.0.0.1', 'no.such.host.invalid') },
  { weight: 1, arbitrary: asciiArb([]) },
);

/** Ports: the peer's own listener (a forward that connects), 0 (pick one), privileged, out of range. */
const portArb = (d: FuzzDictionary): fc.Arbitrary<number> => fc.oneof(
  { weight: 3, arbitrary: d.ports?.length ? fc.constantFrom(...d.ports) : fc.constant(22) },
  { weight: 2, arbitrary: fc.constantFrom(0, 1, 22, 1023, 65535, 65536) },
  { weight: 1, arbitrary: uint32Arb },
);

/** Unix-domain socket paths (OpenSSH PROTOCOL §2.4): a scratch name a forward can bind and then connect to, and names that fail. */
const socketPathArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('/tmp/ssh-harness-fuzz.sock', '/tmp/ssh-harness-fuzz-2.sock') },
  { weight: 1, arbitrary: fc.constantFrom('', '/', '/nonexistent/dir/s.sock', `/tmp/${'s'.repeat(120)}.sock`, 'relative.sock') },
  { weight: 1, arbitrary: asciiArb([]) },
);

function byName(name: string, kind: Field['kind'], ctx: ArbContext): fc.Arbitrary<unknown> | undefined {
  const d = ctx.dict;
  switch (name) {
    case 'recipientChannel': return chanRefArb;
    case 'senderChannel': return fc.oneof(fc.nat({ max: 8 }), uint32Arb);
    case 'user': return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...d.users) }, { weight: 1, arbitrary: utf8Arb });
    case 'password': case 'newPassword': return fc.oneof({ weight: 1, arbitrary: fc.constantFrom(...d.passwords) }, { weight: 2, arbitrary: utf8Arb });
    case 'service': return asciiArb(SERVICE_NAMES);
    case 'language': return asciiArb(LANGUAGE_NAMES);
    case 'algorithm': return asciiArb(HOSTKEY_NAMES);
    // the first dictionary key is the one the peer authorizes: favour it
    case 'key': case 'hostKey': return d.keyBlobs.length
      ? fc.oneof({ weight: 3, arbitrary: fc.constant(d.keyBlobs[0]!) }, { weight: 2, arbitrary: fc.constantFrom(...d.keyBlobs) }, { weight: 1, arbitrary: keyBlobArb }, { weight: 1, arbitrary: bytesArb(64) })
      : fc.oneof(keyBlobArb, bytesArb(64));
    case 'signature': return signatureBlobArb;
    case 'publicKey': return kexPublicArb;
    case 'kexAlgorithms': return fc.oneof({ weight: 6, arbitrary: nameListArb(CHEAP_KEX_NAMES) }, { weight: 1, arbitrary: nameListArb(KEX_NAMES) });
    case 'serverHostKeyAlgorithms': return nameListArb(HOSTKEY_NAMES);
    case 'encryptionC2S': case 'encryptionS2C': return nameListArb(CIPHER_NAMES);
    case 'macC2S': case 'macS2C': return nameListArb(MAC_NAMES);
    case 'compressionC2S': case 'compressionS2C': return nameListArb(COMPRESSION_NAMES);
    case 'languagesC2S': case 'languagesS2C': return nameListArb(['en', 'en-US', 'i-default']);
    case 'methods': return nameListArb(AUTH_METHODS);
    case 'reason': return fc.oneof(fc.integer({ min: 1, max: 15 }), uint32Arb);
    case 'dataTypeCode': return fc.oneof(fc.constant(1), uint32Arb);
    case 'channelType': return asciiArb(CHANNEL_TYPES);
    case 'requestType': return asciiArb(CHANNEL_REQUESTS);
    case 'command': return fc.oneof(fc.constantFrom(...COMMANDS), utf8Arb);
    case 'signal': return asciiArb(SIGNALS);
    case 'term': return asciiArb(['xterm', 'vt100', 'dumb']);
    case 'modes': return fc.oneof({ weight: 1, arbitrary: fc.constant(Uint8Array.of(0)) }, { weight: 4, arbitrary: ttyModesArb }, { weight: 1, arbitrary: bytesArb(32) });
    case 'host': case 'address': case 'originatorAddress': return kind === 'ascii' ? hostArb : undefined;
    case 'port': case 'originatorPort': return kind === 'uint32' ? portArb(d) : undefined;
    case 'socketPath': return socketPathArb;
    case 'data': return kind === 'string' ? fc.oneof({ weight: 1, arbitrary: fc.constant(new Uint8Array(0)) }, { weight: 4, arbitrary: bytesArb(64) }) : undefined;
    case 'name': return kind === 'ascii' ? asciiArb([...GLOBAL_REQUESTS, ...SUBSYSTEMS, 'server-sig-algs', 'ping@openssh.com', 'no-flow-control', 'LANG', 'TERM']) : undefined;
    case 'cookie': return fc.uint8Array({ minLength: 16, maxLength: 16 });
    case 'reserved': return fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: uint32Arb });
    default: return undefined;
  }
}

function byKind(f: Field, ctx: ArbContext): fc.Arbitrary<unknown> {
  switch (f.kind) {
    case 'byte': return fc.integer({ min: 0, max: 255 });
    case 'boolean': return fc.oneof({ weight: 8, arbitrary: fc.boolean() }, { weight: 1, arbitrary: fc.integer({ min: 2, max: 255 }) }); // RFC 4251 §5: non-zero is TRUE
    case 'uint32': return uint32Arb;
    case 'uint64': return uint64Arb;
    case 'string': return bytesArb(64);
    case 'utf8': return utf8Arb;
    case 'ascii': return asciiArb([]);
    case 'nameList': return nameListArb([]);
    case 'mpint': return mpintArb;
    case 'rest': return bytesArb(32);
    case 'bytes': return fc.uint8Array({ minLength: f.length, maxLength: f.length });
    case 'list': return fc.array(itemArb(f.items, ctx), { maxLength: 6 });
    case 'repeat': return fc.array(itemArb(f.items, ctx), { maxLength: 4 });
  }
}

function itemArb(s: ItemSchema, ctx: ArbContext): fc.Arbitrary<unknown> {
  return F.isField(s) ? fieldArb('item', s, ctx) : fieldsArb(s, ctx);
}

function brokenArb(f: Field): fc.Arbitrary<RawField> {
  return f.kind === 'mpint' ? fc.oneof(badMpintArb, wrongTypeArb) : wrongTypeArb;
}

export function fieldArb(name: string, f: Field, ctx: ArbContext): fc.Arbitrary<unknown> {
  const valid = byName(name, f.kind, ctx) ?? byKind(f, ctx);
  if (ctx.brokenOdds <= 0) return valid;
  // oneof shrinks toward its first entry: a broken field shrinks back to a valid one when that still fails
  return fc.oneof({ weight: ctx.brokenOdds - 1, arbitrary: valid }, { weight: 1, arbitrary: brokenArb(f) });
}

/** A record of generated fields; conditional (`when`) fields follow their flag, like the typed codec. */
export function fieldsArb(fields: Fields, ctx: ArbContext, omit: readonly string[] = []): fc.Arbitrary<Record<string, unknown>> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  const conditional: [string, string][] = [];
  for (const [name, f] of Object.entries(fields)) {
    if (omit.includes(name)) continue;
    model[name] = fieldArb(name, f, ctx);
    if (f.when !== undefined) conditional.push([name, f.when]);
  }
  const rec = fc.record(model);
  if (conditional.length === 0) return rec;
  return rec.map((v) => {
    const out = { ...v };
    for (const [name, flag] of conditional) if (out[flag] === false) delete out[name];
    return out;
  });
}
