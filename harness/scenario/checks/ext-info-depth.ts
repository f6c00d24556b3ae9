/**
 * Extension negotiation in depth (RFC 8308 §2.5, §3.2–§3.4): our client's own SSH_MSG_EXT_INFO with unknown
 * extensions, delay-compression, no-flow-control and elevation, and what the server's EXT_INFO may and may not
 * say; and rekeying after many packets (RFC 4344 §3.1).
 */
import { encodeMessage } from '../../../impl/messages/index.js';
import type { EngineTesting } from '../../../impl/transport/testing.js';
import type { ClientConn } from '../client-conn.js';
import type { CheckContext } from '../context.js';
import { defineCheck } from '../define.js';
import type { Check, Level } from '../types.js';
import { alive, channelDataLength, extInfoExtensions, nameListProblems, rekeyAndWait, sshString, wire } from './util.js';

const IGNORE_UNKNOWN = 'RFC 8308 §2.5: Each extension is identified by its extension-name and defines the conditions under which the extension is considered to be in effect. Applications MUST ignore unrecognized extension-names.';
const CLIENT_MAY_SEND = 'RFC 8308 §2.2: If a server sends "ext-info-s", it MUST be prepared to accept an SSH_MSG_EXT_INFO message from the client (sent as the client\'s first message after its SSH_MSG_NEWKEYS, §2.4)';
const DELAY = 'RFC 8308 §3.2: string "delay-compression" string: name-list compression_algorithms_client_to_server name-list compression_algorithms_server_to_client ... the extension takes effect only if both parties send it';
const DELAY_REKEY = 'RFC 8308 §3.2.1: A party that has signaled, or intends to signal, support for this extension in an SSH session MUST NOT initiate key re-exchange in that session until either of the following occurs: this party has received the SSH_MSG_EXT_INFO message from the other party ... or ... SSH_MSG_USERAUTH_SUCCESS';
const DELAY_COMPAT = 'RFC 8308 §3.2.3: This extension uses a binary extension-value encoding. OpenSSH clients up to and including version 7.4 advertise support to receive SSH_MSG_EXT_INFO but disconnect on receipt of an extension-value containing null bytes. ... Implementations SHOULD NOT send "delay-compression" to such clients (identified by their version string).';
const NFC = 'RFC 8308 §3.3: string "no-flow-control" string choice of: "p" for preferred | "s" for supported. ... The extension takes effect only if both parties send it and at least one of them sends "p".';
const NFC_EFFECT = 'RFC 8308 §3.3: If the extension takes effect, the "initial window size" fields in SSH_MSG_CHANNEL_OPEN and SSH_MSG_CHANNEL_OPEN_CONFIRMATION ... become meaningless. The values of these fields MUST be ignored, and a channel behaves as if all window sizes are infinite.';
const NFC_ONE = 'RFC 8308 §3.3: Implementations MUST refuse to open more than one simultaneous channel when this extension is in effect.';
const NFC_PRIOR = 'RFC 8308 §3.3.1: Before this extension, some applications would simply not implement SSH flow control, sending an initial channel window size of 2^32 - 1. Applications SHOULD NOT do this';
const ELEVATION = 'RFC 8308 §3.4: string "elevation" string choice of: "y" | "n" | "d" ... A client that supports this extension ... sends it; a server that does not implement it ignores it (§2.5)';

const ext = (name: string, value: string | Uint8Array) => ({ name, value: typeof value === 'string' ? Buffer.from(value, 'latin1') : value });

/** Our client sends `extensions` in SSH_MSG_EXT_INFO as its first message after NEWKEYS (just before SERVICE_REQUEST). */
function sendExtInfo(extensions: readonly { name: string; value: Uint8Array }[]): (t: EngineTesting) => void {
  return (t) => {
    let done = false;
    t.rewriteOutbound((p) => {
      if (p[0] === 5 && !done) { done = true; t.sendRawPayload(encodeMessage({ type: 'SSH_MSG_EXT_INFO', extensions: [...extensions] }), 'our client\'s EXT_INFO'); }
      return p;
    });
  };
}

