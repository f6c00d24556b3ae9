import { expect } from 'chai';
import { ChannelError, LimitError, ProtocolError } from '../errors.js';
import { decodeMessage, encodeMessage } from '../messages/index.js';
import { channelDataPayload, Connection, OpenFailure, type ConnectionEvent, type ConnectionOptions } from './connection.js';

/** Two Connections wired back to back; payloads move only when `flush()` is called. */
function connPair(a: ConnectionOptions = {}, b: ConnectionOptions = {}) {
  const aOut: Uint8Array[] = [];
  const bOut: Uint8Array[] = [];
  const left = new Connection({ sendPayload: (p) => aOut.push(p) }, a);
  const right = new Connection({ sendPayload: (p) => bOut.push(p) }, b);
  const events = { left: [] as ConnectionEvent[], right: [] as ConnectionEvent[] };
  const flush = (): void => {
    for (let i = 0; i < 10_000 && (aOut.length || bOut.length); i++) {
      for (let p = aOut.shift(); p; p = aOut.shift()) right.handlePayload(p);
      for (let p = bOut.shift(); p; p = bOut.shift()) left.handlePayload(p);
    }
    for (let e = left.pollEvent(); e; e = left.pollEvent()) events.left.push(e);
    for (let e = right.pollEvent(); e; e = right.pollEvent()) events.right.push(e);
  };
  const open = (type = 'session'): { l: number; r: number } => {
    const l = left.openChannel(type);
    flush();
    const ev = events.right.find((e) => e.type === 'channelOpen' && e.channelType === type);
    if (ev?.type !== 'channelOpen') throw new Error('no open');
    right.acceptOpen(ev.id);
    flush();
    return { l, r: ev.id };
  };
  return { left, right, aOut, bOut, events, flush, open };
}

const of = <T extends ConnectionEvent['type']>(list: ConnectionEvent[], type: T) =>
  list.filter((e): e is Extract<ConnectionEvent, { type: T }> => e.type === type);

