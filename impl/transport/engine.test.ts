import { expect } from 'chai';
import { generateHostKey } from '../crypto/hostkey/index.js';
import type { PrivateKey } from '../crypto/types.js';
import { DisconnectReason, type SSHError } from '../errors.js';
import { decodeMessage, encodeMessage } from '../messages/index.js';
import { Writer } from '../wire/writer.js';
import { nativeStatus } from '../native/index.js';
import { Pair, type Side } from './testing/pair.js';
import type { EngineEvent, EngineOptions } from './types.js';

const KEX = ['curve25519-sha256', 'curve25519-sha256@libssh.org', 'ecdh-sha2-nistp256', 'diffie-hellman-group14-sha256'];
const HOSTKEY = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'rsa-sha2-256', 'rsa-sha2-512'];
const AEAD = ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com'];
const CTR = ['aes128-ctr', 'aes256-ctr'];
const MAC = ['hmac-sha2-256', 'hmac-sha2-512', 'hmac-sha2-256-etm@openssh.com', 'hmac-sha2-512-etm@openssh.com'];

let keys: Record<string, PrivateKey>;
before(function () {
  this.timeout(60_000);
  keys = {
    'ssh-ed25519': generateHostKey('ssh-ed25519'),
    'ecdsa-sha2-nistp256': generateHostKey('ecdsa-sha2-nistp256'),
    'ssh-rsa': generateHostKey('ssh-rsa'),
  };
});
const allKeys = () => Object.values(keys);

/** A pair whose server accepts 'ssh-userauth' and whose sides collect service payloads. */
function makePair(o: { client?: Omit<EngineOptions, 'role'>; server?: Omit<EngineOptions, 'role'>; chunk?: number } = {}) {
  const pair = new Pair({
    client: o.client ?? {},
    server: { hostKeys: allKeys(), ...o.server },
    ...(o.chunk ? { chunk: o.chunk } : {}),
  });
  const received: Record<Side, Uint8Array[]> = { client: [], server: [] };
  pair.onEvent = (side, e, p) => {
    if (e.type === 'serviceRequest') p.server.acceptService(e.service);
    if (e.type === 'payload') received[side].push(e.payload.slice());
  };
  return { pair, received };
}

function closed(pair: Pair, side: Side): SSHError | undefined {
  const e = pair.last(side, 'closed') as Extract<EngineEvent, { type: 'closed' }> | undefined;
  return e?.error;
}

/** A CHANNEL_DATA payload (RFC 4254 §5.2) carrying `n` bytes of a pattern, to move real traffic. */
function data(n: number, fill = 0x61): Uint8Array {
  return encodeMessage({ type: 'SSH_MSG_CHANNEL_DATA', recipientChannel: 0, data: new Uint8Array(n).fill(fill) });
}

function establish(pair: Pair) {
  pair.start().drive();
  pair.client.requestService('ssh-userauth');
  pair.drive();
  expect(pair.client.phase).to.equal('established');
  expect(pair.server.phase).to.equal('established');
  expect(pair.last('client', 'serviceAccept')).to.deep.include({ service: 'ssh-userauth' });
}