/** Not applicable when the server does not say it accepts EXT_INFO from clients. */
function needExtInfoS(ctx: CheckContext): void {
  const k = ctx.target.kexInit;
  if (k && !k.kex.includes('ext-info-s')) ctx.notApplicable('the server does not offer ext-info-s, so it need not accept EXT_INFO from the client');
}

async function withOurExtInfo(ctx: CheckContext, extensions: readonly { name: string; value: Uint8Array }[]): Promise<ClientConn> {
  needExtInfoS(ctx);
  const c = await ctx.connect({ deviations: sendExtInfo(extensions) });
  await c.kex({ else: 'fail', onClose: 'fail' });
  await c.authenticate('any', { else: 'fail' });
  return c;
}

async function serverExtInfo(c: ClientConn): Promise<Map<string, string>> {
  await c.rec.inbox.wait(0, (m) => m.name === 'SSH_MSG_EXT_INFO' || m.name === 'SSH_MSG_SERVICE_ACCEPT', 3000);
  return extInfoExtensions(c.rec.inbox.messages.find((m) => m.name === 'SSH_MSG_EXT_INFO'));
}

/** Data bytes of `echo <2000 x>` that arrive with a 1000-byte window before any adjust. */
async function bytesWithinWindow(c: ClientConn, window: number): Promise<number> {
  const ch = await c.openSession({ window, maxPacket: 32768 });
  await c.exec(ch, `echo ${'x'.repeat(2000)}`);
  let n = 0;
  const deadline = Date.now() + 800;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return n;
    const r = await c.rec.inbox.wait(c.cursor, (m) => Number(m.fields?.['recipientChannel']) === ch.local && ['SSH_MSG_CHANNEL_DATA', 'SSH_MSG_CHANNEL_EXTENDED_DATA', 'SSH_MSG_CHANNEL_CLOSE'].includes(m.name), left);
    if (r.kind !== 'message' || r.m.name === 'SSH_MSG_CHANNEL_CLOSE') return n;
    c.cursor = r.m.index + 1;
    n += channelDataLength(r.m);
  }
}

function sessionWorks(ctx: CheckContext, c: ClientConn, marker: string): Promise<void> {
  return (async () => {
    const ch = await c.openSession({ else: 'fail' });
    await c.exec(ch, `echo ${marker}`, { else: 'fail' });
    const d = await c.expectMessage('SSH_MSG_CHANNEL_DATA', { where: { recipientChannel: ch.local }, within: 5000 });
    if (!Buffer.from(d.payload).includes(Buffer.from(marker))) ctx.fail('the command\'s output did not arrive intact');
  })();
}

