/**
 * Client-direction checks for the rules of issue 21's sections that bind clients: channels and requests a client
 * must refuse (RFC 4254 §6.1, §6.3.2, §7.1, §7.2), the names in its KEXINIT (RFC 4251 §6), reason codes (RFC 4250
 * §4.2.1, §4.3.4), keyboard-interactive (RFC 4256 §3.1, §3.3, §3.4), EXT_INFO extensions it must ignore or take
 * (RFC 8308 §2.5, §3.2.3, §3.3, §3.3.1, §3.4) and rekeying after many packets (RFC 4344 §3.1).
 */
import { decodeMessage, encodeMessage } from '../../../impl/messages/index.js';
import { AuthResult } from '../../../impl/auth/types.js';
import { OpenFailure } from '../../../impl/connection/connection.js';
import type { ServerPolicy } from '../../../impl/connection/policy.js';
import type { EngineTesting } from '../../../impl/transport/testing.js';
import type { ClientResult } from '../../targets/types.js';
import type { CheckContext } from '../context.js';
import { defineCheck, type CheckDefinition } from '../define.js';
import type { ServeOptions, ServerSide } from '../server-side.js';
import type { Check } from '../types.js';
import { PRIVATE_REASON } from './naming.js';
import { nameListProblems, sshString, u32, wire } from './util.js';

type ClientDef = Omit<CheckDefinition, 'role' | 'area' | 'suites'>;

function clientCheck(d: ClientDef, run: (ctx: CheckContext) => Promise<void>): Check {
  return defineCheck({ ...d, role: 'client', area: 'client', suites: ['client'], timeoutMs: d.timeoutMs ?? 30_000 }, run);
}

/** A session whose input keeps the client busy for a moment (100 KB through "cat"), so we can act in the middle. */
const BUSY_INPUT = 'b'.repeat(100_000) + '\n';

function expectOk(ctx: CheckContext, res: ClientResult, stdout: string, what: string): void {
  if (res.timedOut) ctx.fail(`${what}: the client did not finish (timed out)`);
  if (res.exitCode !== 0) ctx.fail(`${what}: the client exited ${res.exitCode} (${res.stderr.trim().split('\n').slice(-2).join(' | ').slice(0, 300)})`);
  if (res.stdout !== stdout) ctx.fail(`${what}: expected ${stdout.length} bytes of output, got ${res.stdout.length}`);
}

/** Runs the client; once it authenticated, `act` does something to it; both outcomes are returned. */
async function duringSession<T>(ctx: CheckContext, serve: ServeOptions, act: (side: ServerSide) => Promise<T>): Promise<{ side: ServerSide; res: ClientResult; out: T | 'not-authenticated' }> {
  const side = await ctx.serve(serve);
  const run = ctx.runClient(side, { command: 'cat', stdin: BUSY_INPUT });
  const out = (await side.whenAuthenticated()) ? await act(side) : 'not-authenticated' as const;
  const res = await run;
  await side.waitClosed(2000);
  return { side, res, out };
}

function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p.finally(() => clearTimeout(timer)), new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), ms); })]);
}

/** Opens a channel of `kind` to the client: 'confirmed', 'refused' or 'timeout'. */
async function openToClient(side: ServerSide, kind: string, dest?: readonly [string, number]): Promise<'confirmed' | 'refused' | 'timeout'> {
  const p = side.transport!.openChannel(kind, dest, dest ? ['127.0.0.1', 40123] : undefined).then((ch) => { void ch.close(); return 'confirmed' as const; }, () => 'refused' as const);
  return within(p, 8000);
}

/** x11 channels carry originator address and port (RFC 4254 §6.3.2): filled in on the way out. */
function x11OpenData(t: EngineTesting): void {
  t.rewriteOutbound((p) => {
    if (p[0] !== 90) return p;
    const m = decodeMessage(p);
    return m.type === 'SSH_MSG_CHANNEL_OPEN' && m.channelType === 'x11' && m.data.length === 0 ? encodeMessage({ ...m, data: wire(sshString('127.0.0.1'), u32(6010)) }) : p;
  });
}

