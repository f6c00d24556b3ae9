/**
 * Names and registries (RFC 4251 §6, RFC 4250 §4): every name the server puts on the wire is well formed, unknown
 * `name@domain` names of ours are passed over, and the reason / data type codes it sends are in their registered
 * ranges. Each check makes the server send the names or codes it judges.
 */
import { decodeMessage } from '../../../impl/messages/index.js';
import type { ClientConn } from '../client-conn.js';
import type { CheckContext } from '../context.js';
import { defineCheck } from '../define.js';
import type { Check } from '../types.js';
import { extInfoExtensions, nameListProblems, sshString, u32, wire } from './util.js';

const NAMES_4251 = 'RFC 4251 §6: The names MUST be printable US-ASCII strings, and MUST NOT contain the characters at-sign (\'@\'), comma (\',\'), whitespace, control characters (ASCII codes 32 or less), or the ASCII code 127 (DEL). Names are case-sensitive, and MUST NOT be longer than 64 characters.';
const LOCAL_4251 = 'RFC 4251 §6: Additional names ... in the format of "name@domainname" ... They MUST have only a single at-sign in them. The part following the at-sign MUST be a valid, fully qualified domain name';
const NAMES_4250 = 'RFC 4250 §4.6.1: All names registered by the IANA ... MUST be printable US-ASCII strings, and MUST NOT contain the characters at-sign ("@"), comma (","), whitespace, control characters (ASCII codes 32 or less), or the ASCII code 127 (DEL). Names are case-sensitive, and MUST NOT be longer than 64 characters.';

const KEXINIT_FIELDS = [
  ['kex', 'kexAlgorithms'], ['host-key', 'serverHostKeyAlgorithms'], ['cipher-c2s', 'encryptionC2S'], ['cipher-s2c', 'encryptionS2C'],
  ['mac-c2s', 'macC2S'], ['mac-s2c', 'macS2C'], ['compression-c2s', 'compressionC2S'], ['compression-s2c', 'compressionS2C'],
  ['language-c2s', 'languagesC2S'], ['language-s2c', 'languagesS2C'],
] as const;

/** The server's KEXINIT, decoded, after ours went out. */
async function serverKexInit(ctx: CheckContext): Promise<Record<string, unknown>> {
  const c = await ctx.connect();
  const m = await c.expectMessage('SSH_MSG_KEXINIT', { else: 'inconclusive', because: 'the server\'s KEXINIT' });
  return decodeMessage(m.payload) as unknown as Record<string, unknown>;
}

/** An unknown, well-formed local name (RFC 4251 §6) first in every list of our KEXINIT. */
const UNKNOWN = (kind: string) => `x-${kind}@ssh-harness.invalid`;

async function authed(ctx: CheckContext): Promise<ClientConn> {
  const c = await ctx.connect();
  await c.authenticate('any');
  return c;
}

/** Waits for the server's disconnect after `provoke`; returns its reason, or undefined when it only closed. */
async function disconnectReason(c: ClientConn): Promise<number | undefined> {
  await c.rec.inbox.wait(c.cursor, (m) => m.name === 'SSH_MSG_DISCONNECT', 3000);
  const d = c.rec.inbox.messages.find((m) => m.name === 'SSH_MSG_DISCONNECT');
  return d ? Number(d.fields?.['reason']) : undefined;
}

