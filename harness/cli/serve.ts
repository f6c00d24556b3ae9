/**
 * `ssh-harness serve`: the reference server on a TCP port. Password (also offered as
 * keyboard-interactive) and authorized_keys authentication, an optional two-factor chain, the built-in
 * deterministic commands for exec and shell sessions (real commands only with --allow-exec), and port
 * forwarding only with --allow-forwarding.
 */
import { spawn } from 'node:child_process';
import { timingSafeEqual, randomBytes, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import { Option, type Command } from 'commander';
import { Transport, type TransportAlgorithms, type TransportTrace } from '../../impl/Transport.js';
import { AuthResult } from '../../impl/auth/types.js';
import type { Channel } from '../../impl/connection/channel.js';
import { OpenFailure } from '../../impl/connection/connection.js';
import type { ServerPolicy } from '../../impl/connection/policy.js';
import { bridgeChannelSocket } from '../../impl/connection/socket-bridge.js';
import { generateHostKey } from '../../impl/crypto/hostkey/index.js';
import type { PrivateKey, PublicKey } from '../../impl/crypto/types.js';
import { SSHError } from '../../impl/errors.js';
import {
  certifiedPrivateKey, findAuthorizedKey, fingerprintSHA256, parseAuthorizedKeys, parseCertificate, parsePrivateKey, parsePublicKeyLine, type AuthorizedKeysList,
} from '../../impl/keys/index.js';
import { userCertificateVerdict } from '../../impl/auth/certificates.js';
import { runBuiltin, runShell, type CommandIO } from './builtin-commands.js';
import { loadTraceWriters, parseAlgorithmsFlag, traceFor, UsageError } from './common.js';

// the helpers exec shares (UsageError, --algorithms, the trace seam) live in common.ts; re-exported for older callers
export { loadTraceWriters, parseAlgorithmsFlag, setTraceFactory, traceFor, UsageError, type TraceFactory, type TraceRequest } from './common.js';

// ───────────────────────────── the server ─────────────────────────────

export interface ServeOptions {
  readonly host?: string;
  readonly port?: number;
  readonly hostKeys?: readonly PrivateKey[];
  /** Only this user may log in (any name when absent). */
  readonly user?: string;
  readonly password?: string;
  readonly authorizedKeys?: AuthorizedKeysList;
  /**
   * CA public key blobs whose user certificates authenticate (sshd TrustedUserCAKeys, OpenSSH PROTOCOL.certkeys):
   * principals, validity and source-address are checked; force-command replaces whatever the client runs.
   */
  readonly trustedUserCAs?: readonly Uint8Array[];
  /** Methods that must all succeed, in order, e.g. ['publickey', 'password'] (RFC 4252 §5.1 partial success). */
  readonly authChain?: readonly string[];
  readonly algorithms?: TransportAlgorithms;
  readonly allowExec?: boolean;
  readonly allowForwarding?: boolean;
  readonly keylog?: string;
  readonly pcapDir?: string;
  /** Logs one line per connection event to this function (stderr in the CLI with --verbose). */
  readonly log?: (line: string) => void;
  /** Auth failure delay (ms); default the library's. */
  readonly failureDelayMs?: number;
}

export interface RunningServer {
  readonly host: string;
  readonly port: number;
  readonly hostKeys: readonly PrivateKey[];
  readonly connections: number;
  close(): Promise<void>;
}

function equalSecret(a: string, b: string): boolean {
  // compare digests so the time does not depend on where the strings differ, nor on their lengths
  const h = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(h(a), h(b));
}

/** What authentication decided for one connection that the session must enforce (a certificate's force-command). */
interface ConnectionGrant {
  forceCommand?: string;
}

/** The policy for one connection (partial-success state is per connection). */
function servePolicy(o: ServeOptions, forwards: ForwardingState | undefined, clientAddress = '', granted: ConnectionGrant = {}): ServerPolicy {
  const methods: string[] = [];
  if (o.authorizedKeys || o.trustedUserCAs?.length) methods.push('publickey');
  if (o.password !== undefined) methods.push('password', 'keyboard-interactive');
  const chain = o.authChain ?? [];
  const done = new Set<string>();
  const userOk = (u: string) => o.user === undefined || u === o.user;
  // in a chain, 'keyboard-interactive' satisfies the 'password' factor
  const factor = (m: string) => (m === 'keyboard-interactive' ? 'password' : m);
  const grant = (user: string, method: string): AuthResult => {
    if (!userOk(user)) return AuthResult.FAILED;
    if (chain.length === 0) return AuthResult.SUCCESSFUL;
    const next = chain.find((m) => !done.has(m));
    if (next !== factor(method)) return AuthResult.FAILED;
    done.add(next);
    return chain.every((m) => done.has(m)) ? AuthResult.SUCCESSFUL : AuthResult.PARTIALLY_SUCCESSFUL;
  };
  const grant_ = (user: string) => grant(user, 'publickey');
  const passwordOk = (user: string, pw: string) => o.password !== undefined && equalSecret(pw, o.password) && userOk(user);
  return {
    allowedAuths() {
      if (chain.length === 0) return methods;
      const next = chain.find((m) => !done.has(m));
      return next === 'password' ? ['password', 'keyboard-interactive'] : next ? [next] : [];
    },
    checkAuthPassword: (user, pw) => (passwordOk(user, pw) ? grant(user, 'password') : AuthResult.FAILED),
    checkAuthKeyboardInteractive: (_user) => (o.password === undefined ? AuthResult.FAILED : { prompts: [{ prompt: 'Password: ', echo: false }] }),
    checkAuthKeyboardInteractiveResponse: (user, r) => (passwordOk(user, r[0] ?? '') ? grant(user, 'keyboard-interactive') : AuthResult.FAILED),
    checkAuthPublicKey(user, key: PublicKey, ctx) {
      const cert = userCertificateVerdict(user, key, { trustedCAs: o.trustedUserCAs ?? [], clientAddress });
      if (cert !== undefined) {
        if (!cert.ok || !userOk(user)) return AuthResult.FAILED;
        if (!ctx.signed) return AuthResult.SUCCESSFUL;
        const result = grant_(user);
        if (result !== AuthResult.FAILED && cert.forceCommand !== undefined) granted.forceCommand = cert.forceCommand;
        return result;
      }
      if (!o.authorizedKeys || !userOk(user) || !findAuthorizedKey(o.authorizedKeys, key.blob)) return AuthResult.FAILED;
      // an unsigned query only asks whether the key would do: it must not satisfy a factor (RFC 4252 §7)
      if (!ctx.signed) return AuthResult.SUCCESSFUL;
      return grant(user, 'publickey');
    },
    checkChannelRequest: async (kind, id, info) => {
      if (kind === 'session') return true;
      if (kind === 'direct-tcpip' && forwards && info.destination) return forwards.connect(id, info.destination.host, info.destination.port);
      return kind === 'direct-tcpip' ? OpenFailure.ADMINISTRATIVELY_PROHIBITED : OpenFailure.UNKNOWN_CHANNEL_TYPE;
    },
    checkPortForwardRequest: forwards ? (address, port) => forwards.listen(address, port) : undefined,
    cancelPortForwardRequest: forwards ? (address, port) => forwards.cancel(address, port) : undefined,
    checkChannelPtyRequest: () => true,
    checkChannelShellRequest: () => true,
    checkChannelExecRequest: () => true,
    checkChannelEnvRequest: () => true,
  };
}

const MAX_FORWARDS = 64;
/** A direct-tcpip destination that does not answer within this time is CONNECT_FAILED (RFC 4254 §7.2). */
const CONNECT_TIMEOUT_MS = 10_000;
const ignore = (): void => {};

/**
 * --allow-forwarding: direct-tcpip connects (RFC 4254 §7.2), tcpip-forward listens (§7.1). Every socket is
 * half-open capable and joined to its channel by bridgeChannelSocket, so a FIN in one direction never cuts the
 * other one short; every socket has an error listener from the start (a reset before the channel is open must not
 * take the server down).
 */
class ForwardingState {
  readonly pending = new Map<number, net.Socket>();
  private readonly listeners = new Map<string, net.Server>();
  transport: Transport | undefined;

  connect(id: number, host: string, port: number): Promise<true | OpenFailure> {
    return new Promise((resolve) => {
      const s = net.connect({ host, port, allowHalfOpen: true });
      const timer = setTimeout(() => { s.destroy(); resolve(OpenFailure.CONNECT_FAILED); }, CONNECT_TIMEOUT_MS);
      s.on('error', ignore);
      s.once('error', () => { clearTimeout(timer); resolve(OpenFailure.CONNECT_FAILED); });
      s.once('connect', () => {
        clearTimeout(timer);
        this.pending.set(id, s);
        s.once('close', () => { if (this.pending.get(id) === s) this.pending.delete(id); });
        resolve(true);
      });
    });
  }

  /** The socket connected for channel `id` (direct-tcpip), once the channel is accepted. */
  take(id: number): net.Socket | undefined {
    const s = this.pending.get(id);
    this.pending.delete(id);
    return s;
  }

  /** GatewayPorts=no semantics: wildcard binds become loopback. At most MAX_FORWARDS listeners per connection. */
  listen(address: string, port: number): Promise<number | false> {
    if (this.listeners.size >= MAX_FORWARDS) return Promise.resolve(false);
    const bindHost = address === '' || address === '*' || address === '0.0.0.0' || address === 'localhost' ? '127.0.0.1' : address === '::' ? '::1' : address;
    return new Promise((resolve) => {
      // what the local client sends before the channel is open waits in the socket (and then in TCP)
      const server = net.createServer({ allowHalfOpen: true }, (sock) => {
        sock.on('error', ignore);
        const t = this.transport;
        if (!t || !t.isActive()) { sock.destroy(); return; }
        const bound = (server.address() as net.AddressInfo).port;
        t.openChannel('forwarded-tcpip', [address, bound], [sock.remoteAddress ?? '127.0.0.1', sock.remotePort ?? 0])
          .then((ch) => bridgeChannelSocket(ch, sock), () => sock.destroy());
      });
      server.once('error', () => resolve(false));
      server.listen(port, bindHost, () => {
        const bound = (server.address() as net.AddressInfo).port;
        this.listeners.set(`${address}:${bound}`, server);
        resolve(bound);
      });
    });
  }

  cancel(address: string, port: number): void {
    const key = `${address}:${port}`;
    this.listeners.get(key)?.close();
    this.listeners.delete(key);
  }

  closeAll(): void {
    for (const s of this.listeners.values()) s.close();
    this.listeners.clear();
    for (const s of this.pending.values()) s.destroy();
    this.pending.clear();
  }
}

/** The signal names RFC 4254 §6.10 defines (without the "SIG" prefix). */
const RFC_SIGNALS: ReadonlySet<string> = new Set(['ABRT', 'ALRM', 'FPE', 'HUP', 'ILL', 'INT', 'KILL', 'PIPE', 'QUIT', 'SEGV', 'TERM', 'USR1', 'USR2']);

/** Runs one session channel: built-ins (or real commands with allowExec) for exec and shell; signals stop them. */
function serveSession(ch: Channel, o: ServeOptions, granted: ConnectionGrant = {}): void {
  const abort = new AbortController();
  let child: ReturnType<typeof spawn> | undefined;
  let signalled: string | undefined;
  ch.on('signal', (name: string) => {
    // RFC 4254 §6.10 names only: any other name from the peer is ignored (node's kill() throws on names it does not know)
    if (!RFC_SIGNALS.has(name)) return;
    signalled = name;
    if (child) child.kill(`SIG${name}` as NodeJS.Signals);
    else abort.abort();
  });
  // a closed channel drops writes: stop the command rather than let it spin (e.g. `yes` with a huge count)
  ch.once('channel-gone', () => { abort.abort(); child?.kill('SIGHUP'); });
  // OpenSSH PROTOCOL "eow@openssh.com": the client can no longer take output (e.g. `ssh host yes | head`).
  // Like sshd closing the command's stdout: a real command gets SIGPIPE on its next write, a built-in stops.
  ch.once('eow', () => {
    if (child) { child.stdout?.destroy(); child.stderr?.destroy(); return; }
    signalled = 'PIPE';
    abort.abort();
  });
  const io: CommandIO = { stdin: ch, stdout: ch, stderr: ch.stderr, signal: abort.signal };
  const finish = (code: number): void => {
    void ch.exit(signalled ? { signal: signalled, errorMessage: `killed by SIG${signalled}` } : code);
  };
  const runReal = (args: string[]): void => {
    child = spawn('/bin/sh', args, { env: { ...process.env, ...Object.fromEntries(ch.env) }, stdio: 'pipe' });
    ch.pipe(child.stdin!);
    child.stdin!.on('error', () => undefined);
    child.stdout!.pipe(ch, { end: false });
    child.stderr!.pipe(ch.stderr, { end: false });
    const outputs = [new Promise((r) => child!.stdout!.once('close', r)), new Promise((r) => child!.stderr!.once('close', r))];
    child.on('close', (code, sig) => {
      void Promise.all(outputs).then(() => {
        if (sig && !signalled) signalled = sig.replace(/^SIG/, '');
        finish(code ?? 0);
      });
    });
    child.on('error', () => finish(127));
  };
  ch.on('exec', (requested: string) => {
    // PROTOCOL.certkeys force-command: the certificate's command runs instead of the requested one (as sshd does)
    const command = granted.forceCommand ?? requested;
    if (o.allowExec) return runReal(['-c', command]);
    runBuiltin(command, io).then(finish, () => finish(1));
  });
  ch.on('shell', () => {
    if (granted.forceCommand !== undefined) {
      const command = granted.forceCommand;
      if (o.allowExec) return runReal(['-c', command]);
      runBuiltin(command, io).then(finish, () => finish(1));
      return;
    }
    if (o.allowExec) return runReal(['-i']);
    runShell(io, { pty: ch.pty !== undefined }).then(finish, () => finish(1));
  });
}

/** Starts the server; resolves once it listens. */
export async function startServe(o: ServeOptions): Promise<RunningServer> {
  const hostKeys = o.hostKeys && o.hostKeys.length > 0 ? o.hostKeys : [generateHostKey('ssh-ed25519')];
  const transports = new Set<Transport>();
  const sockets = new Set<net.Socket>();
  let count = 0;
  const log = o.log ?? (() => {});
  const server = net.createServer((sock) => {
    const n = ++count;
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    const forwards = o.allowForwarding ? new ForwardingState() : undefined;
    const t = new Transport(sock, {
      hostKeys,
      algorithms: o.algorithms,
      auth: o.failureDelayMs !== undefined ? { failureDelayMs: o.failureDelayMs } : undefined,
      trace: traceFor({
        role: 'server', keylog: o.keylog, pcapDir: o.pcapDir, connection: n,
        local: { host: sock.localAddress ?? '', port: sock.localPort ?? 0 }, remote: { host: sock.remoteAddress ?? '', port: sock.remotePort ?? 0 },
      }),
    });
    if (forwards) forwards.transport = t;
    transports.add(t);
    t.on('close', (e) => { transports.delete(t); forwards?.closeAll(); log(`#${n} closed: ${e?.message ?? 'by us'}`); });
    t.on('authenticated', (user: string) => log(`#${n} authenticated as ${JSON.stringify(user)}`));
    log(`#${n} connection from ${sock.remoteAddress}:${sock.remotePort}`);
    const granted: ConnectionGrant = {};
    t.startServer(servePolicy(o, forwards, sock.remoteAddress ?? '', granted)).then(async () => {
      for (let ch = await t.accept(); ch; ch = await t.accept()) {
        if (ch.kind === 'session') serveSession(ch, o, granted);
        else if (ch.kind === 'direct-tcpip' && forwards) {
          const s = forwards.take(ch.id);
          if (s) void bridgeChannelSocket(ch, s); else void ch.close();
        } else void ch.close();
      }
    }, (e: unknown) => log(`#${n} handshake failed: ${e instanceof Error ? e.message : String(e)}`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 2222, o.host ?? '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  const addr = server.address() as net.AddressInfo;
  return {
    host: addr.address,
    port: addr.port,
    hostKeys,
    get connections() { return count; },
    async close() {
      // server.close() waits for every connection to end, so end them first
      const closed = new Promise<void>((r) => server.close(() => r()));
      await Promise.all([...transports].map((t) => t.close(200).catch(() => undefined)));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

function readHostKey(file: string): PrivateKey {
  try {
    return parsePrivateKey(readFileSync(file)).toPrivateKey();
  } catch (e) {
    throw new UsageError(`--host-key ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('run the reference SSH server (built-in deterministic commands unless --allow-exec)')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .addOption(new Option('--port <n>', 'TCP port (0 picks a free one)').default(2222).argParser((v) => Number.parseInt(v, 10)))
    .option('--host-key <file...>', 'host private key file(s); an ed25519 key is generated when none is given')
    .option('--user <name>', 'the only user allowed to log in (default: any user name)')
    .option('--password <pw>', 'password for password and keyboard-interactive authentication')
    .option('--authorized-keys <file>', 'authorized_keys file for publickey authentication')
    .option('--trusted-ca <file...>', 'CA public key file(s) (.pub) whose user certificates log in (sshd TrustedUserCAKeys)')
    .option('--host-cert <file...>', 'host certificate file(s) (-cert.pub) for the --host-key keys, offered first (sshd HostCertificate)')
    .option('--auth-chain <methods>', 'methods that must all succeed in order, e.g. publickey,password (two factors)')
    .option('--algorithms <spec>', 'kind=name[:name...] pairs joined by commas (kinds: kex, hostkey, cipher, mac, compression)')
    .option('--allow-exec', 'run real commands via /bin/sh instead of the built-in set')
    .option('--allow-forwarding', 'allow direct-tcpip and tcpip-forward (denied by default)')
    .option('--keylog <file>', 'write an SSH keylog (Wireshark format)')
    .option('--pcap <dir>', 'write one pcap per connection into this directory')
    .option('--verbose', 'log connections and authentication to stderr')
    .option('--json', 'print the listening line as JSON')
    .action(async (flags: Record<string, unknown>) => {
      try {
        const options = serveOptionsFromFlags(flags);
        await loadTraceWriters(options);
        const running = await startServe(options);
        if (flags.json) {
          process.stdout.write(`${JSON.stringify({ listening: { host: running.host, port: running.port }, hostKeys: running.hostKeys.map((k) => fingerprintSHA256(k.publicKey.blob)) })}\n`);
        } else {
          for (const k of running.hostKeys) process.stderr.write(`host key ${k.type} ${fingerprintSHA256(k.publicKey.blob)}\n`);
          process.stdout.write(`listening on ${running.host}:${running.port}\n`);
        }
        await new Promise<void>((resolve) => {
          // a graceful close, bounded: connections get their DISCONNECT, but a stuck one cannot hold the exit
          const stop = () => { void running.close().then(resolve); setTimeout(resolve, 5000).unref(); };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        // Closed: every connection ended. Exit explicitly rather than by the loop running dry: a socket a peer left
        // half-open must not keep the process alive, and Node's teardown after a natural end spins forever on a
        // TCP handle it failed to close (the RST-while-FIN-queued case socket-bridge.ts avoids). What is still
        // being written gets up to a second.
        process.once('beforeExit', () => process.exit(process.exitCode ?? 0));
        setTimeout(() => process.exit(process.exitCode ?? 0), 1000).unref();
      } catch (e) {
        process.stderr.write(`ssh-harness serve: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exitCode = 2;
      }
    });
}

function serveOptionsFromFlags(f: Record<string, unknown>): ServeOptions {
  const port = f.port as number;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port: ${JSON.stringify(f.port)} is not a port number`);
  let authorizedKeys: AuthorizedKeysList | undefined;
  if (typeof f.authorizedKeys === 'string') {
    try {
      authorizedKeys = parseAuthorizedKeys(readFileSync(f.authorizedKeys, 'utf8'));
    } catch (e) {
      throw new UsageError(`--authorized-keys ${f.authorizedKeys}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const trustedUserCAs = ((f.trustedCa as string[] | undefined) ?? []).map((file) => readPublicKeyFile(file, '--trusted-ca'));
  let password = f.password as string | undefined;
  if (password === undefined && !authorizedKeys && trustedUserCAs.length === 0) {
    password = randomBytes(9).toString('base64url');
    process.stderr.write(`no --password or --authorized-keys given; generated password: ${password}\n`);
  }
  const authChain = typeof f.authChain === 'string' ? f.authChain.split(',').filter(Boolean) : undefined;
  for (const m of authChain ?? []) {
    if (m !== 'publickey' && m !== 'password') throw new UsageError(`--auth-chain: ${JSON.stringify(m)} is not publickey or password`);
    if (m === 'publickey' && !authorizedKeys) throw new UsageError('--auth-chain publickey needs --authorized-keys');
  }
  return {
    host: f.host as string,
    port,
    hostKeys: withHostCertificates(((f.hostKey as string[] | undefined) ?? []).map(readHostKey), (f.hostCert as string[] | undefined) ?? []),
    trustedUserCAs,
    user: f.user as string | undefined,
    password,
    authorizedKeys,
    authChain,
    algorithms: typeof f.algorithms === 'string' ? parseAlgorithmsFlag(f.algorithms) : undefined,
    allowExec: f.allowExec === true,
    allowForwarding: f.allowForwarding === true,
    keylog: f.keylog as string | undefined,
    pcapDir: f.pcap as string | undefined,
    log: f.verbose ? (line) => process.stderr.write(`${line}\n`) : undefined,
  };
}

function readPublicKeyFile(file: string, flag: string): Uint8Array {
  try {
    return parsePublicKeyLine(readFileSync(file, 'utf8').split('\n').find((l) => l.trim() && !l.startsWith('#')) ?? '').blob;
  } catch (e) {
    throw new UsageError(`${flag} ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Each host certificate joins the key it certifies, in front of the plain keys (sshd HostCertificate). */
function withHostCertificates(keys: PrivateKey[], certFiles: readonly string[]): PrivateKey[] {
  const certified = certFiles.map((file) => {
    const cert = readPublicKeyFile(file, '--host-cert');
    const blob = parseCertificate(cert).publicKey;
    const key = keys.find((k) => Buffer.compare(Buffer.from(k.publicKey.blob), Buffer.from(blob)) === 0);
    if (!key) throw new UsageError(`--host-cert ${file}: certifies no --host-key given`);
    return certifiedPrivateKey(key, cert);
  });
  return [...certified, ...keys];
}
