import { expect } from 'chai';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeMessage } from '../../impl/messages/index.js';
import { MemorySink } from './byte-sink.js';
import { kexFamily, negotiate } from './decode-context.js';
import { kexInitPayload, sampleKexLists } from './fixtures.js';
import { JsonlWriter, MessageFormatter, REDACTED, type TraceLine } from './jsonl.js';
import { KeylogWriter, keylogLines } from './keylog.js';

const cookie = (b: number): Uint8Array => new Uint8Array(16).fill(b);

function run(events: [('in' | 'out'), Uint8Array, string?][], role: 'client' | 'server' = 'client', opts = {}): TraceLine[] {
  const sink = new MemorySink();
  const w = new JsonlWriter(sink, role, opts);
  const seq = { in: 0, out: 0 };
  events.forEach(([direction, payload, deviation], i) => w.onPacket({ direction, seq: seq[direction]++, payload, timeMs: 1000 + i + 0.0004, ...(deviation ? { deviation } : {}) }));
  w.close();
  return Buffer.from(sink.bytes()).toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as TraceLine);
}

describe('trace/jsonl', () => {
  it('one line per message with time, direction, seq, id, name and decoded fields', () => {
    const lines = run([
      ['out', kexInitPayload(cookie(1))],
      ['in', encodeMessage({ type: 'SSH_MSG_DISCONNECT', reason: 11, description: 'bye', language: '' })],
    ]);
    expect(lines[0]).to.deep.include({ time: 1000, direction: 'c2s', seq: 0, id: 20, name: 'SSH_MSG_KEXINIT' });
    expect(lines[0]!.fields!.kexAlgorithms).to.deep.equal(sampleKexLists.kex);
    expect(lines[0]!.fields!.cookie).to.equal('01'.repeat(16));
    expect(lines[0]).to.not.have.property('hex');
    expect(lines[1]).to.deep.include({ direction: 's2c', seq: 0, name: 'SSH_MSG_DISCONNECT', fields: { reason: 11, description: 'bye', language: '' } });
    // the server's view of the same messages swaps directions
    const server = run([['in', kexInitPayload(cookie(1))]], 'server');
    expect(server[0]!.direction).to.equal('c2s');
  });

  it('decodes 30–49 by the negotiated kex and 60–79 by the last USERAUTH_REQUEST method', () => {
    const dhLists = { ...sampleKexLists, kex: ['diffie-hellman-group14-sha256'] };
    const lines = run([
      ['out', kexInitPayload(cookie(1), dhLists)],
      ['in', kexInitPayload(cookie(2), { ...dhLists, kex: ['curve25519-sha256', 'diffie-hellman-group14-sha256'] })],
      ['out', encodeMessage({ type: 'SSH_MSG_KEXDH_INIT', e: 0x1234n })],
      ['out', encodeMessage({ type: 'SSH_MSG_USERAUTH_REQUEST', user: 'u', service: 'ssh-connection', method: 'publickey', hasSignature: false, algorithm: 'ssh-ed25519', key: Uint8Array.of(1, 2) })],
      ['in', encodeMessage({ type: 'SSH_MSG_USERAUTH_PK_OK', algorithm: 'ssh-ed25519', key: Uint8Array.of(1, 2) })],
      ['out', encodeMessage({ type: 'SSH_MSG_USERAUTH_REQUEST', user: 'u', service: 'ssh-connection', method: 'keyboard-interactive', language: '', submethods: '' })],
      ['in', encodeMessage({ type: 'SSH_MSG_USERAUTH_INFO_REQUEST', name: '', instruction: '', language: '', prompts: [{ prompt: 'Password: ', echo: false }] })],
      ['out', encodeMessage({ type: 'SSH_MSG_USERAUTH_INFO_RESPONSE', responses: ['hunter2'] })],
    ]);
    expect(lines.map((l) => l.name)).to.deep.equal([
      'SSH_MSG_KEXINIT', 'SSH_MSG_KEXINIT', 'SSH_MSG_KEXDH_INIT', 'SSH_MSG_USERAUTH_REQUEST', 'SSH_MSG_USERAUTH_PK_OK',
      'SSH_MSG_USERAUTH_REQUEST', 'SSH_MSG_USERAUTH_INFO_REQUEST', 'SSH_MSG_USERAUTH_INFO_RESPONSE',
    ]);
    expect(lines[2]!.fields).to.deep.equal({ e: '0x1234' });
    expect(lines[7]!.fields).to.deep.equal({ responses: [REDACTED] });
    expect(kexFamily('diffie-hellman-group-exchange-sha256')).to.equal('dh-gex');
    expect(kexFamily('mlkem768x25519-sha256')).to.equal('ecdh');
    expect(kexFamily('sntrup761x25519-sha512@openssh.com')).to.equal('ecdh');
    expect(kexFamily('gss-gex-sha1-')).to.equal(undefined);
    expect(negotiate(['a', 'b', 'c'], ['c', 'b'])).to.equal('b'); // RFC 4253 §7.1: the client's order wins
  });

  it('redacts passwords and keyboard-interactive responses unless unsafeLogSecrets; never leaks them via hex', () => {
    const pw = encodeMessage({ type: 'SSH_MSG_USERAUTH_REQUEST', user: 'alice', service: 'ssh-connection', method: 'password', changePassword: true, password: 'old-secret', newPassword: 'new-secret' });
    const safe = run([['out', pw]], 'client', { rawHex: true });
    expect(safe[0]!.fields).to.deep.include({ user: 'alice', method: 'password', password: REDACTED, newPassword: REDACTED });
    expect(safe[0]!.redacted).to.equal(true);
    expect(safe[0]).to.not.have.property('hex');
    expect(JSON.stringify(safe)).to.not.match(/secret/);
    const unsafe = run([['out', pw]], 'client', { rawHex: true, unsafeLogSecrets: true });
    expect(unsafe[0]!.fields).to.deep.include({ password: 'old-secret', newPassword: 'new-secret' });
    expect(unsafe[0]!.hex).to.equal(Buffer.from(pw).toString('hex'));
  });

  it('marks deviations, cuts long byte fields, and turns undecodable payloads into error lines', () => {
    const data = new Uint8Array(3000).fill(0xab);
    const lines = run([
      ['out', encodeMessage({ type: 'SSH_MSG_CHANNEL_DATA', recipientChannel: 0, data }), 'duplicate'],
      ['out', Uint8Array.of(20, 1, 2)], // truncated KEXINIT
      ['in', Uint8Array.of(200, 1)], // local extension number: unknown, not an error
    ], 'client', { maxFieldBytes: 4 });
    expect(lines[0]!.deviation).to.equal('duplicate');
    expect(lines[0]!.fields!.data).to.equal('abababab…(+2996 bytes)');
    expect(lines[1]).to.deep.include({ id: 20, name: 'SSH_MSG_KEXINIT', fields: null, hex: '140102' });
    expect(lines[1]!.error).to.match(/offset/);
    expect(lines[2]).to.deep.include({ id: 200, name: 'SSH_MSG_UNKNOWN_200', fields: { id: 200, body: '01' } });
    const f = new MessageFormatter();
    expect(f.format('c2s', 0, new Uint8Array(0), 1).error).to.match(/empty payload/);
  });
});