const extChecks: Check[] = [
  ...([
    { id: 'unknown-extension', what: 'an unknown extension', exts: [ext('x-unknown@ssh-harness.invalid', 'some value')] },
    { id: 'unknown-binary-value', what: 'an unknown extension whose value holds NUL and 0xFF bytes', exts: [ext('x-binary@ssh-harness.invalid', Uint8Array.of(0, 0xff, 0, 1, 2, 0))] },
    { id: 'several-unknown', what: 'eight unknown extensions', exts: Array.from({ length: 8 }, (_, i) => ext(`x-unknown-${i}@ssh-harness.invalid`, String(i))) },
  ]).map((v) => defineCheck({
    id: `ext-info.client-ext-info.${v.id}`,
    title: `Our client's SSH_MSG_EXT_INFO with ${v.what} is ignored: authentication and a session work`,
    level: 'MUST', area: 'ext-info', suites: ['transport'],
    spec: [IGNORE_UNKNOWN, CLIENT_MAY_SEND],
  }, async (ctx) => {
    const c = await withOurExtInfo(ctx, v.exts);
    await sessionWorks(ctx, c, `ext-${v.id}`);
  })),

  defineCheck({
    id: 'ext-info.delay-compression.none',
    title: 'delay-compression from our client listing only "none" leaves the connection uncompressed and working after authentication',
    level: 'MUST', area: 'ext-info', suites: ['transport'],
    spec: [DELAY, IGNORE_UNKNOWN],
  }, async (ctx) => {
    const c = await withOurExtInfo(ctx, [ext('delay-compression', wire(sshString('none'), sshString('none')))]);
    await sessionWorks(ctx, c, 'delay-none');
  }),

  defineCheck({
    id: 'ext-info.delay-compression.value-format',
    title: 'A delay-compression extension from the server holds two name-lists of well-formed compression names',
    level: 'MUST', area: 'ext-info', suites: ['transport'],
    spec: DELAY,
  }, async (ctx) => {
    const c = await ctx.connect();
    await c.service('ssh-userauth');
    const v = (await serverExtInfo(c)).get('delay-compression');
    if (v === undefined) return ctx.notApplicable('the server does not send delay-compression');
    const b = Buffer.from(v, 'latin1');
    const lists: string[][] = [];
    let off = 0;
    while (off + 4 <= b.length && lists.length < 2) { const n = b.readUInt32BE(off); lists.push(b.subarray(off + 4, off + 4 + n).toString('latin1').split(',')); off += 4 + n; }
    if (lists.length !== 2 || off !== b.length) return ctx.fail(`the value is not two name-lists (${b.toString('hex').slice(0, 80)})`);
    const bad = [...nameListProblems('c2s', lists[0]!), ...nameListProblems('s2c', lists[1]!)];
    if (bad.length) ctx.fail(bad.join('; '));
  }),

  defineCheck({
    id: 'ext-info.delay-compression.no-rekey-before-auth',
    title: 'A server that sends delay-compression starts no key re-exchange before authentication completes',
    level: 'MUST', area: 'ext-info', suites: ['transport'],
    spec: DELAY_REKEY,
  }, async (ctx) => {
    const c = await withOurExtInfo(ctx, [ext('delay-compression', wire(sshString('none'), sshString('none')))]);
    if (!(await serverExtInfo(c)).has('delay-compression')) return ctx.notApplicable('the server does not send delay-compression');
    const msgs = c.rec.inbox.messages;
    const success = msgs.findIndex((m) => m.name === 'SSH_MSG_USERAUTH_SUCCESS');
    const early = msgs.filter((m, i) => m.name === 'SSH_MSG_KEXINIT' && i > 0 && i < success);
    if (early.length) ctx.fail('the server sent KEXINIT again before USERAUTH_SUCCESS');
  }),

  defineCheck({
    id: 'ext-info.delay-compression.rekey-after-auth',
    title: 'With delay-compression signalled by our client, a re-exchange we start once authentication succeeded completes',
    level: 'MUST', area: 'ext-info', suites: ['transport'],
    timeoutMs: 30_000,
    spec: [DELAY_REKEY, 'RFC 8308 §3.2.2: In subsequent key re-exchanges that might occur, the compression algorithms negotiated in re-exchange override the ones negotiated with this extension.', 'RFC 4253 §9: When this message is received, a party MUST respond with its own SSH_MSG_KEXINIT message'],
  }, async (ctx) => {
    const c = await withOurExtInfo(ctx, [ext('delay-compression', wire(sshString('none'), sshString('none')))]);
    await rekeyNow(ctx, c, 1);
    await sessionWorks(ctx, c, 'delay-rekeyed');
  }),

  defineCheck({
    id: 'ext-info.delay-compression.not-to-openssh-7.4',
    title: 'To a client identifying as OpenSSH_7.4 the server sends no delay-compression extension (a binary value those clients cannot take)',
    level: 'SHOULD', area: 'ext-info', suites: ['transport'],
    spec: DELAY_COMPAT,
  }, async (ctx) => {
    const c = await ctx.connect({ softwareVersion: 'OpenSSH_7.4' });
    await c.service('ssh-userauth');
    const e = await serverExtInfo(c);
    c.note(`the server's EXT_INFO to OpenSSH_7.4: ${[...e.keys()].join(', ') || '(none)'}`);
    if (e.has('delay-compression')) ctx.fail('delay-compression was sent to a client identifying as OpenSSH_7.4');
  }),

  defineCheck({
    id: 'ext-info.no-flow-control.value',
    title: 'A no-flow-control extension from the server has the value "p" or "s"',
    level: 'MUST', area: 'ext-info', suites: ['transport'],
    spec: NFC,
  }, async (ctx) => {
    const c = await ctx.connect();
    await c.service('ssh-userauth');
    const v = (await serverExtInfo(c)).get('no-flow-control');
    if (v === undefined) return ctx.notApplicable('the server does not send no-flow-control');
    if (v !== 'p' && v !== 's') ctx.fail(`no-flow-control value ${JSON.stringify(v)}`);
  }),

  ...(['s', 'p'] as const).map((mine) => defineCheck({
    id: `ext-info.no-flow-control.not-in-effect.${mine === 's' ? 'supported' : 'preferred'}`,
    title: `With our no-flow-control "${mine}" and the extension not in effect, the server still keeps to our 1000-byte window`,
    level: 'MUST', area: 'ext-info', suites: ['transport', 'connection'],
    spec: [NFC, 'RFC 4254 §5.2: The window size specifies how many bytes the other party can send before it must wait for the window to be adjusted.'],
  }, async (ctx) => {
    const c = await withOurExtInfo(ctx, [ext('no-flow-control', mine)]);
    const theirs = (await serverExtInfo(c)).get('no-flow-control');
    if (theirs === 'p' || (theirs === 's' && mine === 'p')) return ctx.notApplicable(`the extension is in effect (server "${theirs}", ours "${mine}")`);
    const n = await bytesWithinWindow(c, 1000);
    c.note(`${n} bytes arrived within a 1000-byte window`);
    if (n > 1000) ctx.fail(`${n} bytes arrived within a 1000-byte window although no-flow-control is not in effect`);
  })),

  defineCheck({
    id: 'ext-info.no-flow-control.in-effect.window-ignored',
    title: 'With no-flow-control in effect, a zero initial window does not hold the server\'s data back',
    level: 'MUST', area: 'ext-info', suites: ['transport', 'connection'],
    spec: NFC_EFFECT,
  }, async (ctx) => {
    const c = await withOurExtInfo(ctx, [ext('no-flow-control', 'p')]);
    if (!(await serverExtInfo(c)).has('no-flow-control')) return ctx.notApplicable('the server does not support no-flow-control');
    const n = await bytesWithinWindow(c, 0);
    if (n < 2001) ctx.fail(`${n} of 2001 bytes arrived with window 0 although no-flow-control is in effect`);
  }),

  defineCheck({
    id: 'ext-info.no-flow-control.in-effect.one-channel',
    title: 'With no-flow-control in effect, a second simultaneous channel is refused',
    level: 'MUST', area: 'ext-info', suites: ['transport', 'connection'],
    spec: NFC_ONE,
  }, async (ctx) => {
    const c = await withOurExtInfo(ctx, [ext('no-flow-control', 'p')]);
    if (!(await serverExtInfo(c)).has('no-flow-control')) return ctx.notApplicable('the server does not support no-flow-control');
    await c.openSession({ local: 60 });
    c.send({ type: 'SSH_MSG_CHANNEL_OPEN', channelType: 'session', senderChannel: 61, initialWindowSize: 65536, maximumPacketSize: 32768, data: new Uint8Array(0) });
    const r = await c.expectMessage(['SSH_MSG_CHANNEL_OPEN_CONFIRMATION', 'SSH_MSG_CHANNEL_OPEN_FAILURE'], { where: { recipientChannel: 61 } });
    if (r.name === 'SSH_MSG_CHANNEL_OPEN_CONFIRMATION') ctx.fail('a second simultaneous channel was opened with no-flow-control in effect');
  }),

  defineCheck({
    id: 'ext-info.no-flow-control.prior-practice',
    title: 'Without no-flow-control in effect, the server\'s initial window for a session is not 2^32 - 1 (flow control, not its absence)',
    level: 'SHOULD', area: 'ext-info', suites: ['transport', 'connection'],
    spec: NFC_PRIOR,
  }, async (ctx) => {
    const c = await ctx.connect();
    await c.authenticate('any');
    if ((await serverExtInfo(c)).get('no-flow-control') === 'p') return ctx.notApplicable('the server prefers no-flow-control');
    const ch = await c.openSession();
    c.note(`the server's initial window: ${ch.remoteWindow}`);
    if (ch.remoteWindow === 0xffff_ffff) ctx.fail('the server announced an initial window of 2^32 - 1');
  }),

  ...(['y', 'n', 'd'] as const).map((v) => defineCheck({
    id: `ext-info.elevation.${v}`,
    title: `Our client's elevation extension "${v}" is taken (or ignored) and the session works`,
    level: 'MUST' as Level, area: 'ext-info', suites: ['transport'],
    spec: [ELEVATION, IGNORE_UNKNOWN],
  }, async (ctx) => {
    const c = await withOurExtInfo(ctx, [ext('elevation', v)]);
    await sessionWorks(ctx, c, `elevation-${v}`);
  })),
];

