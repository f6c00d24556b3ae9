/**
 * ssh-userauth, server side (RFC 4252, RFC 4256, RFC 8332), sans-I/O: payloads and time go in, payloads,
 * events and one deadline come out. Decisions come from a `ServerAuthPolicy` and may be asynchronous;
 * replies are always sent in request order.
 *
 * Failure replies are held until `arrival + failureDelayMs` (never earlier), whatever the method and
 * whether the user exists, so the reply time does not tell an unknown user from a wrong password.
 */
import type { PublicKey, SignatureAlgorithm } from '../crypto/types.js';
import { signatureAlgorithms as registrySignatureAlgorithms } from '../crypto/registry.js';
import { AuthError, LimitError, ProtocolError, SSHError } from '../errors.js';
import { decodeMessage, encodeMessage, type Message } from '../messages/index.js';
import { HOSTBOUND_METHOD, blobKeyType, hostbasedSignedData, hostboundSignedData, publicKeySignedData, signatureAlgorithmOf } from './signed-data.js';
import { Reader } from '../wire/index.js';
import {
  AuthResult, isInteractiveQuery, isPasswordChangeRequired,
  type InteractiveQuery, type MaybePromise, type PasswordChangeRequired, type ServerAuthPolicy, type ServiceHost,
} from './types.js';

export interface AuthServerOptions {
  /** Services a client may authenticate for (RFC 4252 §5). Default ['ssh-connection']. */
  readonly services?: readonly string[];
  /** Failed attempts (not counting 'none') before we disconnect with NO_MORE_AUTH_METHODS_AVAILABLE. Default 10. */
  readonly maxAttempts?: number;
  /** Minimum time from a request's arrival to its FAILURE reply. Default 8 ms. */
  readonly failureDelayMs?: number;
  /** Signature algorithms accepted for publickey (default: the registry's non-legacy ones). */
  readonly signatureAlgorithms?: ReadonlyMap<string, SignatureAlgorithm>;
  /** Requests a client may pipeline while one is being decided. Default 32. */
  readonly maxQueued?: number;
  /**
   * OpenSSH PROTOCOL "ext-info-in-auth@openssh.com": when the client announced it, the SSH_MSG_EXT_INFO payload to
   * send once, before the reply to its first request (undefined: the client did not ask, send nothing).
   */
  readonly extInfoInAuth?: () => Uint8Array | undefined;
  /** Called when an asynchronous policy decision settles: the driver should call handleTimeout(now) and flush. */
  readonly onWake?: () => void;
  /**
   * Start as if `user` had already authenticated for `service` (no event, nothing sent; later requests are
   * ignored, RFC 4252 §5.1): for a connection whose authentication happened before this object existed, such
   * as an engine resumed from a snapshot (EngineOptions.resume).
   */
  readonly authenticated?: { readonly user: string; readonly service: string };
}

export type AuthServerEvent =
  | { readonly type: 'success'; readonly user: string; readonly service: string; readonly method: string }
  | { readonly type: 'failure'; readonly user: string; readonly method: string; readonly partialSuccess: boolean }
  /** A policy check threw or rejected; the attempt was answered as FAILED. */
  | { readonly type: 'policyError'; readonly method: string; readonly error: unknown };

/** The 'otherwise' variant has `method: string`, so a switch on `method` cannot narrow by itself. */
type RequestOf<M extends string> = Extract<Message, { type: 'SSH_MSG_USERAUTH_REQUEST'; method: M }>;

type Decision = AuthResult | InteractiveQuery | PasswordChangeRequired | { readonly pkOk: true };

interface Pending {
  readonly user: string;
  readonly service: string;
  readonly method: string;
  readonly arrivedAt: number;
  /** publickey query: answer PK_OK instead of success. */
  readonly pkQuery?: { readonly algorithm: string; readonly key: Uint8Array };
  settled: boolean;
  decision?: Decision;
}

const defaultSignatureAlgorithms = (): ReadonlyMap<string, SignatureAlgorithm> =>
  new Map([...registrySignatureAlgorithms].filter(([, a]) => !a.legacy));