describe('transport engine: impl client ↔ impl server in-process', () => {
  describe('every kex × host key × cipher × MAC combination of the first catalogue', function () {
    this.timeout(120_000);
    for (const kex of KEX) {
      for (const hostKey of HOSTKEY) {
        const combos: [string, string][] = [...AEAD.map((c): [string, string] => [c, 'hmac-sha2-256']), ...CTR.flatMap((c) => MAC.map((m): [string, string] => [c, m]))];
        it(`${kex} / ${hostKey}: ${combos.length} cipher×MAC pairs handshake and move data both ways`, () => {
          for (const [cipher, mac] of combos) {
            const algorithms = { kex: [kex], hostKey: [hostKey], cipher: [cipher], mac: [mac] };
            const { pair, received } = makePair({ client: { algorithms }, server: { algorithms } });
            establish(pair);
            const n = pair.client.negotiated!;
            expect(n).to.include({ kex, hostKey, cipherC2S: cipher, cipherS2C: cipher, strictKex: true });
            expect(n.macC2S).to.equal(cipher.includes('gcm') ? 'none' : mac);
            pair.client.sendPayload(data(1000, 1));
            pair.server.sendPayload(data(40000, 2));
            pair.drive();
            expect(received.server.at(-1)).to.deep.equal(data(1000, 1));
            expect(received.client.at(-1)).to.deep.equal(data(40000, 2));
            expect(pair.client.sessionId).to.deep.equal(pair.server.sessionId);
          }
        });
      }
    }
  });

  it('sendPayloadParts(head, body) delivers head || body, also while a key exchange holds payloads', () => {
    const { pair, received } = makePair();
    establish(pair);
    const head = Uint8Array.of(94, 0, 0, 0, 0, 0, 0, 0x0b, 0xb8);
    const body = new Uint8Array(3000).fill(7);
    pair.client.sendPayloadParts(head, body);
    pair.client.rekey(); // now held until our NEWKEYS
    pair.client.sendPayloadParts(head, body);
    pair.drive();
    expect(received.server).to.have.length(2);
    for (const r of received.server) expect(Buffer.from(r).equals(Buffer.concat([head, body]))).to.equal(true);
  });

  for (const borrows of [false, true]) {
    it(`sendPayloadParts with an onPacket observer (onPacketBorrows ${borrows}): it sees head || body, the peer gets it`, () => {
      const seen: { copy: Uint8Array; view: Uint8Array }[] = [];
      const { pair, received } = makePair({ client: { onPacket: (p) => { if (p.direction === 'out' && p.payload[0] === 94) seen.push({ copy: p.payload.slice(), view: p.payload }); }, onPacketBorrows: borrows } });
      establish(pair);
      const head = Uint8Array.of(94, 0, 0, 0, 0, 0, 0, 0x0b, 0xb8);
      for (const fill of [1, 2, 3]) pair.client.sendPayloadParts(head, new Uint8Array(3000).fill(fill));
      pair.drive();
      expect(received.server.map((r) => r[9])).to.deep.equal([1, 2, 3]);
      expect(seen.map((x) => x.copy[9])).to.deep.equal([1, 2, 3]);
      for (const x of seen) expect(Buffer.from(x.copy.subarray(0, 9)).equals(head)).to.equal(true);
      // borrowed views share one reused buffer (so an observer must copy what it keeps); owned payloads are distinct
      expect(seen[0]!.view.buffer === seen[2]!.view.buffer).to.equal(borrows);
    });
  }

  it('receive(bytes, now, true) may decrypt in place; without transfer the caller\'s bytes stay as they were', () => {
    for (const transfer of [false, true]) {
      const { pair, received } = makePair();
      establish(pair);
      pair.client.sendPayload(encodeMessage({ type: 'SSH_MSG_CHANNEL_DATA', recipientChannel: 0, data: new Uint8Array(5000).fill(9) }));
      const wire = pair.client.pollTransmit()!;
      const before = Uint8Array.from(wire);
      pair.server.receive(wire, pair.now, transfer);
      pair.drive();
      expect(received.server.at(-1)![9]).to.equal(9);
      expect(Buffer.from(wire).equals(before), `transfer ${transfer}`).to.equal(!transfer || !nativeStatus().loaded);
    }
  });

  it('recycle(): a sent packet\'s buffer is reused for a later packet; bytes it did not issue are never reused', function () {
    if (!nativeStatus().loaded) this.skip(); // pooling applies to the in-place (native) sealers
    const { pair, received } = makePair();
    establish(pair);
    const data = (fill: number) => encodeMessage({ type: 'SSH_MSG_CHANNEL_DATA', recipientChannel: 0, data: new Uint8Array(8000).fill(fill) });
    pair.client.sendPayload(data(1));
    const first = pair.client.pollTransmit()!;
    pair.server.receive(first.slice(), pair.now);
    pair.client.recycle(first);
    pair.client.recycle(first); // twice: taken back once only
    pair.client.sendPayload(data(2));
    pair.client.sendPayload(data(3));
    const second = pair.client.pollTransmit()!, third = pair.client.pollTransmit()!;
    expect(second.buffer).to.equal(first.buffer);
    expect(third.buffer).to.not.equal(first.buffer);
    const raw = new Uint8Array(40 * 1024);
    pair.client.recycle(raw); // not issued by the writer: ignored
    pair.client.sendPayload(data(4));
    const fourth = pair.client.pollTransmit()!;
    expect(fourth.buffer).to.not.equal(raw.buffer);
    for (const b of [second, third, fourth]) pair.server.receive(b, pair.now);
    pair.drive();
    expect(received.server.map((r) => r[9])).to.deep.equal([1, 2, 3, 4]);
  });

  it('holds service messages pipelined behind SERVICE_REQUEST until the service is accepted (dbclient does this)', () => {
    const { pair, received } = makePair();
    pair.start().drive();
    pair.client.requestService('ssh-userauth');
    const userauth = encodeMessage({ type: 'SSH_MSG_USERAUTH_REQUEST', user: 'u', service: 'ssh-connection', method: 'none' });
    pair.client.sendPayload(userauth); // no wait for SERVICE_ACCEPT
    pair.drive();
    expect(pair.server.isClosed).to.equal(false);
    expect(received.server).to.deep.equal([userauth]);
    const types = pair.events.server.map((e) => e.type);
    expect(types.indexOf('serviceRequest')).to.be.lessThan(types.indexOf('payload'));
  });

  it('answers an unknown number ≥ 50 before any service with UNIMPLEMENTED, not a disconnect (RFC 4253 §11.4)', () => {
    const inbound: Uint8Array[] = [];
    const { pair } = makePair({ client: { onPacket: (p) => { if (p.direction === 'in') inbound.push(p.payload.slice()); } } });
    pair.start().drive();
    const seq = pair.client.testing.inspect().seqOut;
    pair.client.testing.sendRawPayload(Uint8Array.of(200, 1));
    pair.drive();
    expect(decodeMessage(inbound.at(-1)!)).to.deep.equal({ type: 'SSH_MSG_UNIMPLEMENTED', seq });
    expect(pair.server.isClosed).to.equal(false);
  });

  it('survives any split of the stream, down to one byte at a time', () => {
    const { pair, received } = makePair({ chunk: 1 });
    establish(pair);
    pair.client.sendPayload(data(3000));
    pair.drive();
    expect(received.server.at(-1)).to.deep.equal(data(3000));
  });

  it('sends server-sig-algs in SSH_MSG_EXT_INFO right after NEWKEYS (RFC 8308 §2.4, §3.1)', () => {
    const { pair } = makePair();
    establish(pair);
    const ext = pair.last('client', 'extInfo') as Extract<EngineEvent, { type: 'extInfo' }>;
    expect(Buffer.from(ext.extensions.get('server-sig-algs')!).toString()).to.match(/rsa-sha2-512/);
  });

  it('rekeys mid-transfer, initiated by either side, forced by a small byte limit, with no byte lost or reordered (RFC 4344 §3)', () => {
    const { pair, received } = makePair({ client: { rekey: { bytes: 64 * 1024 } }, server: { rekey: { bytes: 100 * 1024 } } });
    establish(pair);
    const sent: Record<Side, Uint8Array[]> = { client: [], server: [] };
    for (let i = 0; i < 200; i++) {
      const c = data(7000 + i, i & 0xff);
      const s = data(5000 + i, (i * 7) & 0xff);
      pair.client.sendPayload(c); sent.client.push(c);
      pair.server.sendPayload(s); sent.server.push(s);
      if (i % 3 === 0) pair.drive();
    }
    pair.drive();
    const kexDone = (side: Side) => pair.events[side].filter((e) => e.type === 'kexDone').length;
    expect(kexDone('client')).to.be.greaterThan(10);
    expect(kexDone('server')).to.equal(kexDone('client'));
    expect(received.server).to.deep.equal(sent.client);
    expect(received.client).to.deep.equal(sent.server);
    expect(pair.client.isClosed || pair.server.isClosed).to.equal(false);
  });

  it('rekeys a 64-bit block cipher after 2^16 blocks by default (RFC 4344 §3.2), a legacy cipher offered only when named', () => {
    const algorithms = { cipher: ['3des-cbc'], mac: ['hmac-sha2-256'] };
    const { pair, received } = makePair({ client: { algorithms }, server: { algorithms } });
    establish(pair);
    for (let i = 0; i < 40; i++) pair.client.sendPayload(data(32000, i));
    pair.drive();
    expect(received.server).to.have.length(40);
    // 1.28 MB at 512 KiB per key: at least two re-exchanges beyond the initial one
    expect(pair.events.client.filter((e) => e.type === 'kexDone').length).to.be.at.least(3);
    expect(makePair().pair.client.algorithms.cipher).to.not.include('3des-cbc');
  });

  it('rekeys on request and on time (RFC 4253 §9, RFC 4344 §3)', () => {
    const { pair } = makePair({ server: { rekey: { seconds: 10 } } });
    establish(pair);
    const id = pair.client.sessionId;
    pair.client.rekey();
    pair.drive();
    pair.now += 11_000;
    pair.advanceToNextTimeout();
    pair.drive();
    expect(pair.events.client.filter((e) => e.type === 'kexDone').length).to.equal(3);
    expect(pair.client.sessionId).to.deep.equal(id); // the session id is the first H forever (RFC 4253 §7.2)
  });

  it('ignores a wrongly guessed first kex packet (RFC 4253 §7.1 first_kex_packet_follows)', () => {
    const { pair } = makePair({ server: { algorithms: { kex: ['ecdh-sha2-nistp256', 'curve25519-sha256'] } } });
    pair.client.testing.setKexInitOverride((k) => ({ ...k, firstKexPacketFollows: true }));
    pair.client.start(0);
    // the guess: an init for curve25519 (the client's first), which the server must drop
    pair.client.testing.sendRawPayload(encodeMessage({ type: 'SSH_MSG_KEX_ECDH_INIT', publicKey: new Uint8Array(32).fill(9) }), 'guess');
    pair.start().drive();
    expect(pair.server.closeError?.message).to.equal(undefined);
    expect(pair.server.phase).to.equal('established');
    expect(pair.server.negotiated!.kex).to.equal('curve25519-sha256'); // the client's preference wins (RFC 4253 §7.1)
  });

  it('answers an unknown message number with SSH_MSG_UNIMPLEMENTED carrying its sequence number (RFC 4253 §11.4)', () => {
    const inbound: Uint8Array[] = [];
    const { pair } = makePair({ client: { onPacket: (p) => { if (p.direction === 'in') inbound.push(p.payload.slice()); } } });
    establish(pair);
    const seqOfUnknown = pair.client.testing.inspect().seqOut;
    pair.client.testing.sendRawPayload(Uint8Array.of(19, 1, 2, 3));
    pair.drive();
    const reply = decodeMessage(inbound.at(-1)!);
    expect(reply).to.deep.equal({ type: 'SSH_MSG_UNIMPLEMENTED', seq: seqOfUnknown });
    expect(pair.client.isClosed || pair.server.isClosed).to.equal(false);
  });
});

