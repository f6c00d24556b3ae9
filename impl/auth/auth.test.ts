import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { generateHostKey } from '../crypto/hostkey/index.js';
import type { PublicKey } from '../crypto/types.js';
import { AuthError, LimitError, ProtocolError, SSHError } from '../errors.js';
import { decodeMessage, encodeMessage } from '../messages/index.js';
import { authPair } from './testing/auth-pair.js';
import { AuthResult, type PublicKeyContext, type ServerAuthPolicy } from './types.js';

const ed = generateHostKey('ssh-ed25519');
const ec = generateHostKey('ecdsa-sha2-nistp256');
const rsa = generateHostKey('ssh-rsa', { rsaBits: 2048 });
const sameBlob = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** alice/secret, or any of `keys` for alice. */
function simplePolicy(keys: PublicKey[] = [], extra: Partial<ServerAuthPolicy> = {}): ServerAuthPolicy & { pkCalls: PublicKeyContext[] } {
  const pkCalls: PublicKeyContext[] = [];
  return {
    pkCalls,
    allowedAuths: () => ['publickey', 'password'],
    checkAuthPassword: (user, pw) => (user === 'alice' && pw === 'secret' ? AuthResult.SUCCESSFUL : AuthResult.FAILED),
    checkAuthPublicKey: (user, key, ctx) => {
      pkCalls.push(ctx);
      return user === 'alice' && keys.some((k) => sameBlob(k.blob, key.blob)) ? AuthResult.SUCCESSFUL : AuthResult.FAILED;
    },
    ...extra,
  };
}

