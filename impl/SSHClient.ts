/**
 * paramiko's SSHClient, typed and Promise-based: known_hosts files, a policy for unknown hosts (RejectPolicy by
 * default), connect with the usual credentials, run commands.
 *
 *   const client = new SSHClient();
 *   client.loadSystemHostKeys();                        // ~/.ssh/known_hosts, /etc/ssh/ssh_known_hosts
 *   await client.connect('example.org', { username: 'me', keyFilename: '/home/me/.ssh/id_ed25519' });
 *   const { stdout, exitStatus } = await client.execCommand('uname -a');
 *   stdout.pipe(process.stdout);
 *   console.log(await exitStatus());
 *   await client.close();
 *
 * The server's host key is checked before any credential is sent (RFC 4253 §8): a key listed for the host passes;
 * a different key of the same type, or a revoked one, fails with HostKeyMismatch (expected and received SHA256
 * fingerprints in it) whatever the policy; a host in no file goes to the MissingHostKeyPolicy.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { Duplex } from 'node:stream';
import { execCollect, type ExecOptions, type ExecResult } from './client/exec.js';
import { KnownHostsStore } from './client/known-hosts-store.js';
import { RejectPolicy, type MissingHostKeyContext, type MissingHostKeyPolicy } from './client/missing-host-key-policy.js';
import type { Channel, PtyRequest } from './connection/channel.js';
import { defaultAlgorithms } from './crypto/registry.js';
import type { PrivateKey, PublicKey } from './crypto/types.js';
import { AuthError, HostKeyMismatch, SSHError, TimeoutError } from './errors.js';
import { fingerprintSHA256 } from './keys/fingerprint.js';
import { certificateAlgorithmsFor, certifiedPrivateKey, checkCertificate, isCertificateType } from './keys/cert.js';
import { parsePublicKeyLine } from './keys/public-line.js';
import { toPrivateKey, type PrivateKeyInput } from './keys/key-input.js';
import { KeyFormatError } from './keys/errors.js';
import { Transport, type TransportAlgorithms, type TransportOptions } from './Transport.js';
import {
  checkBoolean, checkFunction, checkKnownKeys, checkObject, checkOptionalMs, checkPort, checkString, checkStringList, usage,
} from './validate.js';

export interface SSHClientConnectOptions {
  /** Default 22. */
  readonly port?: number;
  /** Default: the local user name (os.userInfo()). */
  readonly username?: string;
  readonly password?: string;
  /** A private key: file contents (string/Buffer), parsePrivateKey()'s result, a PrivateKey or a private KeyObject. */
  readonly privateKey?: PrivateKeyInput;
  /** Decrypts `privateKey` or the `keyFilename` files when they are encrypted. */
  readonly passphrase?: string;
  /** Private key file(s) to try, in order. */
  readonly keyFilename?: string | readonly string[];
  /**
   * Also try ~/.ssh/id_ed25519, id_ecdsa, id_rsa (those that exist and open without or with `passphrase`).
   * Default false (paramiko's default is true): keys are tried only when named.
   */
  readonly lookForKeys?: boolean;
  /** TCP connect timeout in ms. Default 30 000. */
  readonly timeout?: number;
  /** The version exchange and key exchange must finish within this many ms. Default 20 000. */
  readonly handshakeTimeout?: number;
  /** Authentication must finish within this many ms (paramiko's auth_timeout). Default 30 000. */
  readonly authTimeout?: number;
  /** An already connected stream to run SSH over (paramiko's `sock`), e.g. a proxy tunnel; host/port still name the host for known_hosts. */
  readonly sock?: Duplex;
  readonly algorithms?: TransportAlgorithms;
  /**
   * An OpenSSH certificate for `privateKey` (its `-cert.pub` line or blob, PROTOCOL.certkeys): offered first, then the
   * plain key. For `keyFilename` files, `<file>-cert.pub` is picked up when it exists, as ssh(1) does.
   */
  readonly certificate?: string | Uint8Array;
  /** Further Transport options (rekey limits, trace, ...); host key checking stays with the SSHClient. */
  readonly transport?: Omit<TransportOptions, 'verifyHostKey' | 'algorithms' | 'hostKeys'>;
}

/** What execCommand returns: paramiko's (stdin, stdout, stderr), plus the channel and its exit status. */
export interface ExecCommandStreams {
  /** The command's standard input (end() it to send EOF). */
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly channel: Channel;
  /** Resolves with the exit status, or null when the command died by a signal (see channel.exitSignal) or none came. */
  exitStatus(): Promise<number | null>;
}