describe('transport engine: bad input gets the right DISCONNECT and a typed error, never a throw', () => {
  function serverGets(bytes: Uint8Array | string): { err: SSHError | undefined; pair: Pair } {
    const { pair } = makePair();
    pair.server.start(0);
    pair.server.receive(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes, 0);
    pair.drive();
    return { err: closed(pair, 'server'), pair };
  }
  /** Client engine's packets after the version line, hand-framed without encryption. */
  function plainPacket(payload: Uint8Array, pad = 4 + ((8 - ((5 + payload.length + 4) % 8)) % 8), lengthOverride?: number): Uint8Array {
    const len = 1 + payload.length + pad;
    return new Writer().uint32(lengthOverride ?? len).byte(pad).raw(payload).raw(new Uint8Array(pad)).finish();
  }
  const hello = 'SSH-2.0-evil\r\n';

  it('garbage banner → PROTOCOL_ERROR', () => {
    const { err } = serverGets('GET / HTTP/1.1\r\n\r\n');
    expect(err?.code).to.equal('PROTOCOL');
  });

  it('an oversized banner line (> 255 bytes, RFC 4253 §4.2) → LIMIT, without buffering more', () => {
    const { err, pair } = serverGets('SSH-2.0-' + 'x'.repeat(300));
    expect(err?.code).to.equal('LIMIT');
    expect(pair.server.testing.inspect().bufferedInbound).to.be.lessThan(400);
  });

  it('protocol version 1.5 → PROTOCOL_VERSION_NOT_SUPPORTED', () => {
    expect(serverGets('SSH-1.5-old\r\n').err?.reason).to.equal(DisconnectReason.PROTOCOL_VERSION_NOT_SUPPORTED);
  });

  it('a client tolerates lines before the server version, bounded (RFC 4253 §4.2)', () => {
    const { pair } = makePair();
    pair.client.start(0);
    pair.client.receive(Buffer.from('hello\r\nworld\r\nSSH-2.0-x\r\n'), 0);
    const v = pair.client.pollEvent();
    expect(v).to.deep.include({ type: 'version', version: 'SSH-2.0-x', preBanner: ['hello', 'world'] });
    const { pair: p2 } = makePair();
    p2.client.start(0);
    p2.client.receive(Buffer.from('x\r\n'.repeat(100)), 0);
    expect(p2.client.closeError?.code).to.equal('LIMIT');
  });

  it('packet_length 0, huge, or not block-aligned → disconnect before any allocation of that size', () => {
    for (const len of [0, 0xffffffff, 13]) {
      const { err, pair } = serverGets(Buffer.concat([Buffer.from(hello), Buffer.from(new Writer().uint32(len).byte(4).finish())]));
      expect(err, `len ${len}`).to.not.equal(undefined);
      expect(['LIMIT', 'PROTOCOL']).to.include(err!.code);
      expect(pair.server.testing.inspect().bufferedInbound).to.be.lessThan(64);
    }
  });

  it('padding_length < 4 → PROTOCOL_ERROR (RFC 4253 §6)', () => {
    const kexinit = encodeMessage({ type: 'SSH_MSG_IGNORE', data: new Uint8Array(2) });
    const { err } = serverGets(Buffer.concat([Buffer.from(hello), plainPacket(kexinit, 3 + 8)]));
    expect(err?.code).to.equal('PROTOCOL');
    const { err: e2 } = serverGets(Buffer.concat([Buffer.from(hello), new Writer().uint32(12).byte(2).raw(new Uint8Array(11)).finish()]));
    expect(e2?.code).to.equal('PROTOCOL');
  });

  it('a message other than KEXINIT first → disconnect under strict kex, with no other effect', () => {
    const { pair } = makePair();
    pair.client.start(0);
    pair.client.testing.sendRawPayload(encodeMessage({ type: 'SSH_MSG_SERVICE_REQUEST', service: 'ssh-userauth' }));
    pair.start().drive();
    expect(closed(pair, 'server')?.code).to.equal('PROTOCOL');
  });

  it('a service message before the first key exchange → PROTOCOL_ERROR (RFC 4253 §7.1)', () => {
    const { pair } = makePair({ client: { strictKex: false }, server: { strictKex: false } });
    pair.client.start(0);
    pair.client.testing.sendRawPayload(Uint8Array.of(50, 0, 0, 0, 0));
    pair.start().drive();
    expect(closed(pair, 'server')?.code).to.equal('PROTOCOL');
    expect(closed(pair, 'server')?.message).to.match(/during key exchange|before the first key exchange/);
  });

  it('a second KEXINIT mid-kex → PROTOCOL_ERROR', () => {
    const { pair } = makePair();
    pair.client.start(0);
    pair.client.testing.duplicateNext(20);
    pair.client.testing.forceRekey();
    pair.start().drive();
    expect(closed(pair, 'server')?.message).to.match(/second SSH_MSG_KEXINIT|strict KEX/);
  });

  it('NEWKEYS out of order → PROTOCOL_ERROR (RFC 4253 §7.3)', () => {
    const { pair } = makePair();
    pair.client.start(0);
    pair.server.start(0);
    // NEWKEYS right behind the client's KEXINIT, before any kex method message
    pair.client.testing.sendRawPayload(Uint8Array.of(21));
    pair.drive();
    expect(closed(pair, 'server')?.code).to.equal('PROTOCOL');
  });

  it('strict-kex violation: an IGNORE before NEWKEYS in the initial kex → disconnect (Terrapin countermeasure)', () => {
    const { pair: p2 } = makePair();
    p2.client.start(0);
    p2.server.start(0);
    p2.client.testing.sendRawPayload(encodeMessage({ type: 'SSH_MSG_IGNORE', data: new Uint8Array(4) }));
    p2.drive();
    expect(closed(p2, 'server')?.message).to.match(/strict KEX violation/);
    // without strict kex the same IGNORE is harmless (RFC 4253 §11.2)
    const { pair: p3 } = makePair({ client: { strictKex: false } });
    p3.client.start(0);
    p3.server.start(0);
    p3.client.testing.sendRawPayload(encodeMessage({ type: 'SSH_MSG_IGNORE', data: new Uint8Array(4) }));
    p3.drive();
    expect(p3.server.phase).to.equal('established');
  });

  it('a bad MAC/tag → MAC_ERROR, for AEAD, EtM and MtE modes (RFC 4253 §6.4)', () => {
    for (const [cipher, mac] of [['aes128-gcm@openssh.com', 'hmac-sha2-256'], ['aes128-ctr', 'hmac-sha2-256-etm@openssh.com'], ['aes256-ctr', 'hmac-sha2-512']] as const) {
      const algorithms = { cipher: [cipher], mac: [mac] };
      const { pair } = makePair({ client: { algorithms }, server: { algorithms } });
      establish(pair);
      pair.client.testing.corruptNext({ mac: true });
      pair.client.sendPayload(data(100));
      pair.drive();
      expect(closed(pair, 'server')?.reason, cipher).to.equal(DisconnectReason.MAC_ERROR);
      // and the client learns why: the server's DISCONNECT reached it
      expect((closed(pair, 'client') as { disconnectReason?: number } | undefined)?.disconnectReason).to.equal(DisconnectReason.MAC_ERROR);
    }
  });

  it('a wrong sequence number in the MAC → MAC_ERROR', () => {
    // AES-GCM's nonce is its own counter, so the sequence number matters to the MAC modes and chacha20-poly1305
    const algorithms = { cipher: ['aes128-ctr'], mac: ['hmac-sha2-256'] };
    const { pair } = makePair({ client: { algorithms }, server: { algorithms } });
    establish(pair);
    pair.client.testing.corruptNext({ seqOffset: 1 });
    pair.client.sendPayload(data(10));
    pair.drive();
    expect(closed(pair, 'server')?.reason).to.equal(DisconnectReason.MAC_ERROR);
  });

  it('never throws out of receive() for random garbage after the banner, and stays bounded', () => {
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) & 0xff;
    for (let i = 0; i < 200; i++) {
      const junk = Uint8Array.from({ length: 1 + (i * 37) % 3000 }, rnd);
      const { pair } = makePair();
      pair.server.start(0);
      expect(() => pair.server.receive(Buffer.concat([Buffer.from(hello), junk]), 0)).to.not.throw();
      expect(pair.server.testing.inspect().bufferedInbound).to.be.lessThan(300 * 1024);
    }
  });

  it('closing on a huge read keeps none of it: the inbound buffer is freed with the connection', () => {
    const { pair } = makePair();
    pair.server.start(0);
    // a valid banner, then 3 MB whose first length field is far over the limit: the engine closes on it
    pair.server.receive(Buffer.concat([Buffer.from(hello), Buffer.alloc(3_000_000, 0xff)]), 0);
    expect(pair.server.isClosed).to.equal(true);
    expect(pair.server.testing.inspect().bufferedInbound).to.equal(0);
    pair.server.receive(Buffer.alloc(1_000_000), 0); // and nothing more is queued after the close
    expect(pair.server.testing.inspect().bufferedInbound).to.equal(0);
  });
});