export class AuthServer {
  private readonly services: readonly string[];
  private readonly maxAttempts: number;
  private readonly failureDelayMs: number;
  private readonly maxQueued: number;
  private readonly sigAlgs: ReadonlyMap<string, SignatureAlgorithm>;
  private readonly queue: { payload: Uint8Array; at: number }[] = [];
  private readonly events: AuthServerEvent[] = [];
  private pending: Pending | undefined;
  /** keyboard-interactive in progress: the INFO_REQUEST we are waiting an answer to (RFC 4256 §3.2). */
  private kbd: { user: string; service: string; prompts: number } | undefined;
  private failures = 0;
  private bannerSent = false;
  private authenticatedAs: { user: string; service: string } | undefined;
  private error: SSHError | undefined;

  constructor(private readonly host: ServiceHost, private readonly policy: ServerAuthPolicy, private readonly options: AuthServerOptions = {}) {
    this.services = options.services ?? ['ssh-connection'];
    this.maxAttempts = options.maxAttempts ?? 10;
    this.failureDelayMs = options.failureDelayMs ?? 8;
    this.maxQueued = options.maxQueued ?? 32;
    this.sigAlgs = options.signatureAlgorithms ?? defaultSignatureAlgorithms();
    if (options.authenticated) this.authenticatedAs = { ...options.authenticated };
  }

  /** Set once SSH_MSG_USERAUTH_SUCCESS has been sent. */
  get authenticated(): { readonly user: string; readonly service: string } | undefined { return this.authenticatedAs; }

  /**
   * One userauth payload (numbers 50–79) from the client. Throws an SSHError when the connection must end
   * (its `reason` is the DISCONNECT reason); the error sticks. Returns false for a number this layer does not
   * know (the caller answers SSH_MSG_UNIMPLEMENTED, RFC 4253 §11.4).
   */
  handlePayload(payload: Uint8Array, now: number): boolean {
    if (this.error) throw this.error;
    const id = payload[0];
    if (id !== 50 && id !== 61) {
      if (id !== undefined && (id === 51 || id === 52 || id === 53 || id === 60)) {
        return this.fail(new ProtocolError(`client sent server-only message ${id}`, ['SSH_MSG_USERAUTH_REQUEST', 'SSH_MSG_USERAUTH_INFO_RESPONSE'], String(id)));
      }
      return false;
    }
    // RFC 4252 §5.1: requests after success are silently ignored.
    if (this.authenticatedAs) return true;
    if (this.queue.length >= this.maxQueued) return this.fail(new LimitError(`more than ${this.maxQueued} pipelined authentication requests`));
    this.queue.push({ payload, at: now });
    this.pump(now);
    return true;
  }

  /** The next deadline at which handleTimeout must be called (a held FAILURE reply). */
  pollTimeout(): number | undefined {
    const p = this.pending;
    if (!p || !p.settled || !this.isDelayedFailure(p)) return undefined;
    return p.arrivedAt + this.failureDelayMs;
  }

  handleTimeout(now: number): void {
    if (this.error) throw this.error;
    this.pump(now);
  }

  pollEvent(): AuthServerEvent | undefined {
    return this.events.shift();
  }

  private fail(err: SSHError): never {
    this.error = err;
    throw err;
  }

  /** Answers what can be answered now, then starts the next queued request; bounded by the queue length. */
  private pump(now: number): void {
    for (let guard = 0; guard <= this.maxQueued + 1; guard++) {
      if (this.pending) {
        if (!this.pending.settled) return;
        if (this.isDelayedFailure(this.pending) && now < this.pending.arrivedAt + this.failureDelayMs) return;
        const done = this.pending;
        this.pending = undefined;
        this.reply(done);
        if (this.authenticatedAs) { this.queue.length = 0; return; }
        continue;
      }
      const next = this.queue.shift();
      if (!next) return;
      this.start(next.payload, next.at);
    }
  }

  private isDelayedFailure(p: Pending): boolean {
    return p.decision === AuthResult.FAILED && p.method !== 'none';
  }