export interface ExecCommandOptions {
  /** Request a pseudo-terminal first (paramiko's get_pty; RFC 4254 §6.2). */
  readonly pty?: boolean | PtyRequest;
  /** Environment variables (RFC 4254 §6.4; servers usually accept only a few, like LANG and LC_*). */
  readonly env?: Readonly<Record<string, string>>;
}

const CONNECT_OPTION_NAMES = [
  'port', 'username', 'password', 'privateKey', 'passphrase', 'keyFilename', 'lookForKeys', 'timeout', 'handshakeTimeout', 'authTimeout',
  'sock', 'algorithms', 'transport', 'certificate',
] as const;

const DEFAULT_AUTH_TIMEOUT_MS = 30_000;

/** Host key algorithms that verify a key of each type (RFC 8332 for RSA), as ssh(1) orders known types first. */
const ALGORITHMS_FOR_KEY_TYPE: Readonly<Record<string, readonly string[]>> = {
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256'],
};

export class SSHClient {
  private readonly knownHosts = new KnownHostsStore();
  private policy: MissingHostKeyPolicy = new RejectPolicy();
  private transport: Transport | undefined;

  /**
   * Reads the system's known hosts (never written): `path`, or by default ~/.ssh/known_hosts and
   * /etc/ssh/ssh_known_hosts (missing default files are skipped; a missing `path` is an error).
   */
  loadSystemHostKeys(path?: string): void {
    if (path !== undefined) {
      this.knownHosts.loadSystem(checkString(path, 'loadSystemHostKeys: path', { nonEmpty: true }), false);
      return;
    }
    this.knownHosts.loadSystem(join(homedir(), '.ssh', 'known_hosts'), true);
    this.knownHosts.loadSystem('/etc/ssh/ssh_known_hosts', true);
  }

  /**
   * Reads a known_hosts file whose keys are checked like the system ones, and to which AutoAddPolicy appends
   * new hosts (in OpenSSH format). A file that does not exist yet reads as empty and is created on the first add.
   */
  loadHostKeys(path: string): void {
    this.knownHosts.loadUser(checkString(path, 'loadHostKeys: path', { nonEmpty: true }));
  }

  /** Adds one host key in memory (no file is written): host, port and key as a PublicKey. */
  async addHostKey(host: string, port: number, key: PublicKey, opts: { readonly hash?: boolean } = {}): Promise<void> {
    checkString(host, 'addHostKey: host', { nonEmpty: true });
    checkPort(port, 'addHostKey: port');
    if (!(key?.blob instanceof Uint8Array)) throw usage('addHostKey: key', 'a PublicKey', key);
    await this.knownHosts.add(host, port, key.blob, opts);
  }

  /**
   * paramiko's save_host_keys: writes the keys of loadHostKeys' file and those added since (not the system ones)
   * to `path`, one OpenSSH known_hosts line each (comments of the original file are not kept).
   */
  async saveHostKeys(path: string): Promise<void> {
    checkString(path, 'saveHostKeys: path', { nonEmpty: true });
    await writeFile(path, this.knownHosts.userText(), { mode: 0o600 });
  }

  /** paramiko's set_missing_host_key_policy: RejectPolicy (default), AutoAddPolicy, WarningPolicy, or your own. */
  setMissingHostKeyPolicy(policy: MissingHostKeyPolicy): void {
    checkFunction((policy as Partial<MissingHostKeyPolicy> | undefined)?.missingHostKey, 'setMissingHostKeyPolicy: policy.missingHostKey');
    this.policy = policy;
  }

  /** The Transport of the current connection (paramiko's get_transport), once connected. */
  getTransport(): Transport | undefined {
    return this.transport;
  }