describe('trace/jsonl formatJson', () => {
  // The direct path for bulk channel data must write exactly what the generic decoder path writes.
  const channelPayload = fc.oneof(
    fc.record({ type: fc.constant('SSH_MSG_CHANNEL_WINDOW_ADJUST' as const), recipientChannel: fc.nat({ max: 0xffffffff }), bytesToAdd: fc.nat({ max: 0xffffffff }) }),
    fc.record({ type: fc.constant('SSH_MSG_CHANNEL_DATA' as const), recipientChannel: fc.nat({ max: 0xffffffff }), data: fc.uint8Array({ maxLength: 200 }) }),
    fc.record({ type: fc.constant('SSH_MSG_CHANNEL_EXTENDED_DATA' as const), recipientChannel: fc.nat({ max: 0xffffffff }), dataTypeCode: fc.nat({ max: 0xffffffff }), data: fc.uint8Array({ maxLength: 200 }) }),
  ).map((m) => encodeMessage(m));
  // …and malformed ones (cut, extended, wrong length field) must fall back to it.
  const mangled = fc.tuple(channelPayload, fc.integer({ min: -20, max: 20 }), fc.nat({ max: 12 }), fc.integer({ min: 0, max: 255 }))
    .map(([p, cut, at, b]) => { const q = cut < 0 ? p.subarray(0, Math.max(1, p.length + cut)) : Uint8Array.from([...p, ...new Uint8Array(cut)]); if (at > 0 && at < q.length) q[at] = b; return q; });

  it('equals JSON.stringify(format(...)) for WINDOW_ADJUST/CHANNEL_DATA/EXTENDED_DATA, well-formed or not, every option', () => {
    fc.assert(fc.property(
      fc.oneof(channelPayload, mangled),
      fc.record({ connection: fc.option(fc.nat({ max: 9 }), { nil: undefined }), maxFieldBytes: fc.constantFrom(0, 8, 64, Infinity), rawHex: fc.boolean() }),
      fc.nat({ max: 2 ** 32 }), fc.double({ min: 0, max: 2e12, noNaN: true }), fc.option(fc.string(), { nil: undefined }),
      (payload, opts, seq, time, deviation) => {
        const options = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
        const a = new MessageFormatter(options), b = new MessageFormatter(options);
        expect(a.formatJson('s2c', seq, payload, time, deviation)).to.equal(JSON.stringify(b.format('s2c', seq, payload, time, deviation)));
      }), { numRuns: 2000 });
  });

  it('writeLine writes the bytes of formatJson and a LF, direct path or not, every option', () => {
    fc.assert(fc.property(
      fc.oneof(channelPayload, mangled, channelPayload.map((p) => Uint8Array.from([...p, ...new Uint8Array(300)]))),
      fc.record({ connection: fc.option(fc.nat({ max: 9 }), { nil: undefined }), maxFieldBytes: fc.constantFrom(0, 8, 64, Infinity), rawHex: fc.boolean() }),
      fc.nat({ max: 2 ** 32 }), fc.double({ min: 0, max: 2e12, noNaN: true }), fc.option(fc.string(), { nil: undefined }), fc.boolean(),
      (payload, opts, seq, time, deviation, prefixOnly) => {
        const options = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
        // as TraceSession hands them over: only the directPrefix of a bulk payload, with its full length
        const prefix = prefixOnly ? MessageFormatter.directPrefix(payload, options) : undefined;
        const shown = prefix === undefined ? payload : payload.slice(0, prefix);
        const sink = new MemorySink(64);
        new MessageFormatter(options).writeLine(sink, 'c2s', seq, shown, time, deviation, payload.length);
        const expected = `${new MessageFormatter(options).formatJson('c2s', seq, payload, time, deviation)}\n`;
        expect(Buffer.from(sink.bytes()).toString('utf8')).to.equal(expected);
      }), { numRuns: 3000 });
  });

  it('from the directPrefix of a payload and its full length, the same line as from the whole payload', () => {
    fc.assert(fc.property(
      fc.oneof(channelPayload, mangled, channelPayload.map((p) => Uint8Array.from([...p, ...new Uint8Array(300)]))),
      fc.record({ maxFieldBytes: fc.constantFrom(0, 8, 64, 1000), rawHex: fc.boolean() }),
      (payload, options) => {
        const prefix = MessageFormatter.directPrefix(payload, options);
        if (prefix === undefined) return;
        expect(prefix).to.be.lessThan(payload.length);
        const f = new MessageFormatter(options);
        expect(f.formatJson('c2s', 1, payload.slice(0, prefix), 5, undefined, payload.length)).to.equal(f.formatJson('c2s', 1, payload, 5));
      }), { numRuns: 2000 });
    // a 32 KiB CHANNEL_DATA needs its 9-byte header and 64 bytes of data
    const bulk = encodeMessage({ type: 'SSH_MSG_CHANNEL_DATA', recipientChannel: 0, data: new Uint8Array(32759) });
    expect(MessageFormatter.directPrefix(bulk)).to.equal(73);
  });

  it('writes non-ASCII deviation text as UTF-8', () => {
    const lines = run([['out', encodeMessage({ type: 'SSH_MSG_CHANNEL_DATA', recipientChannel: 1, data: Uint8Array.of(1) }), 'ünïcode ✓ 𝔘']]);
    expect(lines[0]!.deviation).to.equal('ünïcode ✓ 𝔘');
  });
});