const nameChecks: Check[] = [
  ...KEXINIT_FIELDS.map(([label, field]) => defineCheck({
    id: `names.kexinit.${label}`,
    title: `Every name in the server's KEXINIT ${label} list is a well-formed algorithm name (printable, no comma or whitespace, ≤ 64 characters, one '@' before a domain)`,
    level: 'MUST', area: 'kex', suites: ['transport'],
    spec: [NAMES_4251, LOCAL_4251, NAMES_4250],
  }, async (ctx) => {
    const k = await serverKexInit(ctx);
    const names = (k[field] as readonly string[] | undefined) ?? [];
    ctx.note(`${field}: ${names.join(',') || '(empty)'}`);
    const bad = nameListProblems(field, names);
    if (bad.length) ctx.fail(bad.slice(0, 3).join('; '));
  })),

  defineCheck({
    id: 'names.ext-info',
    title: 'The names of the extensions in the server\'s SSH_MSG_EXT_INFO are well-formed names',
    level: 'MUST', area: 'ext-info', suites: ['transport'],
    spec: [NAMES_4251, 'RFC 8308 §2.5: Extension names ... (RFC 8308 §5: names follow the conventions of RFC 4251 §6; local names end in @domain)'],
  }, async (ctx) => {
    const c = await ctx.connect();
    await c.service('ssh-userauth');
    const m = c.rec.inbox.messages.find((x) => x.name === 'SSH_MSG_EXT_INFO');
    if (!m) return ctx.notApplicable('the server sent no SSH_MSG_EXT_INFO');
    const bad = nameListProblems('extension', [...extInfoExtensions(m).keys()]);
    if (bad.length) ctx.fail(bad.slice(0, 3).join('; '));
  }),

  defineCheck({
    id: 'names.server-sig-algs',
    title: 'The algorithm names listed in server-sig-algs are well-formed names',
    level: 'MUST', area: 'ext-info', suites: ['transport'],
    spec: [NAMES_4251, 'RFC 8308 §3.1: string "server-sig-algs" name-list public-key-algorithms-accepted'],
  }, async (ctx) => {
    const c = await ctx.connect();
    await c.service('ssh-userauth');
    const v = extInfoExtensions(c.rec.inbox.messages.find((x) => x.name === 'SSH_MSG_EXT_INFO')).get('server-sig-algs');
    if (v === undefined) return ctx.notApplicable('the server sent no server-sig-algs');
    const bad = nameListProblems('server-sig-algs', v.split(','));
    if (bad.length) ctx.fail(bad.slice(0, 3).join('; '));
  }),

  defineCheck({
    id: 'names.userauth-methods',
    title: 'The method names in SSH_MSG_USERAUTH_FAILURE (answering "none") are well-formed names',
    level: 'MUST', area: 'auth', suites: ['auth'],
    spec: [NAMES_4251, NAMES_4250, 'RFC 4252 §5.1: authentications that can continue ... is a comma-separated name-list of authentication \'method name\' values'],
  }, async (ctx) => {
    const c = await ctx.connect();
    await c.service('ssh-userauth');
    c.send({ type: 'SSH_MSG_USERAUTH_REQUEST', user: c.target.credentials.user, service: 'ssh-connection', method: 'none' });
    const r = await c.expectMessage(['SSH_MSG_USERAUTH_FAILURE', 'SSH_MSG_USERAUTH_SUCCESS'], { else: 'inconclusive' });
    if (r.name !== 'SSH_MSG_USERAUTH_FAILURE') return ctx.notApplicable('"none" authentication succeeded');
    const methods = (r.fields?.['methods'] as string[] | undefined) ?? [];
    const bad = nameListProblems('method', methods);
    if (bad.length) ctx.fail(bad.slice(0, 3).join('; '));
  }),

  ...KEXINIT_FIELDS.filter(([label]) => !label.startsWith('language')).map(([label, field]) => defineCheck({
    id: `names.unknown-local-name-skipped.${label}`,
    title: `An unknown name@domain first in our KEXINIT ${label} list is passed over and the next common algorithm negotiated`,
    level: 'MUST', area: 'kex', suites: ['transport'],
    spec: [LOCAL_4251, 'RFC 4251 §6: Additional names ... can be defined ... without IANA (local extensions)', 'RFC 4253 §7.1: The chosen ... algorithm MUST be the first algorithm on the client\'s name-list that is also on the server\'s name-list.'],
  }, async (ctx) => {
    const c = await ctx.connect({
      deviations: (t) => t.setKexInitOverride((k) => ({ ...k, [field]: [UNKNOWN(label), ...((k as unknown as Record<string, string[]>)[field] ?? [])] })),
    });
    await c.kex({ else: 'fail', onClose: 'fail' });
    await c.service('ssh-userauth', { else: 'fail' });
  })),
];

// ───────────── registries: reason codes and data type codes in their ranges (RFC 4250 §4.2.1, §4.3.1, §4.4.1) ─────────────