  /**
   * Connects, checks the host key (known hosts, then the policy), and authenticates: `privateKey`, then the
   * `keyFilename` files, then (with lookForKeys) the default key files, then `password` (also answering
   * keyboard-interactive prompts with it when the server offers only that). Rejects with ConnectError,
   * HostKeyMismatch, AuthError, TimeoutError, or SSHError('USAGE') for bad arguments.
   */
  async connect(host: string, options: SSHClientConnectOptions = {}): Promise<void> {
    checkString(host, 'connect: host', { nonEmpty: true });
    const o = checkObject<SSHClientConnectOptions>(options, 'connect: options');
    checkKnownKeys(o, 'connect: options', CONNECT_OPTION_NAMES);
    const port = o.port === undefined ? 22 : checkPort(o.port, 'connect: options.port');
    const username = o.username === undefined ? localUser() : checkString(o.username, 'connect: options.username');
    if (o.password !== undefined) checkString(o.password, 'connect: options.password');
    checkOptionalMs(o.timeout, 'connect: options.timeout');
    checkOptionalMs(o.handshakeTimeout, 'connect: options.handshakeTimeout');
    const authTimeout = checkOptionalMs(o.authTimeout, 'connect: options.authTimeout') ?? DEFAULT_AUTH_TIMEOUT_MS;
    if (o.lookForKeys !== undefined) checkBoolean(o.lookForKeys, 'connect: options.lookForKeys');
    if (this.transport?.isActive()) throw new SSHError('USAGE', 'connect: already connected; close() first');
    const keys = this.collectKeys(o);

    const t = new Transport(o.sock ?? [host, port], {
      ...o.transport,
      algorithms: this.algorithmsFor(host, port, o.algorithms),
      ...(o.timeout !== undefined ? { connectTimeoutMs: o.timeout } : {}),
      ...(o.handshakeTimeout !== undefined ? { handshakeTimeoutMs: o.handshakeTimeout } : {}),
      verifyHostKey: (key) => this.verify(host, port, key),
    });
    this.transport = t;
    try {
      await t.startClient();
      await withTimeout(this.authenticate(t, username, keys, o.password), authTimeout, `authentication as ${JSON.stringify(username)} did not complete within ${authTimeout} ms`);
    } catch (e) {
      await t.close(100).catch(() => undefined);
      this.transport = undefined;
      throw e;
    }
  }

  /**
   * paramiko's exec_command: runs `command` on a new session channel and hands back its streams at once.
   * Read stdout/stderr as they come (or pipe them), write or end stdin, await exitStatus().
   */
  async execCommand(command: string, opts: ExecCommandOptions = {}): Promise<ExecCommandStreams> {
    checkString(command, 'execCommand: command');
    const o = checkObject<ExecCommandOptions>(opts, 'execCommand: options');
    checkKnownKeys(o, 'execCommand: options', ['pty', 'env']);
    const env = checkObject<Record<string, unknown>>(o.env, 'execCommand: options.env');
    for (const [k, v] of Object.entries(env)) checkString(v, `execCommand: options.env.${k}`);
    const ch = await this.connected('execCommand').openSession();
    try {
      for (const [k, v] of Object.entries(env)) await ch.setEnv(k, v as string, { wantReply: false });
      if (o.pty) await ch.requestPty(o.pty === true ? {} : o.pty);
      await ch.exec(command);
    } catch (e) {
      void ch.close();
      throw e;
    }
    return { stdin: ch, stdout: ch, stderr: ch.stderr, channel: ch, exitStatus: () => ch.exitStatus() };
  }

