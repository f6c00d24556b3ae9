/**
 * User authentication beyond password and publickey basics: keyboard-interactive (RFC 4256 §3.1, §3.4), the
 * rule that connection-protocol messages before authentication end the connection (RFC 4252 §6), replay
 * protection through the session identifier and the MAC (RFC 4251 §9.3.3), and strict RSA PKCS #1 v1.5
 * signature verification (RFC 8332 §5.3).
 */
import { constants, createHash, privateEncrypt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { publicKeySignedData } from '../../../impl/auth/signed-data.js';
import { decodeMessage, type MessageInput } from '../../../impl/messages/index.js';
import { parsePrivateKey } from '../../../impl/keys/index.js';
import { clientKeys } from '../../targets/test-user.js';
import type { ClientConn } from '../client-conn.js';
import type { CheckContext } from '../context.js';
import { defineCheck } from '../define.js';
import type { InboundMessage } from '../evidence.js';
import type { Check } from '../types.js';
import { sshString, wire } from './util.js';

// ───────────── keyboard-interactive (RFC 4256) ─────────────

const KI_31 = 'RFC 4256 §3.1: The server MUST reply with an SSH_MSG_USERAUTH_SUCCESS, SSH_MSG_USERAUTH_FAILURE, or SSH_MSG_USERAUTH_INFO_REQUEST message.';
const KI_LANG = 'RFC 4256 §3.1: The language tag is deprecated and SHOULD be the empty string. ... If the server does not support the requested language, the language to be used is implementation-dependent.';
const KI_SUB = 'RFC 4256 §3.1: The submethods field is included so the user can give a hint of which actual methods to use. ... Server interpretation of the submethods field is implementation-dependent.';
const KI_USER = 'RFC 4256 §3.1: The server SHOULD NOT reply with the SSH_MSG_USERAUTH_FAILURE message if the failure is based on the user name or service name; instead, it SHOULD send SSH_MSG_USERAUTH_INFO_REQUEST message(s), which look just like the one(s) that would have been sent in cases where the authentication should proceed';
const KI_34 = 'RFC 4256 §3.4: The num-responses field MUST match the num-prompts field in the request message. ... If the num-responses field does not match the num-prompts field in the request message, the server MUST send a failure message.';

const AUTH_REPLIES = ['SSH_MSG_USERAUTH_SUCCESS', 'SSH_MSG_USERAUTH_FAILURE', 'SSH_MSG_USERAUTH_INFO_REQUEST'];

function kiRequest(user: string, o: { language?: string; submethods?: string } = {}): MessageInput {
  return { type: 'SSH_MSG_USERAUTH_REQUEST', user, service: 'ssh-connection', method: 'keyboard-interactive', language: o.language ?? '', submethods: o.submethods ?? '' };
}

/** The server's reply to a keyboard-interactive request: message 60 is INFO_REQUEST in this context. */
async function kiReply(c: ClientConn): Promise<{ name: string; prompts: number; m: InboundMessage }> {
  const m = await c.expectMessage(['SSH_MSG_USERAUTH_SUCCESS', 'SSH_MSG_USERAUTH_FAILURE', 'SSH_MSG_USERAUTH_INFO_REQUEST', 'SSH_MSG_USERAUTH_PK_OK', 'SSH_MSG_USERAUTH_PASSWD_CHANGEREQ', 'SSH_MSG_DISCONNECT'], { within: 10_000, else: 'fail', because: 'the reply to keyboard-interactive' });
  if (m.id !== 60) return { name: m.name, prompts: 0, m };
  const d = decodeMessage(m.payload, { auth: 'keyboard-interactive' });
  return { name: 'SSH_MSG_USERAUTH_INFO_REQUEST', prompts: d.type === 'SSH_MSG_USERAUTH_INFO_REQUEST' ? d.prompts.length : 0, m };
}

/** keyboard-interactive for the test user; not applicable when the server does not take it. */
async function kiStart(ctx: CheckContext, o: { language?: string; submethods?: string; user?: string } = {}): Promise<{ c: ClientConn; prompts: number; name: string }> {
  const c = await ctx.connect();
  await c.service('ssh-userauth');
  c.send({ type: 'SSH_MSG_USERAUTH_REQUEST', user: c.target.credentials.user, service: 'ssh-connection', method: 'none' });
  const none = await c.expectMessage(['SSH_MSG_USERAUTH_FAILURE', 'SSH_MSG_USERAUTH_SUCCESS'], { else: 'inconclusive' });
  const methods = (none.fields?.['methods'] as string[] | undefined) ?? [];
  if (!methods.includes('keyboard-interactive')) return ctx.notApplicable(`the server does not offer keyboard-interactive (methods: ${methods.join(',') || 'none'})`);
  c.send(kiRequest(o.user ?? c.target.credentials.user, o));
  const r = await kiReply(c);
  return { c, prompts: r.prompts, name: r.name };
}

const kiChecks: Check[] = [
  ...([
    { id: 'plain', what: 'an empty language tag and no submethods', o: {}, spec: [KI_31], level: 'MUST' as const },
    { id: 'language-tag', what: 'a (deprecated) language tag "en-US"', o: { language: 'en-US' }, spec: [KI_31, KI_LANG], level: 'SHOULD' as const },
    { id: 'unknown-submethods', what: 'submethods the server does not know', o: { submethods: 'x-nosuch@ssh-harness.invalid,skey' }, spec: [KI_31, KI_SUB], level: 'SHOULD' as const },
  ]).map((v) => defineCheck({
    id: `auth.keyboard-interactive.reply.${v.id}`,
    title: `A keyboard-interactive request with ${v.what} is answered with SUCCESS, FAILURE or INFO_REQUEST`,
    level: v.level, area: 'auth', suites: ['auth'],
    spec: v.spec,
  }, async (ctx) => {
    const { name } = await kiStart(ctx, v.o);
    if (!AUTH_REPLIES.includes(name)) ctx.fail(`the reply was ${name}`);
  })),

  defineCheck({
    id: 'auth.keyboard-interactive.unknown-user-looks-alike',
    title: 'For a user that does not exist, keyboard-interactive is answered with an INFO_REQUEST like the real user\'s, not an immediate FAILURE',
    level: 'SHOULD', area: 'auth', suites: ['auth', 'security'],
    spec: KI_USER,
  }, async (ctx) => {
    const real = await kiStart(ctx);
    if (real.name !== 'SSH_MSG_USERAUTH_INFO_REQUEST') return ctx.notApplicable(`the real user gets ${real.name}, not INFO_REQUEST`);
    const fake = await kiStart(ctx, { user: 'nosuchuser-ssh-harness' });
    if (fake.name === 'SSH_MSG_USERAUTH_FAILURE') return ctx.fail('an unknown user gets an immediate USERAUTH_FAILURE, the real user an INFO_REQUEST: user names can be probed');
    if (fake.name === 'SSH_MSG_USERAUTH_INFO_REQUEST' && fake.prompts !== real.prompts) ctx.fail(`the unknown user gets ${fake.prompts} prompt(s), the real user ${real.prompts}`);
  }),

  ...([
    // one response more than the prompts: auth.keyboard-interactive-count-mismatch
    { id: 'too-few', what: 'one response fewer than the prompts', extra: -1 },
  ]).map((v) => defineCheck({
    id: `auth.keyboard-interactive.response-count.${v.id}`,
    title: `An INFO_RESPONSE with ${v.what} is answered with USERAUTH_FAILURE, never success`,
    level: 'MUST', area: 'auth', suites: ['auth', 'security'],
    requires: { auth: ['password'] },
    spec: KI_34,
  }, async (ctx) => {
    const { c, prompts, name } = await kiStart(ctx);
    if (name !== 'SSH_MSG_USERAUTH_INFO_REQUEST' || prompts < 1) return ctx.notApplicable(`the server answered ${name} with ${prompts} prompt(s)`);
    const responses = Array.from({ length: prompts + v.extra }, () => c.target.credentials.password!);
    c.send({ type: 'SSH_MSG_USERAUTH_INFO_RESPONSE', responses });
    const r = await c.rec.inbox.wait(c.cursor, (m) => ['SSH_MSG_USERAUTH_SUCCESS', 'SSH_MSG_USERAUTH_FAILURE', 'SSH_MSG_DISCONNECT'].includes(m.name) || m.id === 60, 10_000);
    if (r.kind === 'message' && r.m.name === 'SSH_MSG_USERAUTH_SUCCESS') return ctx.fail(`${responses.length} responses to ${prompts} prompt(s) authenticated the user`);
    if (r.kind === 'message' && r.m.name === 'SSH_MSG_USERAUTH_FAILURE') return;
    const got = r.kind === 'message' ? r.m.name : r.kind === 'closed' ? 'the connection ended' : 'nothing';
    ctx.fail(`expected USERAUTH_FAILURE for ${responses.length} responses to ${prompts} prompt(s); got ${got}`);
  })),

  defineCheck({
    id: 'auth.keyboard-interactive.wrong-response',
    title: 'A wrong answer to the keyboard-interactive prompts does not authenticate',
    level: 'MUST', area: 'auth', suites: ['auth', 'security'],
    spec: ['RFC 4256 §3.4: ... the server MUST send a failure message (a response that does not authenticate the user ends in SSH_MSG_USERAUTH_FAILURE or further requests)', KI_31],
  }, async (ctx) => {
    const { c, prompts, name } = await kiStart(ctx);
    if (name !== 'SSH_MSG_USERAUTH_INFO_REQUEST') return ctx.notApplicable(`the server answered ${name}`);
    c.send({ type: 'SSH_MSG_USERAUTH_INFO_RESPONSE', responses: Array.from({ length: prompts }, () => 'not-the-password-ssh-harness') });
    const r = await c.rec.inbox.wait(c.cursor, (m) => m.name === 'SSH_MSG_USERAUTH_SUCCESS' || m.name === 'SSH_MSG_USERAUTH_FAILURE', 10_000);
    if (r.kind === 'message' && r.m.name === 'SSH_MSG_USERAUTH_SUCCESS') ctx.fail('a wrong answer authenticated the user');
  }),

  defineCheck({
    id: 'auth.keyboard-interactive.response-without-request',
    title: 'An INFO_RESPONSE that no INFO_REQUEST asked for does not authenticate',
    level: 'MUST', area: 'auth', suites: ['auth', 'security', 'robustness'],
    spec: ['RFC 4256 §3.4: After obtaining the requested information from the user, the client MUST respond with an SSH_MSG_USERAUTH_INFO_RESPONSE message (a response only follows a request)', 'RFC 4252 §5: The server ... responds to each request with SUCCESS or FAILURE'],
  }, async (ctx) => {
    const c = await ctx.connect();
    await c.service('ssh-userauth');
    c.send({ type: 'SSH_MSG_USERAUTH_INFO_RESPONSE', responses: [c.target.credentials.password ?? 'x'] });
    const r = await c.rec.inbox.wait(c.cursor, (m) => m.name === 'SSH_MSG_USERAUTH_SUCCESS', 1500);
    if (r.kind === 'message') return ctx.fail('an unsolicited INFO_RESPONSE authenticated the user');
    // refusing it by closing is fine here (how the connection ends is RFC 4253 §11.1's SHOULD, judged elsewhere)
    if (!c.closed && (await c.ping())) c.note('the server ignored or refused the INFO_RESPONSE and goes on');
  }),
];

// ───────────── connection-protocol messages before authentication (RFC 4252 §6) ─────────────

const EARLY_6 = 'RFC 4252 §6: Message numbers of 80 and higher are reserved for protocols running after this authentication protocol, so receiving one of them before authentication is complete is an error, to which the server MUST respond by disconnecting, preferably with a proper disconnect message sent to ease troubleshooting.';

const early: readonly { id: string; what: string; payload: MessageInput | Uint8Array }[] = [
  { id: '80-global-request', what: 'SSH_MSG_GLOBAL_REQUEST (80)', payload: { type: 'SSH_MSG_GLOBAL_REQUEST', name: 'keepalive@openssh.com', wantReply: true, data: new Uint8Array(0) } },
  { id: '81-request-success', what: 'SSH_MSG_REQUEST_SUCCESS (81)', payload: { type: 'SSH_MSG_REQUEST_SUCCESS', data: new Uint8Array(0) } },
  { id: '90-channel-open', what: 'SSH_MSG_CHANNEL_OPEN "session" (90)', payload: { type: 'SSH_MSG_CHANNEL_OPEN', channelType: 'session', senderChannel: 0, initialWindowSize: 65536, maximumPacketSize: 32768, data: new Uint8Array(0) } },
  { id: '94-channel-data', what: 'SSH_MSG_CHANNEL_DATA (94)', payload: { type: 'SSH_MSG_CHANNEL_DATA', recipientChannel: 0, data: Buffer.from('early') } },
  { id: '98-channel-request', what: 'SSH_MSG_CHANNEL_REQUEST "exec" (98)', payload: { type: 'SSH_MSG_CHANNEL_REQUEST', recipientChannel: 0, requestType: 'exec', wantReply: true, data: sshString('echo early') } },
  { id: '100-channel-failure', what: 'SSH_MSG_CHANNEL_FAILURE (100)', payload: { type: 'SSH_MSG_CHANNEL_FAILURE', recipientChannel: 0 } },
  { id: '127-unassigned', what: 'unassigned connection-protocol number 127', payload: Uint8Array.of(127) },
  { id: '150-client-range', what: 'message number 150 (reserved for client protocols)', payload: Uint8Array.of(150) },
];

function encodeOut(c: ClientConn, p: MessageInput | Uint8Array, label: string): void {
  if (p instanceof Uint8Array) c.sendRaw(p, label);
  else c.sendRawMessage(p, label);
}

/**
 * After something the server must disconnect for during authentication: passes when the connection ends; fails when
 * a "none" authentication request is still answered (the userauth protocol's own liveness probe, which every server
 * must answer, unlike an unknown message number) or nothing happens at all.
 */
async function expectEnded(ctx: CheckContext, c: ClientConn, what: string): Promise<void> {
  const early = await c.rec.inbox.wait(c.cursor, (m) => m.name === 'SSH_MSG_DISCONNECT', 300);
  if (early.kind !== 'timeout' || c.closed) return;
  c.send({ type: 'SSH_MSG_USERAUTH_REQUEST', user: c.target.credentials.user, service: 'ssh-connection', method: 'none' });
  const r = await c.rec.inbox.wait(c.cursor, (m) => ['SSH_MSG_USERAUTH_FAILURE', 'SSH_MSG_USERAUTH_SUCCESS', 'SSH_MSG_DISCONNECT'].includes(m.name), 3000);
  if (r.kind === 'closed' || (r.kind === 'message' && r.m.name === 'SSH_MSG_DISCONNECT')) return;
  if (r.kind === 'message') return ctx.fail(`${what}: the server kept the connection and answered a later "none" request with ${r.m.name}`);
  ctx.fail(`${what}: the server neither disconnected nor answered a later "none" request within 3000 ms`);
}

const earlyChecks: Check[] = [
  ...early.map((v) => defineCheck({
    id: `auth.before-auth.${v.id}`,
    title: `${v.what} after the userauth service started but before authentication ends the connection`,
    level: 'MUST', area: 'auth', suites: ['auth', 'security'],
    spec: EARLY_6,
  }, async (ctx) => {
    const c = await ctx.connect();
    await c.service('ssh-userauth');
    encodeOut(c, v.payload, 'before authentication');
    const answered = await c.rec.inbox.wait(c.cursor, (m) => ['SSH_MSG_REQUEST_SUCCESS', 'SSH_MSG_CHANNEL_OPEN_CONFIRMATION', 'SSH_MSG_CHANNEL_SUCCESS'].includes(m.name), 600);
    if (answered.kind === 'message') return ctx.fail(`the server processed it: ${answered.m.name}`);
    await expectEnded(ctx, c, `${v.what} before authentication`);
  })),

  defineCheck({
    id: 'auth.before-auth.disconnect-message',
    title: 'Ending the connection for a channel open before authentication, the server sends SSH_MSG_DISCONNECT',
    level: 'SHOULD', area: 'auth', suites: ['auth'],
    spec: EARLY_6,
  }, async (ctx) => {
    const c = await ctx.connect();
    await c.service('ssh-userauth');
    encodeOut(c, early[2]!.payload, 'before authentication');
    await c.expectDisconnect({ within: 3000 });
  }),
];

// ───────────── replay (RFC 4251 §9.3.3) ─────────────

const REPLAY = 'RFC 4251 §9.3.3: The use of a MAC other than \'none\' provides integrity and authentication. In addition, the transport protocol provides a unique session identifier (bound in part to pseudo-random data that is part of the algorithm and key exchange process) that can be used by higher level protocols to bind data to a given session and prevent replay of data from prior sessions. For example, the authentication protocol ([SSH-USERAUTH]) uses this to prevent replay of signatures from previous sessions.';

const replayChecks: Check[] = [
  defineCheck({
    id: 'replay.signature-from-earlier-session',
    title: 'A publickey signature made for one connection\'s session identifier is refused on a second connection',
    level: 'MUST', area: 'auth', suites: ['auth', 'security'],
    requires: { auth: ['publickey'] },
    spec: [REPLAY, 'RFC 4252 §7: string session identifier ... (the signed data begins with the session identifier)'],
  }, async (ctx) => {
    const first = await ctx.connect();
    await first.service('ssh-userauth');
    const stale = first.publicKeyRequest();
    const second = await ctx.connect();
    await second.service('ssh-userauth');
    second.send(stale);
    const r = await second.rec.inbox.wait(second.cursor, (m) => m.name === 'SSH_MSG_USERAUTH_SUCCESS' || m.name === 'SSH_MSG_USERAUTH_FAILURE', 10_000);
    if (r.kind === 'message' && r.m.name === 'SSH_MSG_USERAUTH_SUCCESS') return ctx.fail('a signature over the first connection\'s session identifier authenticated the second connection');
    if (r.kind === 'timeout') second.note('no answer to the replayed signature (not accepted, at least)');
    // the replay was refused (FAILURE, or the server closed): the same key, signing a fresh session, must work
    const third = r.kind === 'message' ? second : await ctx.connect();
    if (third !== second) await third.service('ssh-userauth');
    if (r.kind === 'message') second.cursor = r.m.index + 1;
    third.send(third.publicKeyRequest());
    await third.expectMessage('SSH_MSG_USERAUTH_SUCCESS', { within: 10_000, else: 'inconclusive', because: 'the same key signing this connection\'s session identifier' });
  }),

  defineCheck({
    id: 'replay.session-identifiers-differ',
    title: 'Two connections get different KEXINIT cookies and ephemeral keys from the server (so different session identifiers)',
    level: 'MUST', area: 'kex', suites: ['transport', 'security'],
    spec: [REPLAY, 'RFC 4253 §7.1: The \'cookie\' MUST be a random value generated by the sender.'],
  }, async (ctx) => {
    const grab = async () => {
      const c = await ctx.connect();
      await c.kex();
      const k = c.rec.inbox.messages.find((m) => m.name === 'SSH_MSG_KEXINIT');
      const reply = c.rec.inbox.messages.find((m) => m.id === 31 || m.id === 33);
      return { cookie: Buffer.from(k?.payload.subarray(1, 17) ?? []).toString('hex'), reply: reply ? Buffer.from(reply.payload).toString('hex') : '', sid: Buffer.from(c.engine.sessionId ?? []).toString('hex') };
    };
    const a = await grab();
    const b = await grab();
    if (a.cookie === b.cookie) return ctx.fail(`both KEXINITs carry cookie ${a.cookie}`);
    if (a.reply && a.reply === b.reply) return ctx.fail('the server\'s key exchange reply (ephemeral key and signature) was identical on both connections');
    if (a.sid === b.sid) ctx.fail('both connections have the same session identifier');
  }),

  defineCheck({
    id: 'replay.packet-replayed',
    title: 'The bytes of a packet we already sent, sent again, are not accepted (the MAC covers the sequence number)',
    level: 'MUST', area: 'binary-packet', suites: ['transport', 'security'],
    spec: [REPLAY, 'RFC 4253 §6.4: mac = MAC(key, sequence_number || unencrypted_packet)'],
  }, async (ctx) => {
    const c = await ctx.connect();
    await c.authenticate('any');
    const sock = c.driver.socket;
    const captured: Buffer[] = [];
    const write = sock.write.bind(sock);
    (sock as unknown as { write: (b: Uint8Array) => boolean }).write = (b: Uint8Array) => { captured.push(Buffer.from(b)); return write(b); };
    c.send({ type: 'SSH_MSG_IGNORE', data: Buffer.from('this packet will be replayed') });
    (sock as unknown as { write: typeof write }).write = write;
    const bytes = Buffer.concat(captured);
    if (!bytes.length) return ctx.inconclusive('the IGNORE packet\'s bytes were not seen on the socket');
    c.sendBytes(bytes, 'a replay of the previous packet');
    await c.expectReject({ because: 'a replayed packet' });
  }),
];

// ───────────── RSA PKCS #1 v1.5 verification (RFC 8332 §5.3) ─────────────

const PKCS_53 = 'RFC 8332 §5.3: Implementers are advised that a signature with RSASSA-PKCS1-v1_5 padding MUST NOT be verified by applying the RSA key to the signature, and then parsing the output to extract the hash. ... Verifiers MUST instead apply RSASSA-PKCS1-v1_5 padding to the expected hash, then compare the encoded bytes with the output of the RSA operation.';
const DIGEST_INFO: Record<'sha256' | 'sha512', Buffer> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

type Forgery = (h: Buffer, k: number, hash: 'sha256' | 'sha512') => Buffer;

/** EM = 0x00 0x01 PS 0x00 T (RFC 8017 §9.2), PS of 0xFF to fill k bytes. */
const emsa: Forgery = (h, k, hash) => { const t = Buffer.concat([DIGEST_INFO[hash], h]); return Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(k - t.length - 3, 0xff), Buffer.from([0]), t]); };