function refusalCheck(o: { id: string; title: string; level: 'MUST' | 'SHOULD'; spec: string; kind: string; dest?: readonly [string, number]; deviations?: (t: EngineTesting) => void }): Check {
  return clientCheck({ id: `client.depth.${o.id}`, title: o.title, level: o.level, spec: o.spec }, async (ctx) => {
    const { out } = await duringSession(ctx, o.deviations ? { deviations: o.deviations } : {}, (side) => openToClient(side, o.kind, o.dest));
    if (out === 'not-authenticated') return ctx.inconclusive('the client did not authenticate');
    if (out === 'timeout') return ctx.inconclusive(`the client neither confirmed nor refused the ${o.kind} channel`);
    if (out === 'confirmed') ctx.fail(`the client accepted a ${o.kind} channel from the server`);
  });
}

/** The client's first KEXINIT. */
function clientKexInit(side: ServerSide): Record<string, unknown> | undefined {
  const m = side.rec.inbox.messages.find((x) => x.name === 'SSH_MSG_KEXINIT');
  return m ? (decodeMessage(m.payload) as unknown as Record<string, unknown>) : undefined;
}

/** Our server's EXT_INFO gets `extensions` added (before what it sends itself). */
function extraExtensions(extensions: readonly { name: string; value: Uint8Array }[]): (t: EngineTesting) => void {
  return (t) => t.rewriteOutbound((p) => {
    if (p[0] !== 7) return p;
    const m = decodeMessage(p);
    return m.type === 'SSH_MSG_EXT_INFO' ? encodeMessage({ ...m, extensions: [...extensions, ...m.extensions] }) : p;
  });
}

function offersExtInfoC(side: ServerSide): boolean {
  const k = clientKexInit(side);
  return ((k?.['kexAlgorithms'] as string[] | undefined) ?? []).includes('ext-info-c');
}

const refusals: Check[] = [
  refusalCheck({
    id: 'x11-channel-unrequested', kind: 'x11', level: 'MUST', deviations: x11OpenData,
    title: 'An "x11" channel from a server the client never asked for X11 forwarding is refused',
    spec: 'RFC 4254 §6.3.2: Implementations MUST reject any X11 channel open requests if they have not requested X11 forwarding.',
  }),
  refusalCheck({
    id: 'forwarded-tcpip-unrequested', kind: 'forwarded-tcpip', dest: ['127.0.0.1', 2222], level: 'MUST',
    title: 'A "forwarded-tcpip" channel for a port the client never asked to forward is refused',
    spec: 'RFC 4254 §7.2: Implementations MUST reject these messages unless they have previously requested a remote TCP/IP port forwarding with the given port number.',
  }),
  refusalCheck({
    id: 'direct-tcpip-refused', kind: 'direct-tcpip', dest: ['127.0.0.1', 22], level: 'SHOULD',
    title: 'A "direct-tcpip" channel opened by the server is refused by the client',
    spec: 'RFC 4254 §7.2: Client implementations SHOULD reject direct TCP/IP open requests for security reasons.',
  }),
  refusalCheck({
    id: 'session-channel-refused', kind: 'session', level: 'SHOULD',
    title: 'A "session" channel opened by the server is refused by the client',
    spec: 'RFC 4254 §6.1: Client implementations SHOULD reject any session channel open requests to make it more difficult for a corrupt server to attack the client.',
  }),

  clientCheck({
    id: 'client.depth.tcpip-forward-request-refused',
    title: 'A tcpip-forward global request from the server is refused by the client',
    level: 'SHOULD',
    spec: 'RFC 4254 §7.1: Client implementations SHOULD reject these messages; they are normally only sent by the client.',
  }, async (ctx) => {
    const { out } = await duringSession(ctx, {}, (side) => within(side.transport!.globalRequest('tcpip-forward', wire(sshString('127.0.0.1'), u32(0)), true).then((r) => (r === null ? 'refused' : 'granted'), () => 'refused'), 8000));
    if (out === 'not-authenticated') return ctx.inconclusive('the client did not authenticate');
    if (out === 'timeout') return ctx.fail('the client did not answer the tcpip-forward request (want reply TRUE)');
    if (out === 'granted') ctx.fail('the client granted a tcpip-forward request from the server');
  }),
];