describe('transport engine: deviation hooks', () => {
  it('skipNext(21) stalls the kex; inspect() reports phase and sequence numbers', () => {
    const { pair } = makePair();
    pair.client.testing.skipNext(21);
    pair.start().drive();
    expect(pair.server.testing.inspect()).to.include({ kexInProgress: true, phase: 'kex' });
    expect(pair.client.testing.inspect().seqOut).to.equal(0); // strict kex reset it after our (skipped) NEWKEYS
    pair.now = 61_000;
    pair.advanceToNextTimeout();
    pair.drive();
    expect(closed(pair, 'server')?.code).to.equal('TIMEOUT');
  });

  it('setKexInitOverride offers custom lists; no common algorithm → KEY_EXCHANGE_FAILED naming both offers', () => {
    const { pair } = makePair();
    pair.client.testing.setKexInitOverride((k) => ({ ...k, encryptionC2S: ['nope-cipher'] }));
    pair.start().drive();
    const err = closed(pair, 'server');
    expect(err?.reason).to.equal(DisconnectReason.KEY_EXCHANGE_FAILED);
    expect(err?.message).to.match(/nope-cipher/);
  });

  it('records every packet in and out through onPacket, deviations labelled', () => {
    const seen: string[] = [];
    const { pair } = makePair({ client: { onPacket: (p) => seen.push(`${p.direction}:${p.payload[0]}${p.deviation ? ':' + p.deviation : ''}`) } });
    pair.client.testing.duplicateNext(2);
    establish(pair);
    pair.client.sendMessage({ type: 'SSH_MSG_IGNORE', data: new Uint8Array(1) });
    pair.drive();
    expect(seen).to.include('out:20');
    expect(seen).to.include('in:31');
    expect(seen.filter((s) => s.startsWith('out:2:duplicate')).length).to.equal(2);
  });

  it('exposes the keys of each exchange for keylogs through onKeys', () => {
    const got: { cookie: string; K: number }[] = [];
    const { pair } = makePair({ client: { onKeys: (k) => got.push({ cookie: Buffer.from(k.clientCookie).toString('hex'), K: k.sharedSecret.length }) } });
    establish(pair);
    pair.client.rekey();
    pair.drive();
    expect(got).to.have.length(2);
    expect(got[0]!.cookie).to.have.length(32);
    expect(got[0]!.cookie).to.not.equal(got[1]!.cookie);
  });
});