describe('trace/keylog', () => {
  const keys = {
    kex: 'curve25519-sha256', clientCookie: cookie(0xc1), serverCookie: cookie(0x5e),
    ephemeralPrivateKey: new Uint8Array(32).fill(7), sharedSecret: Uint8Array.of(0, 0x80, 1),
    sessionId: new Uint8Array(32), exchangeHash: new Uint8Array(32),
  };

  it('writes the two-field line tshark 4.0 reads, then the newer SHARED_SECRET keyword line', () => {
    expect(keylogLines(keys)).to.deep.equal([`${'c1'.repeat(16)} ${'07'.repeat(32)}`, `${'c1'.repeat(16)} SHARED_SECRET 8001`]);
    expect(keylogLines(keys, { keywordLines: false })).to.have.length(1);
    // the server's key goes with the server's cookie (tshark looks the entry up by cookie)
    expect(keylogLines({ ...keys, role: 'server' })[0]).to.match(/^(5e){16} /);
    expect(() => keylogLines({ ...keys, role: 'server', serverCookie: undefined })).to.throw(RangeError);
  });

  it('for Diffie-Hellman the private-key line comes last (Wireshark 4.4 keeps the last line per cookie)', () => {
    for (const kex of ['diffie-hellman-group14-sha256', 'diffie-hellman-group-exchange-sha256']) {
      expect(keylogLines({ ...keys, kex })).to.deep.equal([`${'c1'.repeat(16)} SHARED_SECRET 8001`, `${'c1'.repeat(16)} ${'07'.repeat(32)}`]);
    }
    expect(keylogLines({ ...keys, kex: 'mlkem768x25519-sha256' })[1]).to.match(/ SHARED_SECRET /);
  });

  it('appends one entry per key exchange to a 0600 file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'trace-keylog-'));
    try {
      const file = join(dir, 'k.keylog');
      const w = new KeylogWriter(file);
      w.onKeys(keys);
      w.onKeys({ ...keys, clientCookie: cookie(0xc2) }); // a rekey
      w.close();
      w.onKeys(keys); // after close: ignored
      expect(readFileSync(file, 'utf8').trim().split('\n')).to.have.length(4);
      expect(statSync(file).mode & 0o777).to.equal(0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
