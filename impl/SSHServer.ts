/**
 * An SSH server on a TCP port, done the safe way: every accepted socket gets its own Transport running the
 * ServerPolicy, and whatever ends a connection before it is usable — a TCP health check or port scanner that
 * connects and closes, a client that leaves mid-handshake, a non-SSH client, a handshake timeout — is reported as
 * a 'clientError' event and never becomes an unhandled rejection or an uncaught exception.
 *
 *   const server = new SSHServer({ hostKeys: [hostKey], policy }, async (t) => {
 *     for (let ch = await t.accept(); ch; ch = await t.accept()) serve(ch);
 *   });
 *   server.on('clientError', (err, peer) => console.error(`${peer.address}: ${err.message}`));
 *   await server.listen(2222, '127.0.0.1');
 *
 * By hand (net.createServer + new Transport(socket) + startServer) the same holds only if every startServer()
 * and every handler Promise has a rejection handler, and every socket an 'error' listener: this class is that.
 */
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import type { ServerPolicy } from './connection/policy.js';
import type { PrivateKey } from './crypto/types.js';
import { SSHError } from './errors.js';
import { toPrivateKey, toPublicKeyBlob, type PrivateKeyInput, type PublicKeyInput } from './keys/key-input.js';
import { trustUserCertificates } from './auth/certificates.js';
import { checkTransportOptions } from './transport-options.js';
import { Transport, type TransportOptions } from './Transport.js';
import { checkFunction, checkInt, checkKnownKeys, checkObject, checkOptionalFunction, checkPort, checkString, usage } from './validate.js';

/** Where a connection came from. */
export interface PeerAddress {
  readonly address: string;
  readonly port: number;
}

export interface SSHServerOptions extends Omit<TransportOptions, 'hostKeys' | 'verifyHostKey' | 'checkChannelRequest'> {
  /** Host keys: file contents, parsePrivateKey() results, PrivateKeys or private KeyObjects (one per key type). */
  readonly hostKeys: readonly PrivateKeyInput[];
  /** The decisions (authentication, channels, requests), or a function that makes a fresh policy per connection. */
  readonly policy: ServerPolicy | ((peer: PeerAddress) => ServerPolicy);
  /**
   * CA public keys whose user certificates authenticate (sshd TrustedUserCAKeys, OpenSSH PROTOCOL.certkeys): a
   * certificate signed by one of them, listing the user as a principal, valid now and from the client's address
   * (source-address) logs in; with force-command only that command may run. See trustUserCertificates().
   */
  readonly trustedUserCAKeys?: readonly PublicKeyInput[];
  /** Connections at once, in any state; sockets beyond it are closed at once (counted in 'clientError'). Default 1024. */
  readonly maxConnections?: number;
}

/** Events of an SSHServer, by name: the listener's arguments. */
export interface SSHServerEvents {
  /** A client completed the key exchange (before authentication; the handler given to the constructor runs next). */
  connection: [transport: Transport, peer: PeerAddress];
  /**
   * A connection ended before it was usable (probe, mid-handshake departure, non-SSH client, handshake timeout,
   * too many connections), or the connection handler threw. The server goes on.
   */
  clientError: [error: Error, peer: PeerAddress];
  listening: [address: PeerAddress];
  /** The listening socket failed after listen() (e.g. EMFILE on accept). */
  error: [error: Error];
  close: [];
}

/** A listener of the SSHServer event `E`. */
export type SSHServerListener<E extends keyof SSHServerEvents> = (...args: SSHServerEvents[E]) => void;

export interface SSHServer {
  on<E extends keyof SSHServerEvents>(event: E, listener: SSHServerListener<E>): this;
  once<E extends keyof SSHServerEvents>(event: E, listener: SSHServerListener<E>): this;
  off<E extends keyof SSHServerEvents>(event: E, listener: SSHServerListener<E>): this;
  addListener<E extends keyof SSHServerEvents>(event: E, listener: SSHServerListener<E>): this;
  removeListener<E extends keyof SSHServerEvents>(event: E, listener: SSHServerListener<E>): this;
  emit<E extends keyof SSHServerEvents>(event: E, ...args: SSHServerEvents[E]): boolean;
}

/** What runs for each connection once its key exchange is done (authentication follows on the same Transport). */
export type ConnectionHandler = (transport: Transport, peer: PeerAddress) => void | Promise<void>;

const OPTION_NAMES = [
  'hostKeys', 'policy', 'maxConnections', 'trustedUserCAKeys', 'algorithms', 'rekey', 'softwareVersion', 'comments', 'connection', 'auth', 'trace', 'limits',
  'handshakeTimeoutMs', 'connectTimeoutMs', 'loginGraceMs',
] as const;

export class SSHServer extends EventEmitter {
  private readonly keys: readonly PrivateKey[];
  private readonly transportOptions: TransportOptions;
  private readonly policy: ServerPolicy | ((peer: PeerAddress) => ServerPolicy);
  private readonly maxConnections: number;
  private readonly trustedCAs: readonly Uint8Array[];
  private readonly handler: ConnectionHandler | undefined;
  private readonly live = new Set<Transport>();
  private readonly sockets = new Set<net.Socket>();
  private server: net.Server | undefined;

