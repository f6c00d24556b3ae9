/**
 * A server with a policy (paramiko's ServerInterface → ServerPolicy) and a client that logs in and runs a command,
 * with the server's key pinned. Run: npx tsx examples/server-with-policy.ts
 */
import { AuthResult, generateHostKey, OpenFailure, SSHClient, SSHServer, type ServerPolicy } from 'ssh-harness';

const hostKey = generateHostKey('ssh-ed25519');

const policy: ServerPolicy = {
  allowedAuths: () => ['password'],
  checkAuthPassword: (user, password) => (user === 'alice' && password === 'wonderland' ? AuthResult.SUCCESSFUL : AuthResult.FAILED),
  checkChannelRequest: (kind) => (kind === 'session' ? true : OpenFailure.ADMINISTRATIVELY_PROHIBITED),
  checkChannelExecRequest: () => true,
};

const server = new SSHServer({ hostKeys: [hostKey], policy }, (t) => {
  t.on('channel', (ch) => ch.once('exec', (command) => {   // exec requests the policy allowed
    ch.end(`you ran: ${command}\n`);
    void ch.exit(0);
  }));
});
const { port } = await server.listen(0, '127.0.0.1');

const client = new SSHClient();
await client.addHostKey('127.0.0.1', port, hostKey.publicKey);   // known_hosts in memory: this server's key
await client.connect('127.0.0.1', { port, username: 'alice', password: 'wonderland' });
const result = await client.exec('uptime');
console.log(result.code, result.stdout.toString().trim());   // 0 you ran: uptime
await client.close();
await server.close();
