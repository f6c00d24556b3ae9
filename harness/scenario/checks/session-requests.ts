/**
 * Session requests beyond exec (RFC 4254 §6): the session channel itself (§6.1), X11 forwarding (§6.3), window
 * changes (§6.7), signals (§6.9) and the encoding of terminal modes in pty-req (§8, RFC 4250 §4.5.1). Each check
 * sends the request and judges the reply (or its absence) and that the session is still usable.
 */
import { decodeMessage } from '../../../impl/messages/index.js';
import type { ClientConn, OpenChannel } from '../client-conn.js';
import { TIME_SCALE } from '../expect.js';
import type { CheckContext } from '../context.js';
import { defineCheck } from '../define.js';
import type { Check } from '../types.js';
import { alive, ptyReqData, sshBool, sshString, terminalModes, u32, wire } from './util.js';

type Reply = 'SSH_MSG_CHANNEL_SUCCESS' | 'SSH_MSG_CHANNEL_FAILURE';

async function session(ctx: CheckContext, local = 7): Promise<{ c: ClientConn; ch: OpenChannel }> {
  const c = await ctx.connect();
  await c.authenticate('any');
  const ch = await c.openSession({ local });
  return { c, ch };
}

/** A channel request with want reply TRUE; returns the reply for our channel. */
async function ask(c: ClientConn, ch: OpenChannel, requestType: string, data: Uint8Array): Promise<Reply> {
  c.send({ type: 'SSH_MSG_CHANNEL_REQUEST', recipientChannel: ch.remote, requestType, wantReply: true, data });
  const r = await c.expectMessage(['SSH_MSG_CHANNEL_SUCCESS', 'SSH_MSG_CHANNEL_FAILURE'], { where: { recipientChannel: ch.local }, within: Math.round(5000 * TIME_SCALE), because: `the reply to ${requestType}` });
  return r.name as Reply;
}

/** A request with want reply FALSE: no reply may come, and the connection must still answer. */
async function tell(ctx: CheckContext, c: ClientConn, ch: OpenChannel, requestType: string, data: Uint8Array): Promise<void> {
  c.send({ type: 'SSH_MSG_CHANNEL_REQUEST', recipientChannel: ch.remote, requestType, wantReply: false, data });
  await c.expectAbsent(['SSH_MSG_CHANNEL_SUCCESS', 'SSH_MSG_CHANNEL_FAILURE'], { within: 500, because: `a reply to ${requestType} sent with want reply FALSE` });
  if (!(await alive(c))) ctx.fail(`the connection did not answer after ${requestType}`);
}

/** Opcodes of RFC 4254 §8 with typical values (a terminal in canonical mode with echo). */
const COMMON_MODES: readonly (readonly [number, number])[] = [
  [1, 3], [2, 28], [3, 127], [4, 21], [5, 4], [6, 0], [7, 0], [8, 17], [9, 19], [10, 26], [12, 18], [13, 23], [14, 22],
  [30, 0], [31, 0], [32, 0], [34, 1], [35, 0], [36, 1], [37, 0], [38, 1], [39, 0], [40, 0], [41, 1],
  [50, 1], [51, 1], [53, 1], [54, 1], [55, 1], [56, 0], [57, 0], [58, 0], [59, 1], [60, 1], [61, 1], [62, 0],
  [70, 1], [71, 0], [72, 1], [73, 0], [74, 0], [75, 0], [90, 1], [91, 1], [92, 0], [93, 0], [128, 38400], [129, 38400],
];

const MODES_8 = 'RFC 4254 §8: All \'encoded terminal modes\' (as passed in a pty request) are encoded into a byte stream. ... The stream consists of opcode-argument pairs wherein the opcode is a byte value. Opcodes 1 to 159 have a single uint32 argument. Opcodes 160 to 255 are not yet defined, and cause parsing to stop (they should only be used after any other data). The stream is terminated by opcode TTY_OP_END (0x00).';
const MODES_IGNORE = 'RFC 4254 §8: The client SHOULD put any modes it knows about in the stream, and the server MAY ignore any modes it does not know about.';
const MODES_4250 = 'RFC 4250 §4.5.1: Protocol packets containing the SSH_MSG_CHANNEL_REQUEST message with a \'pty-req\' string MUST contain a string \'encoded terminal modes\'. The \'encoded terminal modes\' value is a byte stream of opcode-argument pairs.';

