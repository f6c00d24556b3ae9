/**
 * ssh-harness as a library (DESIGN §2): `import { Transport, AuthResult, OpenFailure } from 'ssh-harness'`.
 * The paramiko-style Transport, the Client convenience, the server policy types, typed errors, and the key
 * helpers (OpenSSH/PEM private keys, authorized_keys, known_hosts, fingerprints).
 */
export {
  Transport, insecureAcceptAnyHostKey, type SocketSpec, type TransportOptions, type TransportAlgorithms, type TransportTrace, type TransportLimits,
  type TransportAuthOptions, type TransportEvents, type ConnectOptions, type InteractiveHandler, type NewPasswordHandler, type HostKeyVerifier,
  type HostKeyContext,
} from './Transport.js';
export { Client, type ClientOptions, type ExecOptions, type ExecResult } from './Client.js';
export { Channel, type PtyRequest, type ExitSignal } from './connection/channel.js';
export { OpenFailure, type ConnectionOptions } from './connection/connection.js';
export { ChannelOpenError } from './connection/open-error.js';
export type { ServerPolicy, ChannelOpenInfo, PtyInfo, WindowSize } from './connection/policy.js';
export { AuthResult, type ServerAuthPolicy, type InteractiveQuery, type PasswordChangeRequired, type PublicKeyContext, type MaybePromise } from './auth/types.js';
export {
  SSHError, DecodeError, ProtocolError, AlgorithmNegotiationError, DisconnectError, LimitError, MacError, KexError, AuthError,
  HostKeyMismatch, TimeoutError, ChannelError, ConnectError, DisconnectReason, disconnectReasonName, type SSHErrorCode, type HostKeyMismatchDetails,
} from './errors.js';
export type { PrivateKey, PublicKey } from './crypto/types.js';
export type { PrivateKeyInput, PublicKeyInput } from './keys/key-input.js';
export { generateHostKey, privateKeyFromNode, publicKeyFromBlob, type HostKeyType } from './crypto/hostkey/index.js';
export {
  parsePrivateKey, writeOpenSSHPrivateKey, writePkcs8PrivateKey, parsePublicKeyLine, formatPublicKeyLine,
  fingerprintSHA256, fingerprintMD5, generateKey,
  parseAuthorizedKeys, findAuthorizedKey, parseKnownHosts, checkKnownHost, addKnownHost, hashHostName,
  KeyFormatError, WrongPassphraseError,
  type ParsedPrivateKey, type AuthorizedKeyEntry, type KnownHostsDb, type KnownHostStatus,
} from './keys/index.js';
