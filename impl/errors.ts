/**
 * One error family for the whole implementation (STYLE: errors). Every error has a stable `code`
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
  | 'TIMEOUT' | 'LIMIT' | 'MAC' | 'KEX' | 'CHANNEL' | 'CLOSED' | 'USAGE';

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

/** The connection ended by SSH_MSG_DISCONNECT (sent by either side) or was lost. */
export class DisconnectError extends SSHError {
  constructor(readonly disconnectReason: number, readonly description: string, readonly byPeer: boolean) {
    super('DISCONNECT', `${byPeer ? 'peer disconnected' : 'disconnected'}: ${disconnectReasonName(disconnectReason)} ${JSON.stringify(description)}`,
      (disconnectReason >= 1 && disconnectReason <= 15 ? disconnectReason : DisconnectReason.PROTOCOL_ERROR) as DisconnectReason);
  }
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

export class HostKeyMismatch extends SSHError {
  constructor(message: string, readonly expectedFingerprint?: string, readonly gotFingerprint?: string) {
    super('HOST_KEY_MISMATCH', message, DisconnectReason.HOST_KEY_NOT_VERIFIABLE);
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