const names: Check[] = [
  clientCheck({
    id: 'client.depth.kexinit-names',
    title: 'Every name in the client\'s KEXINIT lists is well formed (printable, no comma or whitespace, ≤ 64 characters, one \'@\' before a domain)',
    level: 'MUST',
    spec: ['RFC 4251 §6: The names MUST be printable US-ASCII strings, and MUST NOT contain the characters at-sign (\'@\'), comma (\',\'), whitespace, control characters (ASCII codes 32 or less), or the ASCII code 127 (DEL). Names are case-sensitive, and MUST NOT be longer than 64 characters.', 'RFC 4250 §4.6.1: All names registered by the IANA ... MUST be printable US-ASCII strings ... MUST NOT be longer than 64 characters.'],
  }, async (ctx) => {
    const side = await ctx.serve({});
    await ctx.runClient(side, { command: 'cat', stdin: 'ok\n' });
    const k = clientKexInit(side);
    if (!k) return ctx.inconclusive('no KEXINIT from the client');
    const fields = ['kexAlgorithms', 'serverHostKeyAlgorithms', 'encryptionC2S', 'encryptionS2C', 'macC2S', 'macS2C', 'compressionC2S', 'compressionS2C', 'languagesC2S', 'languagesS2C'];
    const bad = fields.flatMap((f) => nameListProblems(f, (k[f] as string[] | undefined) ?? []));
    if (bad.length) ctx.fail(bad.slice(0, 3).join('; '));
  }),

  clientCheck({
    id: 'client.depth.unknown-local-names-skipped',
    title: 'Unknown name@domain algorithms first in every list of the server\'s KEXINIT are passed over by the client',
    level: 'MUST',
    spec: ['RFC 4251 §6: Additional names ... in the format of "name@domainname" ... can be defined without IANA', 'RFC 4253 §7.1: The chosen ... algorithm MUST be the first algorithm on the client\'s name-list that is also on the server\'s name-list.'],
  }, async (ctx) => {
    const unknown = (k: string) => `x-${k}@ssh-harness.invalid`;
    const { res } = await (async () => {
      const side = await ctx.serve({
        deviations: (t) => t.setKexInitOverride((k) => ({
          ...k, kexAlgorithms: [unknown('kex'), ...k.kexAlgorithms], serverHostKeyAlgorithms: [unknown('hostkey'), ...k.serverHostKeyAlgorithms],
          encryptionC2S: [unknown('cipher'), ...k.encryptionC2S], encryptionS2C: [unknown('cipher'), ...k.encryptionS2C],
          macC2S: [unknown('mac'), ...k.macC2S], macS2C: [unknown('mac'), ...k.macS2C],
          compressionC2S: [unknown('comp'), ...k.compressionC2S], compressionS2C: [unknown('comp'), ...k.compressionS2C],
        })),
      });
      return { res: await ctx.runClient(side, { command: 'cat', stdin: 'ok\n' }) };
    })();
    expectOk(ctx, res, 'ok\n', 'with unknown local names in the server\'s KEXINIT');
  }),

  clientCheck({
    id: 'client.depth.disconnect-reason-nonzero',
    title: 'An SSH_MSG_DISCONNECT from the client (at the end of a session, or after a bad MAC from the server) carries a reason code from 1 up',
    level: 'MUST',
    spec: 'RFC 4250 §4.2.1: Protocol packets containing the SSH_MSG_DISCONNECT message MUST have Disconnection Message \'reason code\' values in the range of 0x00000001 to 0xFFFFFFFF.',
  }, async (ctx) => {
    const disconnects = [];
    for (const serve of [{}, { deviations: (t: EngineTesting) => t.corruptNext({ id: 6, mac: true }) }]) {
      const side = await ctx.serve(serve);
      await ctx.runClient(side, { command: 'cat', stdin: 'ok\n', timeoutMs: 15_000 });
      await side.waitClosed(2000);
      disconnects.push(...side.rec.inbox.messages.filter((m) => m.name === 'SSH_MSG_DISCONNECT'));
    }
    const d = disconnects.find((m) => Number(m.fields?.['reason']) === 0) ?? disconnects[0];
    if (!d) return ctx.notApplicable('the client sent no SSH_MSG_DISCONNECT, neither at the end of a session nor after a bad MAC');
    if (Number(d.fields?.['reason']) === 0) ctx.fail('the client\'s SSH_MSG_DISCONNECT has reason code 0');
  }),

  clientCheck({
    id: 'client.depth.open-failure-private-reason',
    title: 'A refusal of the client\'s session channel with a private-use reason code (0xFE000001) ends the client cleanly, with an error',
    level: 'MUST',
    spec: ['RFC 4250 §4.3.4: The \'reason code\' values in the range of 0xFE000000 through 0xFFFFFFFF are reserved for PRIVATE USE (a peer must expect codes it does not know)', 'RFC 4254 §5.1: The \'reason code\' values in the range of 0xFE000000 through 0xFFFFFFFF are reserved for PRIVATE USE.'],
  }, async (ctx) => {
    const side = await ctx.serve({ policy: { checkChannelRequest: () => PRIVATE_REASON as OpenFailure } });
    const res = await ctx.runClient(side, { command: 'cat', stdin: 'ok\n', timeoutMs: 15_000 });
    const f = side.rec.evidence.lines.find((l) => l.dir === 's2c' && l.text === 'SSH_MSG_CHANNEL_OPEN_FAILURE');
    if (!f) return ctx.inconclusive('the client opened no channel');
    if (res.timedOut) return ctx.fail('the client hung after the private-use reason code');
    if (res.exitCode === 0 && res.stdout === 'ok\n') ctx.fail('the client reports success although its channel was refused');
  }),
];

