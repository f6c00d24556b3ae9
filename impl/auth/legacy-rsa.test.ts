/**
 * RFC 8332 §3.3 on the client: without server-sig-algs an RSA key is offered with rsa-sha2-512 first; a server that
 * refuses it (one from before RFC 8332, which knows only ssh-rsa) gets one retry with ssh-rsa. A server that did
 * announce server-sig-algs is believed, and an algorithm the caller names is used as named: no retry.
 */
import { expect } from 'chai';
import { generateHostKey } from '../crypto/hostkey/index.js';
import { signatureAlgorithms } from '../crypto/registry.js';
import type { PublicKey } from '../crypto/types.js';
import { authPair } from './testing/auth-pair.js';
import { AuthResult, type ServerAuthPolicy } from './types.js';

const rsa = generateHostKey('ssh-rsa', { rsaBits: 2048 });
const ed = generateHostKey('ssh-ed25519');
const same = (a: PublicKey, b: PublicKey): boolean => Buffer.from(a.blob).equals(Buffer.from(b.blob));

/** A server from before RFC 8332: ssh-rsa signatures only (SHA-1 kept on, as such servers have it); logs what it was asked. */
function legacyServer(): { policy: ServerAuthPolicy; asked: string[]; options: { signatureAlgorithms: typeof signatureAlgorithms } } {
  const asked: string[] = [];
  const policy: ServerAuthPolicy = {
    allowedAuths: () => ['publickey'],
    checkAuthPublicKey: (_u, key, ctx) => {
      asked.push(`${ctx.algorithm}${ctx.signed ? ' signed' : ''}`);
      return same(key, rsa.publicKey) && ctx.algorithm === 'ssh-rsa' ? AuthResult.SUCCESSFUL : AuthResult.FAILED;
    },
  };
  return { policy, asked, options: { signatureAlgorithms } };
}

describe('impl/auth: RSA user keys and servers without server-sig-algs (RFC 8332 §3.3)', () => {
  it('no server-sig-algs: rsa-sha2-512 is refused, ssh-rsa is offered once and logs in (one event for the caller)', async () => {
    const s = legacyServer();
    const p = authPair(s.policy, s.options);
    p.client.publicKey('alice', rsa);
    await p.run();
    expect(s.asked).to.deep.equal(['rsa-sha2-512', 'ssh-rsa', 'ssh-rsa signed']);
    expect(p.clientEvents).to.deep.equal([{ type: 'success', method: 'publickey' }]);
  });

  it('a key the server does not take at all: two offers, then one failure', async () => {
    const s = legacyServer();
    const other = generateHostKey('ssh-rsa', { rsaBits: 2048 });
    const p = authPair(s.policy, s.options);
    p.client.publicKey('alice', other);
    await p.run();
    expect(s.asked).to.deep.equal(['rsa-sha2-512', 'ssh-rsa']);
    expect(p.clientEvents).to.deep.equal([{ type: 'failure', method: 'publickey', methods: ['publickey'], partialSuccess: false }]);
  });

  it('server-sig-algs announced: its choice stands, no ssh-rsa retry', async () => {
    const s = legacyServer();
    const p = authPair(s.policy, s.options);
    p.client.setServerSigAlgs(['ssh-ed25519', 'rsa-sha2-256', 'rsa-sha2-512']);
    p.client.publicKey('alice', rsa);
    await p.run();
    expect(s.asked).to.deep.equal(['rsa-sha2-512']);
    expect(p.clientEvents.at(-1)).to.include({ type: 'failure' });
  });

  it('an algorithm the caller names, or a key with one algorithm only: no retry', async () => {
    const s = legacyServer();
    const p = authPair(s.policy, s.options);
    p.client.publicKey('alice', rsa, { algorithm: 'rsa-sha2-256' });
    await p.run();
    p.client.publicKey('alice', ed);
    await p.run();
    expect(s.asked).to.deep.equal(['rsa-sha2-256', 'ssh-ed25519']);
    expect(p.clientEvents.map((e) => e.type)).to.deep.equal(['failure', 'failure']);
  });
});
