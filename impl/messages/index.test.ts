/** The top-level API: hand-written byte vectors, context-dependent numbers, unknown numbers, names, JSON. */
import { expect } from 'chai';
import fc from 'fast-check';
import { DecodeError } from '../errors.js';
import {
  MessageId, allCodecs, codecByName, codecFor, decodeChannelOpenData, decodeChannelRequestData, decodeGlobalRequestData,
  decodeMessage, encodeChannelRequestData, encodeMessage, messageName, messageToJSON, type DecodeContext, type Message,
} from './index.js';

const b = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const hex = (u: Uint8Array): string => Buffer.from(u).toString('hex');
/** RFC 4251 §5 string holding ASCII text, as hex — for writing vectors by hand. */
const s = (t: string): string => t.length.toString(16).padStart(8, '0') + Buffer.from(t, 'latin1').toString('hex');

describe('messages: index', () => {
  describe('known byte vectors, written from the RFC layouts', () => {
    it('SSH_MSG_DISCONNECT (RFC 4253 §11.1)', () => {
      const wire = b('01 00000002 00000003627965 00000002656e'); // PROTOCOL_ERROR, "bye", "en"
      const m = decodeMessage(wire);
      expect(m).to.deep.equal({ type: 'SSH_MSG_DISCONNECT', reason: 2, description: 'bye', language: 'en' });
      expect(hex(encodeMessage(m))).to.equal(hex(wire));
    });

    it('SSH_MSG_KEXINIT (RFC 4253 §7.1)', () => {
      const wire = b('14' + '000102030405060708090a0b0c0d0e0f'
        + s('curve25519-sha256,ext-info-c') + s('ssh-ed25519') + s('aes128-ctr') + s('aes128-ctr')
        + s('hmac-sha2-256') + s('hmac-sha2-256') + s('none') + s('none') + s('') + s('')
        + '01' + '00000000');
      const m = decodeMessage(wire);
      expect(m).to.deep.equal({
        type: 'SSH_MSG_KEXINIT', cookie: b('000102030405060708090a0b0c0d0e0f'),
        kexAlgorithms: ['curve25519-sha256', 'ext-info-c'], serverHostKeyAlgorithms: ['ssh-ed25519'],
        encryptionC2S: ['aes128-ctr'], encryptionS2C: ['aes128-ctr'], macC2S: ['hmac-sha2-256'], macS2C: ['hmac-sha2-256'],
        compressionC2S: ['none'], compressionS2C: ['none'], languagesC2S: [], languagesS2C: [],
        firstKexPacketFollows: true, reserved: 0,
      });
      expect(hex(encodeMessage(m))).to.equal(hex(wire));
    });

    it('SSH_MSG_USERAUTH_REQUEST publickey with signature (RFC 4252 §7)', () => {
      const wire = b('32' + s('bob') + s('ssh-connection') + s('publickey') + '01' + s('ssh-ed25519') + '00000002abcd' + '00000001ef');
      const m = decodeMessage(wire);
      expect(m).to.deep.equal({
        type: 'SSH_MSG_USERAUTH_REQUEST', user: 'bob', service: 'ssh-connection', method: 'publickey',
        hasSignature: true, algorithm: 'ssh-ed25519', key: b('abcd'), signature: b('ef'),
      });
      expect(hex(encodeMessage(m))).to.equal(hex(wire));
    });

    it('SSH_MSG_USERAUTH_REQUEST with an unknown method keeps the method data as bytes', () => {
      const wire = b('32' + s('bob') + s('ssh-connection') + s('gssapi-with-mic') + '00000001' + '00000000');
      expect(decodeMessage(wire)).to.deep.equal({
        type: 'SSH_MSG_USERAUTH_REQUEST', user: 'bob', service: 'ssh-connection', method: 'gssapi-with-mic', methodData: b('0000000100000000'),
      });
    });

    it('SSH_MSG_EXT_INFO (RFC 8308 §2.3)', () => {
      const wire = b('07 00000001' + s('server-sig-algs') + s('rsa-sha2-256,ssh-ed25519'));
      const m = decodeMessage(wire);
      expect(m).to.deep.equal({ type: 'SSH_MSG_EXT_INFO', extensions: [{ name: 'server-sig-algs', value: Buffer.from('rsa-sha2-256,ssh-ed25519') }] });
      expect(hex(encodeMessage(m))).to.equal(hex(wire));
      // a count no payload could hold is refused at the count, before any allocation
      expect(() => decodeMessage(b('07 7fffffff'))).to.throw(DecodeError);
    });

    it('SSH_MSG_CHANNEL_DATA (RFC 4254 §5.2) and SSH_MSG_CHANNEL_REQUEST exec (§6.5)', () => {
      expect(decodeMessage(b('5e 00000001' + s('hello')))).to.deep.equal({ type: 'SSH_MSG_CHANNEL_DATA', recipientChannel: 1, data: Buffer.from('hello') });
      const req = decodeMessage(b('62 00000000' + s('exec') + '01' + s('ls -l')));
      expect(req).to.deep.equal({ type: 'SSH_MSG_CHANNEL_REQUEST', recipientChannel: 0, requestType: 'exec', wantReply: true, data: b(s('ls -l')) });
      if (req.type !== 'SSH_MSG_CHANNEL_REQUEST') throw new Error('narrowing');
      expect(decodeChannelRequestData(req.requestType, req.data)).to.deep.equal({ kind: 'exec', command: 'ls -l' });
      expect(hex(encodeChannelRequestData({ kind: 'exec', command: 'ls -l' }))).to.equal(s('ls -l'));
    });

    it('sub-payloads of global requests and channel opens', () => {
      expect(decodeGlobalRequestData('tcpip-forward', b(s('0.0.0.0') + '00001f90'))).to.deep.equal({ kind: 'tcpip-forward', address: '0.0.0.0', port: 8080 });
      expect(decodeChannelOpenData('direct-tcpip', b(s('example.org') + '000001bb' + s('127.0.0.1') + '00009c40')))
        .to.deep.equal({ kind: 'direct-tcpip', host: 'example.org', port: 443, originatorAddress: '127.0.0.1', originatorPort: 40000 });
      expect(decodeChannelOpenData('session', new Uint8Array(0))).to.deep.equal({ kind: 'session' });
      expect(() => decodeChannelOpenData('session', b('00'))).to.throw(DecodeError);
    });
  });

  describe('context-dependent numbers (RFC 4251 §7)', () => {
    const kex30 = b('1e 00000001 05');
    it('30–49 decode only with a kex family, each its own way', () => {
      expect(decodeMessage(kex30)).to.deep.equal({ type: 'unknown', id: 30, body: b('00000001 05') });
      expect(decodeMessage(kex30, { kex: 'ecdh' })).to.deep.equal({ type: 'SSH_MSG_KEX_ECDH_INIT', publicKey: b('05') });
      expect(decodeMessage(kex30, { kex: 'dh' })).to.deep.equal({ type: 'SSH_MSG_KEXDH_INIT', e: 5n });
      expect(() => decodeMessage(kex30, { kex: 'dh-gex' })).to.throw(DecodeError); // REQUEST_OLD is one uint32: a trailing byte
      expect(decodeMessage(b('1e 00000800'), { kex: 'dh-gex' })).to.deep.equal({ type: 'SSH_MSG_KEX_DH_GEX_REQUEST_OLD', n: 2048 });
      expect(decodeMessage(b('22 00000800 00000c00 00002000'), { kex: 'dh-gex' }))
        .to.deep.equal({ type: 'SSH_MSG_KEX_DH_GEX_REQUEST', min: 2048, n: 3072, max: 8192 });
      expect(decodeMessage(b('22 00'), { kex: 'ecdh' })).to.deep.equal({ type: 'unknown', id: 34, body: b('00') });
    });

    it('60–79 decode only with the userauth method in progress', () => {
      const p60 = b('3c' + s('ssh-ed25519') + '00000001aa');
      expect(decodeMessage(p60).type).to.equal('unknown');
      expect(decodeMessage(p60, { auth: 'publickey' })).to.deep.equal({ type: 'SSH_MSG_USERAUTH_PK_OK', algorithm: 'ssh-ed25519', key: b('aa') });
      expect(decodeMessage(p60, { auth: 'password' })).to.deep.equal({ type: 'SSH_MSG_USERAUTH_PASSWD_CHANGEREQ', prompt: 'ssh-ed25519', language: '\u00aa' });
      const info = b('3c' + s('') + s('') + s('') + '00000001' + s('Password: ') + '00');
      expect(decodeMessage(info, { auth: 'keyboard-interactive' })).to.deep.equal({
        type: 'SSH_MSG_USERAUTH_INFO_REQUEST', name: '', instruction: '', language: '', prompts: [{ prompt: 'Password: ', echo: false }],
      });
      expect(decodeMessage(b('3d 00000001' + s('pw')), { auth: 'keyboard-interactive' }))
        .to.deep.equal({ type: 'SSH_MSG_USERAUTH_INFO_RESPONSE', responses: ['pw'] });
      expect(decodeMessage(b('3d 00000000'), { auth: 'publickey' }).type).to.equal('unknown');
    });

    it('the other context does not matter outside its range', () => {
      const ctx: DecodeContext = { kex: 'dh', auth: 'password' };
      expect(decodeMessage(b('15'), ctx)).to.deep.equal({ type: 'SSH_MSG_NEWKEYS' });
      expect(decodeMessage(b('3c' + s('x') + s('')), { kex: 'ecdh' }).type).to.equal('unknown');
    });
  });

  describe('unknown numbers', () => {
    it('every number without a codec decodes to { type: "unknown", id, body }', () => {
      const known = new Set([1, 2, 3, 4, 5, 6, 7, 8, 20, 21, 50, 51, 52, 53, 80, 81, 82, ...Array.from({ length: 11 }, (_, i) => 90 + i)]);
      for (let id = 0; id < 256; id++) {
        if (known.has(id)) expect(codecFor(id), `id ${id}`).to.not.equal(undefined);
        else expect(decodeMessage(Uint8Array.of(id, 0xab)), `id ${id}`).to.deep.equal({ type: 'unknown', id, body: b('ab') });
      }
    });
    it('an unknown message encodes back to its bytes, even with a known number', () => {
      expect(hex(encodeMessage({ type: 'unknown', id: 200, body: b('0102') }))).to.equal('c80102');
      expect(hex(encodeMessage({ type: 'unknown', id: 94, body: b('01') }))).to.equal('5e01');
      expect(() => encodeMessage({ type: 'unknown', id: 256, body: b('') })).to.throw(RangeError);
      expect(() => encodeMessage({ type: 'SSH_MSG_NOPE' } as never)).to.throw(RangeError);
    });
    it('an empty payload is a DecodeError, not unknown', () => {
      expect(() => decodeMessage(new Uint8Array(0))).to.throw(DecodeError).with.property('offset', 0);
    });
    it('arbitrary bytes decode to a Message or fail with DecodeError, in every context (property)', () => {
      const ctxArb = fc.record({ kex: fc.constantFrom(undefined, 'ecdh', 'dh', 'dh-gex'), auth: fc.constantFrom(undefined, 'publickey', 'password', 'keyboard-interactive') },
        { requiredKeys: [] }) as fc.Arbitrary<DecodeContext>;
      fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), ctxArb, (p, ctx) => {
        let m: Message;
        try { m = decodeMessage(p, ctx); } catch (e) { expect(e).to.be.instanceOf(DecodeError); return; }
        expect(decodeMessage(encodeMessage(m), ctx)).to.deep.equal(m);
      }), { numRuns: 500 });
    });
  });

  describe('names and numbers', () => {
    it('MessageId has every fixed and method-specific number', () => {
      expect(MessageId.KEXINIT).to.equal(20);
      expect(MessageId.CHANNEL_DATA).to.equal(94);
      expect(MessageId.KEX_ECDH_INIT).to.equal(30);
      expect(MessageId.KEX_DH_GEX_REQUEST).to.equal(34);
      expect(MessageId.USERAUTH_INFO_RESPONSE).to.equal(61);
      for (const c of allCodecs) expect((MessageId as Record<string, number>)[c.name.slice(8)], c.name).to.equal(c.id);
      expect(Object.keys(MessageId)).to.have.length(allCodecs.length);
    });
    it('messageName', () => {
      expect(messageName(20)).to.equal('SSH_MSG_KEXINIT');
      expect(messageName(30)).to.equal('SSH_MSG_KEX_30');
      expect(messageName(30, { kex: 'ecdh' })).to.equal('SSH_MSG_KEX_ECDH_INIT');
      expect(messageName(31, { kex: 'dh' })).to.equal('SSH_MSG_KEXDH_REPLY');
      expect(messageName(40, { kex: 'dh-gex' })).to.equal('SSH_MSG_KEX_40');
      expect(messageName(60)).to.equal('SSH_MSG_USERAUTH_60');
      expect(messageName(60, { auth: 'keyboard-interactive' })).to.equal('SSH_MSG_USERAUTH_INFO_REQUEST');
      expect(messageName(192)).to.equal('SSH_MSG_UNKNOWN_192');
    });
    it('codecFor and codecByName', () => {
      expect(codecFor(94)?.name).to.equal('SSH_MSG_CHANNEL_DATA');
      expect(codecFor(31)).to.equal(undefined);
      expect(codecFor(31, { kex: 'dh-gex' })?.name).to.equal('SSH_MSG_KEX_DH_GEX_GROUP');
      expect(codecFor(61, { auth: 'keyboard-interactive' })?.name).to.equal('SSH_MSG_USERAUTH_INFO_RESPONSE');
      expect(codecByName('SSH_MSG_KEXDH_INIT')?.id).to.equal(30);
    });
  });

  describe('messageToJSON', () => {
    it('turns bytes into hex and bigints into 0x-hex, and survives JSON.stringify', () => {
      const m = decodeMessage(b('1f' + '00000002abcd' + '000000020080' + '00000000'), { kex: 'dh' });
      const j = messageToJSON(m);
      expect(j).to.deep.equal({ type: 'SSH_MSG_KEXDH_REPLY', hostKey: 'abcd', f: '0x80', signature: '' });
      expect(JSON.parse(JSON.stringify(j))).to.deep.equal(j);
      expect(messageToJSON({ type: 'unknown', id: 200, body: b('01') })).to.deep.equal({ type: 'unknown', id: 200, body: '01' });
      const neg = decodeMessage(b('1e 00000002edcc'), { kex: 'dh' });
      expect(messageToJSON(neg)).to.deep.equal({ type: 'SSH_MSG_KEXDH_INIT', e: '-0x1234' });
    });
    it('keeps nested lists and objects', () => {
      const m = decodeMessage(b('07 00000001' + s('a') + '00000001ff'));
      expect(messageToJSON(m)).to.deep.equal({ type: 'SSH_MSG_EXT_INFO', extensions: [{ name: 'a', value: 'ff' }] });
    });
  });
});
