/**
 * `self`: our own reference server as a target. Three forms:
 * - `self`            in-process on a free loopback port (the fastest: the suite's CI bar is < 10 s);
 * - `self:<variant>`  the same server with one deliberate fault (harness/scenario/variants.ts);
 * - `self-serve`      the `ssh-harness serve` command as a subprocess (the product as users run it).
 * Credentials are the harness test account's (user, password, client key) so data scenarios run unchanged.
 */
import { spawn } from 'node:child_process';
import { createHash, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Transport } from '../../impl/Transport.js';
import { withDangerousEngineOptions } from '../../impl/testing.js';
import { AuthResult } from '../../impl/auth/types.js';
import type { Channel } from '../../impl/connection/channel.js';
import { OpenFailure } from '../../impl/connection/connection.js';
import { bridgeChannelSocket } from '../../impl/connection/socket-bridge.js';
import type { ServerPolicy } from '../../impl/connection/policy.js';
import { generateHostKey } from '../../impl/crypto/hostkey/index.js';
import type { PrivateKey } from '../../impl/crypto/types.js';
import { parsePrivateKey, writeOpenSSHPrivateKey } from '../../impl/keys/index.js';
import { runBuiltin, runShell, type CommandIO } from '../cli/builtin-commands.js';
import { VARIANTS, variantByName, type ServerVariant } from '../scenario/variants.js';
import { PeerError } from './errors.js';
import { fingerprintOf } from './host-keys.js';
import { registerTarget } from './registry.js';
import { clientKeys, testCredentials } from './test-user.js';
import type { Availability, Credentials, RunningTarget, StartOptions, Target } from './types.js';

/** Host keys are made once per process: RSA generation would dominate a short suite. */
let hostKeysMemo: PrivateKey[] | undefined;
function hostKeys(): PrivateKey[] {
  return (hostKeysMemo ??= [generateHostKey('ssh-ed25519'), generateHostKey('ecdsa-sha2-nistp256'), generateHostKey('ssh-rsa', { rsaBits: 2048 })]);
}

function sameSecret(a: string, b: string): boolean {
  const h = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(h(a), h(b));
}

/**
 * Remote forwarding (RFC 4254 §7.1) for one connection: loopback listeners only, unprivileged ports only (§7.1:
 * privileged ports only for privileged users), at most 8; each accepted socket becomes a forwarded-tcpip channel
 * (§7.2) naming the address and port the client asked for. Everything is closed with the connection.
 */
class LoopbackForwards {
  private readonly listeners = new Map<string, net.Server>();
  constructor(private readonly t: Transport) {
    t.on('close', () => { for (const l of this.listeners.values()) l.close(); this.listeners.clear(); });
  }

  listen(address: string, port: number): Promise<number | false> {
    if ((port !== 0 && port < 1024) || port > 65535 || this.listeners.size >= 8) return Promise.resolve(false);
    return new Promise((resolve) => {
      const server = net.createServer({ allowHalfOpen: true }, (sock) => {
        sock.on('error', () => undefined);
        if (!this.t.isActive()) { sock.destroy(); return; }
        const bound = (server.address() as net.AddressInfo).port;
        this.t.openChannel('forwarded-tcpip', [address, bound], [sock.remoteAddress ?? '127.0.0.1', sock.remotePort ?? 0])
          .then((ch) => bridgeChannelSocket(ch, sock), () => sock.destroy());
      });
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => {
        const bound = (server.address() as net.AddressInfo).port;
        this.listeners.set(`${address}:${bound}`, server);
        resolve(bound);
      });
    });
  }

  cancel(address: string, port: number): boolean {
    const l = this.listeners.get(`${address}:${port}`);
    l?.close();
    return this.listeners.delete(`${address}:${port}`);
  }
}

