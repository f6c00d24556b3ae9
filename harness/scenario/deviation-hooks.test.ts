/**
 * The receive-side and rewrite hooks the broken server variants are built from (impl/transport/testing.ts):
 * rewriteInbound, rewriteOutbound, relax({ ignoreBadMac, skipStateChecks }) and the `deviations` option.
 */
import { expect } from 'chai';
import { generateHostKey } from '../../impl/crypto/hostkey/index.js';
import { decodeMessage, encodeMessage } from '../../impl/messages/index.js';
import { Pair } from '../../impl/transport/testing/pair.js';
import type { EngineEvent } from '../../impl/transport/types.js';

const hostKey = generateHostKey('ssh-ed25519');

function closedCode(events: EngineEvent[]): string | undefined {
  const c = events.find((e) => e.type === 'closed');
  return c?.type === 'closed' ? c.error.code : undefined;
}

describe('harness deviation hooks (impl/transport/testing.ts)', () => {
  it('`deviations` runs before start: a KEXINIT override reaches the first KEXINIT', () => {
    const p = new Pair({
      server: { hostKeys: [hostKey], deviations: (t) => t.setKexInitOverride((k) => ({ ...k, kexAlgorithms: k.kexAlgorithms.filter((n) => !n.startsWith('kex-strict')) })) },
    }).start().drive();
    const done = p.last('client', 'kexDone');
    expect(done?.type === 'kexDone' && done.algorithms.strictKex).to.equal(false);
  });

  it('a bad MAC ends the connection, unless the receiver relaxes ignoreBadMac (then the packet is dropped)', () => {
    for (const relaxed of [false, true]) {
      const p = new Pair({ server: { hostKeys: [hostKey], deviations: (t) => t.relax({ ignoreBadMac: relaxed }) } }).start().drive();
      p.client.testing.corruptNext({ mac: true }); // applies to the next packet sent through the normal path
      p.client.sendMessage({ type: 'SSH_MSG_IGNORE', data: new Uint8Array(3) });
      p.drive();
      expect(p.server.isClosed).to.equal(!relaxed);
      if (!relaxed) expect(closedCode(p.events.server)).to.equal('MAC');
    }
  });

  it('skipStateChecks lets a service message through before NEWKEYS', () => {
    const p = new Pair({ server: { hostKeys: [hostKey], deviations: (t) => t.relax({ skipStateChecks: true }) }, client: { strictKex: false } });
    p.start();
    // before the server's KEXINIT is even read: the reference would disconnect (RFC 4253 §7.1)
    p.client.testing.sendRawPayload(encodeMessage({ type: 'SSH_MSG_SERVICE_REQUEST', service: 'ssh-userauth' }));
    p.drive();
    expect(p.server.isClosed).to.equal(false);
    expect(p.events.server.some((e) => e.type === 'serviceRequest')).to.equal(true);
  });

  it('a payload queued between our NEWKEYS and the peer\'s (initial kex) is sent, not held forever', () => {
    const p = new Pair({ server: { hostKeys: [hostKey] } }).start();
    let queued = false;
    const sent: number[] = [];
    p.server.testing.rewriteOutbound((payload) => { sent.push(payload[0]!); return payload; });
    // after the server sent NEWKEYS (out) and before it reads the client's, queue a service payload
    p.server.testing.rewriteInbound((payload) => {
      if (payload[0] === 21 && !queued) { queued = true; p.server.sendPayload(Uint8Array.of(2, 0, 0, 0, 0)); }
      return payload;
    });
    p.drive();
    expect(queued).to.equal(true);
    expect(sent.filter((id) => id === 2)).to.have.length(1);
    expect(p.server.testing.inspect().heldPayloads).to.equal(0);
  });

  it('rewriteOutbound replaces or drops what we send; rewriteInbound what we receive', () => {
    const unimplemented: { seq: number; of: number }[] = [];
    const sent = new Map<number, number>();
    const p = new Pair({
      server: { hostKeys: [hostKey] },
      client: {
        onPacket: (r) => {
          if (r.direction === 'out') sent.set(r.payload[0]!, r.seq);
          else if (r.payload[0] === 3) { const m = decodeMessage(r.payload); if (m.type === 'SSH_MSG_UNIMPLEMENTED') unimplemented.push({ seq: m.seq, of: -1 }); }
        },
      },
    });
    p.onEvent = (side, e) => {
      if (side !== 'server') return;
      if (e.type === 'serviceRequest') p.server.acceptService(e.service);
      // what the service layer does for a number it does not know (RFC 4253 §11.4)
      if (e.type === 'payload') p.server.sendMessage({ type: 'SSH_MSG_UNIMPLEMENTED', seq: e.seq });
    };
    p.start().drive();
    p.client.requestService('ssh-userauth');
    p.drive();
    const seen: number[] = [];
    p.server.testing.rewriteOutbound((payload) => {
      const m = decodeMessage(payload);
      return m.type === 'SSH_MSG_UNIMPLEMENTED' ? encodeMessage({ ...m, seq: m.seq + 7 }) : payload;
    });
    p.server.testing.rewriteInbound((payload) => { seen.push(payload[0]!); return payload[0] === 201 ? undefined : payload; });
    p.client.testing.sendRawPayload(Uint8Array.of(200));
    p.client.testing.sendRawPayload(Uint8Array.of(201));
    p.drive();
    expect(seen).to.deep.equal([200, 201]);
    // only 200 was answered (201 was dropped), with a sequence number 7 too high
    expect(unimplemented.map((u) => u.seq)).to.deep.equal([sent.get(200)! + 7]);
    expect(p.server.isClosed).to.equal(false);
  });
});