describe('impl/connection: channels (RFC 4254)', () => {
  it('opens, confirms, moves data both ways, EOF then CLOSE frees both numbers', () => {
    const p = connPair();
    const { l, r } = p.open();
    expect(of(p.events.left, 'openConfirmed')).to.have.length(1);
    expect(p.left.sendData(l, new TextEncoder().encode('hello'))).to.equal(5);
    expect(p.right.sendData(r, new TextEncoder().encode('err'), 1)).to.equal(3);
    p.left.sendEof(l);
    p.flush();
    expect(of(p.events.right, 'data').map((e) => Buffer.from(e.data).toString())).to.deep.equal(['hello']);
    expect(of(p.events.left, 'data')[0]).to.include({ extended: 1 });
    expect(of(p.events.right, 'eof')).to.deep.equal([{ type: 'eof', id: r }]);
    p.right.close(r);
    p.flush();
    expect(of(p.events.left, 'closed')).to.deep.equal([{ type: 'closed', id: l }]);
    expect(of(p.events.right, 'closed')).to.deep.equal([{ type: 'closed', id: r }]);
    expect(p.left.channelCount + p.right.channelCount).to.equal(0);
  });

  it('refuses an open with the given OpenFailure code', () => {
    const p = connPair();
    const l = p.left.openChannel('direct-tcpip');
    p.flush();
    const ev = of(p.events.right, 'channelOpen')[0]!;
    p.right.rejectOpen(ev.id, OpenFailure.CONNECT_FAILED, 'no route');
    p.flush();
    expect(of(p.events.left, 'openFailed')).to.deep.equal([{ type: 'openFailed', id: l, reason: 2, description: 'no route' }]);
    expect(p.left.channelCount).to.equal(0);
  });

  it('never sends past the peer window, splits at its max packet, resumes on WINDOW_ADJUST after consumption', () => {
    const p = connPair({}, { initialWindow: 1000, maxPacket: 300 });
    const { l, r } = p.open();
    const data = new Uint8Array(2500).map((_, i) => i & 0xff);
    let sent = p.left.sendData(l, data);
    expect(sent).to.equal(1000);
    expect(p.aOut.map((x) => (decodeMessage(x) as { data: Uint8Array }).data.length)).to.deep.equal([300, 300, 300, 100]);
    expect(p.left.writable(l)).to.equal(0);
    p.flush();
    // the right side has not consumed anything: no adjust, the left stays blocked
    expect(p.left.writable(l)).to.equal(0);
    p.right.consume(r, 400); // the window was exhausted: give back what was consumed at once
    p.flush();
    expect(p.left.writable(l)).to.equal(400);
    p.right.consume(r, 100); // window open again: wait until half of it is consumed
    p.flush();
    expect(p.left.writable(l)).to.equal(400);
    p.right.consume(r, 400);
    p.flush();
    expect(p.left.writable(l)).to.equal(900);
    expect(of(p.events.left, 'windowAvailable').length).to.be.greaterThan(0);
    while (sent < data.length) {
      sent += p.left.sendData(l, data.subarray(sent));
      p.flush();
      for (const e of of(p.events.right, 'data').splice(0)) p.right.consume(r, e.data.length);
      p.events.right.length = 0;
      p.flush();
    }
    expect(sent).to.equal(2500);
  });

  it('data past the advertised window is a protocol error', () => {
    const p = connPair({}, { initialWindow: 100 });
    const { r } = p.open();
    const remote = p.left.info(0)!.remoteId;
    expect(remote).to.equal(r);
    expect(() => p.right.handlePayload(encodeMessage({ type: 'SSH_MSG_CHANNEL_DATA', recipientChannel: r, data: new Uint8Array(101) }))).to.throw(ProtocolError, /past the window/);
  });

  it('data larger than our max packet is a protocol error', () => {
    const p = connPair({}, { maxPacket: 64 });
    const { r } = p.open();
    expect(() => p.right.handlePayload(encodeMessage({ type: 'SSH_MSG_CHANNEL_DATA', recipientChannel: r, data: new Uint8Array(65) }))).to.throw(ProtocolError, /maximum packet/);
  });

  it('data on an unknown, unconfirmed or closed channel is a protocol error; the error sticks', () => {
    const p = connPair();
    expect(() => p.right.handlePayload(encodeMessage({ type: 'SSH_MSG_CHANNEL_DATA', recipientChannel: 7, data: new Uint8Array(1) }))).to.throw(ProtocolError, /unknown or closed/);
    expect(() => p.right.handlePayload(encodeMessage({ type: 'SSH_MSG_CHANNEL_EOF', recipientChannel: 0 }))).to.throw(ProtocolError);

    const q = connPair();
    const l = q.left.openChannel('session'); // not yet confirmed
    expect(() => q.left.handlePayload(encodeMessage({ type: 'SSH_MSG_CHANNEL_DATA', recipientChannel: l, data: new Uint8Array(1) }))).to.throw(ProtocolError, /before its open was confirmed/);

    const s = connPair();
    const { l: sl, r: sr } = s.open();
    s.left.close(sl);
    s.flush();
    expect(() => s.right.handlePayload(encodeMessage({ type: 'SSH_MSG_CHANNEL_DATA', recipientChannel: sr, data: new Uint8Array(1) }))).to.throw(ProtocolError, /unknown or closed/);
  });

  it('data after EOF is a protocol error', () => {
    const p = connPair();
    const { l, r } = p.open();
    p.left.sendEof(l);
    p.flush();
    expect(() => p.right.handlePayload(encodeMessage({ type: 'SSH_MSG_CHANNEL_DATA', recipientChannel: r, data: new Uint8Array(1) }))).to.throw(ProtocolError, /after SSH_MSG_CHANNEL_EOF/);
    expect(() => p.left.sendData(l, new Uint8Array(1))).to.throw(ChannelError);
  });

  it('data that crosses our CLOSE is dropped quietly', () => {
    const p = connPair();
    const { l, r } = p.open();
    p.left.close(l);
    p.right.sendData(r, new Uint8Array(10)); // in flight before the right side sees our CLOSE
    p.flush();
    expect(of(p.events.left, 'data')).to.have.length(0);
    expect(of(p.events.left, 'closed')).to.have.length(1);
  });

  it('window adjust past 2^32-1 is a protocol error', () => {
    const p = connPair();
    const { l, r } = p.open();
    expect(l).to.equal(0);
    const window = p.right.info(r)!.remoteWindow;
    expect(() => p.left.handlePayload(encodeMessage({ type: 'SSH_MSG_CHANNEL_WINDOW_ADJUST', recipientChannel: l, bytesToAdd: 0xffff_ffff - window + 1 }))).to.throw(ProtocolError, /overflows/);
    const q = connPair();
    const o = q.open();
    const w = q.left.info(o.l)!.remoteWindow;
    q.left.handlePayload(encodeMessage({ type: 'SSH_MSG_CHANNEL_WINDOW_ADJUST', recipientChannel: o.l, bytesToAdd: 0xffff_ffff - w }));
    expect(q.left.writable(o.l)).to.equal(0xffff_ffff);
  });

  it('caps open channels: further opens from the peer get RESOURCE_SHORTAGE, memory stays bounded', () => {
    const p = connPair({}, { maxChannels: 8 });
    for (let i = 0; i < 10_000; i++) {
      p.right.handlePayload(encodeMessage({ type: 'SSH_MSG_CHANNEL_OPEN', channelType: 'session', senderChannel: i, initialWindowSize: 1024, maximumPacketSize: 1024, data: new Uint8Array(0) }));
    }
    expect(p.right.channelCount).to.equal(8);
    const failures = p.bOut.map((x) => decodeMessage(x)).filter((m) => m.type === 'SSH_MSG_CHANNEL_OPEN_FAILURE');
    expect(failures).to.have.length(10_000 - 8);
    expect(failures[0]).to.include({ reason: OpenFailure.RESOURCE_SHORTAGE, recipientChannel: 8 });
    expect(() => { for (let i = 0; i < 9; i++) p.right.openChannel('session'); }).to.throw(ChannelError);
  });

  it('channel requests: replies go out in arrival order even when decided out of order', () => {
    const p = connPair();
    const { l, r } = p.open();
    p.left.sendRequest(l, 'env', true);
    p.left.sendRequest(l, 'exec', true);
    p.left.sendRequest(l, 'eow@openssh.com', false);
    p.flush();
    const reqs = of(p.events.right, 'request');
    expect(reqs.map((e) => [e.requestType, e.wantReply])).to.deep.equal([['env', true], ['exec', true], ['eow@openssh.com', false]]);
    p.right.replyRequest(r, reqs[1]!.token, true);
    p.flush();
    expect(of(p.events.left, 'requestReply')).to.have.length(0);
    p.right.replyRequest(r, reqs[0]!.token, false);
    p.flush();
    expect(of(p.events.left, 'requestReply').map((e) => [e.requestType, e.ok])).to.deep.equal([['env', false], ['exec', true]]);
    expect(() => p.left.handlePayload(encodeMessage({ type: 'SSH_MSG_CHANNEL_SUCCESS', recipientChannel: l }))).to.throw(ProtocolError, /without a pending request/);
  });

  it('a reply the peer sends after its own CLOSE is dropped, as many as were pending (paramiko); more are a protocol error', () => {
    const p = connPair();
    const { l } = p.open();
    p.left.sendRequest(l, 'exec', true);
    p.aOut.length = 0; // the peer never sees it: it closes first, then answers (RFC 4254 §5.3 forbids the order)
    p.left.handlePayload(encodeMessage({ type: 'SSH_MSG_CHANNEL_CLOSE', recipientChannel: l }));
    // the number is not reused while a reply is still owed on it
    const next = p.left.openChannel('session');
    expect(next).to.not.equal(l);
    expect(() => p.left.handlePayload(encodeMessage({ type: 'SSH_MSG_CHANNEL_SUCCESS', recipientChannel: l }))).to.not.throw();
    expect(() => p.left.handlePayload(encodeMessage({ type: 'SSH_MSG_CHANNEL_FAILURE', recipientChannel: l }))).to.throw(ProtocolError, /unknown or closed channel/);
  });

  it('global requests with and without reply; REQUEST_SUCCESS carries data', () => {
    const p = connPair();
    p.left.sendGlobalRequest('tcpip-forward', true, new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0]));
    p.left.sendGlobalRequest('keepalive@openssh.com', true);
    p.left.sendGlobalRequest('no-reply@example.com', false);
    p.flush();
    const reqs = of(p.events.right, 'globalRequest');
    expect(reqs.map((e) => e.name)).to.deep.equal(['tcpip-forward', 'keepalive@openssh.com', 'no-reply@example.com']);
    p.right.replyGlobalRequest(reqs[1]!.token, false);
    p.right.replyGlobalRequest(reqs[0]!.token, true, new Uint8Array([0, 0, 0x1f, 0x90]));
    p.flush();
    const replies = of(p.events.left, 'globalReply');
    expect(replies.map((e) => [e.name, e.ok, [...e.data]])).to.deep.equal([['tcpip-forward', true, [0, 0, 0x1f, 0x90]], ['keepalive@openssh.com', false, []]]);
    expect(() => p.left.handlePayload(encodeMessage({ type: 'SSH_MSG_REQUEST_FAILURE' }))).to.throw(ProtocolError);
  });

  it('bounds unanswered requests', () => {
    const p = connPair({}, { maxPendingRequests: 4 });
    expect(() => { for (let i = 0; i < 5; i++) p.right.handlePayload(encodeMessage({ type: 'SSH_MSG_GLOBAL_REQUEST', name: 'x', wantReply: true, data: new Uint8Array(0) })); }).to.throw(LimitError);
  });

  it('CLOSE while opening is sent once the peer confirms', () => {
    const p = connPair();
    const l = p.left.openChannel('session');
    p.left.close(l);
    p.flush();
    const ev = of(p.events.right, 'channelOpen')[0]!;
    p.right.acceptOpen(ev.id);
    p.flush();
    expect(p.left.channelCount).to.equal(0);
    expect(p.right.channelCount).to.equal(0);
  });

  it('the CHANNEL_DATA fast path is byte-identical to the codec', () => {
    const data = new Uint8Array(5000).map((_, i) => i * 7);
    for (const recipient of [0, 1, 0xffff_ffff]) {
      expect(Buffer.from(channelDataPayload(recipient, data)).equals(Buffer.from(encodeMessage({ type: 'SSH_MSG_CHANNEL_DATA', recipientChannel: recipient, data })))).to.equal(true);
      expect(Buffer.from(channelDataPayload(recipient, data.subarray(0, 3), 1)).equals(Buffer.from(encodeMessage({ type: 'SSH_MSG_CHANNEL_EXTENDED_DATA', recipientChannel: recipient, dataTypeCode: 1, data: data.subarray(0, 3) })))).to.equal(true);
    }
    expect(Buffer.from(channelDataPayload(3, new Uint8Array(0))).equals(Buffer.from(encodeMessage({ type: 'SSH_MSG_CHANNEL_DATA', recipientChannel: 3, data: new Uint8Array(0) })))).to.equal(true);
  });

  it('unknown message numbers are left for SSH_MSG_UNIMPLEMENTED', () => {
    const p = connPair();
    expect(p.left.handlePayload(new Uint8Array([85]))).to.equal(false);
    expect(p.left.handlePayload(new Uint8Array([120, 1]))).to.equal(false);
  });
});