/** Like `ssh-harness serve`: publickey (the test account's keys), password, and password as keyboard-interactive. */
function policy(creds: Credentials, userKeys: readonly Uint8Array[], forwards?: LoopbackForwards): ServerPolicy {
  const userOk = (u: string) => u === creds.user;
  const passwordOk = (u: string, pw: string) => userOk(u) && creds.password !== undefined && sameSecret(pw, creds.password);
  return {
    allowedAuths: () => ['publickey', 'password', 'keyboard-interactive'],
    checkAuthPassword: (u, pw) => (passwordOk(u, pw) ? AuthResult.SUCCESSFUL : AuthResult.FAILED),
    checkAuthKeyboardInteractive: () => ({ prompts: [{ prompt: 'Password: ', echo: false }] }),
    checkAuthKeyboardInteractiveResponse: (u, r) => (r.length === 1 && passwordOk(u, r[0]!) ? AuthResult.SUCCESSFUL : AuthResult.FAILED),
    checkAuthPublicKey: (u, key) => (userOk(u) && userKeys.some((b) => Buffer.from(key.blob).equals(Buffer.from(b))) ? AuthResult.SUCCESSFUL : AuthResult.FAILED),
    // RFC 4254 §5.1: an unknown channel type gets SSH_OPEN_UNKNOWN_CHANNEL_TYPE
    checkChannelRequest: (kind) => (kind === 'session' ? true : kind === 'direct-tcpip' || kind === 'x11' || kind === 'forwarded-tcpip' ? OpenFailure.ADMINISTRATIVELY_PROHIBITED : OpenFailure.UNKNOWN_CHANNEL_TYPE),
    checkChannelExecRequest: () => true,
    checkChannelShellRequest: () => true,
    checkChannelPtyRequest: () => true,
    checkChannelEnvRequest: (_c, name) => name.startsWith('LC_'),
    ...(forwards ? { checkPortForwardRequest: (a: string, p: number) => forwards.listen(a, p), cancelPortForwardRequest: (a: string, p: number) => forwards.cancel(a, p) } : {}),
  };
}

/** RFC 4254 §6.10's signal names; anything else is not a signal this server implements, so it is ignored (§6.9). */
const SIGNALS = new Set(['ABRT', 'ALRM', 'FPE', 'HUP', 'ILL', 'INT', 'KILL', 'PIPE', 'QUIT', 'SEGV', 'TERM', 'USR1', 'USR2']);

/** The built-in deterministic commands of `ssh-harness serve` (README "Command line") on one session channel. */
function serveSession(ch: Channel): void {
  const abort = new AbortController();
  let signalled: string | undefined;
  ch.on('signal', (name: string) => { if (SIGNALS.has(name)) { signalled = name; abort.abort(); } });
  const io: CommandIO = { stdin: ch, stdout: ch, stderr: ch.stderr, signal: abort.signal };
  const finish = (code: number): void => { void ch.exit(signalled ? { signal: signalled, errorMessage: `killed by SIG${signalled}` } : code); };
  ch.on('exec', (command: string) => { runBuiltin(command, io).then(finish, () => finish(1)); });
  ch.on('shell', () => { runShell(io, { pty: ch.pty !== undefined }).then(finish, () => finish(1)); });
}

export interface SelfServer {
  readonly host: string;
  readonly port: number;
  readonly hostKeys: readonly PrivateKey[];
  readonly log: string[];
  close(): Promise<void>;
}

