/**
 * User authentication checks that forge or vary publickey signatures (RFC 4252 §7, RFC 8332), count attempts,
 * and walk keyboard-interactive (RFC 4256).
 */
import { readFileSync } from 'node:fs';
import { publicKeySignedData } from '../../../impl/auth/signed-data.js';
import { generateHostKey } from '../../../impl/crypto/hostkey/index.js';
import { decodeMessage, type MessageInput } from '../../../impl/messages/index.js';
import { parsePrivateKey } from '../../../impl/keys/index.js';
import { clientKeys } from '../../targets/test-user.js';
import type { ClientConn } from '../client-conn.js';
import type { CheckContext } from '../context.js';
import { defineCheck } from '../define.js';
import type { Check, Level } from '../types.js';
import { extInfoExtensions } from './util.js';

const SIGNATURE_MUST = 'RFC 4252 §7: When the server receives this message, it MUST check whether the supplied key is acceptable for authentication, and if so, it MUST check whether the signature is correct.';

async function authConn(ctx: CheckContext): Promise<ClientConn> {
  const c = await ctx.connect();
  await c.service('ssh-userauth');
  return c;
}

/** Sends a request and requires it not to succeed (FAILURE, or a disconnect: both pass). */
async function mustNotSucceed(ctx: CheckContext, c: ClientConn, m: MessageInput, what: string): Promise<void> {
  c.send(m);
  const r = await c.expectMessage(['SSH_MSG_USERAUTH_FAILURE', 'SSH_MSG_USERAUTH_SUCCESS'], { else: 'pass', because: what });
  if (r.name === 'SSH_MSG_USERAUTH_SUCCESS') ctx.fail(`${what} was accepted with SSH_MSG_USERAUTH_SUCCESS`);
}

function forged(id: string, title: string, spec: string | string[], build: (c: ClientConn) => MessageInput, level: Level = 'MUST'): Check {
  return defineCheck({ id, title, level, area: 'auth', suites: ['auth', 'security'], requires: { auth: ['publickey'] }, spec }, async (ctx) => {
    const c = await authConn(ctx);
    await mustNotSucceed(ctx, c, build(c), title.replace(/ is refused$/, ''));
  });
}

function flipLast(b: Uint8Array): Uint8Array {
  const out = Uint8Array.from(b);
  out[out.length - 1]! ^= 0x01;
  return out;
}

/** The test account's RSA key, when it has one and the target authorized it (rsa-sha2-* checks). */
function rsaKeyPath(keys: Awaited<ReturnType<typeof clientKeys>>): string | undefined {
  return keys.find((k) => k.info.type === 'ssh-rsa')?.privatePath;
}

