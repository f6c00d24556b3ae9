/**
 * OpenSSH's protocol extensions (OpenSSH PROTOCOL, PROTOCOL.certkeys, PROTOCOL.agent) and host-based
 * authentication (RFC 4252 §9), judged on the wire. A server that does not announce or answer an extension gets
 * not-applicable with the reason; what any server must do (refuse a forged certificate or host key) is judged
 * everywhere.
 */
import { readFileSync } from 'node:fs';
import { hostbasedSignedData, publicKeySignedData } from '../../../impl/auth/signed-data.js';
import { generateHostKey } from '../../../impl/crypto/hostkey/index.js';
import { signatureAlgorithms } from '../../../impl/crypto/registry.js';
import type { PrivateKey } from '../../../impl/crypto/types.js';
import { hostKeyProofData } from '../../../impl/connection/host-keys-ext.js';
import { certifiedPrivateKey, signCertificate } from '../../../impl/keys/cert.js';
import { parsePrivateKey } from '../../../impl/keys/index.js';
import { decodeMessage } from '../../../impl/messages/index.js';
import { Reader, Writer } from '../../../impl/wire/index.js';
import type { ClientConn, OpenChannel } from '../client-conn.js';
import type { CheckContext } from '../context.js';
import { defineCheck } from '../define.js';
import type { InboundMessage } from '../evidence.js';
import type { Check, SpecRef } from '../types.js';
import { extInfoExtensions } from './util.js';

const P = (section: string, text: string): SpecRef => ({ rfc: 'OpenSSH PROTOCOL', section, text });

const PING_SPEC = P('1.9', '"ping@openssh.com": SSH2_MSG_PING (192) carries string data; the peer replies with SSH2_MSG_PONG (193) carrying the same data. A server that supports it announces "ping@openssh.com" with version "0" in SSH2_MSG_EXT_INFO.');
const NO_MORE_SPEC = P('2.2', '"no-more-sessions@openssh.com": a client may declare that it will open no further session channels; a server that receives this request should refuse any later session channel open (and may disconnect).');
const STREAMLOCAL_SPEC = P('2.4', '"direct-streamlocal@openssh.com" opens a channel to a Unix-domain socket on the server (string socket path, string reserved, uint32 reserved); "streamlocal-forward@openssh.com" / "cancel-streamlocal-forward@openssh.com" listen on one.');
const HOSTKEYS_SPEC = P('2.5', '"hostkeys-00@openssh.com": after user authentication the server informs the client of all its protocol v.2 host keys: byte SSH_MSG_GLOBAL_REQUEST, string "hostkeys-00@openssh.com", char 0 (want-reply), string[] hostkeys.');
const PROVE_SPEC = P('2.5', '"hostkeys-prove-00@openssh.com": the client asks the server to prove ownership of host keys; the server replies with SSH_MSG_REQUEST_SUCCESS containing one signature per key, each over string "hostkeys-prove-00@openssh.com", string session identifier, string hostkey.');
const HOSTBOUND_SPEC = P('3.1', '"publickey-hostbound-v00@openssh.com": like "publickey", with the server host key from the key exchange added after the key blob, in the request and in the signed data; a server supporting it announces "publickey-hostbound@openssh.com" (version "0") in SSH2_MSG_EXT_INFO.');
const KEEPALIVE_SPEC = 'RFC 4254 §4: If want reply is TRUE, the recipient MUST respond with SSH_MSG_REQUEST_SUCCESS or SSH_MSG_REQUEST_FAILURE (OpenSSH sends "keepalive@openssh.com" with want reply to probe the peer, ssh_config(5) ServerAliveInterval).';
const CHANNEL_REPLY_SPEC = 'RFC 4254 §5.4: If \'want reply\' is FALSE, no response will be sent to the request. Otherwise, the recipient responds with either SSH_MSG_CHANNEL_SUCCESS, SSH_MSG_CHANNEL_FAILURE, or request-specific continuation messages.';
const AGENT_SPEC: SpecRef = { rfc: 'OpenSSH PROTOCOL.agent', section: '"auth-agent-req@openssh.com"', text: 'A client requests agent forwarding on a session with the channel request "auth-agent-req@openssh.com"; the server then opens "auth-agent@openssh.com" channels to reach the agent.' };
const CERT_SPEC: SpecRef = { rfc: 'OpenSSH PROTOCOL.certkeys', section: 'Certificates', text: 'The signature key is the CA key that signed the certificate; a certificate is only valid if the verifier trusts that CA (sshd TrustedUserCAKeys, authorized_keys cert-authority).' };
const HOSTBASED_SPEC = 'RFC 4252 §9: The server MUST verify that the host key actually belongs to the client host named in the message, that the given user on that host is allowed to log in, and that the signature is a valid signature on the appropriate value by the given host key.';
const EXT_IN_AUTH_SPEC = ['RFC 8308 §2.4: the server MAY send SSH_MSG_EXT_INFO a second time, once, immediately preceding the server\'s SSH_MSG_USERAUTH_SUCCESS.',
  P('1.10', '"ext-info-in-auth@openssh.com": an OpenSSH server may send SSH2_MSG_EXT_INFO during user authentication, after it has learned the user name, to update the signature algorithms it accepts.')];