/** Starts the reference server in this process; `variant` installs one deliberate fault on every connection. */
export async function startSelfServer(o: { variant?: ServerVariant; credentials: Credentials; port?: number; algorithms?: StartOptions['algorithms']; extraUserKeys?: readonly Uint8Array[] }): Promise<SelfServer> {
  const keys = hostKeys();
  const userKey = o.credentials.privateKeyPath ? parsePrivateKey(readFileSync(o.credentials.privateKeyPath)).toPrivateKey() : undefined;
  const userKeys = [...(userKey ? [userKey.publicKey.blob] : []), ...(o.extraUserKeys ?? [])];
  const transports = new Set<Transport>();
  const sockets = new Set<net.Socket>();
  const log: string[] = [];
  let n = 0;
  const server = net.createServer((sock) => {
    const id = ++n;
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    const variant = o.variant;
    // a deliberately broken variant deviates through the testing entry's hooks, never through public options
    const t = new Transport(sock, withDangerousEngineOptions({
      hostKeys: keys,
      ...(o.algorithms ? { algorithms: o.algorithms } : {}),
    }, variant ? { deviations: (dt) => variant.install(dt, { ...(userKey ? { userKey } : {}) }) } : {}));
    transports.add(t);
    t.on('close', (e) => { transports.delete(t); if (log.length < 500) log.push(`#${id} closed: ${e?.message ?? 'by us'}`); });
    t.startServer(policy(o.credentials, userKeys, new LoopbackForwards(t))).then(async () => {
      for (let ch = await t.accept(); ch; ch = await t.accept()) {
        if (ch.kind === 'session') serveSession(ch); else void ch.close();
      }
    }, (e: unknown) => { if (log.length < 500) log.push(`#${id} handshake failed: ${e instanceof Error ? e.message : String(e)}`); });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    host: '127.0.0.1', port, hostKeys: keys, log,
    async close() {
      await new Promise<void>((r) => server.close(() => r()));
      await Promise.all([...transports].map((t) => t.close(100).catch(() => undefined)));
      for (const s of sockets) s.destroy();
    },
  };
}

function hostKeyInfos(keys: readonly PrivateKey[]) {
  return keys.map((k) => ({ type: k.type, blob: k.publicKey.blob, fingerprint: fingerprintOf(k.publicKey.blob) }));
}

function inProcessTarget(name: string, variant: ServerVariant | undefined): Target {
  return {
    name, kind: 'server',
    description: variant ? `our reference server with a deliberate fault: ${variant.description}` : 'our reference server, in-process on loopback',
    availability: async (): Promise<Availability> => ({ available: true, version: 'ssh_harness_0.1' }),
    async start(opts: StartOptions = {}): Promise<RunningTarget> {
      const credentials = await testCredentials();
      // every key of the test account is authorized, as in its ~/.ssh/authorized_keys on the other peers
      const extraUserKeys = (await clientKeys()).map((k) => k.info.blob);
      const s = await startSelfServer({ ...(variant ? { variant } : {}), credentials, extraUserKeys, ...(opts.port !== undefined ? { port: opts.port } : {}), ...(opts.algorithms ? { algorithms: opts.algorithms } : {}) });
      return {
        name, host: s.host, port: s.port, banner: 'SSH-2.0-ssh_harness_0.1', version: 'ssh_harness_0.1',
        hostKeys: hostKeyInfos(s.hostKeys), credentials,
        logs: () => s.log.join('\n'), stop: () => s.close(),
      };
    },
  };
}

/** `ssh-harness serve` in a child process, with our host key and the test account's password and key. */
const serveTarget: Target = {
  name: 'self-serve', kind: 'server', description: 'the `ssh-harness serve` command as a subprocess on loopback',
  availability: async () => ({ available: true }),
  async start(opts: StartOptions = {}): Promise<RunningTarget> {
    const credentials = await testCredentials();
    const dir = mkdtempSync(join(tmpdir(), 'ssh-harness-self-'));
    const key = generateHostKey('ssh-ed25519');
    const keyPath = join(dir, 'host_ed25519');
    writeFileSync(keyPath, writeOpenSSHPrivateKey(key.keyObject), { mode: 0o600 });
    const akPath = join(dir, 'authorized_keys');
    writeFileSync(akPath, `${credentials.publicKeyLine ?? ''}\n`);
    const bin = fileURLToPath(new URL('../../bin/ssh-harness.js', import.meta.url));
    const args = [bin, 'serve', '--host', '127.0.0.1', '--port', String(opts.port ?? 0), '--host-key', keyPath,
      '--user', credentials.user, '--password', credentials.password ?? '', '--authorized-keys', akPath];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new PeerError('startup-timeout', `ssh-harness serve did not print "listening on" within 15 s`, out)), opts.startupTimeoutMs ?? 15_000);
      const onData = (b: Buffer) => {
        out += b.toString();
        const m = /listening on [^\s:]+:(\d+)/.exec(out);
        if (m) { clearTimeout(timer); resolve(Number(m[1])); }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code) => { clearTimeout(timer); reject(new PeerError('startup-failed', `ssh-harness serve exited with ${code}`, out)); });
    }).catch((e: unknown) => { child.kill(); rmSync(dir, { recursive: true, force: true }); throw e; });
    let stopped: Promise<void> | undefined;
    return {
      name: 'self-serve', host: '127.0.0.1', port, pid: child.pid, banner: 'SSH-2.0-ssh_harness_0.1', version: 'ssh_harness_0.1',
      hostKeys: hostKeyInfos([key]), credentials, logs: () => out,
      stop: () => (stopped ??= new Promise<void>((resolve) => {
        if (child.exitCode !== null) { resolve(); return; }
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }).finally(() => rmSync(dir, { recursive: true, force: true }))),
    };
  },
};

registerTarget('self', () => inProcessTarget('self', undefined));
for (const v of VARIANTS) registerTarget(`self:${v.name}`, () => inProcessTarget(`self:${v.name}`, v));
registerTarget('self-serve', () => serveTarget);

/** Names of the deliberately broken variants, as targets. */
export function variantTargets(): string[] {
  return VARIANTS.map((v) => `self:${v.name}`);
}

export { variantByName };
