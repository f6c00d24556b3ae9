/**
 * Every codec, driven by its own schema: hand-picked representative values and fast-check values derived
 * from `fields`/`variants` must round-trip exactly; every truncation, an appended byte and random
 * mutations must fail only with DecodeError{offset}.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { DecodeError } from '../errors.js';
import type { Field, Fields, ItemSchema } from './fields.js';
import { isField } from './fields.js';
import type { Variants } from './define-message.js';
import { allCodecs, channelOpenData, channelRequestData, globalRequestData, TcpipForwardReply, type PayloadUnion } from './index.js';

const b = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Representative values per message name; every codec must have at least one. */
const examples: Record<string, object[]> = {
  SSH_MSG_DISCONNECT: [{ reason: 2, description: 'bad packet length 99999', language: '' }, { reason: 11, description: 'Grüße — 再见', language: 'en' }],
  SSH_MSG_IGNORE: [{ data: new Uint8Array(0) }, { data: b('00ff10') }],
  SSH_MSG_UNIMPLEMENTED: [{ seq: 0 }, { seq: 0xffffffff }],
  SSH_MSG_DEBUG: [{ alwaysDisplay: true, message: 'hello', language: 'en-US' }],
  SSH_MSG_SERVICE_REQUEST: [{ service: 'ssh-userauth' }],
  SSH_MSG_SERVICE_ACCEPT: [{ service: 'ssh-connection' }],
  SSH_MSG_EXT_INFO: [{ extensions: [] }, { extensions: [{ name: 'server-sig-algs', value: text('ssh-ed25519,rsa-sha2-512') }, { name: 'ping@openssh.com', value: text('0') }] }],
  SSH_MSG_NEWCOMPRESS: [{}],
  SSH_MSG_KEXINIT: [{
    cookie: b('000102030405060708090a0b0c0d0e0f'),
    kexAlgorithms: ['mlkem768x25519-sha256', 'curve25519-sha256', 'ext-info-c', 'kex-strict-c-v00@openssh.com'],
    serverHostKeyAlgorithms: ['ssh-ed25519', 'rsa-sha2-512'], encryptionC2S: ['chacha20-poly1305@openssh.com', 'aes128-ctr'],
    encryptionS2C: ['aes128-ctr'], macC2S: ['hmac-sha2-256-etm@openssh.com'], macS2C: ['hmac-sha2-256'],
    compressionC2S: ['none', 'zlib@openssh.com'], compressionS2C: ['none'], languagesC2S: [], languagesS2C: [],
    firstKexPacketFollows: false, reserved: 0,
  }],
  SSH_MSG_NEWKEYS: [{}],
  SSH_MSG_KEX_ECDH_INIT: [{ publicKey: new Uint8Array(32).fill(9) }],
  SSH_MSG_KEX_ECDH_REPLY: [{ hostKey: b('0000000b7373682d65643235353139'), publicKey: new Uint8Array(32), signature: b('aa') }],
  SSH_MSG_KEXDH_INIT: [{ e: 0x80n }, { e: 1n }, { e: 0n }],
  SSH_MSG_KEXDH_REPLY: [{ hostKey: b('01'), f: (1n << 2047n) + 12345n, signature: b('02') }],
  SSH_MSG_KEX_DH_GEX_REQUEST_OLD: [{ n: 2048 }],
  SSH_MSG_KEX_DH_GEX_GROUP: [{ p: (1n << 2048n) - 1n, g: 2n }],
  SSH_MSG_KEX_DH_GEX_INIT: [{ e: 0xdeadbeefn }],
  SSH_MSG_KEX_DH_GEX_REPLY: [{ hostKey: b('01'), f: 7n, signature: b('02') }],
  SSH_MSG_KEX_DH_GEX_REQUEST: [{ min: 2048, n: 3072, max: 8192 }],
  SSH_MSG_USERAUTH_REQUEST: [
    { user: 'alice', service: 'ssh-connection', method: 'none' },
    { user: 'alice', service: 'ssh-connection', method: 'password', changePassword: false, password: 'hunter2' },
    { user: 'alice', service: 'ssh-connection', method: 'password', changePassword: true, password: 'old', newPassword: 'nëw' },
    { user: 'bob', service: 'ssh-connection', method: 'publickey', hasSignature: false, algorithm: 'ssh-ed25519', key: b('0102') },
    { user: 'bob', service: 'ssh-connection', method: 'publickey', hasSignature: true, algorithm: 'rsa-sha2-256', key: b('0102'), signature: b('0304') },
    { user: 'carol', service: 'ssh-connection', method: 'keyboard-interactive', language: '', submethods: 'pam' },
    { user: 'dave', service: 'ssh-connection', method: 'hostbased', algorithm: 'ssh-ed25519', key: b('01'), clientHost: 'client.example.', clientUser: 'dave', signature: b('02') },
    { user: 'eve', service: 'ssh-connection', method: 'gssapi-with-mic', methodData: b('0000000100000002') },
    { user: 'eve', service: 'ssh-connection', method: 'constructor', methodData: new Uint8Array(0) },
  ],
  SSH_MSG_USERAUTH_FAILURE: [{ methods: ['publickey', 'password'], partialSuccess: false }, { methods: [], partialSuccess: true }],
  SSH_MSG_USERAUTH_SUCCESS: [{}],
  SSH_MSG_USERAUTH_BANNER: [{ message: 'Welcome\r\n', language: '' }],
  SSH_MSG_USERAUTH_PK_OK: [{ algorithm: 'ssh-ed25519', key: b('0102') }],
  SSH_MSG_USERAUTH_PASSWD_CHANGEREQ: [{ prompt: 'Password expired', language: '' }],
  SSH_MSG_USERAUTH_INFO_REQUEST: [{ name: '', instruction: '', language: '', prompts: [{ prompt: 'Password: ', echo: false }, { prompt: 'OTP: ', echo: true }] }],
  SSH_MSG_USERAUTH_INFO_RESPONSE: [{ responses: [] }, { responses: ['secret', '123456'] }],
  SSH_MSG_GLOBAL_REQUEST: [{ name: 'tcpip-forward', wantReply: true, data: b('00000007302e302e302e3000000000') }],
  SSH_MSG_REQUEST_SUCCESS: [{ data: new Uint8Array(0) }, { data: b('00001f90') }],
  SSH_MSG_REQUEST_FAILURE: [{}],
  SSH_MSG_CHANNEL_OPEN: [{ channelType: 'session', senderChannel: 0, initialWindowSize: 2 ** 21, maximumPacketSize: 32768, data: new Uint8Array(0) }],
  SSH_MSG_CHANNEL_OPEN_CONFIRMATION: [{ recipientChannel: 0, senderChannel: 7, initialWindowSize: 0, maximumPacketSize: 32768, data: new Uint8Array(0) }],
  SSH_MSG_CHANNEL_OPEN_FAILURE: [{ recipientChannel: 3, reason: 1, description: 'administratively prohibited', language: '' }],
  SSH_MSG_CHANNEL_WINDOW_ADJUST: [{ recipientChannel: 1, bytesToAdd: 0xffffffff }],
  SSH_MSG_CHANNEL_DATA: [{ recipientChannel: 1, data: text('hello\n') }, { recipientChannel: 2, data: new Uint8Array(0) }],
  SSH_MSG_CHANNEL_EXTENDED_DATA: [{ recipientChannel: 1, dataTypeCode: 1, data: text('oops') }],
  SSH_MSG_CHANNEL_EOF: [{ recipientChannel: 5 }],
  SSH_MSG_CHANNEL_CLOSE: [{ recipientChannel: 5 }],
  SSH_MSG_CHANNEL_REQUEST: [{ recipientChannel: 0, requestType: 'exec', wantReply: true, data: b('000000026c73') }],
  SSH_MSG_CHANNEL_SUCCESS: [{ recipientChannel: 0 }],
  SSH_MSG_CHANNEL_FAILURE: [{ recipientChannel: 0 }],
};

