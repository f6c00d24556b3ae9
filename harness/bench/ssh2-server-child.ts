/**
 * A minimal `ssh2` (npm) server for the impl↔impl vs ssh2↔ssh2 comparison, run in its own process like ours.
 * Accepts password auth, runs every exec as "discard": reads stdin to EOF, exits 0. Prints `listening on HOST:PORT`.
 */
import { generateKeyPairSync } from 'node:crypto';
import ssh2 from 'ssh2';

// ssh2 reads SEC1 PEM EC keys; ecdsa-sha2-nistp256 is the host key both sides of the comparison can use
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const hostKey = privateKey.export({ type: 'sec1', format: 'pem' }).toString();
const server = new ssh2.Server({ hostKeys: [hostKey] }, (client) => {
  client.on('authentication', (ctx) => (ctx.method === 'password' && ctx.password === 'bench' ? ctx.accept() : ctx.reject(['password'])));
  client.on('session', (accept) => {
    const session = accept();
    session.on('exec', (acceptExec) => {
      const ch = acceptExec();
      ch.on('data', () => undefined);
      ch.on('end', () => { ch.exit(0); ch.end(); });
    });
  });
  client.on('error', () => undefined);
});
server.listen(0, '127.0.0.1', () => {
  const addr = server.address() as { port: number };
  process.stdout.write(`listening on 127.0.0.1:${addr.port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