  /** Runs `command` and collects everything: stdout, stderr (Buffers) and the exit status (`code`). */
  exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    return execCollect(this.connected('exec'), command, opts);
  }

  /** paramiko's invoke_shell: a pty (default xterm 80×24) and a shell on a new session channel. */
  async invokeShell(pty: PtyRequest = {}): Promise<Channel> {
    const ch = await this.connected('invokeShell').openSession();
    await ch.requestPty({ term: 'xterm', ...pty });
    await ch.shell();
    return ch;
  }

  /** Closes the connection (not an error: the Transport's closeError stays undefined). */
  async close(): Promise<void> {
    const t = this.transport;
    this.transport = undefined;
    await t?.close();
  }

  // ───────────────────────────── internals ─────────────────────────────

  private connected(what: string): Transport {
    const t = this.transport;
    if (!t?.isAuthenticated()) throw new SSHError('USAGE', `${what}: not connected; call connect() first`);
    return t;
  }

  /** Keys to try, parsed now, so a wrong passphrase or a bad file fails before we connect. */
  private collectKeys(o: SSHClientConnectOptions): PrivateKey[] {
    const keys: PrivateKey[] = [];
    if (o.certificate !== undefined && o.privateKey === undefined) throw new SSHError('USAGE', 'connect: options.certificate needs options.privateKey');
    if (o.privateKey !== undefined) {
      const key = toPrivateKey(o.privateKey, 'connect: options.privateKey', o.passphrase);
      if (o.certificate !== undefined) keys.push(withCertificate(key, o.certificate, 'connect: options.certificate'));
      keys.push(key);
    }
    const files = o.keyFilename === undefined ? [] : typeof o.keyFilename === 'string' ? [o.keyFilename] : checkStringList(o.keyFilename, 'connect: options.keyFilename');
    for (const f of files) {
      const key = toPrivateKey(readKeyFile(f, 'connect: options.keyFilename'), `connect: options.keyFilename ${f}`, o.passphrase);
      const certFile = `${f}-cert.pub`;
      if (existsSync(certFile)) keys.push(withCertificate(key, readFileSync(certFile, 'utf8'), `connect: ${certFile}`));
      keys.push(key);
    }
    if (o.lookForKeys) {
      for (const name of ['id_ed25519', 'id_ecdsa', 'id_rsa']) {
        const f = join(homedir(), '.ssh', name);
        let text: Buffer;
        try { text = readFileSync(f); } catch { continue; }
        try {
          keys.push(toPrivateKey(text, f, o.passphrase));
        } catch (e) {
          if (!(e instanceof KeyFormatError)) throw e; // encrypted without a passphrase, or not a key we read: skipped like paramiko
        }
      }
    }
    return keys;
  }

  /**
   * The host key algorithms: certificate algorithms first when a `@cert-authority` line covers the host, then the types
   * known for this host (ssh(1) does the same), unless the caller chose.
   */
  private algorithmsFor(host: string, port: number, given: TransportAlgorithms | undefined): TransportAlgorithms | undefined {
    if (given?.hostKey || given?.hostKeys) return given;
    const certs = this.knownHosts.certificateAuthorities(host, port).length > 0 ? certificateAlgorithmsFor(defaultAlgorithms.hostKey) : [];
    const known = [...certs, ...this.knownHosts.knownTypes(host, port).flatMap((t) => ALGORITHMS_FOR_KEY_TYPE[t] ?? [t]).filter((a) => defaultAlgorithms.hostKey.includes(a))];
    if (known.length === 0) return given;
    return { ...given, hostKey: [...new Set([...known, ...defaultAlgorithms.hostKey])] };
  }

  /** The Transport's host key check: decided at once for listed and changed keys, by the policy for unknown hosts. */
  private verify(host: string, port: number, key: PublicKey): boolean | Promise<boolean> {
    if (isCertificateType(key.type)) return this.verifyCertificate(host, port, key);
    const { status, expected } = this.knownHosts.lookup(host, port, key.blob);
    const fingerprint = fingerprintSHA256(key.blob);
    const name = port === 22 ? host : `[${host}]:${port}`;
    const details = { host, port, keyType: key.type, receivedFingerprint: fingerprint, expectedFingerprints: expected.map((b) => fingerprintSHA256(b)) };
    if (status === 'match') return true;
    if (status === 'revoked') throw new HostKeyMismatch(`the host key of ${name} (${key.type} ${fingerprint}) is marked @revoked in ${this.knownHosts.describeFiles()}`, details);
    if (status === 'mismatch') {
      throw new HostKeyMismatch(`HOST KEY CHANGED for ${name}: the server presented ${key.type} ${fingerprint}, but ${this.knownHosts.describeFiles()} list${details.expectedFingerprints.length > 1 ? '' : 's'} ${details.expectedFingerprints.join(', ')}`
        + ' — someone may be intercepting the connection, or the host key was replaced', details);
    }
    const context: MissingHostKeyContext = {
      host, port, key, fingerprint, files: this.knownHosts.describeFiles(),
      addHostKey: (opts) => this.knownHosts.add(host, port, key.blob, opts),
    };
    // a synchronous answer (RejectPolicy) is given inside the key exchange; a Promise (AutoAddPolicy writing the
    // file) is awaited before anything else is sent
    const answer: unknown = this.policy.missingHostKey(context);
    return typeof (answer as PromiseLike<void> | undefined)?.then === 'function' ? Promise.resolve(answer).then(() => true) : true;
  }

  /**
   * A host certificate (OpenSSH PROTOCOL.certkeys): accepted when a `@cert-authority` line for the host names its CA and
   * the certificate is a valid host certificate for this host name; neither it, its key nor its CA may be `@revoked`.
   * Without a CA line for the host, the certified key is checked as a plain host key (ssh(1) does the same).
   */
  private verifyCertificate(host: string, port: number, key: PublicKey): boolean | Promise<boolean> {
    const name = port === 22 ? host : `[${host}]:${port}`;
    const cas = this.knownHosts.certificateAuthorities(host, port);
    const fingerprint = fingerprintSHA256(key.blob);
    const details = { host, port, keyType: key.type, receivedFingerprint: fingerprint, expectedFingerprints: cas.map((b) => fingerprintSHA256(b)) };
    const verdict = checkCertificate(key.blob, { kind: 'host', principal: host, trustedCAs: cas });
    const cert = verdict.certificate;
    if (cert && [cert.blob, cert.publicKey, cert.signatureKey].some((b) => this.knownHosts.isRevoked(host, port, b))) {
      throw new HostKeyMismatch(`the host certificate of ${name} (or its key or CA) is marked @revoked in ${this.knownHosts.describeFiles()}`, details);
    }
    if (verdict.ok) return true;
    if (cas.length > 0 || !cert) throw new HostKeyMismatch(`host certificate of ${name} refused: ${verdict.reason}`, details);
    return this.verify(host, port, { type: cert.keyType, blob: cert.publicKey });
  }

  private async authenticate(t: Transport, username: string, keys: readonly PrivateKey[], password: string | undefined): Promise<void> {
    const tried: string[] = [];
    let allowed: readonly string[] | undefined;
    let lastError: unknown;
    for (const key of keys) {
      if (allowed && !allowed.includes('publickey')) break;
      tried.push(`publickey (${key.type} ${fingerprintSHA256(key.publicKey.blob)})`);
      try {
        const remaining = await t.authPublicKey(username, key);
        if (remaining.length === 0) return;
        allowed = remaining; // partial success: go on with what the server still wants
      } catch (e) {
        if (!(e instanceof AuthError)) throw e;
        allowed = e.allowedMethods;
        lastError = e;
      }
    }
    if (password !== undefined) {
      const methods = allowed ?? ['password'];
      try {
        if (methods.includes('password')) {
          tried.push('password');
          if ((await t.authPassword(username, password)).length === 0) return;
        } else if (methods.includes('keyboard-interactive')) {
          // paramiko does the same: a password answers the server's prompts (PAM's "Password:")
          tried.push('keyboard-interactive');
          if ((await t.authKeyboardInteractive(username, (_name, _instruction, prompts) => prompts.map(() => password))).length === 0) return;
        }
      } catch (e) {
        if (!(e instanceof AuthError)) throw e;
        allowed = e.allowedMethods;
        lastError = e;
      }
    }
    if (tried.length === 0) throw new SSHError('USAGE', 'connect: no credentials: give password, privateKey, keyFilename or lookForKeys');
    const offered = allowed && allowed.length ? `; the server accepts ${allowed.join(', ')}` : '';
    throw new AuthError(`authentication failed for ${JSON.stringify(username)}: tried ${tried.join(', ')}${offered}`
      + (lastError instanceof Error && !/authentication failed/.test(lastError.message) ? ` (${lastError.message})` : ''), allowed ?? []);
  }
}

/** paramiko's default user name: the local one (getpass.getuser()). */
function localUser(): string {
  try {
    return userInfo().username;
  } catch {
    throw new SSHError('USAGE', 'connect: options.username is needed (the local user name is unknown here)');
  }
}

function readKeyFile(path: string, what: string): Buffer {
  try {
    return readFileSync(checkString(path, what, { nonEmpty: true }));
  } catch (e) {
    if (e instanceof SSHError) throw e;
    throw new SSHError('USAGE', `${what}: cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  if (ms === 0) return p;
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new TimeoutError(message)), ms); timer.unref?.(); }),
  ]).finally(() => clearTimeout(timer));
}

/** A key presenting `certificate` (a `-cert.pub` line or a blob); KeyFormatError naming `what` when it does not fit. */
function withCertificate(key: PrivateKey, certificate: string | Uint8Array, what: string): PrivateKey {
  try {
    const blob = typeof certificate === 'string' ? parsePublicKeyLine(certificate).blob : certificate;
    return certifiedPrivateKey(key, blob);
  } catch (e) {
    throw new KeyFormatError(e instanceof KeyFormatError ? e.kind : 'malformed', `${what}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