const forgeries: readonly { id: string; what: string; alg: 'rsa-sha2-256' | 'rsa-sha2-512'; digest: 'sha256' | 'sha512'; em: Forgery }[] = [
  {
    id: 'long-form-length', what: 'a DigestInfo whose outer length uses the long form (0x81 0x31), one padding byte shorter', alg: 'rsa-sha2-256', digest: 'sha256',
    em: (h, k) => { const t = Buffer.concat([Buffer.from('308131300d060960864801650304020105000420', 'hex'), h]); return Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(k - t.length - 3, 0xff), Buffer.from([0]), t]); },
  },
  {
    id: 'trailing-garbage', what: 'the right DigestInfo and hash followed by garbage (shorter padding)', alg: 'rsa-sha2-256', digest: 'sha256',
    em: (h, k) => { const t = Buffer.concat([DIGEST_INFO.sha256, h, Buffer.alloc(16, 0x5a)]); return Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(k - t.length - 3, 0xff), Buffer.from([0]), t]); },
  },
  {
    id: 'bad-padding-byte', what: 'a padding string with one byte 0xFE instead of 0xFF', alg: 'rsa-sha2-256', digest: 'sha256',
    em: (h, k, hash) => { const em = emsa(h, k, hash); em[5] = 0xfe; return em; },
  },
  {
    id: 'hash-mismatch', what: 'a SHA-512 DigestInfo presented as rsa-sha2-256', alg: 'rsa-sha2-256', digest: 'sha512',
    em: (h, k) => emsa(h, k, 'sha512'),
  },
];