describe('impl/auth: client ↔ server (RFC 4252)', () => {
  it('none fails and lists the allowed methods; a policy may accept it', async () => {
    const p = authPair(simplePolicy());
    p.client.none('alice');
    await p.run();
    expect(p.clientEvents).to.deep.equal([{ type: 'failure', method: 'none', methods: ['publickey', 'password'], partialSuccess: false }]);
    const q = authPair({ allowedAuths: () => [], checkAuthNone: () => AuthResult.SUCCESSFUL });
    q.client.none('guest');
    await q.run();
    expect(q.clientEvents).to.deep.equal([{ type: 'success', method: 'none' }]);
    expect(q.server.authenticated).to.deep.equal({ user: 'guest', service: 'ssh-connection' });
  });

  it('password: success, and a wrong one fails', async () => {
    const p = authPair(simplePolicy());
    p.client.password('alice', 'nope');
    await p.run();
    expect(p.clientEvents.at(-1)).to.include({ type: 'failure', partialSuccess: false });
    p.client.password('alice', 'secret');
    await p.run();
    expect(p.clientEvents.at(-1)).to.deep.equal({ type: 'success', method: 'password' });
    expect(p.client.authenticated).to.equal(true);
    expect(p.serverEvents.map((e) => e.type)).to.deep.equal(['failure', 'success']);
  });

  it('holds every FAILURE until arrival + failureDelayMs: unknown user and wrong password look the same', async () => {
    const p = authPair(simplePolicy(), { failureDelayMs: 50 });
    const start = p.now;
    p.client.password('mallory', 'x');
    await p.run();
    p.client.password('alice', 'wrong');
    await p.run();
    expect(p.serverSentAt).to.deep.equal([start + 50, start + 100]);
    // success is not held
    p.client.password('alice', 'secret');
    await p.run();
    expect(p.serverSentAt[2]).to.equal(start + 100);
  });

  for (const [name, key, sigAlgs, expected] of [
    ['ssh-ed25519', ed, undefined, 'ssh-ed25519'],
    ['ecdsa-sha2-nistp256', ec, undefined, 'ecdsa-sha2-nistp256'],
    ['rsa (server-sig-algs → rsa-sha2-512)', rsa, ['ssh-ed25519', 'rsa-sha2-512', 'rsa-sha2-256'], 'rsa-sha2-512'],
    ['rsa (server-sig-algs → rsa-sha2-256 only)', rsa, ['rsa-sha2-256'], 'rsa-sha2-256'],
  ] as const) {
    it(`publickey ${name}: query, PK_OK, then a signed request`, async () => {
      const policy = simplePolicy([key.publicKey]);
      const p = authPair(policy);
      if (sigAlgs) p.client.setServerSigAlgs(sigAlgs);
      p.client.publicKey('alice', key);
      await p.run();
      expect(p.clientEvents).to.deep.equal([{ type: 'success', method: 'publickey' }]);
      expect(policy.pkCalls).to.deep.equal([{ signed: false, algorithm: expected }, { signed: true, algorithm: expected }]);
      const sent = p.serverSent.map((x) => decodeMessage(x, { auth: 'publickey' }).type);
      expect(sent).to.deep.equal(['SSH_MSG_USERAUTH_PK_OK', 'SSH_MSG_USERAUTH_SUCCESS']);
    });
  }

  it('publickey: an unknown key is refused at the query, without signing', async () => {
    const policy = simplePolicy([ed.publicKey]);
    const p = authPair(policy);
    p.client.publicKey('alice', ec);
    await p.run();
    expect(p.clientEvents).to.deep.equal([{ type: 'failure', method: 'publickey', methods: ['publickey', 'password'], partialSuccess: false }]);
    expect(policy.pkCalls).to.deep.equal([{ signed: false, algorithm: 'ecdsa-sha2-nistp256' }]);
  });

  it('publickey: a signature over the wrong session id fails', async () => {
    const policy = simplePolicy([ed.publicKey]);
    const p = authPair(policy, {}, { client: randomBytes(32) });
    p.client.publicKey('alice', ed, { query: false });
    await p.run();
    expect(p.clientEvents[0]).to.include({ type: 'failure' });
    expect(policy.pkCalls).to.deep.equal([]); // the policy is never asked about an unproven key
  });

  it('publickey: blob/algorithm mismatch and unknown algorithms fail, never crash', async () => {
    const policy = simplePolicy([ed.publicKey, rsa.publicKey]);
    const p = authPair(policy);
    const req = (algorithm: string, key: Uint8Array) => encodeMessage({
      type: 'SSH_MSG_USERAUTH_REQUEST', user: 'alice', service: 'ssh-connection', method: 'publickey', hasSignature: false, algorithm, key,
    });
    p.injectToServer(req('ssh-ed25519', rsa.publicKey.blob));
    p.injectToServer(req('rsa-sha2-512', ed.publicKey.blob));
    p.injectToServer(req('no-such-alg', ed.publicKey.blob));
    p.injectToServer(req('ssh-ed25519', new Uint8Array([0, 0, 0, 200, 1])));
    await p.run();
    const replies = p.serverSent.map((x) => decodeMessage(x).type);
    expect(replies).to.deep.equal(Array(4).fill('SSH_MSG_USERAUTH_FAILURE'));
    expect(policy.pkCalls).to.deep.equal([]);
  });

  it('publickey: a signature whose blob names another algorithm fails', async () => {
    const policy = simplePolicy([rsa.publicKey]);
    // sign with rsa-sha2-512 but claim rsa-sha2-256 in the request
    const sid = randomBytes(32);
    const q = authPair(policy, {}, { client: sid, server: sid });
    const { publicKeySignedData } = await import('./signed-data.js');
    const sig = rsa.sign('rsa-sha2-512', publicKeySignedData(sid, 'alice', 'ssh-connection', 'rsa-sha2-256', rsa.publicKey.blob));
    q.injectToServer(encodeMessage({
      type: 'SSH_MSG_USERAUTH_REQUEST', user: 'alice', service: 'ssh-connection', method: 'publickey',
      hasSignature: true, algorithm: 'rsa-sha2-256', key: rsa.publicKey.blob, signature: sig,
    }));
    await q.run();
    expect(decodeMessage(q.serverSent[0]!).type).to.equal('SSH_MSG_USERAUTH_FAILURE');
    expect(policy.pkCalls).to.deep.equal([]);
  });

  it('an unknown service or method fails without asking the policy', async () => {
    let asked = 0;
    const p = authPair(simplePolicy([], { checkAuthPassword: () => { asked++; return AuthResult.SUCCESSFUL; } }));
    p.injectToServer(encodeMessage({ type: 'SSH_MSG_USERAUTH_REQUEST', user: 'alice', service: 'ssh-nope', method: 'password', changePassword: false, password: 'x' }));
    p.injectToServer(encodeMessage({ type: 'SSH_MSG_USERAUTH_REQUEST', user: 'alice', service: 'ssh-connection', method: 'gssapi-with-mic', methodData: new Uint8Array([1, 2, 3]) }));
    p.injectToServer(encodeMessage({ type: 'SSH_MSG_USERAUTH_REQUEST', user: 'alice', service: 'ssh-connection', method: 'hostbased', algorithm: 'ssh-ed25519', key: ed.publicKey.blob, clientHost: 'h', clientUser: 'u', signature: new Uint8Array(4) }));
    await p.run();
    expect(p.serverSent.map((x) => decodeMessage(x).type)).to.deep.equal(Array(3).fill('SSH_MSG_USERAUTH_FAILURE'));
    expect(asked).to.equal(0);
  });

  it('partial success chains: publickey then password (two factors)', async () => {
    const done = new Set<string>();
    const policy: ServerAuthPolicy = {
      allowedAuths: () => (done.has('publickey') ? ['password'] : ['publickey']),
      checkAuthPublicKey: (_u, key, ctx) => {
        if (!sameBlob(key.blob, ed.publicKey.blob)) return AuthResult.FAILED;
        if (ctx.signed) done.add('publickey');
        return AuthResult.PARTIALLY_SUCCESSFUL;
      },
      checkAuthPassword: (_u, pw) => (done.has('publickey') && pw === 'secret' ? AuthResult.SUCCESSFUL : AuthResult.FAILED),
    };
    const p = authPair(policy);
    p.client.password('alice', 'secret'); // not allowed yet
    await p.run();
    expect(p.clientEvents.at(-1)).to.deep.equal({ type: 'failure', method: 'password', methods: ['publickey'], partialSuccess: false });
    p.client.publicKey('alice', ed);
    await p.run();
    expect(p.clientEvents.at(-1)).to.deep.equal({ type: 'failure', method: 'publickey', methods: ['password'], partialSuccess: true });
    p.client.password('alice', 'secret');
    await p.run();
    expect(p.clientEvents.at(-1)).to.deep.equal({ type: 'success', method: 'password' });
  });

  it('keyboard-interactive: two rounds of prompts, then success; a wrong answer count fails', async () => {
    const policy: ServerAuthPolicy = {
      allowedAuths: () => ['keyboard-interactive'],
      checkAuthKeyboardInteractive: () => ({ name: 'otp', instruction: 'hi', prompts: [{ prompt: 'Password: ', echo: false }] }),
      checkAuthKeyboardInteractiveResponse: (_u, r) => {
        if (r[0] === 'secret') return { prompts: [{ prompt: 'Code: ', echo: true }, { prompt: 'Again: ', echo: true }] };
        return r.length === 2 && r[0] === '123' && r[1] === '123' ? AuthResult.SUCCESSFUL : AuthResult.FAILED;
      },
    };
    const p = authPair(policy);
    p.client.keyboardInteractive('alice');
    await p.run();
    expect(p.clientEvents.at(-1)).to.deep.equal({ type: 'infoRequest', name: 'otp', instruction: 'hi', language: '', prompts: [{ prompt: 'Password: ', echo: false }] });
    p.client.respond(['secret']);
    await p.run();
    expect(p.clientEvents.at(-1)).to.include({ type: 'infoRequest' });
    p.client.respond(['123', '123']);
    await p.run();
    expect(p.clientEvents.at(-1)).to.deep.equal({ type: 'success', method: 'keyboard-interactive' });

    const q = authPair(policy);
    q.client.keyboardInteractive('alice');
    await q.run();
    q.client.respond(['secret', 'extra']); // RFC 4256 §3.4: count mismatch → failure
    await q.run();
    expect(q.clientEvents.at(-1)).to.include({ type: 'failure', method: 'keyboard-interactive' });
  });

  it('an INFO_RESPONSE nobody asked for is a protocol error', async () => {
    const p = authPair(simplePolicy());
    p.injectToServer(encodeMessage({ type: 'SSH_MSG_USERAUTH_INFO_RESPONSE', responses: ['x'] }));
    let err: unknown;
    try { await p.run(); } catch (e) { err = e; }
    expect(err).to.be.instanceOf(ProtocolError);
  });

  it('password change request (RFC 4252 §8)', async () => {
    let current = 'old';
    const policy: ServerAuthPolicy = {
      allowedAuths: () => ['password'],
      checkAuthPassword: (_u, pw) => (pw === current ? { changePassword: true, prompt: 'expired' } : AuthResult.FAILED),
      checkAuthPasswordChange: (_u, oldPw, newPw) => {
        if (oldPw !== current || newPw.length < 3) return AuthResult.FAILED;
        current = newPw;
        return AuthResult.SUCCESSFUL;
      },
    };
    const p = authPair(policy);
    p.client.password('alice', 'old');
    await p.run();
    expect(p.clientEvents.at(-1)).to.deep.equal({ type: 'passwordChange', prompt: 'expired', language: '' });
    p.client.changePassword('new-pw');
    await p.run();
    expect(p.clientEvents.at(-1)).to.deep.equal({ type: 'success', method: 'password' });
    expect(current).to.equal('new-pw');
  });

  it('sends the banner once, before the first reply', async () => {
    const p = authPair(simplePolicy([], { banner: () => 'Welcome\r\n' }));
    p.client.none('alice');
    await p.run();
    p.client.password('alice', 'secret');
    await p.run();
    expect(p.clientEvents.map((e) => e.type)).to.deep.equal(['banner', 'failure', 'success']);
  });

  it('disconnects with NO_MORE_AUTH_METHODS_AVAILABLE after maxAttempts failures', async () => {
    const p = authPair(simplePolicy(), { maxAttempts: 3 });
    let err: unknown;
    for (let i = 0; i < 3 && !err; i++) {
      p.client.password('alice', `wrong${i}`);
      try { await p.run(); } catch (e) { err = e; }
    }
    expect(err).to.be.instanceOf(AuthError);
    expect((err as SSHError).reason).to.equal(14);
    expect(p.serverSent.map((x) => decodeMessage(x).type)).to.deep.equal(Array(3).fill('SSH_MSG_USERAUTH_FAILURE'));
    expect(() => p.server.handleTimeout(p.now)).to.throw(AuthError); // the error sticks
  });

  it('asynchronous policies: pipelined requests are answered in order', async () => {
    const policy: ServerAuthPolicy = {
      allowedAuths: () => ['password'],
      checkAuthPassword: async (_u, pw) => {
        await new Promise((r) => setTimeout(r, pw === 'slow' ? 20 : 0));
        return pw === 'secret' ? AuthResult.SUCCESSFUL : AuthResult.FAILED;
      },
    };
    const p = authPair(policy, { failureDelayMs: 0 });
    const req = (pw: string) => encodeMessage({ type: 'SSH_MSG_USERAUTH_REQUEST', user: 'a', service: 'ssh-connection', method: 'password', changePassword: false, password: pw });
    p.injectToServer(req('slow'));
    p.injectToServer(req('secret'));
    p.injectToServer(req('ignored after success'));
    for (let i = 0; i < 50 && p.serverSent.length < 2; i++) {
      await p.run();
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(p.serverSent.map((x) => decodeMessage(x).type)).to.deep.equal(['SSH_MSG_USERAUTH_FAILURE', 'SSH_MSG_USERAUTH_SUCCESS']);
  });

  it('a policy that throws fails the attempt and reports it', async () => {
    const p = authPair(simplePolicy([], { checkAuthPassword: () => { throw new Error('db down'); } }));
    p.client.password('alice', 'secret');
    await p.run();
    expect(p.clientEvents.at(-1)).to.include({ type: 'failure' });
    expect(p.serverEvents.map((e) => e.type)).to.include('policyError');
  });

  it('too many pipelined requests is a LimitError', async () => {
    const p = authPair({ allowedAuths: () => ['password'], checkAuthPassword: () => new Promise(() => {}) }, { maxQueued: 4 });
    const req = encodeMessage({ type: 'SSH_MSG_USERAUTH_REQUEST', user: 'a', service: 'ssh-connection', method: 'password', changePassword: false, password: 'x' });
    expect(() => { for (let i = 0; i < 10; i++) p.server.handlePayload(req, 0); }).to.throw(LimitError);
  });

  it('client: unsolicited or mismatched server messages are protocol errors', async () => {
    const p = authPair(simplePolicy([ed.publicKey]));
    expect(() => p.client.handlePayload(encodeMessage({ type: 'SSH_MSG_USERAUTH_SUCCESS' }))).to.throw(ProtocolError);
    const q = authPair(simplePolicy([ed.publicKey]));
    q.client.publicKey('alice', ed);
    expect(() => q.client.handlePayload(encodeMessage({ type: 'SSH_MSG_USERAUTH_PK_OK', algorithm: 'ssh-ed25519', key: ec.publicKey.blob }))).to.throw(ProtocolError);
  });

  it('server: client-only numbers are refused and unknown numbers are left for UNIMPLEMENTED', () => {
    const p = authPair(simplePolicy());
    expect(p.server.handlePayload(new Uint8Array([70]), 0)).to.equal(false);
    expect(() => p.server.handlePayload(encodeMessage({ type: 'SSH_MSG_USERAUTH_SUCCESS' }), 0)).to.throw(ProtocolError);
  });
});