export const authChecks: Check[] = [
  defineCheck({
    id: 'auth.publickey-query-pk-ok',
    title: 'A publickey query for an authorized key gets SSH_MSG_USERAUTH_PK_OK echoing the algorithm and key blob',
    level: 'MUST', area: 'auth', suites: ['auth'], requires: { auth: ['publickey'] },
    spec: 'RFC 4252 §7: The server MUST respond to this message with either SSH_MSG_USERAUTH_FAILURE or with the following: byte SSH_MSG_USERAUTH_PK_OK, string public key algorithm name from the request, string public key blob from the request',
  }, async (ctx) => {
    const c = await authConn(ctx);
    const full = c.publicKeyRequest() as Extract<MessageInput, { method: 'publickey' }> & { algorithm: string; key: Uint8Array };
    c.send({ type: 'SSH_MSG_USERAUTH_REQUEST', user: full.user, service: full.service, method: 'publickey', hasSignature: false, algorithm: full.algorithm, key: full.key });
    const r = await c.expectMessage(['SSH_MSG_USERAUTH_PK_OK', 'SSH_MSG_USERAUTH_FAILURE', 'SSH_MSG_USERAUTH_SUCCESS']);
    if (r.name === 'SSH_MSG_USERAUTH_SUCCESS') return ctx.fail('a query without a signature was answered with SSH_MSG_USERAUTH_SUCCESS');
    if (r.name !== 'SSH_MSG_USERAUTH_PK_OK') return ctx.fail('the authorized key was not acknowledged with SSH_MSG_USERAUTH_PK_OK');
    const m = decodeMessage(r.payload, { auth: 'publickey' });
    if (m.type !== 'SSH_MSG_USERAUTH_PK_OK') return ctx.fail('SSH_MSG_USERAUTH_PK_OK does not decode');
    if (m.algorithm !== full.algorithm) ctx.fail(`PK_OK names algorithm ${JSON.stringify(m.algorithm)}, the request named ${full.algorithm}`);
    if (Buffer.compare(Buffer.from(m.key), Buffer.from(full.key)) !== 0) ctx.fail('PK_OK does not echo the key blob of the request');
  }),

  defineCheck({
    id: 'auth.publickey-query-unknown-key',
    title: 'A publickey query for a key the user does not have gets SSH_MSG_USERAUTH_FAILURE',
    level: 'MUST', area: 'auth', suites: ['auth', 'security'],
    spec: 'RFC 4252 §7: The server MUST respond to this message with either SSH_MSG_USERAUTH_FAILURE or with ... SSH_MSG_USERAUTH_PK_OK (only for a key that is acceptable)',
  }, async (ctx) => {
    const c = await authConn(ctx);
    const key = generateHostKey('ssh-ed25519');
    c.send({ type: 'SSH_MSG_USERAUTH_REQUEST', user: ctx.target.credentials.user, service: 'ssh-connection', method: 'publickey', hasSignature: false, algorithm: 'ssh-ed25519', key: key.publicKey.blob });
    const r = await c.expectMessage(['SSH_MSG_USERAUTH_PK_OK', 'SSH_MSG_USERAUTH_FAILURE', 'SSH_MSG_USERAUTH_SUCCESS']);
    if (r.name !== 'SSH_MSG_USERAUTH_FAILURE') ctx.fail(`a key nobody authorized was answered with ${r.name}`);
  }),

  defineCheck({
    id: 'auth.publickey-signed',
    title: 'A correctly signed publickey request for an authorized key succeeds',
    level: 'MUST', area: 'auth', suites: ['auth', 'smoke'], requires: { auth: ['publickey'] },
    spec: SIGNATURE_MUST + ' If both checks succeed, this method is successful.',
  }, async (ctx) => {
    const c = await authConn(ctx);
    c.send(c.publicKeyRequest());
    await c.expectMessage('SSH_MSG_USERAUTH_SUCCESS', { because: 'a valid signature by an authorized key' });
  }),

  forged('auth.publickey-bad-signature', 'A publickey request whose signature is corrupted is refused', SIGNATURE_MUST, (c) => {
    const m = c.publicKeyRequest() as { signature: Uint8Array };
    return { ...(m as object), signature: flipLast(m.signature) } as MessageInput;
  }),
  forged('auth.publickey-wrong-session-id', 'A publickey signature over another session identifier is refused', [
    SIGNATURE_MUST, 'RFC 4252 §7: The value of \'signature\' is a signature by the corresponding private key over the following data, in the following order: string session identifier, ...',
  ], (c) => c.publicKeyRequest({ sessionId: new Uint8Array(32).fill(0xa5) })),
  forged('auth.publickey-signed-other-user', 'A publickey signature made for another user name is refused', [
    SIGNATURE_MUST, 'RFC 4252 §7: the signed data includes string user name',
  ], (c) => c.publicKeyRequest({ signedUser: 'root' })),
  forged('auth.publickey-signed-other-service', 'A publickey signature made for another service name is refused', [
    SIGNATURE_MUST, 'RFC 4252 §7: the signed data includes string service name',
  ], (c) => c.publicKeyRequest({ signedService: 'ssh-userauth' })),
  forged('auth.publickey-algorithm-mismatch', 'A publickey request naming an algorithm that does not match the key blob is refused', [
    SIGNATURE_MUST, 'RFC 8332 §3: the public key algorithm name ... the key blob must be of the matching key type',
  ], (c) => {
    const m = c.publicKeyRequest() as { algorithm: string };
    return { ...(m as object), algorithm: m.algorithm === 'ssh-ed25519' ? 'ecdsa-sha2-nistp256' : 'ssh-ed25519' } as MessageInput;
  }),
  forged('auth.publickey-unknown-algorithm', 'A publickey request with an unknown algorithm name is refused', 'RFC 4252 §7: If the server does not support some algorithm, it MUST simply reject the request.', (c) => {
    return { ...(c.publicKeyRequest() as object), algorithm: 'nosuch-sig@ssh-harness.invalid' } as MessageInput;
  }),
  defineCheck({
    id: 'auth.publickey-unauthorized-key',
    title: 'A valid signature by a key the user never authorized is refused',
    level: 'MUST', area: 'auth', suites: ['auth', 'security'],
    spec: SIGNATURE_MUST,
  }, async (ctx) => {
    const c = await authConn(ctx);
    const key = generateHostKey('ssh-ed25519');
    const user = ctx.target.credentials.user;
    const sig = key.sign('ssh-ed25519', publicKeySignedData(c.engine.sessionId!, user, 'ssh-connection', 'ssh-ed25519', key.publicKey.blob));
    await mustNotSucceed(ctx, c, { type: 'SSH_MSG_USERAUTH_REQUEST', user, service: 'ssh-connection', method: 'publickey', hasSignature: true, algorithm: 'ssh-ed25519', key: key.publicKey.blob, signature: sig }, 'a signature by an unauthorized key');
  }),
  defineCheck({
    id: 'auth.publickey-signature-empty',
    title: 'A publickey request with an empty signature blob is refused',
    level: 'MUST', area: 'auth', suites: ['auth', 'security'], requires: { auth: ['publickey'] },
    spec: SIGNATURE_MUST,
  }, async (ctx) => {
    const c = await authConn(ctx);
    await mustNotSucceed(ctx, c, { ...(c.publicKeyRequest() as object), signature: new Uint8Array(0) } as MessageInput, 'an empty signature');
  }),

  ...(['rsa-sha2-256', 'rsa-sha2-512'] as const).map((alg) => defineCheck({
    id: `auth.${alg}`,
    title: `A publickey signature with ${alg} (RSA key) is accepted when the server announces ${alg} in server-sig-algs`,
    level: 'MUST', area: 'auth', suites: ['auth'],
    spec: ['RFC 8332 §3: rsa-sha2-256 / rsa-sha2-512 ... signature algorithms for RSA keys', 'RFC 8332 §3.3: server-sig-algs lists the algorithms the server accepts'],
  }, async (ctx) => {
    const path = rsaKeyPath(await clientKeys());
    if (!path) return ctx.notApplicable('the test account has no RSA key');
    const c = await ctx.connect({ extInfo: true });
    await c.service('ssh-userauth');
    const algs = extInfoExtensions(c.rec.inbox.messages.find((m) => m.name === 'SSH_MSG_EXT_INFO')).get('server-sig-algs')?.split(',') ?? [];
    if (!algs.includes(alg)) return ctx.notApplicable(`server-sig-algs does not list ${alg}`);
    const key = parsePrivateKey(readFileSync(path)).toPrivateKey();
    const user = ctx.target.credentials.user;
    // only a key the target authorized says anything: ask first (RFC 4252 §7 query)
    c.send({ type: 'SSH_MSG_USERAUTH_REQUEST', user, service: 'ssh-connection', method: 'publickey', hasSignature: false, algorithm: alg, key: key.publicKey.blob });
    const q = await c.expectMessage(['SSH_MSG_USERAUTH_PK_OK', 'SSH_MSG_USERAUTH_FAILURE']);
    if (q.name !== 'SSH_MSG_USERAUTH_PK_OK') return ctx.notApplicable(`the target does not take the test account's RSA key with ${alg}`);
    const sig = key.sign(alg, publicKeySignedData(c.engine.sessionId!, user, 'ssh-connection', alg, key.publicKey.blob));
    c.send({ type: 'SSH_MSG_USERAUTH_REQUEST', user, service: 'ssh-connection', method: 'publickey', hasSignature: true, algorithm: alg, key: key.publicKey.blob, signature: sig });
    const r = await c.expectMessage(['SSH_MSG_USERAUTH_SUCCESS', 'SSH_MSG_USERAUTH_FAILURE']);
    if (r.name !== 'SSH_MSG_USERAUTH_SUCCESS') ctx.fail(`${alg} signature by the test account's RSA key was refused (is that key authorized on the target?)`);
  })),

  defineCheck({
    id: 'auth.attempts-limited',
    title: 'After many failed password attempts the server disconnects (RECOMMENDED limit: 20)',
    level: 'SHOULD', area: 'auth', suites: ['auth', 'security'],
    timeoutMs: 30_000,
    spec: 'RFC 4252 §4: the implementation SHOULD limit the number of failed authentication attempts a client may perform in a single session (the RECOMMENDED limit is 20 attempts). If the threshold is exceeded, the server SHOULD disconnect.',
  }, async (ctx) => {
    const c = await authConn(ctx);
    const user = ctx.target.credentials.user;
    for (let i = 1; i <= 50; i++) {
      c.send({ type: 'SSH_MSG_USERAUTH_REQUEST', user, service: 'ssh-connection', method: 'password', changePassword: false, password: `wrong-${i}` });
      const r = await c.rec.inbox.wait(c.cursor, (m) => m.name === 'SSH_MSG_USERAUTH_FAILURE' || m.name === 'SSH_MSG_USERAUTH_SUCCESS', 5000);
      if (r.kind === 'closed') { c.note(`disconnected after ${i - 1} failures`); return; }
      if (r.kind === 'timeout') return ctx.inconclusive(`no reply to attempt ${i}`);
      c.cursor = r.m.index + 1;
      if (r.m.name === 'SSH_MSG_USERAUTH_SUCCESS') return ctx.fail(`attempt ${i} with a wrong password succeeded`);
    }
    const closed = await c.rec.inbox.wait(c.cursor, () => false, 500);
    if (closed.kind !== 'closed') ctx.fail('50 failed password attempts and the connection is still open');
  }),

  defineCheck({
    id: 'auth.methods-list',
    title: 'SSH_MSG_USERAUTH_FAILURE lists methods as a valid, non-empty name-list without "none"',
    level: 'MUST', area: 'auth', suites: ['auth'],
    spec: [
      'RFC 4252 §5.1: name-list authentications that can continue',
      'RFC 4251 §5: name-list ... Terminating null characters MUST NOT be used, neither for the individual names, nor for the list as a whole; names MUST NOT be empty',
      'RFC 4252 §5.2: This \'method name\' [none] MUST NOT be listed as supported by the server.',
    ],
  }, async (ctx) => {
    const c = await authConn(ctx);
    c.send({ type: 'SSH_MSG_USERAUTH_REQUEST', user: ctx.target.credentials.user, service: 'ssh-connection', method: 'none' });
    const r = await c.expectMessage(['SSH_MSG_USERAUTH_FAILURE', 'SSH_MSG_USERAUTH_SUCCESS']);
    if (r.name === 'SSH_MSG_USERAUTH_SUCCESS') return ctx.notApplicable('no authentication is needed for this user');
    const methods = (r.fields?.['methods'] as string[] | undefined) ?? [];
    if (methods.length === 0) return ctx.fail('the list of methods that can continue is empty: nothing can ever succeed');
    const bad = methods.filter((m) => !/^[\x21-\x2b\x2d-\x7e]{1,64}$/.test(m));
    if (bad.length) ctx.fail(`invalid method names ${JSON.stringify(bad)}`);
    if (methods.includes('none')) ctx.fail('"none" is listed');
    c.note(`methods: ${methods.join(',')}`);
  }),

  defineCheck({
    id: 'auth.keyboard-interactive-count-mismatch',
    title: 'keyboard-interactive: a response with the wrong number of answers is refused',
    level: 'MUST', area: 'auth', suites: ['auth', 'security'],
    spec: 'RFC 4256 §3.4: If the num-responses field does not match the num-prompts field in the request message, the server MUST send a failure message.',
  }, async (ctx) => {
    const c = await authConn(ctx);
    const user = ctx.target.credentials.user;
    c.send({ type: 'SSH_MSG_USERAUTH_REQUEST', user, service: 'ssh-connection', method: 'keyboard-interactive', language: '', submethods: '' });
    const r = await c.expectMessage(['SSH_MSG_USERAUTH_INFO_REQUEST', 'SSH_MSG_USERAUTH_FAILURE', 'SSH_MSG_USERAUTH_SUCCESS']);
    if (r.name === 'SSH_MSG_USERAUTH_SUCCESS') return ctx.fail('keyboard-interactive succeeded without any answer');
    if (r.name !== 'SSH_MSG_USERAUTH_INFO_REQUEST') return ctx.notApplicable('the server does not offer keyboard-interactive for this user');
    const prompts = (r.fields?.['prompts'] as unknown[] | undefined)?.length ?? 0;
    const answers = Array.from({ length: prompts + 1 }, () => ctx.target.credentials.password ?? 'x');
    c.send({ type: 'SSH_MSG_USERAUTH_INFO_RESPONSE', responses: answers });
    const r2 = await c.expectMessage(['SSH_MSG_USERAUTH_FAILURE', 'SSH_MSG_USERAUTH_SUCCESS', 'SSH_MSG_USERAUTH_INFO_REQUEST'], { else: 'pass' });
    if (r2.name === 'SSH_MSG_USERAUTH_SUCCESS') ctx.fail(`${prompts} prompts, ${answers.length} answers, and the server said success`);
  }),

  defineCheck({
    id: 'auth.keyboard-interactive-password',
    title: 'keyboard-interactive: answering the password prompt with the right password succeeds',
    level: 'SHOULD', area: 'auth', suites: ['auth'], requires: { auth: ['password'] },
    spec: 'RFC 4256 §3.4: the server ... sends SSH_MSG_USERAUTH_SUCCESS, SSH_MSG_USERAUTH_FAILURE, or another SSH_MSG_USERAUTH_INFO_REQUEST',
  }, async (ctx) => {
    const c = await authConn(ctx);
    const user = ctx.target.credentials.user;
    c.send({ type: 'SSH_MSG_USERAUTH_REQUEST', user, service: 'ssh-connection', method: 'keyboard-interactive', language: '', submethods: '' });
    for (let round = 0; round < 4; round++) {
      const r = await c.expectMessage(['SSH_MSG_USERAUTH_INFO_REQUEST', 'SSH_MSG_USERAUTH_FAILURE', 'SSH_MSG_USERAUTH_SUCCESS']);
      if (r.name === 'SSH_MSG_USERAUTH_SUCCESS') return;
      if (r.name === 'SSH_MSG_USERAUTH_FAILURE') return round === 0 ? ctx.notApplicable('the server does not offer keyboard-interactive for this user') : ctx.fail('the password answer was refused');
      const prompts = (r.fields?.['prompts'] as { prompt: string }[] | undefined) ?? [];
      c.send({ type: 'SSH_MSG_USERAUTH_INFO_RESPONSE', responses: prompts.map((p) => (/pass/i.test(p.prompt) ? ctx.target.credentials.password ?? '' : '')) });
    }
    ctx.inconclusive('more than 4 rounds of prompts');
  }),
];