  private start(payload: Uint8Array, at: number): void {
    let msg: Message;
    try {
      msg = decodeMessage(payload, this.kbd ? { auth: 'keyboard-interactive' } : undefined);
    } catch (e) {
      this.fail(e instanceof SSHError ? e : new ProtocolError(String(e)));
    }
    if (msg.type === 'SSH_MSG_USERAUTH_INFO_RESPONSE') {
      const kbd = this.kbd;
      if (!kbd) this.fail(new ProtocolError('SSH_MSG_USERAUTH_INFO_RESPONSE without a pending SSH_MSG_USERAUTH_INFO_REQUEST', ['SSH_MSG_USERAUTH_REQUEST'], msg.type));
      this.kbd = undefined;
      const p = this.begin(kbd.user, kbd.service, 'keyboard-interactive', at);
      // RFC 4256 §3.4: a response count that differs from the prompt count MUST be answered with failure.
      if (msg.responses.length !== kbd.prompts || !this.policy.checkAuthKeyboardInteractiveResponse) return this.settle(p, AuthResult.FAILED);
      return this.decide(p, () => this.policy.checkAuthKeyboardInteractiveResponse!(kbd.user, msg.responses));
    }
    if (msg.type !== 'SSH_MSG_USERAUTH_REQUEST') {
      this.fail(new ProtocolError(`unexpected ${msg.type}`, ['SSH_MSG_USERAUTH_REQUEST'], msg.type));
    }
    // RFC 4256 §3.4: a new request abandons a keyboard-interactive exchange.
    this.kbd = undefined;
    const { user, service } = msg;
    if (!this.bannerSent) {
      this.bannerSent = true;
      const ext = this.options.extInfoInAuth?.();
      if (ext) this.host.sendPayload(ext);
      const text = this.policy.banner?.(user);
      // RFC 4252 §5.4: the banner goes out before the reply to the first request.
      if (text) this.host.sendPayload(encodeMessage({ type: 'SSH_MSG_USERAUTH_BANNER', message: text, language: '' }));
    }
    const p = this.begin(user, service, msg.method, at);
    // RFC 4252 §5: an unknown service or a method not (or no longer) allowed fails without asking the policy.
    if (!this.services.includes(service)) return this.settle(p, AuthResult.FAILED);
    // OpenSSH PROTOCOL §3.1: host-bound publickey is the publickey method (its allowance and its policy check)
    const method = msg.method === HOSTBOUND_METHOD ? 'publickey' : msg.method;
    if (msg.method !== 'none' && !this.allowed(user).includes(method)) return this.settle(p, AuthResult.FAILED);
    switch (msg.method) {
      case 'none': {
        const check = this.policy.checkAuthNone;
        return check ? this.decide(p, () => check.call(this.policy, user)) : this.settle(p, AuthResult.FAILED);
      }
      case 'password': {
        const m = msg as RequestOf<'password'>;
        if (m.changePassword) {
          const check = this.policy.checkAuthPasswordChange;
          const newPassword = m.newPassword ?? '';
          return check ? this.decide(p, () => check.call(this.policy, user, m.password, newPassword)) : this.settle(p, AuthResult.FAILED);
        }
        const check = this.policy.checkAuthPassword;
        return check ? this.decide(p, () => check.call(this.policy, user, m.password)) : this.settle(p, AuthResult.FAILED);
      }
      case 'publickey': {
        const m = msg as RequestOf<'publickey'>;
        return this.startPublicKey(p, m.algorithm, m.key, m.hasSignature ? m.signature : undefined);
      }
      case 'keyboard-interactive': {
        const m = msg as RequestOf<'keyboard-interactive'>;
        const check = this.policy.checkAuthKeyboardInteractive;
        return check ? this.decide(p, () => check.call(this.policy, user, m.submethods)) : this.settle(p, AuthResult.FAILED);
      }
      case 'hostbased': {
        const m = msg as RequestOf<'hostbased'>;
        return this.startHostbased(p, m.algorithm, m.key, m.clientHost, m.clientUser, m.signature);
      }
      case HOSTBOUND_METHOD:
        return this.startHostbound(p, (msg as Extract<Message, { type: 'SSH_MSG_USERAUTH_REQUEST' }> & { methodData?: Uint8Array }).methodData);
      default:
        // unknown methods (RFC 4252 §5: the server rejects what it does not support).
        return this.settle(p, AuthResult.FAILED);
    }
  }