// ───────────── keyboard-interactive (RFC 4256) ─────────────

function kiRequests(side: ServerSide): { language: string; submethods: string }[] {
  return side.rec.inbox.messages.filter((m) => m.name === 'SSH_MSG_USERAUTH_REQUEST' && m.fields?.['method'] === 'keyboard-interactive')
    .map((m) => ({ language: String(m.fields?.['language'] ?? ''), submethods: String(m.fields?.['submethods'] ?? '') }));
}

function kiResponses(side: ServerSide): number[] {
  return side.rec.inbox.messages.filter((m) => m.id === 61).map((m) => {
    const d = decodeMessage(m.payload, { auth: 'keyboard-interactive' });
    return d.type === 'SSH_MSG_USERAUTH_INFO_RESPONSE' ? d.responses.length : -1;
  });
}

const kiOnly = (query: { name?: string; instruction?: string; prompts: { prompt: string; echo: boolean }[] }, password: () => string, rounds: 'one' | 'empty-first' = 'one'): Partial<ServerPolicy> => {
  let round = 0;
  return {
    allowedAuths: () => ['keyboard-interactive'],
    checkAuthKeyboardInteractive: () => (rounds === 'empty-first' ? { name: 'ssh-harness', instruction: 'no prompts in this round', prompts: [] } : query),
    checkAuthKeyboardInteractiveResponse: (_u: string, r: readonly string[]) => {
      round++;
      if (rounds === 'empty-first' && round === 1) return r.length === 0 ? query : AuthResult.FAILED;
      return r.length === query.prompts.length && r[r.length - 1] === password() ? AuthResult.SUCCESSFUL : AuthResult.FAILED;
    },
  };
};

