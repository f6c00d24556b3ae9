/**
 * impl ↔ impl for the second algorithm batch (UMAC, sntrup761x25519, group exchange): two engines in one process
 * (the Pair), handshake + traffic + a rekey for each algorithm, and the bad-input cases that must end in the right
 * SSH_MSG_DISCONNECT reason (RFC 4253 §11.1): wrong-size hybrid values, DH values 1 and p-1, groups under 2048 bits,
 * a flipped UMAC tag bit.
 */
import { expect } from 'chai';
import { DisconnectReason, type SSHError } from '../errors.js';
import { decodeMessage, encodeMessage } from '../messages/index.js';
import { Engine } from '../transport/engine.js';
import type { KexHost } from '../transport/kex-run.js';
import { Pair, type Side } from '../transport/testing/pair.js';
import type { EngineEvent, EngineOptions } from '../transport/types.js';
import { generateHostKey } from './hostkey/index.js';
import { dhGexSha1, dhGexSha256 } from './kex/dh-gex.js';
import { builtinGexGroups } from './kex/moduli.js';
import { sntrup761x25519Sha512, sntrup761x25519Sha512Openssh } from './kex/sntrup761x25519.js';
import { umac128, umac128Etm, umac64, umac64Etm } from './mac/umac.js';
import { kexAlgorithms, macAlgorithms } from './registry.js';
import type { PrivateKey } from './types.js';

const closedWith = (pair: Pair, side: Side): SSHError | undefined =>
  (pair.events[side].find((e) => e.type === 'closed') as Extract<EngineEvent, { type: 'closed' }> | undefined)?.error;

