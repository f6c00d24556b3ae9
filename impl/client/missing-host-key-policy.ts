/**
 * What SSHClient does with a host whose key is in none of its known_hosts files (paramiko's
 * MissingHostKeyPolicy). A key that differs from a listed one, or a revoked one, is refused whatever the
 * policy: a policy only decides about hosts never seen.
 */
import type { PublicKey } from '../crypto/types.js';
import { HostKeyMismatch } from '../errors.js';
import { fingerprintSHA256 } from '../keys/fingerprint.js';

/** Facts about the unknown host, and the client's known hosts to record it in. */
export interface MissingHostKeyContext {
  readonly host: string;
  readonly port: number;
  readonly key: PublicKey;
  /** SHA256 fingerprint of `key` (ssh-keygen -l). */
  readonly fingerprint: string;
  /** The known hosts consulted, for messages ("known_hosts /root/.ssh/known_hosts, ..."). */
  readonly files: string;
  /** Records the key for this host in the client's known hosts (and appends it to the loadHostKeys file, if any). */
  addHostKey(opts?: { readonly hash?: boolean }): Promise<string>;
}

export interface MissingHostKeyPolicy {
  /** Resolve to accept the key for this connection; throw (or reject) to refuse it. */
  missingHostKey(context: MissingHostKeyContext): void | Promise<void>;
}

/** Refuses unknown hosts with HostKeyMismatch (the default; ssh's StrictHostKeyChecking=yes). */
export class RejectPolicy implements MissingHostKeyPolicy {
  missingHostKey(c: MissingHostKeyContext): never {
    throw new HostKeyMismatch(`unknown host key for ${c.port === 22 ? c.host : `[${c.host}]:${c.port}`}: the server presented ${c.key.type} ${c.fingerprint}, which is not among ${c.files} (RejectPolicy)`,
      { host: c.host, port: c.port, keyType: c.key.type, receivedFingerprint: c.fingerprint, expectedFingerprints: [] });
  }
}

/**
 * Accepts an unknown host and records its key (ssh's StrictHostKeyChecking=accept-new): in memory, and appended
 * to the file given to loadHostKeys() in OpenSSH known_hosts format — with `hash: true`, its name hashed
 * (ssh_config HashKnownHosts).
 */
export class AutoAddPolicy implements MissingHostKeyPolicy {
  constructor(private readonly options: { readonly hash?: boolean } = {}) {}

  async missingHostKey(c: MissingHostKeyContext): Promise<void> {
    await c.addHostKey({ hash: this.options.hash === true });
  }
}

/** Accepts an unknown host for this connection only, with a warning (paramiko's WarningPolicy); records nothing. */
export class WarningPolicy implements MissingHostKeyPolicy {
  /** `warn` receives the message; default: process.emitWarning (printed on stderr). */
  constructor(private readonly warn: (message: string) => void = (m) => process.emitWarning(m, { code: 'SSH_UNKNOWN_HOST_KEY' })) {}

  missingHostKey(c: MissingHostKeyContext): void {
    this.warn(`unknown host key for ${c.port === 22 ? c.host : `[${c.host}]:${c.port}`} accepted without recording it: ${c.key.type} ${fingerprintSHA256(c.key.blob)}`);
  }
}