const kiChecks: Check[] = [
  ...([
    { id: 'password-prompt', what: 'one password prompt', query: { prompts: [{ prompt: 'Password: ', echo: false }] }, rounds: 'one' as const, spec: ['RFC 4256 §3.4: The num-responses field MUST match the num-prompts field in the request message.', 'RFC 4256 §3.1: The language tag is deprecated and SHOULD be the empty string.'] },
    { id: 'multiline-instruction', what: 'a name and a multi-line instruction (LF and CR LF) before the password prompt', query: { name: 'ssh-harness check', instruction: 'first line\nsecond line\r\nthird line', prompts: [{ prompt: 'Password: ', echo: false }] }, rounds: 'one' as const, spec: ['RFC 4256 §3.3: The client SHOULD ... display the name and instruction fields ... Clients SHOULD be prepared to handle line-breaks (CRLF or LF) in these fields (paraphrased)', 'RFC 4256 §3.4: The num-responses field MUST match the num-prompts field in the request message.'] },
    { id: 'zero-prompts-first', what: 'an INFO_REQUEST with zero prompts before the password prompt', query: { prompts: [{ prompt: 'Password: ', echo: false }] }, rounds: 'empty-first' as const, spec: ['RFC 4256 §3.3: ... if num-prompts is 0 ... the client SHOULD still display the name and instruction fields (and answer with an INFO_RESPONSE of zero responses, §3.4)', 'RFC 4256 §3.4: The num-responses field MUST match the num-prompts field in the request message.'] },
  ]).map((v) => clientCheck({
    id: `client.depth.keyboard-interactive.${v.id}`,
    title: `keyboard-interactive with ${v.what}: the client answers with as many responses as prompts and an empty language tag`,
    level: 'MUST',
    spec: v.spec,
  }, async (ctx) => {
    const password = (await import('../../targets/test-user.js')).TEST_PASSWORD;
    const side = await ctx.serve({ policy: kiOnly(v.query, () => password, v.rounds) });
    const res = await ctx.runClient(side, { command: 'cat', stdin: 'ok\n', timeoutMs: 15_000 });
    await side.waitClosed(2000);
    const reqs = kiRequests(side);
    if (!reqs.length) return ctx.notApplicable('the client does not use keyboard-interactive with a password');
    if (reqs.some((r) => r.language !== '')) return ctx.fail(`the client sent language tag ${JSON.stringify(reqs.find((r) => r.language !== '')!.language)} (deprecated, SHOULD be empty)`);
    const counts = kiResponses(side);
    const want = v.rounds === 'empty-first' ? [0, 1] : [1];
    if (counts.length && JSON.stringify(counts.slice(0, want.length)) !== JSON.stringify(want.slice(0, counts.length))) return ctx.fail(`the client answered with ${counts.join(', ')} response(s) where the prompts were ${want.join(', ')}`);
    // a runner that feeds the password non-interactively gives some clients nothing to answer prompts with
    if (!counts.length) return ctx.notApplicable('the client started keyboard-interactive but sent no INFO_RESPONSE in this non-interactive run (nothing answers its prompts)');
    expectOk(ctx, res, 'ok\n', `keyboard-interactive with ${v.what}`);
  })),
];

// ───────────── EXT_INFO from the server (RFC 8308) ─────────────

const ext = (name: string, value: string | Uint8Array) => ({ name, value: typeof value === 'string' ? Buffer.from(value, 'latin1') : value });