  /**
   * OpenSSH PROTOCOL §3.1: `boolean has signature || string algorithm || string key || string server host key ||
   * [string signature]`; the host key must be the one we presented, and the signature covers it.
   */
  private startHostbound(p: Pending, data: Uint8Array | undefined): void {
    const ours = this.host.hostKeyBlob;
    let f: { signed: boolean; algorithm: string; key: Uint8Array; hostKey: Uint8Array; signature?: Uint8Array };
    try {
      const r = new Reader(data ?? new Uint8Array(0));
      const signed = r.boolean();
      f = { signed, algorithm: r.ascii('algorithm'), key: r.string('key'), hostKey: r.string('server host key') };
      if (signed) f.signature = r.string('signature');
      r.end(HOSTBOUND_METHOD);
    } catch (e) {
      this.fail(e instanceof SSHError ? e : new ProtocolError(String(e)));
    }
    if (!ours || Buffer.compare(Buffer.from(ours), Buffer.from(f.hostKey)) !== 0) return this.settle(p, AuthResult.FAILED);
    return this.startPublicKey(p, f.algorithm, f.key, f.signature, f.hostKey);
  }

  private startPublicKey(p: Pending, algorithm: string, keyBlob: Uint8Array, signature: Uint8Array | undefined, boundHostKey?: Uint8Array): void {
    const sigAlg = this.sigAlgs.get(algorithm);
    const keyType = blobKeyType(keyBlob);
    // RFC 4252 §7 / RFC 8332 §3: the algorithm must be one we support and must match the blob's key type.
    if (!sigAlg || keyType === undefined || keyType !== sigAlg.keyType) return this.settle(p, AuthResult.FAILED);
    const key: PublicKey = { type: keyType, blob: keyBlob };
    const check = this.policy.checkAuthPublicKey;
    if (!check) return this.settle(p, AuthResult.FAILED);
    if (signature === undefined) {
      const q: Pending = { ...p, pkQuery: { algorithm, key: keyBlob } };
      this.pending = q;
      return this.decide(q, () => check.call(this.policy, p.user, key, { signed: false, algorithm }));
    }
    const sessionId = this.host.sessionId;
    if (!sessionId) this.fail(new ProtocolError('publickey authentication before the first key exchange completed'));
    const data = boundHostKey ? hostboundSignedData(sessionId, p.user, p.service, algorithm, keyBlob, boundHostKey)
      : publicKeySignedData(sessionId, p.user, p.service, algorithm, keyBlob);
    // The signature blob names its algorithm; it must be the one the request named (RFC 8332 §3.2).
    if (signatureAlgorithmOf(signature) !== (sigAlg.signatureName ?? algorithm) || !sigAlg.verify(keyBlob, data, signature)) return this.settle(p, AuthResult.FAILED);
    return this.decide(p, () => check.call(this.policy, p.user, key, { signed: true, algorithm }));
  }

  /** RFC 4252 §9: one signed request, no query step; the policy judges the host and the users after the signature verifies. */
  private startHostbased(p: Pending, algorithm: string, keyBlob: Uint8Array, clientHost: string, clientUser: string, signature: Uint8Array): void {
    const sigAlg = this.sigAlgs.get(algorithm);
    const keyType = blobKeyType(keyBlob);
    const check = this.policy.checkAuthHostbased;
    if (!check || !sigAlg || keyType === undefined || keyType !== sigAlg.keyType) return this.settle(p, AuthResult.FAILED);
    const sessionId = this.host.sessionId;
    if (!sessionId) this.fail(new ProtocolError('hostbased authentication before the first key exchange completed'));
    const data = hostbasedSignedData(sessionId, p.user, p.service, algorithm, keyBlob, clientHost, clientUser);
    if (signatureAlgorithmOf(signature) !== (sigAlg.signatureName ?? algorithm) || !sigAlg.verify(keyBlob, data, signature)) return this.settle(p, AuthResult.FAILED);
    const key: PublicKey = { type: keyType, blob: keyBlob };
    return this.decide(p, () => check.call(this.policy, p.user, key, { algorithm, clientHost, clientUser }));
  }