const PING = 192;
const PONG = 193;

async function authed(ctx: CheckContext): Promise<ClientConn> {
  const c = await ctx.connect();
  await c.authenticate('any');
  return c;
}

/** The first message matching `pred` after the cursor within `ms`, or undefined (timeout or close). */
async function waitFor(c: ClientConn, pred: (m: InboundMessage) => boolean, ms: number): Promise<InboundMessage | undefined> {
  const r = await c.rec.inbox.wait(c.cursor, pred, ms);
  if (r.kind !== 'message') return undefined;
  c.cursor = r.m.index + 1;
  return r.m;
}

function globalRequestName(m: InboundMessage): string | undefined {
  if (m.name !== 'SSH_MSG_GLOBAL_REQUEST') return undefined;
  try {
    return new Reader(m.payload.subarray(1)).ascii('request name');
  } catch {
    return undefined;
  }
}

/** string[] until the end (OpenSSH's repeated strings without a count). */
function stringList(data: Uint8Array, max = 64): Uint8Array[] | undefined {
  try {
    const r = new Reader(data);
    const out: Uint8Array[] = [];
    while (r.remaining > 0 && out.length <= max) out.push(r.string('item'));
    return r.remaining === 0 ? out : undefined;
  } catch {
    return undefined;
  }
}

/** hostkeys-00 sent by the server after authentication (within `ms`), with its key blobs; undefined when none came. */
async function announcedHostKeys(c: ClientConn, ms = 2000): Promise<{ m: InboundMessage; wantReply: boolean; keys: Uint8Array[] | undefined } | undefined> {
  const m = c.rec.inbox.messages.find((x) => globalRequestName(x) === 'hostkeys-00@openssh.com')
    ?? await waitFor(c, (x) => globalRequestName(x) === 'hostkeys-00@openssh.com', ms);
  if (!m) return undefined;
  const r = new Reader(m.payload.subarray(1));
  r.ascii('name');
  const wantReply = r.boolean();
  return { m, wantReply, keys: stringList(r.rest()) };
}

/**
 * Liveness after a request: a global request with an unknown name and want-reply must be answered (RFC 4254 §4);
 * SSH_MSG_UNIMPLEMENTED from a server without global requests counts as alive too. (The suite's unknown-number ping
 * uses 19, which some peers treat as a fatal kex-range message: not what these checks are about.)
 */
async function alive(c: ClientConn): Promise<boolean> {
  c.send(globalRequest('ssh-harness-liveness@example.com', true));
  const m = await waitFor(c, (x) => ['SSH_MSG_REQUEST_SUCCESS', 'SSH_MSG_REQUEST_FAILURE', 'SSH_MSG_UNIMPLEMENTED'].includes(x.name), 5000);
  return m !== undefined;
}

