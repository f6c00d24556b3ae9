/**
 * Issue 5 bad input, end to end through the engine: a client that misbehaves at the connection layer (raw payloads
 * through the deviation hooks) gets the right failure or disconnect, the server's memory stays bounded, and the
 * server keeps serving other connections.
 */
import { expect } from 'chai';
import { generateHostKey } from '../crypto/hostkey/index.js';
import { DisconnectError, SSHError } from '../errors.js';
import { decodeMessage, encodeMessage } from '../messages/index.js';
import { dangerousEngine, dangerousFlush } from '../testing.js';
import { insecureAcceptAnyHostKey, Transport } from '../Transport.js';
import { OpenFailure } from './connection.js';
import { execLoopbackServer, type LoopbackServer } from './testing/loopback.js';

const hostKey = generateHostKey('ssh-ed25519');

describe('impl/connection bad input through the engine', function () {
  this.timeout(60_000);
  let srv: LoopbackServer;
  before(async () => {
    srv = await execLoopbackServer([hostKey], (ch) => { ch.write('alive\n'); void ch.exit(0); }, { connection: { maxChannels: 16, initialWindow: 64 * 1024, maxPacket: 32 * 1024 } });
  });
  after(async () => { await srv.close(); });

  async function client(): Promise<Transport> {
    const t = new Transport(['127.0.0.1', srv.port], { verifyHostKey: insecureAcceptAnyHostKey });
    await t.connect({ username: 'u', password: 'p' });
    return t;
  }

  /** The server still runs commands for a fresh client. */
  async function stillServing(): Promise<void> {
    const t = await client();
    const ch = await t.openSession();
    let out = '';
    ch.on('data', (d: Buffer) => (out += d));
    const ended = new Promise<void>((r) => ch.once('end', r));
    await ch.exec('x');
    await ch.exitStatus();
    await ended;
    expect(out).to.equal('alive\n');
    await t.close();
  }

  /** Sends raw payloads and waits for the server to end the connection; returns why. */
  async function expectDisconnect(t: Transport, payloads: Uint8Array[]): Promise<SSHError> {
    for (const p of payloads) dangerousEngine(t).testing.sendRawPayload(p);
    dangerousFlush(t);
    await t.closed();
    return t.closeError!;
  }

  it('10 000 channel opens: RESOURCE_SHORTAGE beyond the cap, bounded state, server keeps serving', async () => {
    const t = await client();
    const replies = { confirm: 0, failure: 0, shortage: 0 };
    // the replies name channel numbers our client never allocated: count them instead of delivering them
    dangerousEngine(t).testing.rewriteInbound((payload: Uint8Array) => {
      if (payload[0] === 91) { replies.confirm++; return undefined; }
      if (payload[0] === 92) {
        replies.failure++;
        const m = decodeMessage(payload);
        if (m.type === 'SSH_MSG_CHANNEL_OPEN_FAILURE' && m.reason === OpenFailure.RESOURCE_SHORTAGE) replies.shortage++;
        return undefined;
      }
      return payload;
    });
    for (let i = 0; i < 10_000; i++) {
      dangerousEngine(t).testing.sendRawPayload(encodeMessage({ type: 'SSH_MSG_CHANNEL_OPEN', channelType: 'session', senderChannel: 1000 + i, initialWindowSize: 1 << 20, maximumPacketSize: 32768, data: new Uint8Array(0) }));
      if (i % 500 === 499) { dangerousFlush(t); await new Promise((r) => setImmediate(r)); }
    }
    dangerousFlush(t);
    for (let i = 0; i < 500 && replies.confirm + replies.failure < 10_000; i++) await new Promise((r) => setTimeout(r, 10));
    expect(replies.confirm).to.equal(16);
    expect(replies.failure).to.equal(10_000 - 16);
    expect(replies.shortage).to.equal(10_000 - 16);
    expect(t.isActive()).to.equal(true);
    await t.close();
    await stillServing();
  });

  it('channel data past the window → PROTOCOL_ERROR disconnect', async () => {
    const t = await client();
    await t.openSession(); // the server's channel 0, window 64 KiB
    const chunk = new Uint8Array(32 * 1024);
    const err = await expectDisconnect(t, [0, 1, 2].map(() => encodeMessage({ type: 'SSH_MSG_CHANNEL_DATA', recipientChannel: 0, data: chunk })));
    expect(err).to.be.instanceOf(DisconnectError);
    expect((err as DisconnectError).disconnectReason).to.equal(2);
    expect(err.message).to.match(/past the window/);
    await stillServing();
  });

  it('data on an unknown channel, and on a closed one → PROTOCOL_ERROR disconnect', async () => {
    const t = await client();
    const err = await expectDisconnect(t, [encodeMessage({ type: 'SSH_MSG_CHANNEL_DATA', recipientChannel: 999, data: new Uint8Array(1) })]);
    expect(err.message).to.match(/unknown or closed channel 999/);
    const u = await client();
    const ch = await u.openSession();
    await ch.close();
    const err2 = await expectDisconnect(u, [encodeMessage({ type: 'SSH_MSG_CHANNEL_DATA', recipientChannel: 0, data: new Uint8Array(1) })]);
    expect(err2.message).to.match(/unknown or closed channel 0/);
    await stillServing();
  });

  it('window adjust overflowing 2^32-1 → PROTOCOL_ERROR disconnect', async () => {
    const t = await client();
    await t.openSession();
    const err = await expectDisconnect(t, [encodeMessage({ type: 'SSH_MSG_CHANNEL_WINDOW_ADJUST', recipientChannel: 0, bytesToAdd: 0xffff_ffff })]);
    expect(err.message).to.match(/overflows/);
    await stillServing();
  });

  it('a connection-protocol message before authentication → PROTOCOL_ERROR disconnect', async () => {
    const t = new Transport(['127.0.0.1', srv.port], { verifyHostKey: insecureAcceptAnyHostKey });
    await t.startClient();
    await t.authNone('u').catch(() => undefined); // ssh-userauth accepted, not authenticated
    const err = await expectDisconnect(t, [encodeMessage({ type: 'SSH_MSG_CHANNEL_OPEN', channelType: 'session', senderChannel: 0, initialWindowSize: 1, maximumPacketSize: 1, data: new Uint8Array(0) })]);
    expect(err.message).to.match(/before authentication/);
    await stillServing();
  });

  it('an unknown message number in the service range gets SSH_MSG_UNIMPLEMENTED, the connection lives', async () => {
    const t = await client();
    let unimplemented = 0;
    dangerousEngine(t).testing.rewriteInbound((p: Uint8Array) => { if (p[0] === 3) unimplemented++; return p; });
    dangerousEngine(t).testing.sendRawPayload(new Uint8Array([120, 1, 2, 3]));
    dangerousFlush(t);
    for (let i = 0; i < 100 && unimplemented === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(unimplemented).to.equal(1);
    expect(t.isActive()).to.equal(true);
    await t.close();
  });
});