  private begin(user: string, service: string, method: string, arrivedAt: number): Pending {
    const p: Pending = { user, service, method, arrivedAt, settled: false };
    this.pending = p;
    return p;
  }

  private allowed(user: string): readonly string[] {
    try {
      return this.policy.allowedAuths(user);
    } catch (error) {
      this.events.push({ type: 'policyError', method: 'allowedAuths', error });
      return [];
    }
  }

  private decide(p: Pending, check: () => MaybePromise<Decision>): void {
    let result: MaybePromise<Decision>;
    try {
      result = check();
    } catch (error) {
      this.events.push({ type: 'policyError', method: p.method, error });
      return this.settle(p, AuthResult.FAILED);
    }
    if (result instanceof Promise) {
      result.then(
        (r) => { this.settle(p, r); this.options.onWake?.(); },
        (error: unknown) => { this.events.push({ type: 'policyError', method: p.method, error }); this.settle(p, AuthResult.FAILED); this.options.onWake?.(); },
      );
      return;
    }
    this.settle(p, result);
  }

  private settle(p: Pending, decision: Decision): void {
    // A policy may hand back anything at runtime; only the three results and the two follow-ups are honoured.
    const valid = decision === AuthResult.SUCCESSFUL || decision === AuthResult.PARTIALLY_SUCCESSFUL
      || isInteractiveQuery(decision) || isPasswordChangeRequired(decision);
    p.decision = valid ? decision : AuthResult.FAILED;
    if (p.pkQuery && valid && (decision === AuthResult.SUCCESSFUL || decision === AuthResult.PARTIALLY_SUCCESSFUL)) p.decision = { pkOk: true };
    p.settled = true;
  }

  private reply(p: Pending): void {
    const d = p.decision!;
    if (typeof d === 'object' && 'pkOk' in d) {
      const q = p.pkQuery!;
      this.host.sendPayload(encodeMessage({ type: 'SSH_MSG_USERAUTH_PK_OK', algorithm: q.algorithm, key: q.key }));
      return;
    }
    if (isInteractiveQuery(d)) {
      this.kbd = { user: p.user, service: p.service, prompts: d.prompts.length };
      this.host.sendPayload(encodeMessage({
        type: 'SSH_MSG_USERAUTH_INFO_REQUEST', name: d.name ?? '', instruction: d.instruction ?? '', language: d.language ?? '',
        prompts: d.prompts.map((x) => ({ prompt: x.prompt, echo: x.echo })),
      }));
      return;
    }
    if (isPasswordChangeRequired(d)) {
      this.host.sendPayload(encodeMessage({ type: 'SSH_MSG_USERAUTH_PASSWD_CHANGEREQ', prompt: d.prompt, language: d.language ?? '' }));
      return;
    }
    if (d === AuthResult.SUCCESSFUL) {
      this.authenticatedAs = { user: p.user, service: p.service };
      this.host.sendPayload(encodeMessage({ type: 'SSH_MSG_USERAUTH_SUCCESS' }));
      this.events.push({ type: 'success', user: p.user, service: p.service, method: p.method });
      return;
    }
    const partialSuccess = d === AuthResult.PARTIALLY_SUCCESSFUL;
    this.host.sendPayload(encodeMessage({ type: 'SSH_MSG_USERAUTH_FAILURE', methods: [...this.allowed(p.user)], partialSuccess }));
    this.events.push({ type: 'failure', user: p.user, method: p.method, partialSuccess });
    if (!partialSuccess && p.method !== 'none' && ++this.failures >= this.maxAttempts) {
      this.fail(new AuthError(`too many authentication failures (${this.failures})`, this.allowed(p.user)));
    }
  }
}