// ---- arbitraries derived from the schema (a reference for harness/fuzz) ----

const latin1Char = fc.integer({ min: 0, max: 0xff }).map((c) => String.fromCharCode(c));
// RFC 4251 §5: names are non-empty, without commas or NUL characters
const nameArb = fc.string({ unit: latin1Char.filter((c) => c !== ',' && c !== '\0'), minLength: 1, maxLength: 12 });

function fieldArb(f: Field): fc.Arbitrary<unknown> {
  switch (f.kind) {
    case 'byte': return fc.integer({ min: 0, max: 0xff });
    case 'boolean': return fc.boolean();
    case 'uint32': return fc.integer({ min: 0, max: 0xffffffff });
    case 'uint64': return fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
    case 'string': case 'rest': return fc.uint8Array({ maxLength: 40 });
    case 'utf8': return fc.string({ unit: 'binary', maxLength: 16 });
    case 'ascii': return fc.string({ unit: latin1Char, maxLength: 16 });
    case 'nameList': return fc.array(nameArb, { maxLength: 5 });
    case 'mpint': return fc.bigInt({ min: -(2n ** 520n), max: 2n ** 520n });
    case 'bytes': return fc.uint8Array({ minLength: f.length, maxLength: f.length });
    case 'list': return fc.array(itemArb(f.items), { maxLength: Math.min(f.max, 4) });
    case 'repeat': return fc.array(itemArb(f.items), { maxLength: 4 });
  }
}

