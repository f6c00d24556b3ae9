/**
 * Port forwarding with direct-tcpip (RFC 4254 §7.2): the client asks the server to connect to a TCP service and
 * talks to it through a channel (what `ssh -L` does). The server policy decides which destinations are allowed.
 * Run: npx tsx examples/port-forward.ts
 */
import net from 'node:net';
import { AuthResult, bridgeChannelSocket, generateHostKey, OpenFailure, SSHServer, Transport, type ServerPolicy } from 'ssh-harness';

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
const sshServer = new SSHServer({ hostKeys: [hostKey], policy }, (t) => {
  t.on('channel', (ch) => {
    const dest = ch.info.destination!;
    // half-open capable, and joined so that each direction's end (EOF/FIN) is passed on after its last byte
    const upstream = net.connect({ host: dest.host, port: dest.port, allowHalfOpen: true });
    upstream.on('error', () => undefined); // the bridge ends the channel; nothing to crash on
    void bridgeChannelSocket(ch, upstream);
  });
});
const { port } = await sshServer.listen(0, '127.0.0.1');

const client = new Transport(['127.0.0.1', port]);
await client.connect({ username: 'bob', password: 'pw', hostKey: hostKey.publicKey });
const ch = await client.openChannel('direct-tcpip', ['127.0.0.1', echoPort], ['127.0.0.1', 50000]);
ch.end('hello through the tunnel\n');
let reply = '';
for await (const chunk of ch) reply += chunk;
console.log(reply.trim());   // hello through the tunnel
await client.close();
await sshServer.close();
echo.close();