// ───────────── rekeying bounds (RFC 4344 §3.1) ─────────────

const REKEY_31 = 'RFC 4344 §3.1: Because of possible information leakage through the MAC tag after a key exchange, implementations SHOULD rekey at least once for every 2^32 outgoing packets. More explicitly, after a key exchange, an implementation SHOULD NOT send more than 2^32 packets before rekeying again. ... Implementations SHOULD also attempt to force a rekey before receiving more than 2^32 packets since the last rekey operation.';

/** Sends `n` IGNORE packets in one go (the packet counter of both sides climbs), then pings. */
async function burst(ctx: CheckContext, c: ClientConn, n: number): Promise<void> {
  const payload = encodeMessage({ type: 'SSH_MSG_IGNORE', data: new Uint8Array(0) });
  c.act((e) => { for (let i = 0; i < n; i++) e.sendPayload(payload); });
  if (!(await alive(c, 20_000))) ctx.fail(`the server stopped answering after ${n} packets`);
}

async function rekeyNow(ctx: CheckContext, c: ClientConn, round: number): Promise<void> {
  await rekeyAndWait(ctx, c, round, 15_000);
  if (!(await alive(c, 10_000))) ctx.fail(`the server did not answer after re-exchange ${round}`);
}

const rekeyChecks: Check[] = [
  defineCheck({
    id: 'rekey.bounds.after-many-packets',
    title: 'After 20000 packets from us, a key re-exchange we start completes and the session goes on',
    level: 'SHOULD', area: 'rekey', suites: ['transport'],
    timeoutMs: 60_000,
    spec: [REKEY_31, 'RFC 4253 §9: Key re-exchange is started by sending an SSH_MSG_KEXINIT packet when not already doing a key exchange.'],
  }, async (ctx) => {
    const c = await ctx.connect();
    await c.authenticate('any');
    await burst(ctx, c, 20_000);
    await rekeyNow(ctx, c, 1);
  }),

  defineCheck({
    id: 'rekey.bounds.repeated',
    title: 'Three re-exchanges, each after 3000 packets, all complete (rekeying "at least once for every" bound can repeat)',
    level: 'SHOULD', area: 'rekey', suites: ['transport'],
    timeoutMs: 60_000,
    spec: REKEY_31,
  }, async (ctx) => {
    const c = await ctx.connect();
    await c.authenticate('any');
    for (let round = 1; round <= 3; round++) {
      await burst(ctx, c, 3000);
      await rekeyNow(ctx, c, round);
    }
  }),

  defineCheck({
    id: 'rekey.bounds.sequence-continues',
    title: 'After a re-exchange (without strict kex) the sequence numbers go on: the server names our next packet\'s number in SSH_MSG_UNIMPLEMENTED',
    level: 'MUST', area: 'rekey', suites: ['transport'],
    timeoutMs: 60_000,
    spec: [REKEY_31, 'RFC 4253 §6.4: The sequence_number is initialized to zero for the first packet, and is incremented after every packet (regardless of whether encryption or MAC is in use). It is never reset, even if keys/algorithms are renegotiated later.'],
  }, async (ctx) => {
    const c = await ctx.connect({ strictKex: false });
    await c.authenticate('any');
    await burst(ctx, c, 1000);
    await rekeyNow(ctx, c, 1);
    const seq = c.sendRaw(Uint8Array.of(19), 'unknown message after the re-exchange');
    if (seq < 1000) return ctx.inconclusive(`our own sequence number is ${seq}`);
    await c.expectMessage('SSH_MSG_UNIMPLEMENTED', { where: { seq }, within: 5000, because: `UNIMPLEMENTED naming sequence number ${seq}` });
  }),
];

export const extInfoDepthChecks: Check[] = [...extChecks, ...rekeyChecks];
