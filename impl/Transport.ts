/**
 * The public facade: paramiko's classic `Transport`, typed and Promise-based, over a socket (README "The library").
 * It owns one Engine (RFC 4253) through a Driver, and the sans-I/O service layers above it: ssh-userauth
 * (impl/auth) and ssh-connection (impl/connection). It holds no protocol rules of its own; it routes events,
 * turns them into Promises and Channel streams, and asks the ServerPolicy.
 *
 * Events are typed (TransportEvents): a misspelt event name or a listener of the wrong shape does not compile.
 * There is no 'error' event: failures reject the pending Promises and end the Channel streams, and 'close' tells
 * why the connection ended (undefined after our own close()).
 *
 * Host keys: a client needs a decision (connect({ hostKey }), options.verifyHostKey, or the explicit
 * insecureAcceptAnyHostKey); SSHClient makes it with known_hosts.
 */
import { EventEmitter } from 'node:events';
import { randomBytes, randomInt } from 'node:crypto';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { AuthClient } from './auth/client.js';
import { ClientAuthFlow, type InteractiveHandler, type NewPasswordHandler } from './auth/client-flow.js';
import { AuthServer, type AuthServerOptions } from './auth/server.js';
import { Channel } from './connection/channel.js';
import { Connection, OpenFailure, type ConnectionEvent, type ConnectionOptions } from './connection/connection.js';
import { answerGlobalRequest } from './connection/global-requests.js';
import { HOSTKEYS, HOSTKEYS_PROVE, announceHostKeysTo, announcedHostKeys, hostKeysAnnouncement, proveHostKeys, verifyHostKeyProof } from './connection/host-keys-ext.js';
import { Writer } from './wire/index.js';
import { ChannelOpenError } from './connection/open-error.js';
import type { ChannelOpenInfo, ServerPolicy } from './connection/policy.js';
import { clientRequestHandler, serverRequestHandler } from './connection/session-requests.js';
import { connectSocket, parseHostPort, type SocketSpec } from './connection/socket.js';
import { loadModuli, type GexGroup } from './crypto/kex/moduli.js';
import type { PrivateKey, PublicKey } from './crypto/types.js';
import { AuthError, ChannelError, DisconnectError, DisconnectReason, ProtocolError, SSHError, TimeoutError } from './errors.js';
import { hostKeyAlgorithmsWithCertificates, isCertificateType } from './keys/cert.js';
import { defaultAlgorithms } from './crypto/registry.js';
import { toPrivateKey, toPublicKeyBlob, type PrivateKeyInput, type PublicKeyInput } from './keys/key-input.js';
import { decodeChannelOpenData, encodeChannelOpenData, encodeGlobalRequestData, encodeMessage, TcpipForwardReply } from './messages/index.js';
import {
  checkTransportOptions, DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_HANDSHAKE_TIMEOUT_MS,
  type HostKeyVerifier, type TransportOptions,
} from './transport-options.js';
import { dangerousOptionsOf, ENGINE_ACCESS, type EngineAccess } from './transport/danger.js';
import { Driver } from './transport/driver.js';
import { HostKeyCheck } from './transport/host-key-check.js';
import type { TransportEvents, TransportListener } from './transport-events.js';
import { Engine } from './transport/engine.js';
import type { AlgorithmPreferences, NegotiatedAlgorithms } from './transport/public-types.js';
import type { EngineEvent } from './transport/types.js';
import {
  checkBoolean, checkBytes, checkFunction, checkHostPort, checkInt, checkKnownKeys, checkMs, checkObject, checkOptionalMs, checkPort,
  checkString, usage,
} from './validate.js';

export type { SocketSpec };
export type { InteractiveHandler, NewPasswordHandler };
export type { TransportEvents, TransportListener } from './transport-events.js';
export type {
  HostKeyContext, HostKeyVerifier, TransportAlgorithms, TransportAuthOptions, TransportLimits, TransportOptions, TransportTrace,
} from './transport-options.js';

/**
 * Accepts whatever host key the server presents. Without a host key check, anyone on the path can pose as the
 * server and read the password you send (RFC 4253 §8): use it for tests and labs only, and say so in the code
 * that does — that is what this name is for.
 */
export const insecureAcceptAnyHostKey: HostKeyVerifier = () => true;

export interface ConnectOptions {
  /**
   * The server's expected host key (a PublicKey, its blob, or an OpenSSH public key line): any other key fails
   * the connection with HostKeyMismatch, before authentication.
   */
  readonly hostKey?: PublicKeyInput;
  readonly username: string;
  readonly password?: string;
  /** File contents (string/Buffer), parsePrivateKey()'s result, a PrivateKey or a private KeyObject. */
  readonly privateKey?: PrivateKeyInput;
  /** Decrypts `privateKey` when it is an encrypted key file. */
  readonly passphrase?: string;
}

/** Typed EventEmitter methods (declaration merging with the class below). */
export interface Transport {
  on<E extends keyof TransportEvents>(event: E, listener: TransportListener<E>): this;
  once<E extends keyof TransportEvents>(event: E, listener: TransportListener<E>): this;
  off<E extends keyof TransportEvents>(event: E, listener: TransportListener<E>): this;
  addListener<E extends keyof TransportEvents>(event: E, listener: TransportListener<E>): this;
  removeListener<E extends keyof TransportEvents>(event: E, listener: TransportListener<E>): this;
  prependListener<E extends keyof TransportEvents>(event: E, listener: TransportListener<E>): this;
  prependOnceListener<E extends keyof TransportEvents>(event: E, listener: TransportListener<E>): this;
  emit<E extends keyof TransportEvents>(event: E, ...args: TransportEvents[E]): boolean;
  listenerCount<E extends keyof TransportEvents>(event: E): number;
}

interface Waiter<T> { resolve: (v: T) => void; reject: (e: Error) => void }

function deferred<T>(): Waiter<T> & { promise: Promise<T> } {
  let resolve!: (v: T) => void, reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  promise.catch(() => { /* observed by whoever awaits it; never an unhandled rejection */ });
  return { promise, resolve, reject };
}

