/**
 * Port forwarding with direct-tcpip (RFC 4254 §7.2): the client asks the server to connect to a TCP service and
 * talks to it through a channel (what `ssh -L` does). The server policy decides which destinations are allowed.
 * Run: npx tsx examples/port-forward.ts
 */
import net from 'node:net';
import { AuthResult, bridgeChannelSocket, generateHostKey, OpenFailure, Transport, type ServerPolicy } from '../impl/index.js';

// a local echo service the server will forward to
const echo = net.createServer((s) => s.pipe(s));
await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
const echoPort = (echo.address() as net.AddressInfo).port;

const policy: ServerPolicy = {
  allowedAuths: () => ['password'],
  checkAuthPassword: (_user, pw) => (pw === 'pw' ? AuthResult.SUCCESSFUL : AuthResult.FAILED),
  // only forwards to the echo service on loopback (server default policy: deny)
  checkChannelRequest: (kind, _id, info) =>
    kind === 'direct-tcpip' && info.destination?.host === '127.0.0.1' && info.destination.port === echoPort ? true : OpenFailure.ADMINISTRATIVELY_PROHIBITED,
};
const hostKey = generateHostKey('ssh-ed25519');
const sshServer = net.createServer((socket) => {
  const t = new Transport(socket, { hostKeys: [hostKey] });
  t.startServer(policy).then(async () => {
    for (let ch = await t.accept(); ch; ch = await t.accept()) {
      const dest = ch.info.destination!;
      // half-open capable, and joined so that each direction's end (EOF/FIN) is passed on after its last byte
      const upstream = net.connect({ host: dest.host, port: dest.port, allowHalfOpen: true });
      upstream.on('error', () => undefined); // the bridge ends the channel; nothing to crash on
      void bridgeChannelSocket(ch, upstream);
    }
  }).catch(() => undefined);
});
await new Promise<void>((r) => sshServer.listen(0, '127.0.0.1', r));

const client = new Transport(['127.0.0.1', (sshServer.address() as net.AddressInfo).port]);
await client.connect({ username: 'bob', password: 'pw', hostKey: hostKey.publicKey });
const ch = await client.openChannel('direct-tcpip', ['127.0.0.1', echoPort], ['127.0.0.1', 50000]);
ch.end('hello through the tunnel\n');
let reply = '';
for await (const chunk of ch) reply += chunk;
console.log(reply.trim());   // hello through the tunnel
await client.close();
sshServer.close();
echo.close();