const DISCONNECT_RANGE = 'RFC 4250 §4.2.1: Protocol packets containing the SSH_MSG_DISCONNECT message MUST have Disconnection Message \'reason code\' values in the range of 0x00000001 to 0xFFFFFFFF.';
const OPEN_FAILURE_RANGE = 'RFC 4250 §4.3.1: Protocol packets containing the SSH_MSG_CHANNEL_OPEN_FAILURE message MUST have Channel Connection Failure \'reason code\' values in the range of 0x00000001 to 0xFFFFFFFF.';
const OPEN_FAILURE_INITIAL = 'RFC 4250 §4.3.2: SSH_OPEN_ADMINISTRATIVELY_PROHIBITED 1, SSH_OPEN_CONNECT_FAILED 2, SSH_OPEN_UNKNOWN_CHANNEL_TYPE 3, SSH_OPEN_RESOURCE_SHORTAGE 4';

const disconnectTriggers: readonly { id: string; what: string; provoke: (ctx: CheckContext) => Promise<ClientConn> }[] = [
  {
    id: 'unknown-service', what: 'an unknown service request',
    provoke: async (ctx) => { const c = await ctx.connect(); await c.kex(); c.send({ type: 'SSH_MSG_SERVICE_REQUEST', service: 'nosuch-service@ssh-harness.invalid' }); return c; },
  },
  {
    id: 'bad-mac', what: 'a SERVICE_REQUEST with a corrupted MAC',
    provoke: async (ctx) => { const c = await ctx.connect({ deviations: (t) => t.corruptNext({ id: 5, mac: true }) }); await c.kex(); c.act((e) => e.requestService('ssh-userauth')); return c; },
  },
  {
    id: 'connection-message-before-auth', what: 'a connection-protocol message before authentication',
    provoke: async (ctx) => { const c = await ctx.connect(); await c.service('ssh-userauth'); c.send({ type: 'SSH_MSG_GLOBAL_REQUEST', name: 'nosuch-global@ssh-harness.invalid', wantReply: true, data: new Uint8Array(0) }); return c; },
  },
  {
    id: 'garbage-after-version', what: 'a packet length of 2^31 after the identification string',
    provoke: async (ctx) => { const c = await ctx.connect(); await c.expectMessage('SSH_MSG_KEXINIT', { else: 'inconclusive' }); c.sendBytes(Uint8Array.of(0x80, 0, 0, 0, 0, 0, 0, 0), 'absurd packet length'); return c; },
  },
];

