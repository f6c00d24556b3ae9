/**
 * Flow control (RFC 4254 §5.2): the server must respect the window and maximum packet size we announce, wait
 * on a zero window, and resume when we adjust it; and channel message order around EOF.
 */
import type { ClientConn, OpenChannel } from '../client-conn.js';
import type { CheckContext } from '../context.js';
import { defineCheck } from '../define.js';
import type { InboundMessage } from '../evidence.js';
import type { Check } from '../types.js';
import { channelDataLength } from './util.js';

const WINDOW_SPEC = 'RFC 4254 §5.2: The window size specifies how many bytes the other party can send before it must wait for the window to be adjusted.';
const PACKET_SPEC = 'RFC 4254 §5.2: The maximum amount of data allowed is determined by the maximum packet size for the channel, and the current window size, whichever is smaller.';
/** Output long enough to need several windows/packets: `echo` of 2000 characters (2001 bytes with the newline). */
const LONG = 'x'.repeat(2000);

async function session(ctx: CheckContext, o: { window: number; maxPacket: number }): Promise<{ c: ClientConn; ch: OpenChannel }> {
  const c = await ctx.connect();
  await c.authenticate('any');
  const ch = await c.openSession({ window: o.window, maxPacket: o.maxPacket });
  return { c, ch };
}

/** Channel data for `ch` that arrives within `ms` (stops at the channel's EOF/CLOSE). */
async function collect(c: ClientConn, ch: OpenChannel, ms: number): Promise<InboundMessage[]> {
  const out: InboundMessage[] = [];
  const deadline = Date.now() + ms;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return out;
    const r = await c.rec.inbox.wait(c.cursor, (m) => Number(m.fields?.['recipientChannel']) === ch.local
      && ['SSH_MSG_CHANNEL_DATA', 'SSH_MSG_CHANNEL_EXTENDED_DATA', 'SSH_MSG_CHANNEL_EOF', 'SSH_MSG_CHANNEL_CLOSE'].includes(m.name), left);
    if (r.kind !== 'message') return out;
    c.cursor = r.m.index + 1;
    if (r.m.name === 'SSH_MSG_CHANNEL_EOF' || r.m.name === 'SSH_MSG_CHANNEL_CLOSE') return out;
    out.push(r.m);
  }
}

const total = (ms: readonly InboundMessage[]) => ms.reduce((n, m) => n + channelDataLength(m), 0);

