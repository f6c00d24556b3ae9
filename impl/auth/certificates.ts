/**
 * User certificates on the server side (OpenSSH PROTOCOL.certkeys, sshd TrustedUserCAKeys): a publickey request
 * whose key is a `*-cert-v01@openssh.com` certificate is accepted when a trusted CA signed it for this user and
 * every critical option holds. The signature over the session (RFC 4252 §7) is verified by the auth layer with
 * the certified key before the policy is asked.
 */
import type { PublicKey } from '../crypto/types.js';
import { checkCertificate, isCertificateType, type CertificateVerdict } from '../keys/cert.js';
import type { ServerPolicy } from '../connection/policy.js';
import { AuthResult, type MaybePromise, type PublicKeyContext } from './types.js';

/** Where and how user certificates are trusted. */
export interface UserCertificateTrust {
  /** CA public key blobs (sshd TrustedUserCAKeys). */
  readonly trustedCAs: readonly Uint8Array[];
  /** The client's IP address, for the source-address critical option. */
  readonly clientAddress?: string;
  /** Clock in milliseconds (default Date.now). */
  readonly now?: () => number;
}

/** The verdict on a user certificate offered by `user`, or undefined when `key` is not a certificate. */
export function userCertificateVerdict(user: string, key: PublicKey, trust: UserCertificateTrust): CertificateVerdict | undefined {
  if (!isCertificateType(key.type)) return undefined;
  return checkCertificate(key.blob, {
    kind: 'user', principal: user, trustedCAs: trust.trustedCAs,
    ...(trust.clientAddress !== undefined ? { clientAddress: trust.clientAddress } : {}),
    ...(trust.now ? { now: trust.now() } : {}),
  });
}

/** A policy that also accepts user certificates; `certificate` is the verdict of the last one accepted with a signature. */
export type CertificatePolicy<P extends ServerPolicy> = P & { readonly certificate: CertificateVerdict | undefined };

/**
 * Wraps `policy` so that certificates from trusted CAs authenticate (sshd TrustedUserCAKeys); every other key goes
 * to the policy's own checkAuthPublicKey. 'publickey' is added to the allowed methods. When the accepted certificate
 * carries force-command, only that exact command may run: shell, subsystems and any other exec are refused (sshd
 * runs the forced command in their place; a library server cannot run it for the application, so it refuses instead).
 */
export function trustUserCertificates<P extends ServerPolicy>(policy: P, trust: UserCertificateTrust): CertificatePolicy<P> {
  let accepted: CertificateVerdict | undefined;
  const forced = (): string | undefined => (accepted?.ok ? accepted.forceCommand : undefined);
  const wrapped = Object.create(policy) as P & { certificate: CertificateVerdict | undefined };
  Object.defineProperty(wrapped, 'certificate', { get: () => accepted });
  const overrides: Partial<ServerPolicy> = {
    allowedAuths(user: string): readonly string[] {
      const own = policy.allowedAuths(user);
      return own.includes('publickey') ? own : ['publickey', ...own];
    },
    checkAuthPublicKey(user: string, key: PublicKey, ctx: PublicKeyContext): MaybePromise<AuthResult> {
      const verdict = userCertificateVerdict(user, key, trust);
      if (verdict === undefined) return policy.checkAuthPublicKey ? policy.checkAuthPublicKey(user, key, ctx) : AuthResult.FAILED;
      if (!verdict.ok) return AuthResult.FAILED;
      // an unsigned query proves nothing yet (RFC 4252 §7): answer PK_OK, record nothing
      if (ctx.signed) accepted = verdict;
      return AuthResult.SUCCESSFUL;
    },
    checkChannelShellRequest(channel) {
      if (forced() !== undefined) return false;
      return policy.checkChannelShellRequest ? policy.checkChannelShellRequest(channel) : false;
    },
    checkChannelSubsystemRequest(channel, name) {
      if (forced() !== undefined) return false;
      return policy.checkChannelSubsystemRequest ? policy.checkChannelSubsystemRequest(channel, name) : false;
    },
    checkChannelExecRequest(channel, command) {
      const f = forced();
      if (f !== undefined && command !== f) return false;
      return policy.checkChannelExecRequest ? policy.checkChannelExecRequest(channel, command) : false;
    },
  };
  return Object.assign(wrapped, overrides);
}
