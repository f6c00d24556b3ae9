/**
 * EngineTesting.holdKexMessages: a client whose kex messages leave only when released still completes a real
 * strict key exchange, and a service message sent before its NEWKEYS leaves under the old keys.
 */
import { expect } from 'chai';
import { generateHostKey } from '../crypto/hostkey/index.js';
import { Pair } from './testing/pair.js';

const out: number[] = [];

function gatedPair(): Pair {
  out.length = 0;
  return new Pair({
    client: { deviations: (t) => t.holdKexMessages(true), onPacket: (p) => { if (p.direction === 'out') out.push(p.payload[0]!); } },
    server: { hostKeys: [generateHostKey('ssh-ed25519')] },
  });
}

describe('EngineTesting.holdKexMessages (kex gate)', () => {
  it('holds KEXINIT, the method message and NEWKEYS until released, then completes the exchange', () => {
    const pair = gatedPair();
    pair.start().drive();
    const t = pair.client.testing;
    expect(out).to.deep.equal([]);
    expect(t.heldKex()).to.deep.equal([20, 30]); // KEX_ECDH_INIT computed from the server's KEXINIT, waiting
    expect(t.releaseKex(20)).to.equal(true);
    pair.drive();
    expect(t.releaseKex(30)).to.equal(true);
    pair.drive();
    expect(t.heldKex()).to.deep.equal([21]);
    expect(pair.server.phase).to.not.equal('established');
    expect(t.releaseKex(21)).to.equal(true);
    pair.drive();
    expect(out).to.deep.equal([20, 30, 21]);
    expect(pair.client.phase).to.equal('established');
    expect(pair.server.phase).to.equal('established');
    expect(pair.client.strictKex).to.equal(true);
    expect(t.releaseKex(21)).to.equal(false);
  });

  it('turning the gate off sends what waits, in order', () => {
    const pair = gatedPair();
    pair.start().drive();
    pair.client.testing.holdKexMessages(false);
    pair.drive();
    expect(pair.client.phase).to.equal('established');
    expect(out.slice(0, 3)).to.deep.equal([20, 30, 21]);
  });

  it('a raw message before the held NEWKEYS goes out in clear (the server sees a strict kex violation)', () => {
    const pair = gatedPair();
    pair.start().drive();
    const t = pair.client.testing;
    t.releaseKex(20); t.releaseKex(30);
    pair.drive();
    t.sendRawPayload(Uint8Array.of(2, 0, 0, 0, 0)); // SSH_MSG_IGNORE, framed with the current (old) keys
    pair.drive();
    expect(pair.server.isClosed).to.equal(true);
    expect(pair.server.closeError?.message).to.match(/strict KEX/);
  });
});
