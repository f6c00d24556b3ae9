/**
 * One error family for the whole implementation. Every error has a stable `code`
 * so callers, reports and the fuzzer's oracles can match on it without parsing messages.
 */

/** SSH_MSG_DISCONNECT reason codes, RFC 4250 §4.2.2. */
export const DisconnectReason = {
  HOST_NOT_ALLOWED_TO_CONNECT: 1,
  PROTOCOL_ERROR: 2,
  KEY_EXCHANGE_FAILED: 3,
  RESERVED: 4,
  MAC_ERROR: 5,
  COMPRESSION_ERROR: 6,
  SERVICE_NOT_AVAILABLE: 7,
  PROTOCOL_VERSION_NOT_SUPPORTED: 8,
  HOST_KEY_NOT_VERIFIABLE: 9,
  CONNECTION_LOST: 10,
  BY_APPLICATION: 11,
  TOO_MANY_CONNECTIONS: 12,
  AUTH_CANCELLED_BY_USER: 13,
  NO_MORE_AUTH_METHODS_AVAILABLE: 14,
  ILLEGAL_USER_NAME: 15,
} as const;
export type DisconnectReason = (typeof DisconnectReason)[keyof typeof DisconnectReason];

export function disconnectReasonName(code: number): string {
  for (const [k, v] of Object.entries(DisconnectReason)) if (v === code) return `SSH_DISCONNECT_${k}`;
  return `unknown(${code})`;
}

export type SSHErrorCode =
  | 'DECODE' | 'PROTOCOL' | 'ALGORITHM_NEGOTIATION' | 'DISCONNECT' | 'AUTH' | 'HOST_KEY_MISMATCH'
  | 'TIMEOUT' | 'LIMIT' | 'MAC' | 'KEX' | 'CHANNEL' | 'CLOSED' | 'USAGE' | 'CONNECT';

export class SSHError extends Error {
  readonly code: SSHErrorCode;
  /** The DISCONNECT reason our side sends when this error is fatal for the connection. */
  readonly reason: DisconnectReason;
  constructor(code: SSHErrorCode, message: string, reason: DisconnectReason = DisconnectReason.PROTOCOL_ERROR) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.reason = reason;
  }
}

/** Malformed wire data (RFC 4251 §5): short reads, lengths past the end or past a limit, trailing bytes. */
export class DecodeError extends SSHError {
  constructor(message: string, readonly offset: number) {
    super('DECODE', `${message} at offset ${offset}`);
  }
}

/** A message that is valid on the wire but not allowed in the current state. */
export class ProtocolError extends SSHError {
  constructor(message: string, readonly expected: readonly string[] = [], readonly got?: string, reason: DisconnectReason = DisconnectReason.PROTOCOL_ERROR) {
    super('PROTOCOL', message, reason);
  }
}

/** RFC 4253 §7.1: no common algorithm. Carries both offers so the error explains itself. */
export class AlgorithmNegotiationError extends SSHError {
  constructor(readonly kind: string, readonly ours: readonly string[], readonly theirs: readonly string[]) {
    super('ALGORITHM_NEGOTIATION', `no common ${kind} algorithm; we offered [${ours.join(',')}], peer offered [${theirs.join(',')}]`, DisconnectReason.KEY_EXCHANGE_FAILED);
  }
}

/**
 * The connection ended by SSH_MSG_DISCONNECT (sent by either side) or was lost. A connection lost before the
 * peer's identification string carries what the peer sent instead (`received`, at most the first
 * PEER_PREVIEW_BYTES), quoted in the message: an HTTP server answering, a port scanner's silence.
 */
export class DisconnectError extends SSHError {
  /** Bytes the peer sent before the connection was lost without an SSH identification string (bounded), else undefined. */
  readonly received: Uint8Array | undefined;
  constructor(readonly disconnectReason: number, readonly description: string, readonly byPeer: boolean, preview?: { readonly bytes: Uint8Array; readonly total: number }) {
    super('DISCONNECT', `${byPeer ? 'peer disconnected' : 'disconnected'}: ${disconnectReasonName(disconnectReason)} ${preview ? `${description}; ${describePeerBytes(preview.bytes, preview.total)}` : JSON.stringify(description)}`,
      (disconnectReason >= 1 && disconnectReason <= 15 ? disconnectReason : DisconnectReason.PROTOCOL_ERROR) as DisconnectReason);
    this.received = preview?.bytes;
  }
}