const extChecks: Check[] = [
  ...([
    { id: 'delay-compression', what: 'delay-compression (a binary value: two name-lists "none")', exts: [ext('delay-compression', wire(sshString('none'), sshString('none')))], spec: ['RFC 8308 §3.2.3: This extension uses a binary extension-value encoding. OpenSSH clients up to and including version 7.4 ... disconnect on receipt of an extension-value containing null bytes (a current client takes it)', 'RFC 8308 §3.2: the extension takes effect only if both parties send it'] },
    { id: 'no-flow-control-s', what: 'no-flow-control "s"', exts: [ext('no-flow-control', 's')], spec: ['RFC 8308 §3.3: The extension takes effect only if both parties send it and at least one of them sends "p".', 'RFC 8308 §2.5: Applications MUST ignore unrecognized extension-names.'] },
    { id: 'elevation', what: 'elevation "y" (an extension only clients send)', exts: [ext('elevation', 'y')], spec: ['RFC 8308 §3.4: string "elevation" string choice of: "y" | "n" | "d" (sent by the client)', 'RFC 8308 §2.5: Applications MUST ignore unrecognized extension-names.'] },
  ]).map((v) => clientCheck({
    id: `client.depth.ext-info.${v.id}`,
    title: `The server's SSH_MSG_EXT_INFO carrying ${v.what} does not disturb the client`,
    level: 'MUST',
    spec: v.spec,
  }, async (ctx) => {
    const side = await ctx.serve({ deviations: extraExtensions(v.exts) });
    const res = await ctx.runClient(side, { command: 'cat', stdin: 'ok\n' });
    if (!offersExtInfoC(side)) return ctx.notApplicable('the client does not offer ext-info-c');
    expectOk(ctx, res, 'ok\n', `with ${v.what}`);
  })),

  clientCheck({
    id: 'client.depth.initial-window',
    title: 'The client\'s session CHANNEL_OPEN announces a real window, not 2^32 - 1 in place of flow control',
    level: 'SHOULD',
    spec: 'RFC 8308 §3.3.1: Before this extension, some applications would simply not implement SSH flow control, sending an initial channel window size of 2^32 - 1. Applications SHOULD NOT do this',
  }, async (ctx) => {
    const side = await ctx.serve({});
    await ctx.runClient(side, { command: 'cat', stdin: 'ok\n' });
    const open = side.rec.inbox.messages.find((m) => m.name === 'SSH_MSG_CHANNEL_OPEN');
    if (!open) return ctx.inconclusive('the client opened no channel');
    const w = Number(open.fields?.['initialWindowSize']);
    side.note(`the client's initial window: ${w}`);
    if (w === 0xffff_ffff) ctx.fail('the client announced an initial window of 2^32 - 1');
  }),

  clientCheck({
    id: 'client.depth.rekey-after-many-packets',
    title: 'Our server re-keys every 60 packets while 300 KB pass through "cat"; the client follows every re-exchange',
    level: 'SHOULD', timeoutMs: 45_000,
    spec: ['RFC 4344 §3.1: implementations SHOULD rekey at least once for every 2^32 outgoing packets. More explicitly, after a key exchange, an implementation SHOULD NOT send more than 2^32 packets before rekeying again.', 'RFC 4253 §9: When this message is received, a party MUST respond with its own SSH_MSG_KEXINIT message'],
  }, async (ctx) => {
    const input = 'k'.repeat(300_000) + '\n';
    const side = await ctx.serve({ transport: { rekey: { packets: 60 }, connection: { maxPacket: 4096 } } });
    const res = await ctx.runClient(side, { command: 'cat', stdin: input, timeoutMs: 30_000 });
    const kexinits = side.rec.inbox.messages.filter((m) => m.name === 'SSH_MSG_KEXINIT').length;
    side.note(`${kexinits} KEXINIT(s) from the client`);
    if (kexinits < 2) ctx.fail('the client never answered a re-exchange (our server re-keys every 60 packets)');
    expectOk(ctx, res, input, 'across re-exchanges every 60 packets');
  }),
];

export const clientDepthChecks: Check[] = [...refusals, ...names, ...kiChecks, ...extChecks];