const itemArb = (s: ItemSchema): fc.Arbitrary<unknown> => (isField(s) ? fieldArb(s) : fieldsArb(s));

/** All fields at once, then drop the conditional ones whose flag is false (no chain: shrinks well). */
function fieldsArb(fields: Fields, skip?: string): fc.Arbitrary<Record<string, unknown>> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [k, f] of Object.entries(fields)) if (k !== skip) model[k] = fieldArb(f);
  return fc.record(model).map((v) => {
    for (const [k, f] of Object.entries(fields)) if (f.when !== undefined && v[f.when] !== true) delete v[k];
    return v;
  });
}

function bodyArb(fields: Fields, variants: Variants | undefined): fc.Arbitrary<Record<string, unknown>> {
  if (variants === undefined) return fieldsArb(fields);
  const base = fieldsArb(fields, variants.on);
  const arms = Object.entries(variants.cases).map(([on, fs]) =>
    fc.tuple(base, fieldsArb(fs)).map(([x, y]) => ({ ...x, [variants.on]: on, ...y })));
  if (variants.otherwise) {
    const other = nameArb.filter((s) => !Object.hasOwn(variants.cases, s));
    arms.push(fc.tuple(base, other, fieldsArb(variants.otherwise)).map(([x, on, y]) => ({ ...x, [variants.on]: on, ...y })));
  }
  return fc.oneof(...arms);
}

// ---- shared checks ----

interface Codec { name: string; fields: Fields; variants: Variants | undefined; encode(v: object): Uint8Array; decode(p: Uint8Array): object }

function expectDecodeError(fn: () => unknown, maxOffset: number): DecodeError {
  let err: unknown;
  try { fn(); } catch (e) { err = e; }
  expect(err, 'should throw').to.be.instanceOf(DecodeError);
  const d = err as DecodeError;
  expect(d.offset).to.be.a('number').within(0, maxOffset);
  return d;
}

function roundTrip(c: Codec, v: object, extra: object): void {
  const bytes = c.encode(v);
  const back = c.decode(bytes);
  expect(back).to.deep.equal({ ...extra, ...v });
  expect(Buffer.from(c.encode(back)).equals(Buffer.from(bytes)), 're-encode is byte-exact').to.equal(true);
}