describe('transport engine: snapshot() and resume (fork an established connection)', () => {
  const PROFILES: Omit<EngineOptions, 'role'>['algorithms'][] = [
    { kex: ['curve25519-sha256'], cipher: ['chacha20-poly1305@openssh.com'] },
    { kex: ['ecdh-sha2-nistp256'], cipher: ['aes256-gcm@openssh.com'] },
    { kex: ['curve25519-sha256'], cipher: ['aes128-ctr'], mac: ['hmac-sha2-512-etm@openssh.com'] },
    { kex: ['curve25519-sha256'], cipher: ['aes256-ctr'], mac: ['hmac-sha2-256'], compression: ['zlib'] },
    { kex: ['curve25519-sha256'], cipher: ['aes128-gcm@openssh.com'], compression: ['zlib@openssh.com'] },
  ];

  for (const algorithms of PROFILES) {
    it(`a resumed pair (${algorithms!.cipher![0]}${algorithms!.mac ? '+' + algorithms!.mac[0] : ''}${algorithms!.compression ? ', ' + algorithms!.compression[0] : ''}) is established at once, talks, rekeys for real`, () => {
      const { pair: template } = makePair({ client: { algorithms }, server: { algorithms } });
      template.start().drive();
      const snap = { client: template.client.testing.snapshot(), server: template.server.testing.snapshot() };
      const secret = new Uint8Array(32).fill(7);
      const { pair, received } = makePair({ client: { algorithms, resume: { snapshot: snap.client, secret } }, server: { algorithms, resume: { snapshot: snap.server, secret } } });
      pair.start();
      // nothing on the wire: no banner, no KEXINIT
      expect(pair.client.pollTransmit()).to.equal(undefined);
      pair.drive();
      expect(pair.last('client', 'kexDone')).to.deep.include({ initial: true, algorithms: template.client.negotiated });
      expect(pair.last('client', 'extInfo')).to.not.equal(undefined); // server-sig-algs, as the template received it
      expect(pair.client.sessionId).to.deep.equal(template.client.sessionId);
      pair.client.requestService('ssh-userauth');
      pair.client.sendPayload(data(5000));
      pair.drive();
      expect(pair.last('client', 'serviceAccept')).to.deep.include({ service: 'ssh-userauth' });
      pair.client.rekey();
      pair.server.sendPayload(data(7000, 0x62));
      pair.drive();
      expect(pair.client.testing.inspect()).to.include({ phase: 'established', kexInProgress: false });
      expect(received.server.map((p) => p.length)).to.deep.equal([data(5000).length]);
      expect(received.client.map((p) => p.length)).to.deep.equal([data(7000).length]);
      expect(pair.events.client.filter((e) => e.type === 'kexDone')).to.have.length(2);
      expect(closed(pair, 'client')).to.equal(undefined);
    });
  }

  it('two ends given different secrets cannot talk: the first packet fails its MAC (the keys are really derived)', () => {
    const algorithms = { cipher: ['aes128-gcm@openssh.com'] }; // the length travels in clear: the tag is what fails
    const { pair: template } = makePair({ client: { algorithms }, server: { algorithms } });
    template.start().drive();
    const { pair } = makePair({
      client: { algorithms, resume: { snapshot: template.client.testing.snapshot(), secret: new Uint8Array(32).fill(1) } },
      server: { algorithms, resume: { snapshot: template.server.testing.snapshot(), secret: new Uint8Array(32).fill(2) } },
    });
    pair.start();
    pair.client.requestService('ssh-userauth');
    pair.drive();
    expect(closed(pair, 'server')?.reason).to.equal(DisconnectReason.MAC_ERROR);
  });

  it('snapshot() refuses a connection that is not at rest after its first kex; resume refuses the other role\'s snapshot', () => {
    const { pair } = makePair();
    expect(() => pair.client.testing.snapshot()).to.throw(/snapshot: only at rest/);
    pair.start().drive();
    const s = pair.server.testing.snapshot();
    pair.client.sendMessage({ type: 'SSH_MSG_IGNORE', data: new Uint8Array(1) });
    expect(() => pair.client.testing.snapshot()).to.throw(/snapshot: only at rest/); // bytes not yet taken
    pair.drive();
    pair.client.requestService('ssh-userauth');
    pair.client.sendMessage({ type: 'SSH_MSG_IGNORE', data: new Uint8Array(1) });
    pair.drive();
    expect(() => new Pair({ client: { resume: { snapshot: s, secret: new Uint8Array(32) } } })).to.throw(/resume: a server snapshot/);
    // a snapshot naming what this build lacks ends the engine with a typed error, nothing thrown
    const odd = new Pair({ server: { hostKeys: allKeys(), resume: { snapshot: { ...s, negotiated: { ...s.negotiated, macS2C: 'hmac-nope' } }, secret: new Uint8Array(32) } } });
    odd.server.start(0);
    expect(odd.server.closeError?.message).to.match(/resume: the snapshot names algorithms this build lacks/);
    pair.client.rekey();
    expect(() => pair.client.testing.snapshot()).to.throw(/snapshot: only at rest/); // a key exchange running
    pair.drive();
    expect(pair.client.testing.snapshot()).to.include({ service: 'ssh-userauth', authenticated: false });
  });

  it('a pair resumed after authentication keeps its service and starts delayed compression at once (zlib@openssh.com)', () => {
    const algorithms = { compression: ['zlib@openssh.com'] };
    const { pair: template } = makePair({ client: { algorithms }, server: { algorithms } });
    establish(template);
    template.server.sendMessage({ type: 'SSH_MSG_USERAUTH_SUCCESS' });
    template.drive();
    const snap = { client: template.client.testing.snapshot(), server: template.server.testing.snapshot() };
    expect(snap.client).to.include({ service: 'ssh-userauth', authenticated: true });
    const secret = new Uint8Array(32).fill(3);
    const { pair, received } = makePair({ client: { algorithms, resume: { snapshot: snap.client, secret } }, server: { algorithms, resume: { snapshot: snap.server, secret } } });
    pair.start().drive();
    expect(pair.last('client', 'serviceAccept')).to.deep.include({ service: 'ssh-userauth' });
    expect(pair.last('server', 'serviceRequest')).to.equal(undefined);
    const big = data(60_000, 0x41); // compresses to a few hundred bytes, if compression runs
    let wire = 0;
    pair.client.sendPayload(big);
    for (let b = pair.client.pollTransmit(); b; b = pair.client.pollTransmit()) { wire += b.length; pair.server.receive(b, 0); }
    pair.drive();
    expect(wire).to.be.below(2000);
    expect(received.server.map((p) => p.length)).to.deep.equal([big.length]);
  });
});