const modeVariants: readonly { id: string; what: string; modes: Uint8Array; spec: readonly string[] }[] = [
  { id: 'end-only', what: 'only TTY_OP_END', modes: terminalModes([]), spec: [MODES_8, MODES_4250] },
  { id: 'common-set', what: 'the usual opcodes of §8 (special characters, input/local/output flags, speeds) and TTY_OP_END', modes: terminalModes(COMMON_MODES), spec: [MODES_8, MODES_4250] },
  { id: 'speeds', what: 'TTY_OP_ISPEED and TTY_OP_OSPEED (128, 129) of 115200 baud', modes: terminalModes([[128, 115200], [129, 115200]]), spec: [MODES_8, 'RFC 4254 §8: 128 TTY_OP_ISPEED Specifies the input baud rate in bits per second. 129 TTY_OP_OSPEED Specifies the output baud rate in bits per second.'] },
  { id: 'unknown-opcode', what: 'unassigned opcodes 100 and 159 (each with its uint32 argument)', modes: terminalModes([[100, 1], [53, 1], [159, 7]]), spec: [MODES_8, MODES_IGNORE] },
  { id: 'opcode-160-stops', what: 'opcode 160 followed by bytes that are no opcode-argument pairs', modes: terminalModes([[53, 1]], { tail: Uint8Array.of(160, 0xff, 0xff, 0x01), end: false }), spec: [MODES_8] },
  { id: 'opcode-255-stops', what: 'opcode 255 followed by arbitrary bytes', modes: terminalModes([[50, 1]], { tail: Uint8Array.of(255, 1, 2, 3), end: false }), spec: [MODES_8] },
  { id: 'huge-argument', what: 'VINTR with argument 0xFFFFFFFF', modes: terminalModes([[1, 0xffffffff], [53, 0]]), spec: [MODES_8, MODES_IGNORE] },
];

/**
 * pty-req with `modes` on one channel; when refused, the same request with only TTY_OP_END on a second channel
 * tells whether the server refuses terminals altogether (not applicable) or this encoding (fail).
 */
async function ptyWithModes(ctx: CheckContext, modes: Uint8Array, what: string): Promise<void> {
  const { c, ch } = await session(ctx);
  if ((await ask(c, ch, 'pty-req', ptyReqData(modes))) === 'SSH_MSG_CHANNEL_SUCCESS') return;
  const other = await c.openSession({ local: 8 });
  if ((await ask(c, other, 'pty-req', ptyReqData(terminalModes([])))) === 'SSH_MSG_CHANNEL_FAILURE') return ctx.notApplicable('the server gives this account no pseudo-terminal at all');
  ctx.fail(`pty-req with ${what} was refused while the same request with only TTY_OP_END was granted`);
}

const SIGNALS = ['ABRT', 'ALRM', 'FPE', 'HUP', 'ILL', 'INT', 'KILL', 'PIPE', 'QUIT', 'SEGV', 'TERM', 'USR1', 'USR2'] as const;
const SIGNAL_SPEC = 'RFC 4254 §6.9: A signal can be delivered to the remote process/service using the following message. Some systems may not implement signals, in which case they SHOULD ignore this message. byte SSH_MSG_CHANNEL_REQUEST ... "signal" boolean FALSE string signal name (without the "SIG" prefix)';
const EXIT_SIGNAL_SPEC = 'RFC 4254 §6.10: string "exit-signal" boolean FALSE string signal name (without the "SIG" prefix)';

const X11_DATA = (single: boolean) => wire(sshBool(single), sshString('MIT-MAGIC-COOKIE-1'), sshString('0f1e2d3c4b5a69788796a5b4c3d2e1f0'), u32(0));

const WINDOW_CHANGE = 'RFC 4254 §6.7: When the window (terminal) size changes on the client side, it MAY send a message to the other side to inform it of the new dimensions. byte SSH_MSG_CHANNEL_REQUEST ... "window-change" boolean FALSE uint32 terminal width, columns ... A response SHOULD NOT be sent to this message.';

