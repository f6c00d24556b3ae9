// OpenSSH PROTOCOL §2.5 host key rotation on our server: hostkeys-prove-00@openssh.com is answered with one
// signature per requested key over ("hostkeys-prove-00@openssh.com", session id, key), only for keys it holds.
import { expect } from 'chai';
import { AuthResult, SSHServer, Transport, generateHostKey, insecureAcceptAnyHostKey, type PublicKey } from '../index.js';
import { signatureAlgorithms } from '../crypto/registry.js';
import { Reader, Writer } from '../wire/index.js';
import { hostKeyProofData, hostKeysAnnouncement, proveHostKeys } from './host-keys-ext.js';

describe('hostkeys-00 / hostkeys-prove-00@openssh.com (OpenSSH PROTOCOL §2.5)', function () {
  this.timeout(30000);
  const keys = [generateHostKey('ssh-ed25519'), generateHostKey('ecdsa-sha2-nistp256'), generateHostKey('ssh-rsa', { rsaBits: 2048 })];

  it('our server proves every key it holds over the session identifier, and refuses a foreign key', async () => {
    const server = new SSHServer({ hostKeys: keys, policy: { allowedAuths: () => ['password'], checkAuthPassword: () => AuthResult.SUCCESSFUL } });
    const { port } = await server.listen(0, '127.0.0.1');
    const t = new Transport(['127.0.0.1', port], { verifyHostKey: insecureAcceptAnyHostKey });
    try {
      await t.startClient();
      await t.authPassword('u', 'p');
      const req = new Writer(2048);
      for (const k of keys) req.string(k.publicKey.blob);
      const reply = await t.globalRequest('hostkeys-prove-00@openssh.com', req.finish());
      expect(reply).to.not.equal(null);
      const r = new Reader(reply!);
      for (const k of keys) {
        const sig = r.string();
        const alg = new Reader(sig).ascii();
        expect(alg, k.type).to.equal(k.type === 'ssh-rsa' ? 'rsa-sha2-512' : k.type);
        expect(signatureAlgorithms.get(alg)!.verify(k.publicKey.blob, hostKeyProofData(t.sessionId!, k.publicKey.blob), sig), k.type).to.equal(true);
      }
      expect(r.remaining).to.equal(0);
      const foreign = new Writer(256).string(generateHostKey('ssh-ed25519').publicKey.blob).finish();
      expect(await t.globalRequest('hostkeys-prove-00@openssh.com', foreign)).to.equal(null);
      expect(await t.globalRequest('hostkeys-prove-00@openssh.com', Uint8Array.of(0, 0, 0, 9, 1))).to.equal(null);
    } finally {
      await t.close();
      await server.close();
    }
  });

  it("our client gets the server's keys in a 'hostKeys' event and has them proven (against our server and OpenSSH's way of signing)", async () => {
    const server = new SSHServer({ hostKeys: keys, policy: { allowedAuths: () => ['password'], checkAuthPassword: () => AuthResult.SUCCESSFUL } });
    const { port } = await server.listen(0, '127.0.0.1');
    const t = new Transport(['127.0.0.1', port], { verifyHostKey: insecureAcceptAnyHostKey });
    try {
      const announced = new Promise<PublicKey[]>((resolve) => t.once('hostKeys', resolve));
      await t.startClient();
      await t.authPassword('u', 'p');
      const got = await announced;
      expect(got.map((k) => k.type)).to.deep.equal(keys.map((k) => k.type));
      expect((await t.proveHostKeys(got)).length).to.equal(keys.length);
      await t.proveHostKeys([generateHostKey('ssh-ed25519').publicKey]).then(() => expect.fail('a foreign key was proven'), (e: Error) => expect(e.message).to.match(/refused/));
    } finally {
      await t.close();
      await server.close();
    }
  });

  it('announces plain keys only and bounds what it signs', () => {
    const announced = new Reader(hostKeysAnnouncement(keys)!);
    for (const k of keys) expect(announced.string()).to.deep.equal(k.publicKey.blob);
    const sid = new Uint8Array(32).fill(7);
    const many = new Writer(64 * 40);
    for (let i = 0; i < 40; i++) many.string(keys[0]!.publicKey.blob);
    expect(proveHostKeys(keys, sid, many.finish(), undefined)).to.equal(undefined);
    expect(proveHostKeys(keys, sid, new Uint8Array(0), undefined)).to.equal(undefined);
    const rsa = proveHostKeys(keys, sid, new Writer(600).string(keys[2]!.publicKey.blob).finish(), 'rsa-sha2-256')!;
    expect(new Reader(new Reader(rsa).string()).ascii()).to.equal('rsa-sha2-256');
  });
});