const registryChecks: Check[] = [
  ...disconnectTriggers.map((d) => defineCheck({
    id: `registry.disconnect-reason-nonzero.${d.id}`,
    title: `The server's SSH_MSG_DISCONNECT after ${d.what} carries a reason code from 1 up (never 0)`,
    level: 'MUST', area: 'disconnect', suites: ['robustness'],
    spec: [DISCONNECT_RANGE, 'RFC 4253 §11.1: byte SSH_MSG_DISCONNECT, uint32 reason code, string description'],
  }, async (ctx) => {
    const c = await d.provoke(ctx);
    const reason = await disconnectReason(c);
    if (reason === undefined) return ctx.notApplicable(`the server sent no SSH_MSG_DISCONNECT after ${d.what}`);
    if (reason === 0) ctx.fail('SSH_MSG_DISCONNECT with reason code 0');
  })),

  ...([
    { id: 'unknown-type', what: 'an unknown channel type', type: 'nosuch-channel@ssh-harness.invalid', data: new Uint8Array(0) },
    { id: 'x11-unrequested', what: 'an x11 channel from the client', type: 'x11', data: wire(sshString('127.0.0.1'), u32(6010)) },
    { id: 'forwarded-tcpip-unrequested', what: 'a forwarded-tcpip channel from the client', type: 'forwarded-tcpip', data: wire(sshString('127.0.0.1'), u32(4), sshString('127.0.0.1'), u32(40000)) },
    { id: 'direct-tcpip-closed-port', what: 'a direct-tcpip channel to a closed port', type: 'direct-tcpip', data: wire(sshString('127.0.0.1'), u32(1), sshString('127.0.0.1'), u32(40000)) },
  ]).map((v) => defineCheck({
    id: `registry.open-failure-reason.${v.id}`,
    title: `Refusing ${v.what}, the server's CHANNEL_OPEN_FAILURE carries a reason code from 1 up (an assigned one, 1–4)`,
    level: 'MUST', area: 'connection', suites: ['connection'],
    spec: [OPEN_FAILURE_RANGE, OPEN_FAILURE_INITIAL, 'RFC 4254 §5.1: If the recipient ... cannot open the channel, it responds with SSH_MSG_CHANNEL_OPEN_FAILURE ... uint32 reason code'],
  }, async (ctx) => {
    const c = await authed(ctx);
    c.send({ type: 'SSH_MSG_CHANNEL_OPEN', channelType: v.type, senderChannel: 31, initialWindowSize: 65536, maximumPacketSize: 32768, data: v.data });
    const r = await c.expectMessage(['SSH_MSG_CHANNEL_OPEN_FAILURE', 'SSH_MSG_CHANNEL_OPEN_CONFIRMATION'], { where: { recipientChannel: 31 }, within: 12_000 });
    if (r.name !== 'SSH_MSG_CHANNEL_OPEN_FAILURE') return ctx.notApplicable(`the server opened ${v.what}`);
    const reason = Number(r.fields?.['reason']);
    if (reason === 0) return ctx.fail('CHANNEL_OPEN_FAILURE with reason code 0');
    if (reason > 4 && reason < 0xfe000000) ctx.fail(`CHANNEL_OPEN_FAILURE with reason code ${reason}: neither an assigned code (1–4) nor private use (0xFE000000 and up)`);
  })),

  defineCheck({
    id: 'registry.extended-data-type-nonzero',
    title: 'The server\'s SSH_MSG_CHANNEL_EXTENDED_DATA (a command\'s error output) carries a data type code from 1 up',
    level: 'MUST', area: 'connection', suites: ['connection'],
    spec: ['RFC 4250 §4.4.1: Protocol packets containing the SSH_MSG_CHANNEL_EXTENDED_DATA message MUST have Extended Channel Data Transfer \'data_type_code\' values in the range of 0x00000001 to 0xFFFFFFFF.', 'RFC 4254 §5.2: SSH_EXTENDED_DATA_STDERR 1'],
  }, async (ctx) => {
    const c = await authed(ctx);
    const ch = await c.openSession();
    await c.exec(ch, 'nosuchcommand-ssh-harness');
    const r = await c.rec.inbox.wait(c.cursor, (m) => m.name === 'SSH_MSG_CHANNEL_EXTENDED_DATA' || m.name === 'SSH_MSG_CHANNEL_CLOSE', 5000);
    if (r.kind !== 'message' || r.m.name !== 'SSH_MSG_CHANNEL_EXTENDED_DATA') return ctx.notApplicable('the failing command produced no extended data');
    if (Number(r.m.fields?.['dataTypeCode']) === 0) ctx.fail('CHANNEL_EXTENDED_DATA with data type code 0');
  }),

  defineCheck({
    id: 'registry.extended-data-from-client',
    title: 'SSH_MSG_CHANNEL_EXTENDED_DATA (type 1) from us on a "cat" session is taken without breaking the channel',
    level: 'SHOULD', area: 'connection', suites: ['connection', 'robustness'],
    spec: ['RFC 4250 §4.4.1: ... \'data_type_code\' values in the range of 0x00000001 to 0xFFFFFFFF', 'RFC 4254 §5.2: Data transfer is done with messages of the following type ... SSH_MSG_CHANNEL_EXTENDED_DATA (either party may send it; the window covers it)'],
  }, async (ctx) => {
    const c = await authed(ctx);
    const ch = await c.openSession();
    await c.exec(ch, 'cat');
    c.send({ type: 'SSH_MSG_CHANNEL_EXTENDED_DATA', recipientChannel: ch.remote, dataTypeCode: 1, data: Buffer.from('to stderr?\n') });
    c.send({ type: 'SSH_MSG_CHANNEL_DATA', recipientChannel: ch.remote, data: Buffer.from('still here\n') });
    const d = await c.expectMessage('SSH_MSG_CHANNEL_DATA', { where: { recipientChannel: ch.local }, within: 5000, because: 'cat\'s echo after our extended data' });
    if (!Buffer.from(d.payload).includes(Buffer.from('still here'))) ctx.fail('cat did not echo the data sent after our extended data');
  }),
];

/** A reason code in the private-use range (RFC 4250 §4.3.4 / RFC 4254 §5.1). */
export const PRIVATE_REASON = 0xfe000001;

export const namingChecks: Check[] = [...nameChecks, ...registryChecks];
