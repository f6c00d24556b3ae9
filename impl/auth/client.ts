/**
 * ssh-userauth, client side (RFC 4252, RFC 4256, RFC 8332), sans-I/O: one request in flight at a time;
 * the caller starts a method, feeds the server's payloads and reads events.
 */
import type { PrivateKey } from '../crypto/types.js';
import { ProtocolError, SSHError } from '../errors.js';
import { decodeMessage, encodeMessage, type DecodeContext, type Message } from '../messages/index.js';
import { certBaseType } from '../crypto/hostkey/cert-signature.js';
import { hostbasedSignedData, publicKeySignedData } from './signed-data.js';
import type { ServiceHost } from './types.js';

export type AuthClientEvent =
  | { readonly type: 'banner'; readonly message: string; readonly language: string }
  | { readonly type: 'success'; readonly method: string }
  | { readonly type: 'failure'; readonly method: string; readonly methods: readonly string[]; readonly partialSuccess: boolean }
  /** RFC 4252 §8: answer with changePassword(newPassword) or start another method. */
  | { readonly type: 'passwordChange'; readonly prompt: string; readonly language: string }
  /** RFC 4256 §3.2: answer with respond(responses) (also for zero prompts). */
  | {
    readonly type: 'infoRequest'; readonly name: string; readonly instruction: string; readonly language: string;
    readonly prompts: readonly { readonly prompt: string; readonly echo: boolean }[];
  };

type InFlight =
  | { readonly method: 'none'; readonly user: string }
  | { readonly method: 'password'; readonly user: string; readonly password: string; changeRequested: boolean }
  | {
    readonly method: 'publickey'; readonly user: string; readonly key: PrivateKey; readonly algorithm: string; signed: boolean;
    /** Tried next, once, if the server refuses `algorithm` (RFC 8332 §3.3 without server-sig-algs). */
    readonly fallback?: string;
  }
  | { readonly method: 'keyboard-interactive'; readonly user: string; awaitingAnswer: boolean }
  | { readonly method: 'hostbased'; readonly user: string };

export interface AuthClientOptions {
  /** Service to authenticate for. Default 'ssh-connection'. */
  readonly service?: string;
}

export class AuthClient {
  readonly service: string;
  private inFlight: InFlight | undefined;
  private serverSigAlgs: readonly string[] | undefined;
  private readonly events: AuthClientEvent[] = [];
  private done = false;
  private error: SSHError | undefined;

  constructor(private readonly host: ServiceHost, options: AuthClientOptions = {}) {
    this.service = options.service ?? 'ssh-connection';
  }

  get authenticated(): boolean { return this.done; }
  get busy(): boolean { return this.inFlight !== undefined; }

  /** RFC 8308 §3.1: the server's server-sig-algs extension (from SSH_MSG_EXT_INFO). */
  setServerSigAlgs(names: readonly string[]): void {
    this.serverSigAlgs = names;
  }

  /**
   * RFC 8332 §3.3: what to retry `key` with once when the server refuses `chosen` without having announced
   * server-sig-algs — the key's legacy algorithm (ssh-rsa), which servers from before RFC 8332 accept; none when the
   * server did announce its list (it is believed) or the key has no other algorithm.
   */
  private legacyFallback(key: PrivateKey, chosen: string): string | undefined {
    if (this.serverSigAlgs) return undefined;
    const legacy = key.algorithms[key.algorithms.length - 1];
    return legacy !== undefined && legacy !== chosen ? legacy : undefined;
  }

  /**
   * The signature algorithm to use with `key` (RFC 8332 §3.3): the first of the key's own preferences that the
   * server announced in server-sig-algs; without that extension, the key's first (strongest) preference.
   */
  chooseAlgorithm(key: PrivateKey): string {
    const offered = this.serverSigAlgs;
    // OpenSSH's server-sig-algs names the plain algorithms; a certificate signs with its base one (PROTOCOL.certkeys)
    if (offered) for (const a of key.algorithms) if (offered.includes(a) || offered.includes(certBaseType(a) ?? a)) return a;
    const first = key.algorithms[0];
    if (first === undefined) throw new SSHError('USAGE', `key of type ${key.type} has no signature algorithm`);
    return first;
  }

  none(user: string): void {
    this.begin({ method: 'none', user });
    this.send({ user, method: 'none' });
  }

  password(user: string, password: string): void {
    this.begin({ method: 'password', user, password, changeRequested: false });
    this.send({ user, method: 'password', changePassword: false, password });
  }

