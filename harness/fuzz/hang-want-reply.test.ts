import { expect } from 'chai';
import { runCase } from './executor.js';
import type { ServerVariant } from './self/server-stack.js';
import { selfTarget } from './self/self-target.js';
import type { Step } from './steps.js';

/**
 * The hang oracle on requests with want-reply that never get an answer (RFC 4254 §4 for global requests,
 * §5.4 for channel requests): a server variant reads the request and drops it, and the oracle must say so;
 * the reference server answers the same requests and must not be flagged.
 */
const swallow = (id: number): ServerVariant => ({
  name: `swallow-${id}`,
  description: `reads message ${id} and never answers it`,
  inspect: (p) => (p[0] === id ? 'swallow' : undefined),
});

const globalReq: Step = { op: 'send', msg: { type: 'SSH_MSG_GLOBAL_REQUEST', name: 'keepalive@openssh.com', wantReply: true, data: new Uint8Array(0) } };
const globalStep: Step = { op: 'global', name: 'no-such-request@example.com' };
const channelReq: Step = { op: 'send', msg: { type: 'SSH_MSG_CHANNEL_REQUEST', recipientChannel: { $chan: 0 }, requestType: 'env', wantReply: true, data: Uint8Array.from([0, 0, 0, 4, 0x4c, 0x41, 0x4e, 0x47, 0, 0, 0, 1, 0x43]) } };
const unknownChannelReq: Step = { op: 'send', msg: { type: 'SSH_MSG_CHANNEL_REQUEST', recipientChannel: { $chan: 0 }, requestType: '', wantReply: true, data: new Uint8Array(0) } };

describe('fuzz oracle: hang on a want-reply request never answered', function () {
  this.timeout(30_000);

  for (const [what, start, steps, id, rfc] of [
    ['GLOBAL_REQUEST (fuzzed message)', 'authenticated', [globalReq], 80, 'RFC 4254 §4'],
    ['GLOBAL_REQUEST (global step)', 'authenticated', [globalStep], 80, 'RFC 4254 §4'],
    ['CHANNEL_REQUEST env', 'channel', [channelReq], 98, 'RFC 4254 §5.4'],
    ['CHANNEL_REQUEST with an empty request type', 'channel', [unknownChannelReq], 98, 'RFC 4254 §5.4'],
  ] as const) {
    it(`${what}: flagged when the server drops it, not when it answers`, async () => {
      const dropped = await runCase(selfTarget({ variant: swallow(id) }), start, steps);
      expect(dropped.finding?.oracle, JSON.stringify(dropped.finding)).to.equal('hang');
      expect(dropped.finding?.rfc).to.equal(rfc);
      expect(dropped.finding?.message).to.match(/never answered a want-reply/);
      const answered = await runCase(selfTarget(), start, steps);
      expect(answered.finding, JSON.stringify(answered.finding)).to.equal(undefined);
    });
  }

  it('a request without want-reply that the server drops is not a hang', async () => {
    const noReply: Step = { op: 'send', msg: { type: 'SSH_MSG_GLOBAL_REQUEST', name: 'keepalive@openssh.com', wantReply: false, data: new Uint8Array(0) } };
    const r = await runCase(selfTarget({ variant: swallow(80) }), 'authenticated', [noReply]);
    expect(r.finding, JSON.stringify(r.finding)).to.equal(undefined);
  });
});