function globalRequest(name: string, wantReply: boolean, data: Uint8Array = new Uint8Array(0)) {
  return { type: 'SSH_MSG_GLOBAL_REQUEST' as const, name, wantReply, data };
}

function userKey(ctx: CheckContext): PrivateKey {
  const path = ctx.target.credentials.privateKeyPath;
  if (!path) return ctx.notApplicable('the target has no private key for publickey authentication');
  return parsePrivateKey(readFileSync(path)).toPrivateKey();
}

async function session(c: ClientConn): Promise<OpenChannel> {
  return c.openSession({ window: 1 << 20, maxPacket: 32768 });
}

function channelRequest(ch: OpenChannel, requestType: string, wantReply: boolean, data: Uint8Array = new Uint8Array(0)) {
  return { type: 'SSH_MSG_CHANNEL_REQUEST' as const, recipientChannel: ch.remote, requestType, wantReply, data };
}

/** A USERAUTH_REQUEST payload for a method our codec has no variant for (publickey-hostbound-v00@openssh.com). */
function hostboundRequest(user: string, algorithm: string, key: Uint8Array, hostKey: Uint8Array, signature: Uint8Array): Uint8Array {
  return new Writer(1024).byte(50).string(user).string('ssh-connection').string('publickey-hostbound-v00@openssh.com')
    .boolean(true).string(algorithm).string(key).string(hostKey).string(signature).finish();
}

function hostboundSignedData(sessionId: Uint8Array, user: string, algorithm: string, key: Uint8Array, hostKey: Uint8Array): Uint8Array {
  return new Writer(1024).string(sessionId).byte(50).string(user).string('ssh-connection').string('publickey-hostbound-v00@openssh.com')
    .boolean(true).string(algorithm).string(key).string(hostKey).finish();
}

