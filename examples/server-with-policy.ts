/**
 * A server with a policy (paramiko's ServerInterface → ServerPolicy), and a client that logs in and runs a command.
 * Run: npx tsx examples/server-with-policy.ts
 */
import net from 'node:net';
import { AuthResult, Client, generateHostKey, OpenFailure, Transport, type ServerPolicy } from '../impl/index.js';

const hostKey = generateHostKey('ssh-ed25519');

const policy: ServerPolicy = {
  allowedAuths: () => ['password'],
  checkAuthPassword: (user, password) => (user === 'alice' && password === 'wonderland' ? AuthResult.SUCCESSFUL : AuthResult.FAILED),
  checkChannelRequest: (kind) => (kind === 'session' ? true : OpenFailure.ADMINISTRATIVELY_PROHIBITED),
  checkChannelExecRequest: () => true,
};

const server = net.createServer((socket) => {
  const t = new Transport(socket, { hostKeys: [hostKey] });
  t.startServer(policy).then(async () => {
    for (let ch = await t.accept(); ch; ch = await t.accept()) {
      ch.once('exec', (command: string) => {   // exec requests the policy allowed
        ch.end(`you ran: ${command}\n`);
        void ch.exit(0);
      });
    }
  }).catch(() => undefined);
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const { port } = server.address() as net.AddressInfo;

const result = await Client.exec(['127.0.0.1', port], { username: 'alice', password: 'wonderland', hostKey: hostKey.publicKey }, 'uptime');
console.log(result.code, result.stdout.toString().trim());   // 0 you ran: uptime
server.close();
