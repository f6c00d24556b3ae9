/** RFC 4254 §5.1 default answers of a server policy without checkChannelRequest. */
import { expect } from 'chai';
import net from 'node:net';
import { AuthResult } from '../auth/types.js';
import { generateHostKey } from '../crypto/hostkey/index.js';
import { insecureAcceptAnyHostKey, Transport } from '../Transport.js';
import { OpenFailure } from './connection.js';
import { ChannelOpenError } from './open-error.js';

describe('default channel-open policy (RFC 4254 §5.1)', function () {
  this.timeout(20_000);
  it('opens sessions, denies direct-tcpip (ADMINISTRATIVELY_PROHIBITED) and answers an unknown type with UNKNOWN_CHANNEL_TYPE', async () => {
    const hostKey = generateHostKey('ssh-ed25519');
    const server = net.createServer((sock) => {
      void new Transport(sock, { hostKeys: [hostKey] }).startServer({ allowedAuths: () => ['password'], checkAuthPassword: () => AuthResult.SUCCESSFUL }).catch(() => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const t = new Transport(['127.0.0.1', (server.address() as net.AddressInfo).port], { verifyHostKey: insecureAcceptAnyHostKey });
      await t.connect({ username: 'u', password: 'p' });
      await t.openSession();
      const reason = (kind: string, dest?: readonly [string, number]) =>
        t.openChannel(kind, dest, dest ? ['127.0.0.1', 1] : undefined).then(() => 0, (e: unknown) => (e instanceof ChannelOpenError ? e.openFailure : -1));
      expect(await reason('direct-tcpip', ['127.0.0.1', 9])).to.equal(OpenFailure.ADMINISTRATIVELY_PROHIBITED);
      expect(await reason('no-such-type@example.org')).to.equal(OpenFailure.UNKNOWN_CHANNEL_TYPE);
      await t.close();
    } finally {
      server.close();
    }
  });
});