describe('crypto batch 2 impl ↔ impl (UMAC, sntrup761x25519, diffie-hellman-group-exchange)', function () {
  this.timeout(60_000);
  let hostKey: PrivateKey;
  before(() => {
    hostKey = generateHostKey('ssh-ed25519');
  });

  it('registers every algorithm of the batch', () => {
    for (const a of [umac64, umac128, umac64Etm, umac128Etm]) expect(macAlgorithms.get(a.name)).to.equal(a);
    for (const a of [sntrup761x25519Sha512, sntrup761x25519Sha512Openssh, dhGexSha256, dhGexSha1]) expect(kexAlgorithms.get(a.name)).to.equal(a);
  });

  function pairFor(algorithms: EngineOptions['algorithms'], client: Omit<EngineOptions, 'role'> = {}): { pair: Pair; got: Uint8Array[] } {
    const pair = new Pair({ client: { algorithms, ...client }, server: { algorithms, hostKeys: [hostKey] } });
    const got: Uint8Array[] = [];
    pair.onEvent = (side, e, p) => {
      if (e.type === 'serviceRequest') p.server.acceptService(e.service);
      if (side === 'server' && e.type === 'payload') got.push(e.payload.slice());
    };
    return { pair, got };
  }

  const payload = (n: number, fill: number): Uint8Array =>
    encodeMessage({ type: 'SSH_MSG_CHANNEL_DATA', recipientChannel: 0, data: new Uint8Array(n).fill(fill) });

  function roundTrip(algorithms: EngineOptions['algorithms']): Pair {
    const { pair, got } = pairFor(algorithms);
    pair.start().drive();
    pair.client.requestService('ssh-userauth');
    pair.drive();
    expect(pair.client.phase, JSON.stringify(algorithms)).to.equal('established');
    for (const n of [0, 100, 32 * 1024]) pair.client.sendPayload(payload(n, n & 0xff));
    pair.client.rekey();
    pair.drive();
    pair.client.sendPayload(payload(5000, 7));
    pair.drive();
    expect(got.map((p) => p.length)).to.deep.equal([0, 100, 32 * 1024, 5000].map((n) => payload(n, 0).length));
    expect(pair.events.client.filter((e) => e.type === 'kexDone').length).to.equal(2);
    return pair;
  }

  for (const mac of [umac64, umac128, umac64Etm, umac128Etm]) {
    it(`${mac.name} (aes128-ctr): handshake, traffic, rekey`, () => {
      const pair = roundTrip({ cipher: ['aes128-ctr'], mac: [mac.name] });
      expect(pair.client.testing.inspect().negotiated?.macC2S).to.equal(mac.name);
    });
  }

  for (const kex of [sntrup761x25519Sha512, sntrup761x25519Sha512Openssh, dhGexSha256, dhGexSha1]) {
    it(`${kex.name}: handshake, traffic, rekey`, () => {
      const pair = roundTrip({ kex: [kex.name] });
      expect(pair.client.testing.inspect().negotiated?.kex).to.equal(kex.name);
    });
  }

  it('a flipped UMAC tag bit → MAC_ERROR', () => {
    for (const mac of ['umac-64@openssh.com', 'umac-128-etm@openssh.com']) {
      const { pair } = pairFor({ cipher: ['aes128-ctr'], mac: [mac] });
      pair.start().drive();
      pair.client.testing.corruptNext({ mac: true });
      pair.client.sendPayload(payload(10, 1));
      pair.drive();
      expect(closedWith(pair, 'server')?.reason, mac).to.equal(DisconnectReason.MAC_ERROR);
    }
  });

  /** Rewrites the client's first message of number `id` during the initial kex. */
  function rewriteFirst(id: number, fn: (p: Uint8Array) => Uint8Array): Omit<EngineOptions, 'role'> {
    let done = false;
    return { deviations: (t) => t.rewriteOutbound((p) => (!done && p[0] === id ? ((done = true), fn(p)) : p)) };
  }

  for (const [label, len] of [['1189 bytes (short)', 1189], ['1191 bytes (long)', 1191]] as const) {
    it(`sntrup761x25519: a client value of ${label} → KEY_EXCHANGE_FAILED from the server`, () => {
      const client = rewriteFirst(30, (p) => {
        const m = decodeMessage(p, { kex: 'ecdh' }) as { publicKey: Uint8Array };
        const v = new Uint8Array(len);
        v.set(m.publicKey.subarray(0, Math.min(len, m.publicKey.length)));
        return encodeMessage({ type: 'SSH_MSG_KEX_ECDH_INIT', publicKey: v });
      });
      const { pair } = pairFor({ kex: ['sntrup761x25519-sha512'] }, client);
      pair.start().drive();
      const err = closedWith(pair, 'server');
      expect(err?.code).to.equal('KEX');
      expect(err?.reason).to.equal(DisconnectReason.KEY_EXCHANGE_FAILED);
    });
  }

  for (const [label, pick] of [['1', (_p: bigint) => 1n], ['p-1', (p: bigint) => p - 1n], ['0', (_p: bigint) => 0n]] as const) {
    it(`group exchange: e = ${label} → KEY_EXCHANGE_FAILED from the server (RFC 4419 §3)`, () => {
      let p = 0n;
      const client: Omit<EngineOptions, 'role'> = {
        deviations: (t) => {
          t.rewriteInbound((m) => {
            if (m[0] === 31) p = (decodeMessage(m, { kex: 'dh-gex' }) as { p: bigint }).p;
            return m;
          });
          let done = false;
          t.rewriteOutbound((m) => (!done && m[0] === 32 ? ((done = true), encodeMessage({ type: 'SSH_MSG_KEX_DH_GEX_INIT', e: pick(p) })) : m));
        },
      };
      const { pair } = pairFor({ kex: ['diffie-hellman-group-exchange-sha256'] }, client);
      pair.start().drive();
      expect(closedWith(pair, 'server')?.reason).to.equal(DisconnectReason.KEY_EXCHANGE_FAILED);
    });
  }

  it('group exchange: a server answering with a 1024-bit group → the client refuses it (RFC 8270), KEY_EXCHANGE_FAILED', () => {
    // a misbehaving server: whatever the request, the 1024-bit Oakley group 2
    const proto = Engine.prototype as unknown as { kexHost(this: Engine): KexHost };
    const hooked = proto.kexHost;
    proto.kexHost = function (this: Engine): KexHost {
      return { ...hooked.call(this), gexGroup: () => builtinGexGroups[0]! };
    };
    try {
      const { pair: forced } = pairFor({ kex: ['diffie-hellman-group-exchange-sha256'] });
      forced.start().drive();
      const err = closedWith(forced, 'client');
      expect(err?.code).to.equal('KEX');
      expect(err?.reason).to.equal(DisconnectReason.KEY_EXCHANGE_FAILED);
    } finally {
      proto.kexHost = hooked;
    }
  });
});