  /**
   * publickey: first asks whether the key is acceptable (unsigned query, RFC 4252 §7), signs only after
   * SSH_MSG_USERAUTH_PK_OK. `query: false` signs straight away (one round trip less).
   */
  publicKey(user: string, key: PrivateKey, opts: { algorithm?: string; query?: boolean } = {}): void {
    const algorithm = opts.algorithm ?? this.chooseAlgorithm(key);
    if (!key.algorithms.includes(algorithm)) throw new SSHError('USAGE', `key of type ${key.type} cannot sign with ${algorithm}`);
    // an algorithm the caller named is used as named; one we guessed gets the legacy retry
    const fallback = opts.algorithm === undefined ? this.legacyFallback(key, algorithm) : undefined;
    this.offerKey({ method: 'publickey', user, key, algorithm, signed: false, ...(fallback ? { fallback } : {}) }, opts.query !== false);
  }

  private offerKey(f: InFlight & { method: 'publickey' }, query: boolean): void {
    this.begin(f);
    if (!query) return this.sendSigned(f);
    this.send({ user: f.user, method: 'publickey', hasSignature: false, algorithm: f.algorithm, key: f.key.publicKey.blob });
  }

  /**
   * RFC 4252 §9 hostbased: `hostKey` is the client host's key (what ssh-keysign signs with), `clientHost` its name
   * (an FQDN; OpenSSH sends it with a trailing dot), `clientUser` the local user. One signed request, no query.
   */
  hostbased(user: string, hostKey: PrivateKey, clientHost: string, clientUser: string, opts: { algorithm?: string } = {}): void {
    const algorithm = opts.algorithm ?? this.chooseAlgorithm(hostKey);
    if (!hostKey.algorithms.includes(algorithm)) throw new SSHError('USAGE', `key of type ${hostKey.type} cannot sign with ${algorithm}`);
    const sessionId = this.host.sessionId;
    if (!sessionId) throw new SSHError('USAGE', 'hostbased authentication needs a completed key exchange');
    this.begin({ method: 'hostbased', user });
    const blob = hostKey.publicKey.blob;
    const signature = hostKey.sign(algorithm, hostbasedSignedData(sessionId, user, this.service, algorithm, blob, clientHost, clientUser));
    this.send({ user, method: 'hostbased', algorithm, key: blob, clientHost, clientUser, signature });
  }

  keyboardInteractive(user: string, submethods = ''): void {
    this.begin({ method: 'keyboard-interactive', user, awaitingAnswer: false });
    this.send({ user, method: 'keyboard-interactive', language: '', submethods });
  }

  /** Answers the last 'infoRequest' event (RFC 4256 §3.4). */
  respond(responses: readonly string[]): void {
    const f = this.inFlight;
    if (f?.method !== 'keyboard-interactive' || !f.awaitingAnswer) throw new SSHError('USAGE', 'no keyboard-interactive prompt to answer');
    f.awaitingAnswer = false;
    this.host.sendPayload(encodeMessage({ type: 'SSH_MSG_USERAUTH_INFO_RESPONSE', responses: [...responses] }));
  }

  /** Answers a 'passwordChange' event (RFC 4252 §8). */
  changePassword(newPassword: string): void {
    const f = this.inFlight;
    if (f?.method !== 'password' || !f.changeRequested) throw new SSHError('USAGE', 'the server did not ask for a password change');
    f.changeRequested = false;
    this.send({ user: f.user, method: 'password', changePassword: true, password: f.password, newPassword });
  }

  /** Drops a method waiting for our answer (an unanswered password change or prompt), so another can start. */
  abandon(): void {
    this.inFlight = undefined;
  }

  pollEvent(): AuthClientEvent | undefined {
    return this.events.shift();
  }

  /**
   * One userauth payload (numbers 50–79) from the server. Throws an SSHError when the connection must end; it sticks.
   * Returns false for a number this layer does not know (answer SSH_MSG_UNIMPLEMENTED).
   */
  handlePayload(payload: Uint8Array): boolean {
    if (this.error) throw this.error;
    const id = payload[0];
    if (id === undefined || id < 50 || id > 79) return false;
    if (id !== 51 && id !== 52 && id !== 53 && id !== 60 && id !== 61) return false;
    try {
      this.onMessage(decodeMessage(payload, this.context()));
    } catch (e) {
      this.error = e instanceof SSHError ? e : new ProtocolError(String(e));
      throw this.error;
    }
    return true;
  }

  private context(): DecodeContext | undefined {
    const m = this.inFlight?.method;
    return m === 'publickey' || m === 'password' || m === 'keyboard-interactive' ? { auth: m } : undefined;
  }