/** Every strict prefix and one appended byte fail with DecodeError; a prefix can only be valid if the codec ends in rest/repeat. */
function truncations(c: Codec, v: object): void {
  const bytes = c.encode(v);
  let tail = c.fields;
  if (c.variants) {
    const on = (v as Record<string, string>)[c.variants.on]!;
    tail = Object.hasOwn(c.variants.cases, on) ? c.variants.cases[on]! : c.variants.otherwise!;
  }
  const fieldsInOrder = Object.values(tail);
  const lastKind = fieldsInOrder[fieldsInOrder.length - 1]?.kind;
  const openEnded = lastKind === 'rest' || lastKind === 'repeat';
  for (let n = 0; n < bytes.length; n++) {
    const prefix = bytes.subarray(0, n);
    if (openEnded) {
      try { c.decode(prefix); } catch (e) { expect(e).to.be.instanceOf(DecodeError); }
    } else {
      expectDecodeError(() => c.decode(prefix), bytes.length);
    }
  }
  if (!openEnded) {
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(expectDecodeError(() => c.decode(longer), bytes.length).offset).to.equal(bytes.length);
  }
}

const runs = { numRuns: 60 };

describe('messages: every codec', () => {
  it('has representative examples for every message codec', () => {
    expect(allCodecs.map((c) => c.name).filter((n) => !examples[n])).to.deep.equal([]);
    expect(new Set(allCodecs.map((c) => c.name)).size).to.equal(allCodecs.length);
  });

  for (const c of allCodecs) {
    describe(`${c.name} (${c.id}, ${c.spec})`, () => {
      it('round-trips representative values exactly', () => {
        for (const v of examples[c.name] ?? []) roundTrip(c, v, { type: c.name });
      });

      it('rejects truncations and trailing bytes with DecodeError{offset}', () => {
        for (const v of examples[c.name] ?? []) truncations(c, v);
      });

      it('rejects a payload with another message number', () => {
        const bytes = c.encode(examples[c.name]![0]!);
        const other = bytes.slice();
        other[0] = (c.id + 1) & 0xff;
        expect(expectDecodeError(() => c.decode(other), 0).offset).to.equal(0);
      });

      it('round-trips random values derived from its schema (property)', () => {
        fc.assert(fc.property(bodyArb(c.fields, c.variants), (v) => { roundTrip(c, v, { type: c.name }); }), runs);
      });

      it('decodes mutated payloads to a stable value or DecodeError, never anything else (property)', () => {
        fc.assert(fc.property(bodyArb(c.fields, c.variants), mutation(), (v, mutate) => {
          const bytes = mutate(c.encode(v));
          let m: object;
          try { m = c.decode(bytes); } catch (e) { expect(e).to.be.instanceOf(DecodeError); return; }
          expect(c.decode(c.encode(m))).to.deep.equal(m);
        }), runs);
      });
    });
  }
});

/** Byte-level mutations of a valid payload, keeping the message number so the codec is exercised. */
function mutation(): fc.Arbitrary<(p: Uint8Array) => Uint8Array> {
  return fc.oneof(
    fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([at, x]) => (p: Uint8Array) => {
      const q = p.slice();
      if (q.length > 1) q[1 + (at % (q.length - 1))]! ^= x;
      return q;
    }),
    fc.nat().map((n) => (p: Uint8Array) => p.subarray(0, Math.max(1, p.length - 1 - (n % p.length)))),
    fc.uint8Array({ minLength: 1, maxLength: 8 }).map((tail) => (p: Uint8Array) => Uint8Array.from([...p, ...tail])),
    fc.tuple(fc.nat(), fc.integer({ min: 0, max: 0xffffffff })).map(([at, len]) => (p: Uint8Array) => {
      // overwrite 4 bytes with a random length: over-long / huge string and count prefixes
      const q = p.slice();
      if (q.length >= 5) new DataView(q.buffer).setUint32(1 + (at % (q.length - 4)), len);
      return q;
    }),
  );
}