  constructor(options: SSHServerOptions, onConnection?: ConnectionHandler) {
    super();
    const o = checkObject<SSHServerOptions>(options, 'SSHServer: options');
    checkKnownKeys(o, 'SSHServer: options', OPTION_NAMES);
    if (!Array.isArray(o.hostKeys) || o.hostKeys.length === 0) throw usage('SSHServer: options.hostKeys', 'a non-empty array of private keys', o.hostKeys);
    this.keys = o.hostKeys.map((k, i) => toPrivateKey(k, `SSHServer: options.hostKeys[${i}]`));
    if (typeof o.policy !== 'function') checkFunction(checkObject<ServerPolicy>(o.policy, 'SSHServer: options.policy').allowedAuths, 'SSHServer: options.policy.allowedAuths');
    this.policy = o.policy;
    this.maxConnections = o.maxConnections === undefined ? 1024 : checkInt(o.maxConnections, 'SSHServer: options.maxConnections', 1, 1_000_000);
    this.handler = checkOptionalFunction<ConnectionHandler>(onConnection, 'SSHServer: onConnection');
    if (o.trustedUserCAKeys !== undefined && !Array.isArray(o.trustedUserCAKeys)) throw usage('SSHServer: options.trustedUserCAKeys', 'an array of public keys', o.trustedUserCAKeys);
    this.trustedCAs = (o.trustedUserCAKeys ?? []).map((k, i) => toPublicKeyBlob(k, `SSHServer: options.trustedUserCAKeys[${i}]`));
    const { hostKeys: _k, policy: _p, maxConnections: _m, trustedUserCAKeys: _c, ...transport } = o;
    this.transportOptions = transport;
    checkTransportOptions(this.transportOptions); // now, not at the first connection
  }

  /** Listens on `port` (0: any free one) and `host` (default: every interface, as net does). Resolves with the address. */
  listen(port = 0, host?: string): Promise<PeerAddress> {
    checkPort(port, 'listen: port', true);
    if (host !== undefined) checkString(host, 'listen: host', { nonEmpty: true });
    if (this.server) return Promise.reject(new SSHError('USAGE', 'listen: already listening'));
    const server = net.createServer((socket) => this.handle(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', (e) => { this.server = undefined; reject(e); });
      server.listen(port, host, () => {
        server.removeAllListeners('error');
        server.on('error', (e) => { if (this.listenerCount('error') > 0) this.emit('error', e); });
        const a = server.address() as net.AddressInfo;
        const address = { address: a.address, port: a.port };
        this.emit('listening', address);
        resolve(address);
      });
    });
  }

  /** The listening address, once listening. */
  address(): PeerAddress | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? { address: a.address, port: a.port } : undefined;
  }

  /** Connections open now (any state). */
  get connections(): number {
    return this.sockets.size;
  }

  /**
   * Serves one already accepted socket (for your own listener, a proxy or a UNIX socket): the same handling as a
   * connection accepted by listen(). Returns its Transport.
   */
  handle(socket: net.Socket): Transport | undefined {
    const peer = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    socket.on('error', () => { /* the Transport reports the loss; a reset socket must not throw */ });
    if (this.sockets.size >= this.maxConnections) {
      socket.destroy();
      this.emit('clientError', new SSHError('LIMIT', `more than ${this.maxConnections} connections: refused`), peer);
      return undefined;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    let policy: ServerPolicy;
    try {
      policy = typeof this.policy === 'function' ? this.policy(peer) : this.policy;
      if (this.trustedCAs.length > 0) policy = trustUserCertificates(policy, { trustedCAs: this.trustedCAs, clientAddress: peer.address });
    } catch (e) {
      socket.destroy();
      this.emit('clientError', e instanceof Error ? e : new Error(String(e)), peer);
      return undefined;
    }
    const t = new Transport(socket, { ...this.transportOptions, hostKeys: this.keys });
    this.live.add(t);
    t.once('close', () => this.live.delete(t));
    t.startServer(policy).then(
      () => this.runHandler(t, peer),
      (e: unknown) => { this.emit('clientError', asError(e), peer); },
    );
    return t;
  }

  private async runHandler(t: Transport, peer: PeerAddress): Promise<void> {
    try {
      this.emit('connection', t, peer);
      if (this.handler) await this.handler(t, peer);
    } catch (e) {
      void t.close(100).catch(() => undefined); // the handler failed: its connection ends
      this.emit('clientError', asError(e), peer);
    }
  }

  /** Stops listening and closes every connection (each with DISCONNECT BY_APPLICATION); resolves when all are closed. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const stopped = server ? new Promise<void>((r) => server.close(() => r())) : Promise.resolve();
    await Promise.all([...this.live].map((t) => t.close(500).catch(() => undefined)));
    for (const s of this.sockets) s.destroy();
    await stopped;
    this.emit('close');
  }
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