  private onMessage(msg: Message): void {
    if (this.done) throw new ProtocolError(`${msg.type} after SSH_MSG_USERAUTH_SUCCESS`, [], msg.type);
    if (msg.type === 'SSH_MSG_USERAUTH_BANNER') {
      // RFC 4252 §5.4: allowed at any time before success, even with nothing in flight.
      this.events.push({ type: 'banner', message: msg.message, language: msg.language });
      return;
    }
    const f = this.inFlight;
    if (!f) throw new ProtocolError(`${msg.type} with no authentication request outstanding`, [], msg.type);
    switch (msg.type) {
      case 'SSH_MSG_USERAUTH_SUCCESS':
        this.inFlight = undefined;
        this.done = true;
        this.events.push({ type: 'success', method: f.method });
        return;
      case 'SSH_MSG_USERAUTH_FAILURE':
        this.inFlight = undefined;
        // RFC 8332 §3.3: the server sent no server-sig-algs and refused rsa-sha2-*: it may know only ssh-rsa
        if (f.method === 'publickey' && f.fallback && !msg.partialSuccess && msg.methods.includes('publickey')) {
          this.offerKey({ method: 'publickey', user: f.user, key: f.key, algorithm: f.fallback, signed: false }, !f.signed);
          return;
        }
        this.events.push({ type: 'failure', method: f.method, methods: msg.methods, partialSuccess: msg.partialSuccess });
        return;
      case 'SSH_MSG_USERAUTH_PK_OK': {
        if (f.method !== 'publickey' || f.signed) throw new ProtocolError('unexpected SSH_MSG_USERAUTH_PK_OK', [], msg.type);
        // RFC 4252 §7: PK_OK echoes the algorithm and key of our query.
        if (msg.algorithm !== f.algorithm || !sameBytes(msg.key, f.key.publicKey.blob)) {
          throw new ProtocolError('SSH_MSG_USERAUTH_PK_OK for a key we did not offer', [], msg.type);
        }
        this.sendSigned(f);
        return;
      }
      case 'SSH_MSG_USERAUTH_PASSWD_CHANGEREQ':
        if (f.method !== 'password') throw new ProtocolError('unexpected SSH_MSG_USERAUTH_PASSWD_CHANGEREQ', [], msg.type);
        f.changeRequested = true;
        this.events.push({ type: 'passwordChange', prompt: msg.prompt, language: msg.language });
        return;
      case 'SSH_MSG_USERAUTH_INFO_REQUEST':
        if (f.method !== 'keyboard-interactive' || f.awaitingAnswer) throw new ProtocolError('unexpected SSH_MSG_USERAUTH_INFO_REQUEST', [], msg.type);
        f.awaitingAnswer = true;
        this.events.push({ type: 'infoRequest', name: msg.name, instruction: msg.instruction, language: msg.language, prompts: msg.prompts });
        return;
      default:
        throw new ProtocolError(`unexpected ${msg.type} during authentication`, [], msg.type);
    }
  }

  private sendSigned(f: Extract<InFlight, { method: 'publickey' }>): void {
    const sessionId = this.host.sessionId;
    if (!sessionId) throw new SSHError('USAGE', 'publickey authentication needs a completed key exchange');
    const blob = f.key.publicKey.blob;
    const signature = f.key.sign(f.algorithm, publicKeySignedData(sessionId, f.user, this.service, f.algorithm, blob));
    f.signed = true;
    this.send({ user: f.user, method: 'publickey', hasSignature: true, algorithm: f.algorithm, key: blob, signature });
  }

  private begin(f: InFlight): void {
    if (this.error) throw this.error;
    if (this.done) throw new SSHError('USAGE', 'already authenticated');
    // RFC 4252 §5 allows pipelining, but one at a time keeps replies unambiguous (60 means different things per method).
    if (this.inFlight && !this.waitingOnUs()) throw new SSHError('USAGE', `an authentication request (${this.inFlight.method}) is already in flight`);
    this.inFlight = f;
  }

  /** A method the server answered with a question we have not answered can be replaced by a new request. */
  private waitingOnUs(): boolean {
    const f = this.inFlight;
    return (f?.method === 'password' && f.changeRequested) || (f?.method === 'keyboard-interactive' && f.awaitingAnswer);
  }

  private send(fields: UserauthRequestFields): void {
    this.host.sendPayload(encodeMessage({ type: 'SSH_MSG_USERAUTH_REQUEST', service: this.service, ...fields } as Message));
  }
}

type UserauthRequest = Extract<Message, { type: 'SSH_MSG_USERAUTH_REQUEST' }>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type UserauthRequestFields = DistributiveOmit<UserauthRequest, 'type' | 'service'>;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