/** How many of a non-SSH peer's first bytes an error keeps and quotes. */
export const PEER_PREVIEW_BYTES = 128;

/**
 * `it sent 59 bytes: "HTTP/1.1 400 Bad Request\r\n…"` — the first bytes a peer sent, escaped for a terminal
 * (JSON string escapes; bytes ≥ 0x7f as \u00XX) and cut to PEER_PREVIEW_BYTES.
 */
export function describePeerBytes(bytes: Uint8Array, total: number): string {
  if (total === 0) return 'it sent nothing';
  const shown = bytes.subarray(0, PEER_PREVIEW_BYTES);
  const text = JSON.stringify(String.fromCharCode(...shown)).replace(/[\x7f-\xff]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
  return `it sent ${total} byte${total === 1 ? '' : 's'}${total > shown.length ? ` (first ${shown.length} shown)` : ''}: ${text}`;
}

/** A bound configured to protect us was exceeded (packet size, buffer, banner lines, ...). */
export class LimitError extends SSHError {
  constructor(message: string, reason: DisconnectReason = DisconnectReason.PROTOCOL_ERROR) {
    super('LIMIT', message, reason);
  }
}

export class MacError extends SSHError {
  constructor(message = 'message authentication code incorrect') {
    super('MAC', message, DisconnectReason.MAC_ERROR);
  }
}

export class KexError extends SSHError {
  constructor(message: string) {
    super('KEX', message, DisconnectReason.KEY_EXCHANGE_FAILED);
  }
}

export class AuthError extends SSHError {
  constructor(message: string, readonly allowedMethods: readonly string[] = []) {
    super('AUTH', message, DisconnectReason.NO_MORE_AUTH_METHODS_AVAILABLE);
  }
}

/** What a host key check knew when it refused a key (every field optional: a custom verifier may know little). */
export interface HostKeyMismatchDetails {
  readonly host?: string;
  readonly port?: number;
  /** Key type the server presented, e.g. 'ssh-ed25519'. */
  readonly keyType?: string;
  /** SHA256 fingerprint (ssh-keygen -l) of the key the server presented. */
  readonly receivedFingerprint?: string;
  /** SHA256 fingerprints of the keys we expected for this host (empty for an unknown host). */
  readonly expectedFingerprints?: readonly string[];
}

/**
 * The server's host key was refused (RFC 4253 §8: the client verifies that K_S is the host key of S): it differs
 * from the expected or known one, it is revoked, the host is unknown under a rejecting policy, or a verifier said no.
 */
export class HostKeyMismatch extends SSHError {
  readonly host: string | undefined;
  readonly port: number | undefined;
  readonly keyType: string | undefined;
  readonly receivedFingerprint: string | undefined;
  readonly expectedFingerprints: readonly string[];
  constructor(message: string, details: HostKeyMismatchDetails = {}) {
    super('HOST_KEY_MISMATCH', message, DisconnectReason.HOST_KEY_NOT_VERIFIABLE);
    this.host = details.host;
    this.port = details.port;
    this.keyType = details.keyType;
    this.receivedFingerprint = details.receivedFingerprint;
    this.expectedFingerprints = details.expectedFingerprints ?? [];
  }
}

/**
 * The TCP connection could not be made (refused, unreachable, name not found, timed out). The system error's
 * fields are kept as Node reports them: `errno` is its symbolic name ('ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT').
 */
export class ConnectError extends SSHError {
  readonly errno: string | undefined;
  readonly syscall: string | undefined;
  readonly address: string;
  readonly port: number;
  constructor(message: string, details: { readonly errno?: string; readonly syscall?: string; readonly address: string; readonly port: number; readonly cause?: unknown }) {
    super('CONNECT', message, DisconnectReason.CONNECTION_LOST);
    this.errno = details.errno;
    this.syscall = details.syscall;
    this.address = details.address;
    this.port = details.port;
    if (details.cause !== undefined) Object.defineProperty(this, 'cause', { value: details.cause, enumerable: false, writable: true, configurable: true });
  }
}

export class TimeoutError extends SSHError {
  constructor(message: string) {
    super('TIMEOUT', message, DisconnectReason.BY_APPLICATION);
  }
}

export class ChannelError extends SSHError {
  constructor(message: string) {
    super('CHANNEL', message);
  }
}