/** The constructor's socket argument, checked. */
function checkSocketSpec(v: unknown): SocketSpec {
  if (typeof v === 'string') {
    const [, port] = parseHostPort(v);
    checkPort(port, `Transport: port in ${JSON.stringify(v)}`);
    return v;
  }
  if (Array.isArray(v)) return checkHostPort(v, 'Transport: [host, port]', false);
  const d = v as Partial<Duplex> | null;
  if (typeof d !== 'object' || d === null || typeof d.write !== 'function' || typeof d.on !== 'function') {
    throw usage('Transport: socket', "a connected net.Socket (or Duplex), 'host:port' or [host, port]", v);
  }
  return v as Duplex;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

/** Channel types of RFC 4254 §6–§7 (and OpenSSH's agent forwarding): anything else is UNKNOWN_CHANNEL_TYPE. */
const KNOWN_CHANNEL_TYPES: ReadonlySet<string> = new Set(['session', 'x11', 'forwarded-tcpip', 'direct-tcpip', 'auth-agent@openssh.com', 'direct-streamlocal@openssh.com', 'forwarded-streamlocal@openssh.com']);

export class Transport extends EventEmitter {
  private socket: Duplex | undefined;
  private readonly socketSpec: SocketSpec;
  private readonly options: TransportOptions;
  private readonly serverKeys: PrivateKey[] = [];
  private engineRef: Engine | undefined;
  private driver: Driver | undefined;
  private role: 'client' | 'server' | undefined;
  private policy: ServerPolicy | undefined;
  private authFlow: ClientAuthFlow | undefined;
  private authServer: AuthServer | undefined;
  private conn: Connection | undefined;
  private readonly channels = new Map<number, Channel>();
  private readonly pendingOpens = new Map<number, Waiter<Channel>>();
  private readonly acceptQueue: Channel[] = [];
  private readonly acceptWaiters: Waiter<Channel | null>[] = [];
  private readonly globalWaiters: Waiter<{ ok: boolean; data: Uint8Array }>[] = [];
  private readonly kexWaiters: Waiter<void>[] = [];
  private authenticatedUser: string | undefined;
  private remoteHostKey: PublicKey | undefined;
  private expectedHostKey: Uint8Array | undefined;
  private hostKeyCheck: HostKeyCheck | undefined;
  /** Resolves once startClient/startServer has completed (auth waits for it); rejects if the handshake fails. */
  private handshake: Promise<void> | undefined;
  private closedWith: SSHError | undefined;
  /** close() was called: the end is ours, not an error (closeError stays undefined). */
  private closingByUs = false;
  /** The typed error that made us disconnect (the engine reports it as a DisconnectError). */
  private fatalCause: SSHError | undefined;
  private closeWaiter = deferred<void>();
  private dispatching = 0;
  private authTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private keepaliveMissed = 0;
  private graceTimer: NodeJS.Timeout | undefined;
  /** OpenSSH PROTOCOL "no-more-sessions@openssh.com": the client promised to open no further sessions. */
  private noMoreSessions = false;
  private readonly forwards = new Set<string>();
  private readonly drainWaiters: (() => void)[] = [];
  private readonly kexWriteWaiters: (() => void)[] = [];
  /** Service payload bytes handed to the engine since the running key exchange began (it holds them until NEWKEYS). */
  private heldDuringKex = 0;
  private readonly channelHost = {
    conn: undefined as unknown as Connection,
    flush: () => this.flush(),
    // The engine holds service payloads during a key exchange (RFC 4253 §7.1) within a bound, and a peer's
    // window can be far larger than that bound: channel data pauses once half of it is used. Not at the
    // start of every kex: a peer that rekeys often (OpenSSH RekeyLimit) would starve us.
    writeBlocked: () => this.socket?.writableNeedDrain === true || this.kexHoldFull(),
    whenDrained: (cb: () => void) => {
      if (this.kexHoldFull()) { this.kexWriteWaiters.push(cb); return; }
      this.drainWaiters.push(cb);
      if (this.drainWaiters.length === 1) this.socket?.once('drain', () => { for (const w of this.drainWaiters.splice(0)) w(); });
    },
  };

  /** Groups loaded by loadServerModuli (for diffie-hellman-group-exchange, RFC 4419). */
  static moduli: readonly GexGroup[] = [];

  /**
   * `socket`: a connected stream (net.Socket or any Duplex), 'host:port' ('[v6addr]:port'), or [host, port].
   * Nothing happens until startClient(), startServer() or connect().
   */
  constructor(socket: SocketSpec, options: TransportOptions = {}) {
    super();
    this.socketSpec = checkSocketSpec(socket);
    this.options = checkTransportOptions(options);
    (this.options.hostKeys ?? []).forEach((k, i) => this.serverKeys.push(toPrivateKey(k, `options.hostKeys[${i}]`)));
    // the deviation hooks of ssh-harness/testing reach the engine through here, never through a public member
    Object.defineProperty(this, ENGINE_ACCESS, {
      enumerable: false,
      get: (): EngineAccess => {
        if (!this.engineRef) throw new SSHError('USAGE', 'transport not started');
        return { engine: this.engineRef, flush: () => this.flush() };
      },
    });
  }

  // ───────────────────────────── starting ─────────────────────────────

  /**
   * Negotiates the transport as a client (version, kex, NEWKEYS) and checks the server's host key. Resolves after
   * the first key exchange. Rejects with SSHError('USAGE') when no host key check is configured (see
   * TransportOptions.verifyHostKey), with ConnectError when the TCP connection fails.
   */
  async startClient(): Promise<void> {
    await this.start('client');
  }

  /**
   * Negotiates as a server with `policy` deciding authentication, channels and requests. Rejects when the client
   * leaves or fails before the first key exchange completes (a TCP probe does this): always handle the rejection
   * (`.catch`), or use SSHServer, which does.
   */
  async startServer(policy: ServerPolicy): Promise<void> {
    checkObject(policy, 'startServer: policy');
    if (policy === undefined) throw usage('startServer: policy', 'a ServerPolicy object', policy);
    checkFunction(policy.allowedAuths, 'startServer: policy.allowedAuths');
    if (this.serverKeys.length === 0) throw new SSHError('USAGE', 'startServer needs a host key: options.hostKeys or addServerKey(key) first');
    this.policy = policy;
    await this.start('server');
  }

  /**
   * paramiko's connect(): startClient, check the host key when given, then authenticate with the private key
   * and/or password (publickey first; the password also completes a publickey-then-password chain).
   */
  async connect(opts: ConnectOptions): Promise<void> {
    const o = checkObject<ConnectOptions>(opts, 'connect: options');
    checkKnownKeys(o, 'connect: options', ['hostKey', 'username', 'password', 'privateKey', 'passphrase']);
    checkString(o.username, 'connect: username');
    if (o.password !== undefined) checkString(o.password, 'connect: password');
    const key = o.privateKey === undefined ? undefined : toPrivateKey(o.privateKey, 'connect: privateKey', o.passphrase);
    if (o.hostKey !== undefined) this.expectedHostKey = toPublicKeyBlob(o.hostKey, 'connect: hostKey');
    await this.startClient();
    if (!key && o.password === undefined) return;
    let remaining: string[] | undefined;
    let lastError: unknown;
    if (key) {
      try {
        remaining = await this.authPublicKey(o.username, key);
        if (remaining.length === 0) return;
      } catch (e) {
        if (o.password === undefined || !(e instanceof AuthError)) throw e;
        lastError = e;
      }
    }
    if (o.password !== undefined && (remaining === undefined || remaining.includes('password'))) {
      remaining = await this.authPassword(o.username, o.password);
      if (remaining.length === 0) return;
    }
    if (lastError) throw lastError;
    throw new AuthError(`authentication incomplete; the server wants more: ${remaining?.join(',')}`, remaining ?? []);
  }

  private start(role: 'client' | 'server'): Promise<void> {
    if (this.role) return Promise.reject(new SSHError('USAGE', `transport already started as ${this.role}`));
    if (role === 'client' && !this.options.verifyHostKey && !this.expectedHostKey) {
      return Promise.reject(new SSHError('USAGE', 'startClient: no host key check configured. Pass connect({ hostKey }), '
        + 'options.verifyHostKey, or — for tests only — options.verifyHostKey: insecureAcceptAnyHostKey (SSHClient checks known_hosts)'));
    }
    this.role = role;
    this.handshake = this.runHandshake(role);
    return this.handshake;
  }

  /** A server with a host certificate offers its -cert-v01 algorithms too (OpenSSH PROTOCOL.certkeys); undefined: the defaults. */
  private certificateHostKeyAlgorithms(role: 'client' | 'server'): string[] | undefined {
    if (role !== 'server' || !this.serverKeys.some((k) => isCertificateType(k.publicKey.type))) return undefined;
    return hostKeyAlgorithmsWithCertificates(this.serverKeys, defaultAlgorithms.hostKey);
  }

  private async runHandshake(role: 'client' | 'server'): Promise<void> {
    const o = this.options;
    const socket = await connectSocket(this.socketSpec, o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
    if (this.closingByUs) {
      socket.destroy();
      throw new SSHError('CLOSED', 'closed by close() before the handshake completed');
    }
    this.socket = socket;
    const a = o.algorithms ?? {};
    const algorithms: AlgorithmPreferences = {
      kex: a.kex, hostKey: a.hostKey ?? a.hostKeys ?? this.certificateHostKeyAlgorithms(role), cipher: a.cipher ?? a.ciphers, mac: a.mac ?? a.macs, compression: a.compression,
    };
    const danger = dangerousOptionsOf(o) ?? {};
    const handshakeMs = o.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    const engine = new Engine({
      ...danger,
      role,
      algorithms,
      rekey: o.rekey,
      limits: { ...danger.limits, ...o.limits, kexTimeoutMs: danger.limits?.kexTimeoutMs ?? (handshakeMs === 0 ? 2 ** 31 - 1 : handshakeMs) },
      // RFC 4419 groups from loadServerModuli(); the engine falls back to built-in groups
      ...(role === 'server' ? { gexGroups: danger.gexGroups ?? Transport.moduli } : {}),
      softwareVersion: o.softwareVersion ?? danger.softwareVersion,
      comments: o.comments ?? danger.comments,
      hostKeys: role === 'server' ? this.serverKeys : undefined,
      verifyHostKey: role === 'client' ? (key) => this.checkHostKey(key) : undefined,
      onPacket: o.trace?.onPacket ?? danger.onPacket,
      onPacketBorrows: o.trace?.onPacket ? o.trace.onPacketBorrows === true : danger.onPacketBorrows === true,
      onKeys: o.trace?.onKeys ?? danger.onKeys,
    });
    this.engineRef = engine;
    const host = {
      role,
      get sessionId() { return engine.sessionId; },
      get hostKeyBlob() { return engine.hostKey?.blob; },
      // Service layers answer asynchronously (policy promises); an answer that comes after the connection ended has
      // no one to go to and is dropped, instead of throwing the close error into a detached continuation.
      sendPayload: (p: Uint8Array) => {
        if (engine.isClosed) return;
        if (engine.kexInProgress) this.heldDuringKex += p.length;
        engine.sendPayload(p);
      },
      sendPayloadParts: (head: Uint8Array, body: Uint8Array) => {
        if (engine.isClosed) return;
        if (engine.kexInProgress) this.heldDuringKex += head.length + body.length;
        engine.sendPayloadParts(head, body);
      },
    };
    this.conn = new Connection(host, o.connection);
    this.channelHost.conn = this.conn;
    if (role === 'client') {
      this.authFlow = new ClientAuthFlow(new AuthClient(host), {
        requestService: (name) => engine.requestService(name),
        checkOpen: () => this.throwIfClosed(),
        flush: () => this.flush(),
        onBanner: (message, language) => this.emit('banner', message, language),
        onAuthenticated: (user) => { this.authenticatedUser = user; this.emit('authenticated', user); },
      });
    } else {
      // OpenSSH PROTOCOL "ext-info-in-auth@openssh.com": a client that announced it gets server-sig-algs again during authentication
      // (not when the engine was told to act as a server without RFC 8308)
      const extInfoInAuth = (): Uint8Array | undefined => (danger.extInfo !== false && engine.peerExtensions.has('ext-info-in-auth@openssh.com')
        ? encodeMessage({ type: 'SSH_MSG_EXT_INFO', extensions: [{ name: 'server-sig-algs', value: Buffer.from(defaultAlgorithms.hostKey.join(','), 'latin1') }] })
        : undefined);
      this.authServer = new AuthServer(host, this.policy!, { ...o.auth, extInfoInAuth, onWake: () => this.serviceAuthServer() });
    }
    const first = deferred<void>();
    this.kexWaiters.push(first);
    if (socket instanceof net.Socket) socket.setNoDelay(true); // also for sockets handed to us
    const grace = o.loginGraceMs ?? 120_000;
    if (role === 'server' && grace > 0) {
      this.graceTimer = setTimeout(() => {
        if (this.authenticatedUser || this.closedWith) return;
        this.fatal(new TimeoutError(`authentication not completed within ${grace} ms`));
        this.flush();
      }, grace);
      this.graceTimer.unref?.();
    }
    this.driver = new Driver(engine, socket, (e) => this.onEngineEvent(e), { onBytes: o.trace?.onBytes, onClose: o.trace?.onClose });
    this.driver.start();
    await first.promise;
    const verdict = this.hostKeyCheck?.pendingVerdict;
    if (verdict) {
      try {
        await verdict;
      } catch (e) {
        this.fatal(e);
        this.flush();
        throw this.closedWith ?? e;
      }
      this.throwIfClosed();
    }
  }

  /** Where we connected, for host key checks and their errors (unknown for a socket handed to us). */
  private target(): { host: string | undefined; port: number | undefined } {
    const spec = this.socketSpec;
    if (typeof spec === 'string') { const [host, port] = parseHostPort(spec); return { host, port }; }
    if (Array.isArray(spec)) return { host: spec[0] as string, port: spec[1] as number };
    return { host: undefined, port: undefined };
  }

  /** The engine's check of K_S (RFC 4253 §8), once per key exchange before our NEWKEYS (see HostKeyCheck). */
  private checkHostKey(key: PublicKey): boolean {
    this.hostKeyCheck ??= new HostKeyCheck({ ...this.target(), expected: this.expectedHostKey, verifier: this.options.verifyHostKey });
    this.hostKeyCheck.check(key);
    this.remoteHostKey = key;
    return true;
  }

  // ───────────────────────────── authentication (client) ─────────────────────────────

  /** RFC 4252 §5.2. Resolves with the methods still wanted (empty on success); rejects AuthError on failure. */
  async authNone(username: string): Promise<string[]> {
    checkString(username, 'authNone: username');
    const flow = await this.clientAuth('authNone');
    return flow.run(username, {}, (c) => c.none(username));
  }

  /** RFC 4252 §8. `newPassword` answers a password change request (otherwise it fails with AuthError). */
  async authPassword(username: string, password: string, opts: { newPassword?: NewPasswordHandler } = {}): Promise<string[]> {
    checkString(username, 'authPassword: username');
    checkString(password, 'authPassword: password');
    const o = checkObject<{ newPassword?: NewPasswordHandler }>(opts, 'authPassword: options');
    checkKnownKeys(o, 'authPassword: options', ['newPassword']);
    if (o.newPassword !== undefined) checkFunction(o.newPassword, 'authPassword: options.newPassword');
    const flow = await this.clientAuth('authPassword');
    return flow.run(username, { newPassword: o.newPassword }, (c) => c.password(username, password));
  }

  /**
   * RFC 4252 §7 (query, PK_OK, signature); rsa-sha2-* chosen from server-sig-algs (RFC 8332), and without that
   * extension rsa-sha2-512 first, then once ssh-rsa if the server refuses it (RFC 8332 §3.3). `key`: file
   * contents (with `passphrase` when encrypted), parsePrivateKey()'s result, a PrivateKey or a private KeyObject.
   */
  async authPublicKey(username: string, key: PrivateKeyInput, opts: { algorithm?: string; passphrase?: string } = {}): Promise<string[]> {
    checkString(username, 'authPublicKey: username');
    const o = checkObject<{ algorithm?: string; passphrase?: string }>(opts, 'authPublicKey: options');
    checkKnownKeys(o, 'authPublicKey: options', ['algorithm', 'passphrase']);
    if (o.algorithm !== undefined) checkString(o.algorithm, 'authPublicKey: options.algorithm');
    const signer = toPrivateKey(key, 'authPublicKey: key', o.passphrase);
    const flow = await this.clientAuth('authPublicKey');
    return flow.run(username, {}, (c) => c.publicKey(username, signer, o.algorithm === undefined ? {} : { algorithm: o.algorithm }));
  }

  /**
   * RFC 4252 §9 hostbased authentication: signs with the client host's key (`hostKey`, any PrivateKeyInput, or a
   * certifiedPrivateKey for a host certificate) for `clientUser` on `clientHost`. sshd expects the host's canonical
   * name with a trailing dot, as ssh(1) sends it ("client.example.com.").
   */
  async authHostbased(username: string, hostKey: PrivateKeyInput, clientHost: string, clientUser: string, opts: { algorithm?: string } = {}): Promise<string[]> {
    checkString(username, 'authHostbased: username');
    checkString(clientHost, 'authHostbased: clientHost', { nonEmpty: true });
    checkString(clientUser, 'authHostbased: clientUser');
    const o = checkObject<{ algorithm?: string }>(opts, 'authHostbased: options');
    checkKnownKeys(o, 'authHostbased: options', ['algorithm']);
    if (o.algorithm !== undefined) checkString(o.algorithm, 'authHostbased: options.algorithm');
    const signer = toPrivateKey(hostKey, 'authHostbased: hostKey');
    const flow = await this.clientAuth('authHostbased');
    return flow.run(username, {}, (c) => c.hostbased(username, signer, clientHost, clientUser, o.algorithm === undefined ? {} : { algorithm: o.algorithm }));
  }

  /** RFC 4256, paramiko's auth_interactive. */
  async authKeyboardInteractive(username: string, handler: InteractiveHandler, submethods = ''): Promise<string[]> {
    checkString(username, 'authKeyboardInteractive: username');
    checkFunction(handler, 'authKeyboardInteractive: handler');
    checkString(submethods, 'authKeyboardInteractive: submethods');
    const flow = await this.clientAuth('authKeyboardInteractive');
    return flow.run(username, { onInfo: handler }, (c) => c.keyboardInteractive(username, submethods));
  }

  /** The client auth flow, once the handshake (and host key check) is complete: nothing is sent before that. */
  private async clientAuth(what: string): Promise<ClientAuthFlow> {
    if (this.role === 'server') throw new SSHError('USAGE', `${what}: authentication is a client operation`);
    if (!this.handshake) throw new SSHError('USAGE', `${what}: call startClient() (or connect()) first`);
    await this.handshake;
    return this.authFlow!;
  }

  // ───────────────────────────── authentication (server) ─────────────────────────────

  /** Answers what the auth layer can answer now (async policy results, held failures) and re-arms its timer. */
  private serviceAuthServer(): void {
    const a = this.authServer;
    if (!a || this.closedWith) return;
    try {
      a.handleTimeout(Date.now());
      this.drainAuthServer();
    } catch (e) {
      this.fatal(e);
    }
    this.flush();
  }

  private drainAuthServer(): void {
    const a = this.authServer!;
    for (let e = a.pollEvent(); e; e = a.pollEvent()) {
      if (e.type === 'success') {
        this.authenticatedUser = e.user;
        if (this.graceTimer) { clearTimeout(this.graceTimer); this.graceTimer = undefined; }
        this.announceHostKeys();
        this.emit('authenticated', e.user);
      } else if (e.type === 'policyError') {
        this.emit('policyError', e.error);
      }
    }
    if (this.authTimer) { clearTimeout(this.authTimer); this.authTimer = undefined; }
    const t = a.pollTimeout();
    if (t !== undefined) {
      this.authTimer = setTimeout(() => { this.authTimer = undefined; this.serviceAuthServer(); }, Math.max(0, t - Date.now()));
      this.authTimer.unref?.();
    }
  }

  // ───────────────────────────── channels ─────────────────────────────

  /** RFC 4254 §6.1. */
  openSession(): Promise<Channel> {
    return this.openChannel('session');
  }

  /**
   * RFC 4254 §5.1. For 'direct-tcpip' `dest` is where the server should connect and `src` the originator;
   * for 'forwarded-tcpip' (server side) `dest` is the forwarded address that was connected and `src` the originator.
   */
  async openChannel(kind: string, dest?: readonly [string, number], src?: readonly [string, number]): Promise<Channel> {
    checkString(kind, 'openChannel: kind', { nonEmpty: true, max: 64 });
    if (dest !== undefined) checkHostPort(dest, 'openChannel: dest');
    if (src !== undefined) checkHostPort(src, 'openChannel: src');
    this.throwIfClosed();
    const conn = this.requireConnection();
    let data: Uint8Array = new Uint8Array(0);
    let info: ChannelOpenInfo = { kind };
    if (kind === 'direct-tcpip' || kind === 'forwarded-tcpip') {
      if (!dest) throw new SSHError('USAGE', `${kind} needs a destination [host, port]`);
      const s = src ?? ['127.0.0.1', 0];
      data = encodeChannelOpenData({ kind, host: dest[0], port: dest[1], originatorAddress: s[0], originatorPort: s[1] });
      info = { kind, destination: { host: dest[0], port: dest[1] }, originator: { host: s[0], port: s[1] } };
    }
    const id = conn.openChannel(kind, data);
    const ch = new Channel(this.channelHost, id, info, this.role === 'server' ? serverRequestHandler(this.policy!) : clientRequestHandler);
    this.channels.set(id, ch);
    const d = deferred<Channel>();
    this.pendingOpens.set(id, d);
    this.flush();
    return d.promise;
  }

  /**
   * The next channel the peer opened (and we accepted), or null after `timeoutMs` or once the connection ended.
   * (A 'channel' event listener receives channels instead, at once; see TransportEvents.channel.)
   */
  async accept(timeoutMs?: number): Promise<Channel | null> {
    checkOptionalMs(timeoutMs, 'accept: timeoutMs');
    const ready = this.acceptQueue.shift();
    if (ready) return Promise.resolve(ready);
    if (this.closedWith) return Promise.resolve(null);
    const d = deferred<Channel | null>();
    this.acceptWaiters.push(d);
    if (timeoutMs !== undefined) {
      const t = setTimeout(() => {
        const i = this.acceptWaiters.indexOf(d);
        if (i >= 0) { this.acceptWaiters.splice(i, 1); d.resolve(null); }
      }, timeoutMs);
      void d.promise.finally(() => clearTimeout(t));
    }
    return d.promise;
  }

  private onChannelOpen(id: number, kind: string, data: Uint8Array): void {
    const conn = this.conn!;
    let info: ChannelOpenInfo = { kind };
    try {
      const d = decodeChannelOpenData(kind, data);
      if (d.kind === 'direct-tcpip' || d.kind === 'forwarded-tcpip') {
        info = { kind, destination: { host: d.host, port: d.port }, originator: { host: d.originatorAddress, port: d.originatorPort } };
      } else if (d.kind === 'x11') {
        info = { kind, originator: { host: d.originatorAddress, port: d.originatorPort } };
      }
    } catch {
      conn.rejectOpen(id, OpenFailure.CONNECT_FAILED, 'malformed channel open data');
      return;
    }
    let verdict: true | OpenFailure | Promise<true | OpenFailure>;
    try {
      verdict = this.checkOpen(id, info);
    } catch {
      verdict = OpenFailure.ADMINISTRATIVELY_PROHIBITED;
    }
    const settle = (v: true | OpenFailure): void => {
      if (this.closedWith) return;
      if (v !== true) {
        conn.rejectOpen(id, v >= 1 && v <= 4 ? v : OpenFailure.ADMINISTRATIVELY_PROHIBITED, 'refused');
        this.flush();
        return;
      }
      const ch = new Channel(this.channelHost, id, info, this.role === 'server' ? serverRequestHandler(this.policy!) : clientRequestHandler);
      this.channels.set(id, ch);
      conn.acceptOpen(id);
      // 'channel' listeners get it synchronously, before the confirmation is written: their request listeners are
      // in place before the peer can send a request on it
      if (this.listenerCount('channel') > 0) {
        this.emit('channel', ch);
        this.flush();
        return;
      }
      this.flush();
      const w = this.acceptWaiters.shift();
      if (w) w.resolve(ch); else this.acceptQueue.push(ch);
    };
    if (verdict instanceof Promise) verdict.then(settle, () => settle(OpenFailure.ADMINISTRATIVELY_PROHIBITED));
    else settle(verdict);
  }

  private checkOpen(id: number, info: ChannelOpenInfo): true | OpenFailure | Promise<true | OpenFailure> {
    if (this.role === 'server') {
      if (info.kind === 'session' && this.noMoreSessions) return OpenFailure.ADMINISTRATIVELY_PROHIBITED;
      const check = this.policy!.checkChannelRequest;
      if (check) return check.call(this.policy, info.kind, id, info);
      // RFC 4254 §5.1: a type we do not know is UNKNOWN_CHANNEL_TYPE; known ones beyond session are denied by default
      if (info.kind === 'session') return true;
      return KNOWN_CHANNEL_TYPES.has(info.kind) ? OpenFailure.ADMINISTRATIVELY_PROHIBITED : OpenFailure.UNKNOWN_CHANNEL_TYPE;
    }
    // RFC 4254 §7.2: a client accepts forwarded-tcpip only for a forward it asked for
    // (matched by port: servers echo the bind address in their own spelling, e.g. '' vs 'localhost')
    const port = info.destination?.port;
    if (info.kind === 'forwarded-tcpip' && [...this.forwards].some((f) => f.endsWith(`:${port}`))) return true;
    return this.options.checkChannelRequest?.(info.kind, info)
      ?? (KNOWN_CHANNEL_TYPES.has(info.kind) ? OpenFailure.ADMINISTRATIVELY_PROHIBITED : OpenFailure.UNKNOWN_CHANNEL_TYPE);
  }

  private onConnectionEvent(e: ConnectionEvent): void {
    switch (e.type) {
      case 'channelOpen': return this.onChannelOpen(e.id, e.channelType, e.data);
      case 'openConfirmed': {
        const w = this.pendingOpens.get(e.id);
        this.pendingOpens.delete(e.id);
        const ch = this.channels.get(e.id);
        if (w && ch) w.resolve(ch);
        return;
      }
      case 'openFailed': {
        const w = this.pendingOpens.get(e.id);
        this.pendingOpens.delete(e.id);
        this.channels.delete(e.id);
        w?.reject(new ChannelOpenError(e.reason, e.description));
        return;
      }
      case 'data': this.channels.get(e.id)?._onData(e.data, e.extended); return;
      case 'windowAvailable': this.channels.get(e.id)?._onWindow(); return;
      case 'eof': this.channels.get(e.id)?._onEof(); return;
      case 'closed': {
        const ch = this.channels.get(e.id);
        this.channels.delete(e.id);
        ch?._onClosed();
        return;
      }
      case 'request': this.channels.get(e.id)?._onRequest(e.requestType, e.data, e.token); return;
      case 'requestReply': this.channels.get(e.id)?._onReply(e.ok); return;
      case 'globalRequest': return this.onGlobalRequest(e.name, e.wantReply, e.data, e.token);
      case 'globalReply': this.globalWaiters.shift()?.resolve({ ok: e.ok, data: e.data }); return;
    }
  }

  // ───────────────────────────── global requests, forwarding ─────────────────────────────

  /**
   * RFC 4254 §4. With wantReply: resolves the REQUEST_SUCCESS data, or null on REQUEST_FAILURE.
   * Without: resolves an empty array once sent.
   */
  async globalRequest(kind: string, data: Uint8Array = new Uint8Array(0), wantReply = true): Promise<Uint8Array | null> {
    checkString(kind, 'globalRequest: kind', { nonEmpty: true, max: 64 });
    checkBytes(data, 'globalRequest: data');
    checkBoolean(wantReply, 'globalRequest: wantReply');
    this.throwIfClosed();
    const conn = this.requireConnection();
    conn.sendGlobalRequest(kind, wantReply, data);
    if (!wantReply) { this.flush(); return new Uint8Array(0); }
    const d = deferred<{ ok: boolean; data: Uint8Array }>();
    this.globalWaiters.push(d);
    this.flush();
    const r = await d.promise;
    return r.ok ? r.data : null;
  }

  /** RFC 4254 §7.1 (client): asks the server to listen; resolves with the bound port. Forwarded connections arrive via accept(). */
  async requestPortForward(address: string, port: number): Promise<number> {
    checkString(address, 'requestPortForward: address');
    checkPort(port, 'requestPortForward: port', true);
    const reply = await this.globalRequest('tcpip-forward', encodeGlobalRequestData({ kind: 'tcpip-forward', address, port }));
    if (reply === null) throw new ChannelError(`tcpip-forward ${address}:${port} refused by the server`);
    const bound = port === 0 ? TcpipForwardReply.decode(reply).port : port;
    this.forwards.add(`${address}:${bound}`);
    return bound;
  }

  async cancelPortForward(address: string, port: number): Promise<void> {
    checkString(address, 'cancelPortForward: address');
    checkPort(port, 'cancelPortForward: port', true);
    this.forwards.delete(`${address}:${port}`);
    const reply = await this.globalRequest('cancel-tcpip-forward', encodeGlobalRequestData({ kind: 'cancel-tcpip-forward', address, port }));
    if (reply === null) throw new ChannelError(`cancel-tcpip-forward ${address}:${port} refused by the server`);
  }

  /** OpenSSH PROTOCOL §2.5: after authentication, tell the client every host key we hold (no reply wanted). */
  private announceHostKeys(): void {
    const data = hostKeysAnnouncement(this.serverKeys);
    if (data && this.conn && announceHostKeysTo(this.engineRef?.peerVersion)) this.conn.sendGlobalRequest(HOSTKEYS, false, data);
  }

  private onGlobalRequest(name: string, wantReply: boolean, data: Uint8Array, token: number): void {
    const conn = this.conn!;
    const reply = (ok: boolean, body?: Uint8Array): void => {
      if (!wantReply || this.closedWith) return;
      conn.replyGlobalRequest(token, ok, body);
      this.flush();
    };
    const policy = this.role === 'server' ? this.policy : undefined;
    if (!policy && name === HOSTKEYS) {
      const keys = announcedHostKeys(data);
      if (keys.length > 0) this.emit('hostKeys', keys);
      return reply(false);
    }
    if (!policy) return reply(false); // the client accepts no other global requests
    if (name === HOSTKEYS_PROVE) {
      const sid = this.engineRef?.sessionId;
      const proof = sid ? proveHostKeys(this.serverKeys, sid, data, this.engineRef?.negotiated?.hostKey) : undefined;
      return proof ? reply(true, proof) : reply(false);
    }
        if (name === 'no-more-sessions@openssh.com') {
      this.noMoreSessions = true;
      return reply(true);
    }
    answerGlobalRequest(policy, name, data).then((r) => reply(r.ok, r.data), () => reply(false));
  }

  // ───────────────────────────── keys, rekey, keepalive ─────────────────────────────

  /**
   * Server: a host key to offer (call before startServer; one per key type): file contents (with `passphrase`
   * when encrypted), parsePrivateKey()'s result, a PrivateKey or a private KeyObject.
   */
  addServerKey(key: PrivateKeyInput, passphrase?: string): void {
    if (this.role) throw new SSHError('USAGE', 'addServerKey must be called before startServer');
    this.serverKeys.push(toPrivateKey(key, 'addServerKey: key', passphrase));
  }

  /** Server: the host key in use (after kex), else the first one added. */
  getServerKey(): PrivateKey | undefined {
    const alg = this.engineRef?.negotiated?.hostKey;
    return (alg && this.serverKeys.find((k) => k.algorithms.includes(alg))) || this.serverKeys[0];
  }

  /**
   * Client: asks the server to prove it holds the private halves of `keys` (OpenSSH PROTOCOL §2.5
   * "hostkeys-prove-00@openssh.com"; typically the keys of a 'hostKeys' event). Resolves with the keys whose
   * signature over the session identifier verified; rejects ChannelError when the server refuses the request.
   */
  async proveHostKeys(keys: readonly PublicKey[]): Promise<PublicKey[]> {
    if (this.role !== 'client') throw new SSHError('USAGE', 'proveHostKeys: a client operation');
    const data = new Writer(4096);
    for (const k of keys) data.string(toPublicKeyBlob(k, 'proveHostKeys: keys[]'));
    const reply = await this.globalRequest(HOSTKEYS_PROVE, data.finish());
    if (reply === null) throw new ChannelError('hostkeys-prove-00@openssh.com refused by the server');
    const sid = this.sessionId!;
    const sigs = announcedHostKeys(reply).map((k) => k.blob);
    return keys.filter((k, i) => sigs[i] !== undefined && verifyHostKeyProof(k.blob, sid, sigs[i]!));
  }

  /** The server's host key from the key exchange. */
  getRemoteServerKey(): PublicKey | undefined {
    return this.remoteHostKey ?? this.engineRef?.hostKey;
  }

  /** RFC 4253 §9: a new key exchange now; resolves when it completes. */
  async renegotiateKeys(): Promise<void> {
    this.throwIfClosed();
    const engine = this.startedEngine('renegotiateKeys');
    const d = deferred<void>();
    this.kexWaiters.push(d);
    engine.rekey();
    this.flush();
    await d.promise;
  }

  /** RFC 4253 §11.2: an SSH_MSG_IGNORE of `bytes` random bytes (a number) or the given bytes; default 10–40 random bytes. */
  sendIgnore(bytes?: number | Uint8Array): void {
    if (bytes !== undefined && !(bytes instanceof Uint8Array)) checkInt(bytes, 'sendIgnore: bytes', 0, 32768);
    this.throwIfClosed();
    const engine = this.startedEngine('sendIgnore');
    const data = bytes instanceof Uint8Array ? bytes : new Uint8Array(randomBytes(bytes ?? randomInt(10, 41)));
    engine.sendMessage({ type: 'SSH_MSG_IGNORE', data });
    this.flush();
  }

  /**
   * Sends keepalive@openssh.com (want reply) every `ms` (0 turns it off). After `countMax` unanswered ones
   * (default 3, like ssh's ServerAliveCountMax) the connection is closed with a TimeoutError.
   */
  setKeepalive(ms: number, countMax = 3): void {
    checkMs(ms, 'setKeepalive: ms');
    checkInt(countMax, 'setKeepalive: countMax', 1, 1_000_000);
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = undefined;
    if (ms <= 0) return;
    this.keepaliveMissed = 0;
    this.keepaliveTimer = setInterval(() => {
      if (this.closedWith || !this.conn) return;
      if (this.keepaliveMissed >= countMax) {
        this.fatal(new TimeoutError(`no reply to ${countMax} keepalives`));
        this.flush();
        return;
      }
      this.keepaliveMissed++;
      const d = deferred<{ ok: boolean; data: Uint8Array }>();
      void d.promise.then(() => { this.keepaliveMissed = 0; }, () => undefined);
      this.globalWaiters.push(d);
      try {
        this.conn.sendGlobalRequest('keepalive@openssh.com', true);
      } catch { /* closed meanwhile */ }
      this.flush();
    }, ms);
    this.keepaliveTimer.unref?.();
  }

  /**
   * paramiko's load_server_moduli: reads an OpenSSH moduli file (moduli(5), default /etc/ssh/moduli) for the server
   * side of diffie-hellman-group-exchange (RFC 4419). Returns false when the file cannot be read or holds no usable
   * group; servers then fall back to the built-in RFC 3526 groups.
   */
  static loadServerModuli(path = '/etc/ssh/moduli'): boolean {
    checkString(path, 'loadServerModuli: path', { nonEmpty: true });
    try {
      Transport.moduli = loadModuli(path).groups;
    } catch {
      return false;
    }
    return Transport.moduli.length > 0;
  }

  // ───────────────────────────── state ─────────────────────────────

  isActive(): boolean {
    return this.engineRef !== undefined && !this.closedWith;
  }

  isAuthenticated(): boolean {
    return this.authenticatedUser !== undefined && !this.closedWith;
  }

  /** The authenticated user (client: ours; server: the client's), or undefined. */
  getUsername(): string | undefined {
    return this.authenticatedUser;
  }

  get remoteVersion(): string | undefined { return this.engineRef?.peerVersion; }
  get negotiatedAlgorithms(): NegotiatedAlgorithms | undefined { return this.engineRef?.negotiated; }
  get sessionId(): Uint8Array | undefined { return this.engineRef?.sessionId; }
  /** Why the connection ended, once it has; undefined while open and after a close() of our own. */
  get closeError(): SSHError | undefined { return this.closingByUs && this.endedCleanly() ? undefined : this.closedWith; }

  private endedCleanly(): boolean {
    const e = this.closedWith;
    return e === undefined || (e.code === 'CLOSED') || (e instanceof DisconnectError && !e.byPeer && e.disconnectReason === DisconnectReason.BY_APPLICATION);
  }

  private startedEngine(what: string): Engine {
    if (!this.engineRef) throw new SSHError('USAGE', `${what}: the transport is not started`);
    return this.engineRef;
  }

  /**
   * Closes every channel (CLOSE, waiting up to `graceMs` for the peer's), then sends DISCONNECT
   * BY_APPLICATION and ends the socket. Resolves once the socket is closed. A close of our own is not an error:
   * closeError stays undefined and 'close' is emitted with undefined; operations still pending reject with
   * SSHError('CLOSED').
   */
  async close(graceMs = 1000): Promise<void> {
    checkMs(graceMs, 'close: graceMs');
    if (!this.closedWith) this.closingByUs = true;
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = undefined;
    if (!this.engineRef) {
      this.socket?.destroy();
      if (this.role && !this.closedWith) this.onClosed(new SSHError('CLOSED', 'closed by close() before the handshake started'));
      else if (!this.role && !this.closedWith) { this.closedWith = new SSHError('CLOSED', 'closed by close()'); this.closeWaiter.resolve(); }
      return;
    }
    if (!this.closedWith && this.channels.size > 0) {
      const closing = [...this.channels.values()].map((c) => c.close());
      const timer = new Promise<void>((r) => setTimeout(r, graceMs).unref?.());
      await Promise.race([Promise.all(closing), timer]);
    }
    if (!this.closedWith) {
      this.engineRef.disconnect(DisconnectReason.BY_APPLICATION, 'closed by application');
      this.flush();
    }
    const sock = this.socket;
    if (sock && !sock.destroyed) {
      await Promise.race([
        new Promise<void>((r) => sock.once('close', () => r())),
        new Promise<void>((r) => setTimeout(r, graceMs).unref?.()),
      ]);
      sock.destroy();
    }
    // the engine reports 'closed' through the driver; if the socket went first, settle here
    if (!this.closedWith) this.onClosed(new SSHError('CLOSED', 'closed by close()', DisconnectReason.BY_APPLICATION));
    await this.closeWaiter.promise;
  }

  /** Resolves when the connection has ended (for any reason). */
  closed(): Promise<void> {
    return this.closeWaiter.promise;
  }

  // ───────────────────────────── event routing ─────────────────────────────

  private onEngineEvent(e: EngineEvent): void {
    this.dispatching++;
    try {
      switch (e.type) {
        case 'version': this.emit('version', e.version); break;
        case 'kexDone':
          if (e.initial && this.role === 'client') this.remoteHostKey ??= e.hostKey;
          for (const w of this.kexWaiters.splice(0)) w.resolve();
          this.heldDuringKex = 0;
          for (const w of this.kexWriteWaiters.splice(0)) w();
          this.emit('kex', e.algorithms);
          break;
        case 'serviceRequest':
          // RFC 4253 §10: the only service before authentication is ssh-userauth
          if (e.service === 'ssh-userauth' && !this.authenticatedUser) this.engineRef!.acceptService(e.service);
          else this.engineRef!.disconnect(DisconnectReason.SERVICE_NOT_AVAILABLE, `service ${JSON.stringify(e.service)} not available`);
          break;
        case 'serviceAccept': this.authFlow?.serviceAccepted(); break;
        case 'extInfo': {
          const v = e.extensions.get('server-sig-algs');
          if (v && this.authFlow) this.authFlow.client.setServerSigAlgs(new TextDecoder('latin1').decode(v).split(',').filter(Boolean));
          break;
        }
        case 'debug': this.emit('debug', e.message); break;
        case 'payload': this.onPayload(e.payload, e.seq); break;
        case 'closed': this.onClosed(e.error); break;
      }
    } catch (err) {
      this.fatal(err);
    } finally {
      this.dispatching--;
    }
  }

  private onPayload(payload: Uint8Array, seq: number): void {
    const id = payload[0]!;
    let known: boolean;
    if (id >= 50 && id <= 79) {
      const flow = this.authFlow;
      if (flow) {
        known = flow.client.handlePayload(payload);
        for (let ev = flow.client.pollEvent(); ev; ev = flow.client.pollEvent()) flow.onEvent(ev);
      } else {
        known = this.authServer!.handlePayload(payload, Date.now());
        this.drainAuthServer();
      }
    } else if (id >= 80 && id <= 127) {
      // RFC 4252 §6 / RFC 4254 §1: the connection protocol runs only after authentication
      if (!this.authenticatedUser) throw new ProtocolError(`connection protocol message ${id} before authentication`, ['SSH_MSG_USERAUTH_REQUEST'], String(id));
      const conn = this.conn!;
      known = conn.handlePayload(payload);
      for (let ev = conn.pollEvent(); ev; ev = conn.pollEvent()) this.onConnectionEvent(ev);
    } else if (id >= 128 && this.role === 'server' && !this.authenticatedUser) {
      // RFC 4252 §6: every number from 80 up is for protocols after authentication; before it the server disconnects
      throw new ProtocolError(`message ${id} before authentication`, ['SSH_MSG_USERAUTH_REQUEST'], String(id));
    } else {
      known = false;
    }
    // RFC 4253 §11.4
    if (!known) this.engineRef!.sendMessage({ type: 'SSH_MSG_UNIMPLEMENTED', seq });
  }

  private onClosed(engineError: SSHError): void {
    if (this.closedWith) return;
    // a close() of our own: pending operations learn that, not a DISCONNECT we sent ourselves
    const error = this.closingByUs && !this.fatalCause && !(engineError instanceof DisconnectError && engineError.byPeer)
      ? new SSHError('CLOSED', 'closed by close()', DisconnectReason.BY_APPLICATION)
      : this.fatalCause ?? engineError;
    this.closedWith = error;
    if (this.authTimer) clearTimeout(this.authTimer);
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.authTimer = this.keepaliveTimer = this.graceTimer = undefined;
    for (const w of this.kexWaiters.splice(0)) w.reject(error);
    this.authFlow?.fail(error);
    for (const w of this.pendingOpens.values()) w.reject(error);
    this.pendingOpens.clear();
    for (const w of this.globalWaiters.splice(0)) w.reject(error);
    for (const w of this.acceptWaiters.splice(0)) w.resolve(null);
    for (const ch of [...this.channels.values()]) ch._onClosed(error);
    this.channels.clear();
    for (const w of this.drainWaiters.splice(0)) w();
    for (const w of this.kexWriteWaiters.splice(0)) w();
    this.closeWaiter.resolve();
    this.emit('close', this.closeError);
  }

  /** An SSHError from a service layer ends the connection with its reason (RFC 4253 §11.1). */
  private fatal(err: unknown): void {
    const e = err instanceof SSHError ? err : new ProtocolError(String(err instanceof Error ? err.message : err));
    if (this.engineRef && !this.engineRef.isClosed) {
      this.fatalCause ??= e;
      this.engineRef.disconnect(e.reason, e.message);
    }
  }

  /** Writes what the engine queued and dispatches its events; deferred while an event is being handled. */
  private flush(): void {
    if (this.dispatching > 0 || !this.driver) return;
    this.driver.flush();
  }

  /** Half the engine's hold bound used: channel writes wait for the key exchange to end. */
  private kexHoldFull(): boolean {
    const budget = (this.options.limits?.maxQueuedDuringKex ?? dangerousOptionsOf(this.options)?.limits?.maxQueuedDuringKex ?? 8 * 1024 * 1024) / 2;
    return this.engineRef?.kexInProgress === true && this.heldDuringKex >= budget;
  }

  private requireConnection(): Connection {
    if (!this.conn || !this.authenticatedUser) throw new SSHError('USAGE', 'not authenticated yet');
    return this.conn;
  }

  private throwIfClosed(): void {
    if (this.closedWith) throw this.closedWith;
  }
}

export { Channel };
