/**
 * Child process of the `ssh2-client` peer: one ssh2 (npm) client connection from $SSH_HARNESS_CLIENT_CONFIG.
 * Our stdin goes to the remote command; we exit with its status, or 255 when connect/auth fails.
 */
import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';

interface ClientConfig {
  host: string; port: number; user: string; password?: string; identity?: string; command: string;
  algorithms: { kex?: string[]; hostKey?: string[]; cipher?: string[]; mac?: string[]; compression?: string[] };
}

const cfg = JSON.parse(process.env['SSH_HARNESS_CLIENT_CONFIG'] ?? '{}') as ClientConfig;
const a = cfg.algorithms;
const stdinDone = new Promise<Buffer>((resolve) => {
  const parts: Buffer[] = [];
  process.stdin.on('data', (d: Buffer) => parts.push(d));
  process.stdin.on('end', () => resolve(Buffer.concat(parts)));
});

const conn = new ssh2.Client();
const fail = (msg: string): void => {
  process.stderr.write(`ssh2-client: ${msg}\n`);
  process.exit(255);
};
conn.on('error', (e: Error) => fail(e.message));
conn.on('ready', () => {
  conn.exec(cfg.command, (err, stream) => {
    if (err) return fail(err.message);
    let code: number | undefined;
    stream.on('exit', (c: number | null) => { code = c ?? 255; });
    stream.on('data', (d: Buffer) => process.stdout.write(d));
    stream.stderr.on('data', (d: Buffer) => process.stderr.write(d));
    stream.on('close', () => {
      conn.end();
      process.stdout.write('', () => process.exit(code ?? 255));
    });
    void stdinDone.then((data) => stream.end(data));
  });
});
conn.connect({
  host: cfg.host, port: cfg.port, username: cfg.user, readyTimeout: 15_000,
  ...(cfg.password !== undefined ? { password: cfg.password } : {}),
  ...(cfg.identity ? { privateKey: readFileSync(cfg.identity) } : {}),
  algorithms: {
    ...(a.kex?.length ? { kex: a.kex as ssh2.KexAlgorithm[] } : {}),
    ...(a.hostKey?.length ? { serverHostKey: a.hostKey as ssh2.ServerHostKeyAlgorithm[] } : {}),
    ...(a.cipher?.length ? { cipher: a.cipher as ssh2.CipherAlgorithm[] } : {}),
    ...(a.mac?.length ? { hmac: a.mac as ssh2.MacAlgorithm[] } : {}),
    ...(a.compression?.length ? { compress: a.compression as ssh2.CompressionAlgorithm[] } : {}),
  },
});