const payloadExamples: Record<string, object[]> = {
  'tcpip-forward': [{ address: '0.0.0.0', port: 0 }, { address: 'localhost', port: 8080 }],
  'cancel-tcpip-forward': [{ address: '', port: 22 }],
  'keepalive@openssh.com': [{}],
  'no-more-sessions@openssh.com': [{}],
  'hostkeys-00@openssh.com': [{ hostKeys: [] }, { hostKeys: [b('0001'), b('0203')] }],
  'hostkeys-prove-00@openssh.com': [{ hostKeys: [b('00')] }],
  session: [{}],
  x11: [{ originatorAddress: '192.0.2.1', originatorPort: 6010 }],
  'forwarded-tcpip': [{ host: '127.0.0.1', port: 8080, originatorAddress: '198.51.100.2', originatorPort: 51000 }],
  'direct-tcpip': [{ host: 'example.org', port: 443, originatorAddress: '127.0.0.1', originatorPort: 40000 }],
  'pty-req': [{ term: 'xterm-256color', cols: 80, rows: 24, widthPx: 640, heightPx: 480, modes: b('8100009600') }],
  'x11-req': [{ singleConnection: false, authProtocol: 'MIT-MAGIC-COOKIE-1', authCookie: '0123456789abcdef', screen: 0 }],
  env: [{ name: 'LANG', value: 'en_US.UTF-8' }],
  shell: [{}],
  exec: [{ command: 'echo héllo' }],
  subsystem: [{ name: 'sftp' }],
  'window-change': [{ cols: 132, rows: 43, widthPx: 0, heightPx: 0 }],
  'xon-xoff': [{ clientCanDo: true }],
  signal: [{ signal: 'INT' }],
  'exit-status': [{ status: 127 }],
  'exit-signal': [{ signal: 'SEGV', coreDumped: true, errorMessage: 'Segmentation fault', language: '' }],
  'eow@openssh.com': [{}],
  'auth-agent-req@openssh.com': [{}],
};

describe('messages: request/channel data payloads', () => {
  const unions = { globalRequestData, channelOpenData, channelRequestData } as Record<string, PayloadUnion<Record<string, { spec: string; fields: Fields }>>>;
  for (const [uname, u] of Object.entries(unions)) {
    describe(`${uname} (${u.spec})`, () => {
      for (const [kind, c] of Object.entries(u.cases)) {
        const codec = c as unknown as Codec;
        it(`${kind}: round-trips examples and random values; truncation → DecodeError`, () => {
          const ex = payloadExamples[kind];
          expect(ex, `examples for ${kind}`).to.be.an('array').that.is.not.empty;
          for (const v of ex!) {
            roundTrip(codec, v, {});
            truncations(codec, v);
            const decoded = u.decode(kind, codec.encode(v));
            expect(decoded).to.deep.equal({ kind, ...v });
            expect(Buffer.from(u.encode(decoded as never)).equals(Buffer.from(codec.encode(v)))).to.equal(true);
          }
          fc.assert(fc.property(bodyArb(codec.fields, codec.variants), (v) => { roundTrip(codec, v, {}); }), { numRuns: 30 });
        });
      }
      it('keeps unknown kinds as bytes and writes them back unchanged', () => {
        const data = b('0102');
        const v = u.decode('made-up@example.com', data);
        expect(v).to.deep.equal({ kind: 'unknown', data });
        expect(u.encode(v as never)).to.equal(data);
        expect(u.decode('__proto__', data).kind).to.equal('unknown');
      });
    });
  }

  it('tcpip-forward reply { port }', () => {
    roundTrip(TcpipForwardReply as unknown as Codec, { port: 40123 }, {});
    truncations(TcpipForwardReply as unknown as Codec, { port: 1 });
  });
});
