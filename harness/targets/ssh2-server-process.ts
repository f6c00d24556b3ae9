/**
 * Child process of the `ssh2` target: an ssh2 (npm) server configured from $SSH_HARNESS_PEER_CONFIG (same
 * JSON as the Python peers). Binds port 0 and prints `ssh2 VERSION listening on HOST:PORT`. Exec requests
 * run a few built-in commands (echo, cat, exit N, true, false, discard, yes N); nothing runs in a shell.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';
import ssh2 from 'ssh2';
import type { AuthContext, Connection, ServerChannel } from 'ssh2';

interface PeerConfig {
  host: string; port: number; hostKeys: string[]; user: string; password: string;
  authorizedKeys: string[]; authMethods: string[];
  algorithms: { kex?: string[]; hostKey?: string[]; cipher?: string[]; mac?: string[]; compression?: string[] };
}

const cfg = JSON.parse(process.env['SSH_HARNESS_PEER_CONFIG'] ?? '{}') as PeerConfig;
const version = (createRequire(import.meta.url)('ssh2/package.json') as { version: string }).version;
const log = (msg: string): void => { process.stderr.write(`${new Date().toISOString()} ${msg}\n`); };
const allowed = cfg.authorizedKeys.map((line) => ssh2.utils.parseKey(line)).filter((k): k is ssh2.ParsedKey => !(k instanceof Error));

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function authenticate(ctx: AuthContext): void {
  const methods = cfg.authMethods.filter((m) => m === 'password' || m === 'publickey') as Array<'password' | 'publickey'>;
  log(`auth ${ctx.method} for ${JSON.stringify(ctx.username)}`);
  if (ctx.username !== cfg.user || !(methods as string[]).includes(ctx.method)) return ctx.reject(methods);
  if (ctx.method === 'password') return ctx.password === cfg.password ? ctx.accept() : ctx.reject(methods);
  if (ctx.method === 'publickey') {
    const key = allowed.find((k) => k.type === ctx.key.algo.replace(/^rsa-sha2-(256|512)$/, 'ssh-rsa') && sameBytes(k.getPublicSSH(), ctx.key.data));
    if (!key) return ctx.reject(methods);
    if (!ctx.signature || !ctx.blob) return ctx.accept(); // RFC 4252 §7: a query without signature gets PK_OK
    return key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true ? ctx.accept() : ctx.reject(methods);
  }
  return ctx.reject(methods);
}

async function runBuiltin(command: string, ch: ServerChannel): Promise<number> {
  // `cat` echoes input as it arrives (not at EOF); `discard` counts it. stdin is read once: like a shell pipeline,
  // a later `cat`/`discard` sees it already consumed
  let consumed = false;
  const stdin = (onData: (d: Buffer) => void): Promise<void> => {
    if (consumed) return Promise.resolve();
    consumed = true;
    return new Promise((resolve) => {
      ch.on('data', onData);
      ch.once('end', () => resolve());
    });
  };
  for (const step of command.split(';').map((s) => s.trim().split(/\s+/).filter(Boolean)).filter((w) => w.length)) {
    const [name, ...args] = step as [string, ...string[]];
    switch (name) {
      case 'echo': ch.write(args.join(' ') + '\n'); break;
      case 'cat': await stdin((d) => ch.write(d)); break;
      case 'discard': { let n = 0; await stdin((d) => { n += d.length; }); ch.write(`${n}\n`); break; }
      case 'yes': ch.write(Buffer.alloc(Math.min(Number(args[0]) || 0, 1 << 30), 'y\n')); break;
      case 'true': break;
      case 'false': return 1;
      case 'exit': return (Number(args[0]) || 0) & 0xff;
      default: ch.stderr.write(`${name}: command not found\n`); return 127;
    }
  }
  return 0;
}

function onClient(client: Connection): void {
  client.on('authentication', authenticate);
  client.on('error', (e: Error) => log(`client error: ${e.message}`));
  client.on('ready', () => {
    client.on('session', (accept) => {
      const session = accept();
      session.on('pty', (ok) => ok?.());
      session.on('env', (ok) => ok?.());
      // RFC 4254 §6.5: only one of shell, exec, subsystem succeeds per channel; ssh2 leaves refusing a second one
      // to the application (its accept() then returns undefined), so the wrapper refuses it
      let started = false;
      const start = (accept: () => ServerChannel | undefined, reject: (() => void) | undefined, command: string): void => {
        if (started) { reject?.(); return; }
        const ch = accept();
        if (!ch) return;
        started = true;
        void runBuiltin(command, ch).then((code) => { ch.exit(code); ch.end(); }, (e: Error) => log(`command failed: ${e.message}`));
      };
      session.on('exec', (ok, reject, info) => start(ok, reject, info.command));
      session.on('shell', (ok, reject) => start(ok, reject, 'cat'));
    });
  });
}

const a = cfg.algorithms;
const server = new ssh2.Server({
  hostKeys: cfg.hostKeys.map((p) => readFileSync(p)),
  algorithms: {
    ...(a.kex?.length ? { kex: a.kex as ssh2.KexAlgorithm[] } : {}),
    ...(a.hostKey?.length ? { serverHostKey: a.hostKey as ssh2.ServerHostKeyAlgorithm[] } : {}),
    ...(a.cipher?.length ? { cipher: a.cipher as ssh2.CipherAlgorithm[] } : {}),
    ...(a.mac?.length ? { hmac: a.mac as ssh2.MacAlgorithm[] } : {}),
    ...(a.compression?.length ? { compress: a.compression as ssh2.CompressionAlgorithm[] } : {}),
  },
  debug: (msg: string) => log(msg),
}, onClient);

server.listen(cfg.port, cfg.host, () => {
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : cfg.port;
  log(`ssh2 ${version} listening on ${cfg.host}:${port}`);
});
server.on('error', (e: Error) => { log(`server error: ${e.message}`); process.exit(1); });
process.on('SIGTERM', () => process.exit(0));