async function rsaKey(): Promise<{ blob: Uint8Array; sign: (alg: string, data: Uint8Array, digest: 'sha256' | 'sha512', em: Forgery) => Uint8Array; honest: (alg: string, data: Uint8Array) => Uint8Array }> {
  const file = (await clientKeys()).find((k) => k.info.type === 'ssh-rsa');
  if (!file) throw new Error('the test account has no RSA key');
  const parsed = parsePrivateKey(readFileSync(file.privatePath));
  const k = (parsed.keyObject.asymmetricKeyDetails?.modulusLength ?? 2048) / 8;
  return {
    blob: parsed.publicBlob,
    honest: (alg, data) => parsed.toPrivateKey().sign(alg, data),
    sign: (alg, data, digest, em) => {
      const h = createHash(digest).update(data).digest();
      const s = privateEncrypt({ key: parsed.keyObject, padding: constants.RSA_NO_PADDING }, em(h, k, digest));
      return wire(sshString(alg), sshString(s));
    },
  };
}

const rsaChecks: Check[] = forgeries.map((f) => defineCheck({
  id: `auth.rsa-pkcs1-strict.${f.id}`,
  title: `A publickey signature (${f.alg}) whose decrypted block has ${f.what} is refused; the honest signature is accepted`,
  level: 'MUST', area: 'auth', suites: ['auth', 'security'],
  requires: { auth: ['publickey'] },
  spec: [PKCS_53, 'RFC 8332 §3.2: the signature ... uses the hash algorithm named by the public key algorithm (SHA-256 for rsa-sha2-256)'],
}, async (ctx) => {
  const key = await rsaKey();
  const c = await ctx.connect();
  await c.service('ssh-userauth');
  const user = c.target.credentials.user;
  const signed = (alg: string) => publicKeySignedData(c.engine.sessionId!, user, 'ssh-connection', alg, key.blob);
  c.send({ type: 'SSH_MSG_USERAUTH_REQUEST', user, service: 'ssh-connection', method: 'publickey', hasSignature: true, algorithm: f.alg, key: key.blob, signature: key.sign(f.alg, signed(f.alg), f.digest, f.em) });
  const r = await c.rec.inbox.wait(c.cursor, (m) => m.name === 'SSH_MSG_USERAUTH_SUCCESS' || m.name === 'SSH_MSG_USERAUTH_FAILURE', 5000);
  if (r.kind === 'message' && r.m.name === 'SSH_MSG_USERAUTH_SUCCESS') return ctx.fail(`a signature with ${f.what} authenticated the user`);
  if (r.kind === 'message') c.cursor = r.m.index + 1;
  else c.note(r.kind === 'timeout' ? 'no answer to the forged signature (not accepted, at least)' : 'the server closed the connection on the forged signature');
  if (r.kind === 'closed') {
    const fresh = await ctx.connect();
    await fresh.service('ssh-userauth');
    fresh.send({ type: 'SSH_MSG_USERAUTH_REQUEST', user, service: 'ssh-connection', method: 'publickey', hasSignature: true, algorithm: f.alg, key: key.blob, signature: key.honest(f.alg, publicKeySignedData(fresh.engine.sessionId!, user, 'ssh-connection', f.alg, key.blob)) });
    const ok = await fresh.expectMessage(['SSH_MSG_USERAUTH_SUCCESS', 'SSH_MSG_USERAUTH_FAILURE'], { within: 10_000, else: 'inconclusive' });
    if (ok.name !== 'SSH_MSG_USERAUTH_SUCCESS') ctx.notApplicable(`the server does not accept the test account's RSA key with ${f.alg}`);
    return;
  }
  c.send({ type: 'SSH_MSG_USERAUTH_REQUEST', user, service: 'ssh-connection', method: 'publickey', hasSignature: true, algorithm: f.alg, key: key.blob, signature: key.honest(f.alg, signed(f.alg)) });
  const ok = await c.expectMessage(['SSH_MSG_USERAUTH_SUCCESS', 'SSH_MSG_USERAUTH_FAILURE'], { within: 10_000, else: 'inconclusive' });
  if (ok.name !== 'SSH_MSG_USERAUTH_SUCCESS') ctx.notApplicable(`the server does not accept the test account's RSA key with ${f.alg}`);
}));

export const authDepthChecks: Check[] = [...kiChecks, ...earlyChecks, ...replayChecks, ...rsaChecks];
