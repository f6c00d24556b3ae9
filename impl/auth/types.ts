/**
 * Shared vocabulary of the ssh-userauth layer (RFC 4252): the server's policy (after paramiko's
 * `ServerInterface`) and the narrow view of the transport the layer needs.
 */
import type { PublicKey } from '../crypto/types.js';

/** What a layer above the transport needs from it (the engine satisfies this; tests wire two layers directly). */
export interface ServiceHost {
  readonly role: 'client' | 'server';
  /** H of the first key exchange (RFC 4253 §7.2); publickey signatures cover it (RFC 4252 §7). */
  readonly sessionId: Uint8Array | undefined;
  /**
   * The host key blob the server presented in the key exchange, when the host knows it (server side):
   * publickey-hostbound-v00@openssh.com binds signatures to it (OpenSSH PROTOCOL §3.1).
   */
  readonly hostKeyBlob?: Uint8Array | undefined;
  /** Queues one service-layer payload (message number ≥ 50) for encryption and framing. */
  sendPayload(payload: Uint8Array): void;
}

/** paramiko's AUTH_SUCCESSFUL / AUTH_PARTIALLY_SUCCESSFUL / AUTH_FAILED, with the same numbers. */
export const AuthResult = {
  SUCCESSFUL: 0,
  PARTIALLY_SUCCESSFUL: 1,
  FAILED: 2,
} as const;
export type AuthResult = (typeof AuthResult)[keyof typeof AuthResult];

export type MaybePromise<T> = T | Promise<T>;

/** RFC 4252 §8: the server asks the client to choose a new password (SSH_MSG_USERAUTH_PASSWD_CHANGEREQ). */
export interface PasswordChangeRequired {
  readonly changePassword: true;
  readonly prompt: string;
  readonly language?: string;
}

/** RFC 4256 §3.2: one round of keyboard-interactive prompts (paramiko's `InteractiveQuery`). */
export interface InteractiveQuery {
  readonly name?: string;
  readonly instruction?: string;
  readonly language?: string;
  readonly prompts: readonly { readonly prompt: string; readonly echo: boolean }[];
}

/** Facts the layer gives the policy about a publickey request. */
export interface PublicKeyContext {
  /**
   * false for the RFC 4252 §7 query ("would you accept this key?"): the client has not proven possession of the
   * private key yet. A policy MUST NOT record a factor as satisfied unless `signed` is true.
   */
  readonly signed: boolean;
  /** Signature algorithm named in the request, e.g. 'rsa-sha2-512' for an 'ssh-rsa' key (RFC 8332). */
  readonly algorithm: string;
}

/** Facts the layer gives the policy about a hostbased request (RFC 4252 §9); the signature has already been verified. */
export interface HostbasedContext {
  /** Signature algorithm named in the request, e.g. 'ssh-ed25519' or 'rsa-sha2-512'. */
  readonly algorithm: string;
  /** The client host name as the client claims it (RFC 4252 §9: the server should check it against the connection's source). */
  readonly clientHost: string;
  /** The user name on the client host. */
  readonly clientUser: string;
}

/**
 * Server-side authentication decisions. Only `allowedAuths` is required; a method whose check is
 * missing always fails. Checks may return a Promise (e.g. a database lookup); the layer orders the replies.
 */
export interface ServerAuthPolicy {
  /** Methods the user may still try, e.g. ['publickey', 'password'] (sent in SSH_MSG_USERAUTH_FAILURE). */
  allowedAuths(user: string): readonly string[];
  checkAuthNone?(user: string): MaybePromise<AuthResult>;
  checkAuthPassword?(user: string, password: string): MaybePromise<AuthResult | PasswordChangeRequired>;
  /** RFC 4252 §8: the client sent a new password after a change request (or unprompted). */
  checkAuthPasswordChange?(user: string, oldPassword: string, newPassword: string): MaybePromise<AuthResult | PasswordChangeRequired>;
  checkAuthPublicKey?(user: string, key: PublicKey, ctx: PublicKeyContext): MaybePromise<AuthResult>;
  /**
   * RFC 4252 §9 hostbased: `key` is the client host's key (or certificate); the signature over the session is valid.
   * The policy decides whether that host key belongs to `ctx.clientHost` (e.g. ssh_known_hosts) and whether
   * `ctx.clientUser` on that host may log in as `user` (e.g. shosts.equiv).
   */
  checkAuthHostbased?(user: string, key: PublicKey, ctx: HostbasedContext): MaybePromise<AuthResult>;
  /** RFC 4256 §3.1: start keyboard-interactive; return prompts to send or a final result. */
  checkAuthKeyboardInteractive?(user: string, submethods: string): MaybePromise<AuthResult | InteractiveQuery>;
  /** RFC 4256 §3.4: the client's answers to the last prompts. */
  checkAuthKeyboardInteractiveResponse?(user: string, responses: readonly string[]): MaybePromise<AuthResult | InteractiveQuery>;
  /** RFC 4252 §5.4: text shown before authentication (sent once, before the first reply). */
  banner?(user: string): string | undefined;
}

export function isInteractiveQuery(v: unknown): v is InteractiveQuery {
  return typeof v === 'object' && v !== null && Array.isArray((v as InteractiveQuery).prompts);
}

export function isPasswordChangeRequired(v: unknown): v is PasswordChangeRequired {
  return typeof v === 'object' && v !== null && (v as PasswordChangeRequired).changePassword === true;
}