export const sessionRequestChecks: Check[] = [
  defineCheck({
    id: 'session.open-and-use',
    title: 'A "session" channel open is confirmed and the channel carries a request and its output',
    level: 'MUST', area: 'connection', suites: ['connection'],
    spec: ['RFC 4254 §6.1: A session is started by sending the following message. byte SSH_MSG_CHANNEL_OPEN string "session" uint32 sender channel uint32 initial window size uint32 maximum packet size', 'RFC 4254 §6.5: exec'],
  }, async (ctx) => {
    const { c, ch } = await session(ctx, 40);
    if (!(await c.exec(ch, 'echo session-6.1'))) return ctx.fail('exec on the new session channel was refused');
    const d = await c.expectMessage('SSH_MSG_CHANNEL_DATA', { where: { recipientChannel: 40 }, within: 5000 });
    if (!Buffer.from(d.payload).includes(Buffer.from('session-6.1'))) ctx.fail('the output did not come back on the session channel');
  }),

  defineCheck({
    id: 'session.two-sessions-one-connection',
    title: 'Two session channels on one connection are both confirmed (sessions are channels, several may exist)',
    level: 'SHOULD', area: 'connection', suites: ['connection'],
    spec: 'RFC 4254 §6.1: A session is a remote execution of a program. ... Multiple sessions can be active simultaneously.',
  }, async (ctx) => {
    const { c } = await session(ctx, 41);
    await c.openSession({ local: 42, else: 'fail' });
  }),

  ...[true, false].map((single) => defineCheck({
    id: `session.x11-req.${single ? 'single' : 'multiple'}-connection`,
    title: `An x11-req (single connection ${single ? 'TRUE' : 'FALSE'}, MIT-MAGIC-COOKIE-1) with want reply is answered for our channel and the session stays usable`,
    level: 'MUST', area: 'connection', suites: ['connection'],
    spec: ['RFC 4254 §6.3.1: X11 forwarding may be requested for a session by sending a SSH_MSG_CHANNEL_REQUEST message. byte SSH_MSG_CHANNEL_REQUEST ... "x11-req" boolean want reply boolean single connection string x11 authentication protocol string x11 authentication cookie uint32 x11 screen number', 'RFC 4254 §5.4: If \'want reply\' is TRUE, the recipient responds with either SSH_MSG_CHANNEL_SUCCESS, SSH_MSG_CHANNEL_FAILURE'],
  }, async (ctx) => {
    const { c, ch } = await session(ctx);
    const r = await ask(c, ch, 'x11-req', X11_DATA(single));
    c.note(`x11-req answered with ${r}`);
    if (!(await c.exec(ch, 'echo after-x11'))) ctx.fail('exec after x11-req was refused');
  })),

  defineCheck({
    id: 'session.x11-req.no-reply',
    title: 'An x11-req with want reply FALSE gets no reply',
    level: 'MUST', area: 'connection', suites: ['connection'],
    spec: ['RFC 4254 §6.3.1: "x11-req" boolean want reply', 'RFC 4254 §5.4: If \'want reply\' is FALSE, no response will be sent to the request.'],
  }, async (ctx) => {
    const { c, ch } = await session(ctx);
    await tell(ctx, c, ch, 'x11-req', X11_DATA(false));
  }),

  defineCheck({
    id: 'session.x11-channel-from-client-refused',
    title: 'An "x11" channel opened by us (the client) is refused: the server never asked us for X11 forwarding',
    level: 'MUST', area: 'connection', suites: ['connection', 'security'],
    spec: 'RFC 4254 §6.3.2: X11 channels are opened with a channel open request. ... Implementations MUST reject any X11 channel open requests if they have not requested X11 forwarding.',
  }, async (ctx) => {
    const c = await ctx.connect();
    await c.authenticate('any');
    c.send({ type: 'SSH_MSG_CHANNEL_OPEN', channelType: 'x11', senderChannel: 43, initialWindowSize: 65536, maximumPacketSize: 32768, data: wire(sshString('127.0.0.1'), u32(6010)) });
    const r = await c.expectMessage(['SSH_MSG_CHANNEL_OPEN_FAILURE', 'SSH_MSG_CHANNEL_OPEN_CONFIRMATION'], { where: { recipientChannel: 43 } });
    if (r.name === 'SSH_MSG_CHANNEL_OPEN_CONFIRMATION') ctx.fail('the server accepted an x11 channel it never requested');
  }),

  ...([[80, 24, 0, 0], [132, 43, 1056, 688], [1, 1, 8, 16], [0, 0, 640, 480]] as const).map((size) => defineCheck({
    id: `session.window-change.${size.join('x')}`,
    title: `A window-change to ${size[0]}×${size[1]} characters (${size[2]}×${size[3]} pixels) after pty-req gets no reply and the session stays usable`,
    level: 'SHOULD', area: 'connection', suites: ['connection'],
    spec: [WINDOW_CHANGE, ...(size[0] === 0 ? ['RFC 4254 §6.2: Zero dimension parameters MUST be ignored. The character/row dimensions override the pixel dimensions (when nonzero).'] : [])],
  }, async (ctx) => {
    const { c, ch } = await session(ctx);
    const pty = await ask(c, ch, 'pty-req', ptyReqData(terminalModes([[53, 1]])));
    if (pty !== 'SSH_MSG_CHANNEL_SUCCESS') return ctx.notApplicable('the server gives this account no pseudo-terminal');
    await tell(ctx, c, ch, 'window-change', wire(u32(size[0]), u32(size[1]), u32(size[2]), u32(size[3])));
  })),

  defineCheck({
    id: 'session.window-change.without-pty',
    title: 'A window-change on a session without a terminal gets no reply and breaks nothing',
    level: 'SHOULD', area: 'connection', suites: ['connection', 'robustness'],
    spec: WINDOW_CHANGE,
  }, async (ctx) => {
    const { c, ch } = await session(ctx);
    await tell(ctx, c, ch, 'window-change', wire(u32(100), u32(40), u32(0), u32(0)));
    if (!(await c.exec(ch, 'echo after-window-change'))) ctx.fail('exec after window-change was refused');
  }),

  ...SIGNALS.map((sig) => defineCheck({
    id: `session.signal.${sig}`,
    title: `A "signal" request (${sig}, want reply FALSE) to a running "cat" gets no reply; an exit-signal, if any, names the signal without "SIG"`,
    level: 'SHOULD', area: 'connection', suites: ['connection'],
    spec: [SIGNAL_SPEC, EXIT_SIGNAL_SPEC],
  }, async (ctx) => {
    const { c, ch } = await session(ctx);
    await c.exec(ch, 'cat');
    c.send({ type: 'SSH_MSG_CHANNEL_REQUEST', recipientChannel: ch.remote, requestType: 'signal', wantReply: false, data: sshString(sig) });
    await c.expectAbsent(['SSH_MSG_CHANNEL_SUCCESS', 'SSH_MSG_CHANNEL_FAILURE'], { within: 500, because: 'a reply to signal sent with want reply FALSE' });
    const exit = c.rec.inbox.messages.find((m) => m.name === 'SSH_MSG_CHANNEL_REQUEST' && m.fields?.['requestType'] === 'exit-signal');
    if (exit) {
      const m = decodeMessage(exit.payload);
      const data = m.type === 'SSH_MSG_CHANNEL_REQUEST' ? Buffer.from(m.data) : Buffer.alloc(0);
      const name = data.length >= 4 ? data.subarray(4, 4 + Math.min(data.readUInt32BE(0), 64)).toString('latin1') : '';
      c.note(`exit-signal names ${JSON.stringify(name)}`);
      if (name.startsWith('SIG')) ctx.fail(`exit-signal names the signal ${JSON.stringify(name)}, with the "SIG" prefix`);
    } else if (!(await alive(c))) ctx.fail(`the connection did not answer after signal ${sig}`);
  })),

  defineCheck({
    id: 'session.signal.unknown-name',
    title: 'A "signal" request with a name no system defines is ignored (no reply, the session goes on)',
    level: 'SHOULD', area: 'connection', suites: ['connection', 'robustness'],
    spec: SIGNAL_SPEC,
  }, async (ctx) => {
    const { c, ch } = await session(ctx);
    await c.exec(ch, 'cat');
    await tell(ctx, c, ch, 'signal', sshString('NOSUCHSIGNAL'));
    c.send({ type: 'SSH_MSG_CHANNEL_DATA', recipientChannel: ch.remote, data: Buffer.from('alive\n') });
    await c.expectMessage('SSH_MSG_CHANNEL_DATA', { where: { recipientChannel: ch.local }, within: 5000, because: 'cat still echoes after an unknown signal' });
  }),

  ...modeVariants.map((v) => defineCheck({
    id: `session.terminal-modes.${v.id}`,
    title: `A pty-req whose encoded terminal modes hold ${v.what} is granted`,
    level: v.id === 'end-only' || v.id === 'common-set' ? 'MUST' : 'SHOULD', area: 'connection', suites: ['connection'],
    spec: v.spec,
  }, async (ctx) => ptyWithModes(ctx, v.modes, v.what))),

  defineCheck({
    id: 'session.terminal-modes.empty-string',
    title: 'A pty-req with an empty modes string (no TTY_OP_END) is answered without breaking the connection',
    level: 'MUST', area: 'connection', suites: ['connection', 'robustness'],
    spec: [MODES_8, MODES_4250],
  }, async (ctx) => {
    const { c, ch } = await session(ctx);
    await ask(c, ch, 'pty-req', ptyReqData(new Uint8Array(0)));
    if (!(await alive(c))) ctx.fail('the connection did not answer after the pty-req');
  }),

  defineCheck({
    id: 'session.terminal-modes.truncated-argument',
    title: 'A pty-req whose last opcode lacks its 4-byte argument is answered (granted or refused), or ends the connection with SSH_MSG_DISCONNECT',
    level: 'SHOULD', area: 'connection', suites: ['connection', 'robustness'],
    spec: [MODES_8, 'RFC 4254 §5.4: the recipient responds with either SSH_MSG_CHANNEL_SUCCESS, SSH_MSG_CHANNEL_FAILURE, or request-specific continuation messages', 'RFC 4253 §11.1: All implementations MUST be able to process this message; they SHOULD be able to send this message.'],
  }, async (ctx) => {
    const { c, ch } = await session(ctx);
    c.send({ type: 'SSH_MSG_CHANNEL_REQUEST', recipientChannel: ch.remote, requestType: 'pty-req', wantReply: true, data: ptyReqData(Uint8Array.of(53, 0, 0, 0, 1, 1, 0, 0)) });
    const r = await c.rec.inbox.wait(c.cursor, (m) => ['SSH_MSG_CHANNEL_SUCCESS', 'SSH_MSG_CHANNEL_FAILURE', 'SSH_MSG_DISCONNECT'].includes(m.name), 3000);
    // answered (granted, refused) or ended with DISCONNECT: the statement holds; what the peer does with a later
    // probe is another check's business (some peers end the connection on any unknown message)
    if (r.kind === 'message') { c.cursor = r.m.index + 1; return; }
    await c.expectGraceful({ because: 'after a pty-req with a truncated mode argument' });
  }),

  defineCheck({
    id: 'session.pty-req.zero-dimensions',
    title: 'A pty-req with all dimensions zero is granted (zero dimensions are ignored)',
    level: 'SHOULD', area: 'connection', suites: ['connection'],
    spec: ['RFC 4254 §6.2: The dimension parameters are only informational. Zero dimension parameters MUST be ignored.', MODES_8],
  }, async (ctx) => {
    const { c, ch } = await session(ctx);
    if ((await ask(c, ch, 'pty-req', ptyReqData(terminalModes([]), [0, 0, 0, 0]))) === 'SSH_MSG_CHANNEL_SUCCESS') return;
    const other = await c.openSession({ local: 8 });
    if ((await ask(c, other, 'pty-req', ptyReqData(terminalModes([])))) === 'SSH_MSG_CHANNEL_FAILURE') return ctx.notApplicable('the server gives this account no pseudo-terminal at all');
    ctx.fail('pty-req with zero dimensions was refused while 80x24 was granted');
  }),
];