export const opensshExtChecks: Check[] = [
  defineCheck({
    id: 'ext.ping-pong',
    title: 'A server announcing ping@openssh.com answers SSH2_MSG_PING with SSH2_MSG_PONG echoing the data',
    level: 'MUST', area: 'ext-info', suites: ['transport'], spec: PING_SPEC,
  }, async (ctx) => {
    const c = await authed(ctx);
    const ext = extInfoExtensions(c.rec.inbox.messages.find((m) => m.name === 'SSH_MSG_EXT_INFO'));
    if (!ext.has('ping@openssh.com')) return ctx.notApplicable('the server does not announce ping@openssh.com in SSH_MSG_EXT_INFO');
    const data = Buffer.from('ssh-harness ping 4253');
    c.sendRaw(new Writer(64).byte(PING).string(data).finish(), 'SSH2_MSG_PING');
    const pong = await waitFor(c, (m) => m.id === PONG || m.name === 'SSH_MSG_UNIMPLEMENTED', 5000);
    if (!pong) return ctx.fail('no SSH2_MSG_PONG within 5 s');
    if (pong.id !== PONG) return ctx.fail('SSH2_MSG_PING was answered with SSH_MSG_UNIMPLEMENTED although ping@openssh.com was announced');
    let echoed: Uint8Array | undefined;
    try { const r = new Reader(pong.payload.subarray(1)); echoed = r.string('pong data'); r.end('SSH2_MSG_PONG'); } catch { echoed = undefined; }
    if (!echoed || Buffer.compare(Buffer.from(echoed), data) !== 0) ctx.fail('SSH2_MSG_PONG does not carry the data of the SSH2_MSG_PING');
  }),

  defineCheck({
    id: 'ext.no-more-sessions',
    title: 'After no-more-sessions@openssh.com is accepted, a further session channel is refused',
    level: 'SHOULD', area: 'connection', suites: ['connection', 'security'], spec: NO_MORE_SPEC,
  }, async (ctx) => {
    const c = await authed(ctx);
    await session(c);
    c.send(globalRequest('no-more-sessions@openssh.com', true));
    const r = await c.expectMessage(['SSH_MSG_REQUEST_SUCCESS', 'SSH_MSG_REQUEST_FAILURE', 'SSH_MSG_UNIMPLEMENTED'], { else: 'inconclusive', because: 'the no-more-sessions@openssh.com request' });
    if (r.name !== 'SSH_MSG_REQUEST_SUCCESS') return ctx.notApplicable(`the server answered no-more-sessions@openssh.com with ${r.name} (it does not implement it)`);
    c.send({ type: 'SSH_MSG_CHANNEL_OPEN', channelType: 'session', senderChannel: 7, initialWindowSize: 1 << 20, maximumPacketSize: 32768, data: new Uint8Array(0) });
    const o = await c.expectMessage(['SSH_MSG_CHANNEL_OPEN_CONFIRMATION', 'SSH_MSG_CHANNEL_OPEN_FAILURE'], { else: 'pass', because: 'a session after no-more-sessions (a disconnect also refuses it)' });
    if (o.name === 'SSH_MSG_CHANNEL_OPEN_CONFIRMATION') ctx.fail('a session channel was confirmed after no-more-sessions@openssh.com');
  }),

  defineCheck({
    id: 'ext.hostkeys-announced',
    title: 'hostkeys-00@openssh.com, when sent, comes without want-reply and lists well-formed keys including the key-exchange host key',
    level: 'MUST', area: 'connection', suites: ['connection'], spec: HOSTKEYS_SPEC,
  }, async (ctx) => {
    const c = await authed(ctx);
    const a = await announcedHostKeys(c);
    if (!a) return ctx.notApplicable('the server sent no hostkeys-00@openssh.com after authentication');
    if (a.wantReply) ctx.fail('hostkeys-00@openssh.com asks for a reply (PROTOCOL §2.5: want-reply is 0)');
    if (!a.keys || a.keys.length === 0) return ctx.fail('hostkeys-00@openssh.com data is not a list of strings');
    const kexKey = c.engine.hostKey?.blob;
    c.note(`${a.keys.length} host key(s) announced`);
    if (kexKey && !a.keys.some((k) => Buffer.compare(Buffer.from(k), Buffer.from(kexKey)) === 0)) {
      // only plain keys are announced: after a certificate key exchange the certificate itself is not listed
      const certified = c.negotiated?.hostKey.endsWith('-cert-v01@openssh.com') === true;
      if (!certified) ctx.fail('the host key used in the key exchange is not among the announced keys');
    }
  }),

  defineCheck({
    id: 'ext.hostkeys-prove',
    title: 'hostkeys-prove-00@openssh.com for the announced keys is answered with one valid signature per key over the session identifier',
    level: 'MUST', area: 'connection', suites: ['connection', 'security'], spec: PROVE_SPEC,
  }, async (ctx) => {
    const c = await authed(ctx);
    const a = await announcedHostKeys(c);
    if (!a?.keys?.length) return ctx.notApplicable('the server sent no hostkeys-00@openssh.com, so there is nothing to prove');
    const sid = c.engine.sessionId!;
    const w = new Writer(4096);
    for (const k of a.keys) w.string(k);
    c.send(globalRequest('hostkeys-prove-00@openssh.com', true, w.finish()));
    const r = await c.expectMessage(['SSH_MSG_REQUEST_SUCCESS', 'SSH_MSG_REQUEST_FAILURE'], { because: 'hostkeys-prove-00@openssh.com' });
    if (r.name !== 'SSH_MSG_REQUEST_SUCCESS') return ctx.fail('the server refused to prove the host keys it announced');
    const sigs = stringList(r.payload.subarray(1));
    if (!sigs || sigs.length !== a.keys.length) return ctx.fail(`expected ${a.keys.length} signatures, got ${sigs?.length ?? 'an undecodable reply'}`);
    a.keys.forEach((key, i) => {
      const sig = sigs[i]!;
      let name = '';
      try { name = new Reader(sig).ascii('signature algorithm'); } catch { /* checked below */ }
      const alg = signatureAlgorithms.get(name);
      if (!alg || !alg.verify(key, hostKeyProofData(sid, key), sig)) ctx.fail(`signature ${i + 1} (${name || 'undecodable'}) does not verify with the announced key`);
    });
  }),

  defineCheck({
    id: 'ext.hostkeys-prove-unknown-key',
    title: 'hostkeys-prove-00@openssh.com for a key the server does not hold is refused',
    level: 'MUST', area: 'connection', suites: ['connection', 'security'], spec: PROVE_SPEC,
  }, async (ctx) => {
    const c = await authed(ctx);
    const a = await announcedHostKeys(c);
    if (!a) return ctx.notApplicable('the server sent no hostkeys-00@openssh.com (it does not implement host key rotation)');
    c.send(globalRequest('hostkeys-prove-00@openssh.com', true, new Writer(128).string(generateHostKey('ssh-ed25519').publicKey.blob).finish()));
    const r = await c.expectMessage(['SSH_MSG_REQUEST_SUCCESS', 'SSH_MSG_REQUEST_FAILURE'], { else: 'pass', because: 'proof for a foreign key (a disconnect refuses too)' });
    if (r.name === 'SSH_MSG_REQUEST_SUCCESS') ctx.fail('the server answered a proof request for a key it cannot hold with SSH_MSG_REQUEST_SUCCESS');
  }),

  defineCheck({
    id: 'ext.keepalive-global-answered',
    title: 'GLOBAL_REQUEST keepalive@openssh.com with want-reply is answered (success or failure)',
    level: 'MUST', area: 'connection', suites: ['connection'], spec: KEEPALIVE_SPEC,
  }, async (ctx) => {
    const c = await authed(ctx);
    c.send(globalRequest('keepalive@openssh.com', true));
    await c.expectMessage(['SSH_MSG_REQUEST_SUCCESS', 'SSH_MSG_REQUEST_FAILURE'], { because: 'the reply to keepalive@openssh.com' });
  }),

  defineCheck({
    id: 'ext.keepalive-channel-answered',
    title: 'CHANNEL_REQUEST keepalive@openssh.com with want-reply on a session is answered (success or failure)',
    level: 'MUST', area: 'connection', suites: ['connection'], spec: CHANNEL_REPLY_SPEC,
  }, async (ctx) => {
    const c = await authed(ctx);
    const ch = await session(c);
    c.send(channelRequest(ch, 'keepalive@openssh.com', true));
    await c.expectMessage(['SSH_MSG_CHANNEL_SUCCESS', 'SSH_MSG_CHANNEL_FAILURE'], { where: { recipientChannel: ch.local }, because: 'the reply to keepalive@openssh.com' });
  }),

  defineCheck({
    id: 'ext.auth-agent-req-answered',
    title: 'auth-agent-req@openssh.com with want-reply on a session is answered, and the connection stays usable',
    level: 'MUST', area: 'connection', suites: ['connection'], spec: [AGENT_SPEC, CHANNEL_REPLY_SPEC],
  }, async (ctx) => {
    const c = await authed(ctx);
    const ch = await session(c);
    c.send(channelRequest(ch, 'auth-agent-req@openssh.com', true));
    const r = await c.expectMessage(['SSH_MSG_CHANNEL_SUCCESS', 'SSH_MSG_CHANNEL_FAILURE'], { where: { recipientChannel: ch.local }, because: 'the reply to auth-agent-req@openssh.com' });
    c.note(`agent forwarding ${r.name === 'SSH_MSG_CHANNEL_SUCCESS' ? 'accepted' : 'refused'}`);
    if (!(await alive(c))) ctx.fail('the connection stopped answering after auth-agent-req@openssh.com');
  }),

  defineCheck({
    id: 'ext.direct-streamlocal-missing-socket',
    title: 'direct-streamlocal@openssh.com to a socket that does not exist is refused with CHANNEL_OPEN_FAILURE',
    level: 'MUST', area: 'connection', suites: ['connection', 'robustness'], spec: [STREAMLOCAL_SPEC, 'RFC 4254 §5.1: If the recipient of the SSH_MSG_CHANNEL_OPEN message does not support the specified channel type, or cannot open the channel, it responds with SSH_MSG_CHANNEL_OPEN_FAILURE.'],
  }, async (ctx) => {
    const c = await authed(ctx);
    const data = new Writer(128).string('/nonexistent/ssh-harness-streamlocal.sock').string('').uint32(0).finish();
    c.send({ type: 'SSH_MSG_CHANNEL_OPEN', channelType: 'direct-streamlocal@openssh.com', senderChannel: 9, initialWindowSize: 65536, maximumPacketSize: 32768, data });
    const r = await c.expectMessage(['SSH_MSG_CHANNEL_OPEN_CONFIRMATION', 'SSH_MSG_CHANNEL_OPEN_FAILURE'], { because: 'the answer to direct-streamlocal@openssh.com' });
    if (r.name === 'SSH_MSG_CHANNEL_OPEN_CONFIRMATION') return ctx.fail('a channel to a Unix socket that does not exist was confirmed');
    if (!(await alive(c))) ctx.fail('the connection stopped answering after the refused direct-streamlocal channel');
  }),

  defineCheck({
    id: 'ext.streamlocal-forward-answered',
    title: 'streamlocal-forward@openssh.com with want-reply is answered; an accepted listener is cancelled with cancel-streamlocal-forward@openssh.com',
    level: 'MUST', area: 'connection', suites: ['connection'], spec: [STREAMLOCAL_SPEC, KEEPALIVE_SPEC],
  }, async (ctx) => {
    const c = await authed(ctx);
    const path = `/tmp/ssh-harness-${process.pid}-${Date.now()}.sock`;
    c.send(globalRequest('streamlocal-forward@openssh.com', true, new Writer(128).string(path).finish()));
    const r = await c.expectMessage(['SSH_MSG_REQUEST_SUCCESS', 'SSH_MSG_REQUEST_FAILURE'], { because: 'the reply to streamlocal-forward@openssh.com' });
    if (r.name === 'SSH_MSG_REQUEST_FAILURE') return ctx.notApplicable('the server refuses Unix-socket forwarding (policy or unsupported)');
    c.send(globalRequest('cancel-streamlocal-forward@openssh.com', true, new Writer(128).string(path).finish()));
    const x = await c.expectMessage(['SSH_MSG_REQUEST_SUCCESS', 'SSH_MSG_REQUEST_FAILURE'], { because: 'the reply to cancel-streamlocal-forward@openssh.com' });
    if (x.name !== 'SSH_MSG_REQUEST_SUCCESS') ctx.fail('the listener it accepted could not be cancelled');
  }),

  defineCheck({
    id: 'ext.publickey-hostbound',
    title: 'A server announcing publickey-hostbound@openssh.com accepts publickey-hostbound-v00 bound to its own host key',
    level: 'MUST', area: 'auth', suites: ['auth'], requires: { auth: ['publickey'] }, spec: HOSTBOUND_SPEC,
  }, async (ctx) => {
    const c = await ctx.connect();
    await c.service('ssh-userauth');
    const ext = extInfoExtensions(c.rec.inbox.messages.find((m) => m.name === 'SSH_MSG_EXT_INFO'));
    if (!ext.has('publickey-hostbound@openssh.com')) return ctx.notApplicable('the server does not announce publickey-hostbound@openssh.com');
    const key = userKey(ctx);
    const alg = c.userKeyAlgorithm();
    const hostKey = c.engine.hostKey!.blob;
    const user = ctx.target.credentials.user;
    const sig = key.sign(alg, hostboundSignedData(c.engine.sessionId!, user, alg, key.publicKey.blob, hostKey));
    c.sendRaw(hostboundRequest(user, alg, key.publicKey.blob, hostKey, sig), 'publickey-hostbound-v00@openssh.com');
    const r = await c.expectMessage(['SSH_MSG_USERAUTH_SUCCESS', 'SSH_MSG_USERAUTH_FAILURE'], { because: 'publickey-hostbound-v00 authentication' });
    if (r.name !== 'SSH_MSG_USERAUTH_SUCCESS') ctx.fail('a correctly bound publickey-hostbound-v00 request with the authorized key failed');
  }),

  defineCheck({
    id: 'ext.publickey-hostbound-wrong-host',
    title: 'publickey-hostbound-v00 bound to another server\'s host key is refused',
    level: 'MUST', area: 'auth', suites: ['auth', 'security'], requires: { auth: ['publickey'] }, spec: HOSTBOUND_SPEC,
  }, async (ctx) => {
    const c = await ctx.connect();
    await c.service('ssh-userauth');
    const ext = extInfoExtensions(c.rec.inbox.messages.find((m) => m.name === 'SSH_MSG_EXT_INFO'));
    if (!ext.has('publickey-hostbound@openssh.com')) return ctx.notApplicable('the server does not announce publickey-hostbound@openssh.com');
    const key = userKey(ctx);
    const alg = c.userKeyAlgorithm();
    const other = generateHostKey('ssh-ed25519').publicKey.blob;
    const user = ctx.target.credentials.user;
    const sig = key.sign(alg, hostboundSignedData(c.engine.sessionId!, user, alg, key.publicKey.blob, other));
    c.sendRaw(hostboundRequest(user, alg, key.publicKey.blob, other, sig), 'publickey-hostbound-v00@openssh.com (foreign host key)');
    const r = await c.expectMessage(['SSH_MSG_USERAUTH_SUCCESS', 'SSH_MSG_USERAUTH_FAILURE'], { else: 'pass', because: 'a request bound to another host (a disconnect refuses too)' });
    if (r.name === 'SSH_MSG_USERAUTH_SUCCESS') ctx.fail('a publickey-hostbound-v00 request bound to a foreign host key was accepted');
  }),

  defineCheck({
    id: 'ext.ext-info-in-auth-once',
    title: 'With ext-info-in-auth@openssh.com announced, an SSH_MSG_EXT_INFO during authentication comes once, before SSH_MSG_USERAUTH_SUCCESS',
    level: 'MUST', area: 'ext-info', suites: ['auth'], spec: EXT_IN_AUTH_SPEC,
  }, async (ctx) => {
    const c = await ctx.connect();
    await c.kex();
    // the client says it takes EXT_INFO during authentication: its own EXT_INFO, the first message after NEWKEYS
    // (RFC 8308 §2.4), allowed only when the server offered ext-info-s (RFC 8308 §2.1)
    const offered = ctx.target.kexInit?.kex.includes('ext-info-s') === true;
    if (offered) c.send({ type: 'SSH_MSG_EXT_INFO', extensions: [{ name: 'ext-info-in-auth@openssh.com', value: Buffer.from('0') }] });
    await c.authenticate('any');
    const msgs = c.rec.inbox.messages;
    const success = msgs.findIndex((m) => m.name === 'SSH_MSG_USERAUTH_SUCCESS');
    const accept = msgs.findIndex((m) => m.name === 'SSH_MSG_SERVICE_ACCEPT');
    const during = msgs.filter((m, i) => m.name === 'SSH_MSG_EXT_INFO' && i > accept);
    if (during.length === 0) return ctx.notApplicable(`the server sent no SSH_MSG_EXT_INFO during authentication${offered ? ' (we announced ext-info-in-auth@openssh.com)' : ' (it offers no ext-info-s, so we could not announce ext-info-in-auth@openssh.com)'}`);
    if (during.length > 1) ctx.fail(`${during.length} SSH_MSG_EXT_INFO messages during authentication`);
    if (during.some((m) => m.index > success)) ctx.fail('SSH_MSG_EXT_INFO after SSH_MSG_USERAUTH_SUCCESS');
    const ext = extInfoExtensions(during[0]);
    c.note(`extensions sent during authentication: ${[...ext.keys()].join(', ')}`);
    try { decodeMessage(during[0]!.payload); } catch { ctx.fail('the SSH_MSG_EXT_INFO sent during authentication does not decode'); }
  }),

  defineCheck({
    id: 'cert.untrusted-ca-refused',
    title: 'A user certificate signed by a CA the server does not trust is refused, though correctly signed over the session',
    level: 'MUST', area: 'auth', suites: ['auth', 'security'], spec: CERT_SPEC,
  }, async (ctx) => {
    const c = await ctx.connect();
    await c.service('ssh-userauth');
    const user = ctx.target.credentials.user;
    const ca = generateHostKey('ssh-ed25519');
    const subject = generateHostKey('ssh-ed25519');
    const cert = signCertificate(ca, { publicKey: subject.publicKey.blob, kind: 'user', keyId: 'ssh-harness untrusted', principals: [user] });
    const signer = certifiedPrivateKey(subject, cert);
    const alg = 'ssh-ed25519-cert-v01@openssh.com';
    const sig = signer.sign(alg, publicKeySignedData(c.engine.sessionId!, user, 'ssh-connection', alg, cert));
    c.send({ type: 'SSH_MSG_USERAUTH_REQUEST', user, service: 'ssh-connection', method: 'publickey', hasSignature: true, algorithm: alg, key: cert, signature: sig });
    const r = await c.expectMessage(['SSH_MSG_USERAUTH_SUCCESS', 'SSH_MSG_USERAUTH_FAILURE'], { else: 'pass', because: 'an untrusted certificate (a disconnect refuses too)' });
    if (r.name === 'SSH_MSG_USERAUTH_SUCCESS') ctx.fail('a certificate from an unknown CA authenticated the user');
  }),

  defineCheck({
    id: 'auth.hostbased-unknown-host-refused',
    title: 'Host-based authentication with a host key the server does not know is refused, though correctly signed',
    level: 'MUST', area: 'auth', suites: ['auth', 'security'], spec: HOSTBASED_SPEC,
  }, async (ctx) => {
    const c = await ctx.connect();
    await c.service('ssh-userauth');
    const user = ctx.target.credentials.user;
    const hostKey = generateHostKey('ssh-ed25519');
    const sig = hostKey.sign('ssh-ed25519', hostbasedSignedData(c.engine.sessionId!, user, 'ssh-connection', 'ssh-ed25519', hostKey.publicKey.blob, 'ssh-harness.invalid.', user));
    c.send({ type: 'SSH_MSG_USERAUTH_REQUEST', user, service: 'ssh-connection', method: 'hostbased', algorithm: 'ssh-ed25519', key: hostKey.publicKey.blob, clientHost: 'ssh-harness.invalid.', clientUser: user, signature: sig });
    const r = await c.expectMessage(['SSH_MSG_USERAUTH_SUCCESS', 'SSH_MSG_USERAUTH_FAILURE'], { else: 'pass', because: 'hostbased from an unknown host (a disconnect refuses too)' });
    if (r.name === 'SSH_MSG_USERAUTH_SUCCESS') ctx.fail('hostbased authentication with an unknown host key succeeded');
  }),

  defineCheck({
    id: 'auth.hostbased-bad-signature-refused',
    title: 'Host-based authentication whose signature does not verify is refused',
    level: 'MUST', area: 'auth', suites: ['auth', 'security'], spec: HOSTBASED_SPEC,
  }, async (ctx) => {
    const c = await ctx.connect();
    await c.service('ssh-userauth');
    const user = ctx.target.credentials.user;
    const hostKey = generateHostKey('ssh-ed25519');
    // signed over a different client user than the request names
    const sig = hostKey.sign('ssh-ed25519', hostbasedSignedData(c.engine.sessionId!, user, 'ssh-connection', 'ssh-ed25519', hostKey.publicKey.blob, 'localhost.', 'someone-else'));
    c.send({ type: 'SSH_MSG_USERAUTH_REQUEST', user, service: 'ssh-connection', method: 'hostbased', algorithm: 'ssh-ed25519', key: hostKey.publicKey.blob, clientHost: 'localhost.', clientUser: user, signature: sig });
    const r = await c.expectMessage(['SSH_MSG_USERAUTH_SUCCESS', 'SSH_MSG_USERAUTH_FAILURE'], { else: 'pass', because: 'a hostbased request with a bad signature (a disconnect refuses too)' });
    if (r.name === 'SSH_MSG_USERAUTH_SUCCESS') ctx.fail('hostbased authentication with a signature over other data succeeded');
  }),
];
