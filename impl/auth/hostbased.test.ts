// Host-based authentication between our own client and server (RFC 4252 §9): the policy sees the verified host key,
// the claimed host and user names; a policy "no" and a server without checkAuthHostbased both refuse.
import { expect } from 'chai';
import { AuthError, AuthResult, SSHServer, Transport, generateHostKey, insecureAcceptAnyHostKey, type HostbasedContext, type PublicKey, type ServerPolicy } from '../index.js';

describe('hostbased authentication, our client ↔ our server (RFC 4252 §9)', function () {
  this.timeout(20000);
  const clientHost = generateHostKey('ecdsa-sha2-nistp256');

  async function attempt(policy: ServerPolicy): Promise<unknown> {
    const server = new SSHServer({ hostKeys: [generateHostKey('ssh-ed25519')], policy });
    const { port } = await server.listen(0, '127.0.0.1');
    const t = new Transport(['127.0.0.1', port], { verifyHostKey: insecureAcceptAnyHostKey });
    try {
      await t.startClient();
      await t.authHostbased('alice', clientHost, 'client.example.', 'alice-local');
      return undefined;
    } catch (e) {
      return e;
    } finally {
      await t.close();
      await server.close();
    }
  }

  it('the policy gets the verified client host key, host name and client user; SUCCESSFUL logs in', async () => {
    const seen: [string, PublicKey, HostbasedContext][] = [];
    const err = await attempt({ allowedAuths: () => ['hostbased'], checkAuthHostbased: (u, k, c) => { seen.push([u, k, c]); return AuthResult.SUCCESSFUL; } });
    expect(err).to.equal(undefined);
    expect(seen).to.have.length(1);
    const [user, key, ctx] = seen[0]!;
    expect(user).to.equal('alice');
    expect(key.blob).to.deep.equal(clientHost.publicKey.blob);
    expect(ctx).to.deep.equal({ algorithm: 'ecdsa-sha2-nistp256', clientHost: 'client.example.', clientUser: 'alice-local' });
  });

  it('FAILED from the policy, a policy without checkAuthHostbased, and a method not allowed all refuse', async () => {
    expect(await attempt({ allowedAuths: () => ['hostbased'], checkAuthHostbased: () => AuthResult.FAILED })).to.be.instanceOf(AuthError);
    expect(await attempt({ allowedAuths: () => ['hostbased'] })).to.be.instanceOf(AuthError);
    expect(await attempt({ allowedAuths: () => ['password'], checkAuthHostbased: () => AuthResult.SUCCESSFUL })).to.be.instanceOf(AuthError);
  });
});