export const connectionChecks: Check[] = [
  defineCheck({
    id: 'conn.window-respected',
    title: 'The server sends no more data than the window we announced (1000 bytes) until we adjust it',
    level: 'MUST', area: 'connection', suites: ['connection', 'smoke'],
    spec: WINDOW_SPEC,
  }, async (ctx) => {
    const { c, ch } = await session(ctx, { window: 1000, maxPacket: 32768 });
    await c.exec(ch, `echo ${LONG}`);
    const first = total(await collect(c, ch, 700));
    c.note(`${first} bytes arrived with a 1000-byte window`);
    if (first > 1000) return ctx.fail(`${first} bytes of data arrived within a 1000-byte window`);
    c.send({ type: 'SSH_MSG_CHANNEL_WINDOW_ADJUST', recipientChannel: ch.remote, bytesToAdd: 100_000 });
    const rest = total(await collect(c, ch, 3000));
    if (first + rest !== 2001) ctx.fail(`expected 2001 bytes in all, got ${first} + ${rest} after the window adjust`);
  }),

  defineCheck({
    id: 'conn.max-packet-respected',
    title: 'No CHANNEL_DATA from the server carries more than the maximum packet size we announced (512 bytes)',
    level: 'MUST', area: 'connection', suites: ['connection'],
    spec: [PACKET_SPEC, 'RFC 4254 §5.1: The \'maximum packet size\' specifies the maximum size of an individual data packet that can be sent to the sender.'],
  }, async (ctx) => {
    const { c, ch } = await session(ctx, { window: 1 << 20, maxPacket: 512 });
    await c.exec(ch, `echo ${LONG}`);
    const msgs = await collect(c, ch, 3000);
    const big = msgs.map(channelDataLength).filter((n) => n > 512);
    if (big.length) return ctx.fail(`data packets of ${big.join(', ')} bytes with a 512-byte maximum packet size`);
    if (total(msgs) !== 2001) ctx.fail(`expected 2001 bytes, got ${total(msgs)}`);
  }),

  defineCheck({
    id: 'conn.zero-window-waits',
    title: 'With a zero initial window the server sends no data until a window adjust, then sends it',
    level: 'MUST', area: 'connection', suites: ['connection'],
    spec: [WINDOW_SPEC, 'RFC 4254 §5.2: After receiving this message, the recipient MAY send the given number of bytes more than it was previously allowed to send; the window size is incremented.'],
  }, async (ctx) => {
    const { c, ch } = await session(ctx, { window: 0, maxPacket: 32768 });
    await c.exec(ch, 'echo zero-window');
    const early = total(await collect(c, ch, 600));
    if (early > 0) return ctx.fail(`${early} bytes arrived with a zero window`);
    c.send({ type: 'SSH_MSG_CHANNEL_WINDOW_ADJUST', recipientChannel: ch.remote, bytesToAdd: 4096 });
    const late = total(await collect(c, ch, 3000));
    if (late !== 'zero-window\n'.length) ctx.fail(`after the adjust, ${late} bytes arrived instead of ${'zero-window\n'.length}`);
  }),

  defineCheck({
    id: 'conn.window-max-size',
    title: 'A window of 2^32 - 1 bytes is handled (data flows normally)',
    level: 'MUST', area: 'connection', suites: ['connection'],
    spec: 'RFC 4254 §5.2: Implementations MUST correctly handle window sizes of up to 2^32 - 1 bytes.',
  }, async (ctx) => {
    const { c, ch } = await session(ctx, { window: 0xffff_ffff, maxPacket: 32768 });
    await c.exec(ch, `echo ${LONG}`);
    const n = total(await collect(c, ch, 3000));
    if (n !== 2001) ctx.fail(`expected 2001 bytes, got ${n}`);
  }),

  defineCheck({
    id: 'conn.window-adjust-to-max',
    title: 'Window adjusts that bring the window to exactly 2^32 - 1 are accepted',
    level: 'MUST', area: 'connection', suites: ['connection'],
    spec: 'RFC 4254 §5.2: Implementations MUST correctly handle window sizes of up to 2^32 - 1 bytes. The window MUST NOT be increased above 2^32 - 1 bytes.',
  }, async (ctx) => {
    const { c, ch } = await session(ctx, { window: 1000, maxPacket: 32768 });
    c.send({ type: 'SSH_MSG_CHANNEL_WINDOW_ADJUST', recipientChannel: ch.remote, bytesToAdd: 0xffff_ffff - 1000 });
    await c.exec(ch, `echo ${LONG}`);
    const n = total(await collect(c, ch, 3000));
    if (n !== 2001) ctx.fail(`expected 2001 bytes, got ${n}`);
  }),

  defineCheck({
    id: 'conn.no-data-after-eof',
    title: 'No channel data follows the server\'s SSH_MSG_CHANNEL_EOF',
    level: 'MUST', area: 'connection', suites: ['connection'],
    spec: 'RFC 4254 §5.3: When a party will no longer send more data to a channel, it SHOULD send SSH_MSG_CHANNEL_EOF (EOF announces the end of that party\'s data)',
  }, async (ctx) => {
    const { c, ch } = await session(ctx, { window: 1 << 20, maxPacket: 32768 });
    await c.exec(ch, 'echo before-eof');
    const eof = await c.expectMessage(['SSH_MSG_CHANNEL_EOF', 'SSH_MSG_CHANNEL_CLOSE'], { where: { recipientChannel: ch.local }, within: 5000 });
    if (eof.name !== 'SSH_MSG_CHANNEL_EOF') return ctx.notApplicable('the server closed the channel without EOF');
    await new Promise((r) => setTimeout(r, 200));
    const late = c.rec.inbox.messages.slice(eof.index + 1).filter((m) => (m.name === 'SSH_MSG_CHANNEL_DATA' || m.name === 'SSH_MSG_CHANNEL_EXTENDED_DATA') && Number(m.fields?.['recipientChannel']) === ch.local);
    if (late.length) ctx.fail(`${late.length} data message(s) after EOF`);
  }),

  defineCheck({
    id: 'conn.large-echo',
    title: '256 KiB sent through "cat" come back intact, with the window managed by adjusts',
    level: 'MUST', area: 'connection', suites: ['connection'],
    timeoutMs: 30_000,
    spec: [WINDOW_SPEC, PACKET_SPEC],
  }, async (ctx) => {
    const window = 64 * 1024;
    const { c, ch } = await session(ctx, { window, maxPacket: 16 * 1024 });
    await c.exec(ch, 'cat');
    const size = 256 * 1024;
    // our sends respect the server's window and packet size too
    const piece = Math.min(ch.remoteMaxPacket, 8192);
    let sent = 0;
    // adjusts that came before the exec reply (OpenSSH opens with window 0 and adjusts at once) count too
    let theirWindow = ch.remoteWindow + c.rec.inbox.messages.slice(0, c.cursor)
      .filter((m) => m.name === 'SSH_MSG_CHANNEL_WINDOW_ADJUST' && Number(m.fields?.['recipientChannel']) === ch.local)
      .reduce((n, m) => n + Number(m.fields?.['bytesToAdd']), 0);
    let got = 0;
    let consumed = 0;
    let eofSent = false;
    const deadline = Date.now() + 20_000;
    while (got < size && Date.now() < deadline) {
      while (sent < size && theirWindow >= piece) {
        c.send({ type: 'SSH_MSG_CHANNEL_DATA', recipientChannel: ch.remote, data: Buffer.alloc(piece, sent / piece & 0xff) });
        sent += piece;
        theirWindow -= piece;
      }
      if (sent >= size && !eofSent) { c.send({ type: 'SSH_MSG_CHANNEL_EOF', recipientChannel: ch.remote }); eofSent = true; }
      const r = await c.rec.inbox.wait(c.cursor, (m) => Number(m.fields?.['recipientChannel']) === ch.local, 3000);
      if (r.kind !== 'message') return ctx.fail(`transfer stalled after ${got} of ${size} bytes (${r.kind})`);
      c.cursor = r.m.index + 1;
      if (r.m.name === 'SSH_MSG_CHANNEL_WINDOW_ADJUST') theirWindow += Number(r.m.fields?.['bytesToAdd']);
      if (r.m.name === 'SSH_MSG_CHANNEL_DATA') {
        const n = channelDataLength(r.m);
        got += n;
        consumed += n;
        if (consumed >= window / 2) { c.send({ type: 'SSH_MSG_CHANNEL_WINDOW_ADJUST', recipientChannel: ch.remote, bytesToAdd: consumed }); consumed = 0; }
      }
      if (r.m.name === 'SSH_MSG_CHANNEL_CLOSE') break;
    }
    if (got !== size) ctx.fail(`${got} of ${size} bytes came back`);
  }),
];
