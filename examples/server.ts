/**
 * An SSH server that runs one kind of command, written the way to copy it: SSHServer takes care of every connection
 * that ends before it is usable — port scanners and health checks that connect and close, clients that leave
 * mid-handshake, non-SSH clients — and reports each as a 'clientError' event; nothing becomes an unhandled rejection.
 * Run: PORT=2222 npx tsx examples/server.ts   then   ssh -p 2222 alice@127.0.0.1 uptime   (password: wonderland)
 */
import { readFileSync } from 'node:fs';
import { AuthResult, generateHostKey, OpenFailure, SSHServer, type ServerPolicy } from 'ssh-harness';

// a host key file (OpenSSH or PEM, e.g. from ssh-keygen), or a fresh key for a demo
const hostKey = process.env.HOST_KEY_FILE ? readFileSync(process.env.HOST_KEY_FILE) : generateHostKey('ssh-ed25519');

const policy: ServerPolicy = {
  allowedAuths: () => ['password'],
  checkAuthPassword: (user, password) => (user === 'alice' && password === 'wonderland' ? AuthResult.SUCCESSFUL : AuthResult.FAILED),
  checkChannelRequest: (kind) => (kind === 'session' ? true : OpenFailure.ADMINISTRATIVELY_PROHIBITED),
  checkChannelExecRequest: () => true,
};

const server = new SSHServer({ hostKeys: [hostKey], policy }, (t) => {
  // each channel the client opens, with its request listeners in place before any request can arrive
  t.on('channel', (ch) => {
    ch.once('exec', (command) => {
      ch.end(`you ran: ${command}\n`);
      void ch.exit(0);
    });
  });
});
server.on('clientError', (err, peer) => console.error(`${peer.address}:${peer.port} ${err.message}`));

const { address, port } = await server.listen(Number(process.env.PORT ?? 2222), '127.0.0.1');
console.log(`listening on ${address}:${port}`);
process.once('SIGTERM', () => void server.close());
