/**
 * ssh-harness as a library: `import { SSHClient, SSHServer, Transport } from 'ssh-harness'`.
 * paramiko's SSHClient (known_hosts, missing-host-key policies, exec), a safe SSHServer, the paramiko-style
 * Transport underneath, the server policy types, typed errors, and the key helpers (OpenSSH/PEM private keys,
 * authorized_keys, known_hosts, fingerprints). The deliberate-deviation hooks of the test harness are not here:
 * they live in `ssh-harness/testing`.
 *
 * @packageDocumentation
 */
export { SSHClient, type SSHClientConnectOptions, type ExecCommandStreams, type ExecCommandOptions } from './SSHClient.js';
export { RejectPolicy, AutoAddPolicy, WarningPolicy, type MissingHostKeyPolicy, type MissingHostKeyContext } from './client/missing-host-key-policy.js';
export { SSHServer, type SSHServerOptions, type SSHServerEvents, type SSHServerListener, type PeerAddress, type ConnectionHandler } from './SSHServer.js';
export type { NegotiatedAlgorithms, RekeyLimits, KexSecrets, PacketRecord, AlgorithmPreferences, Role } from './transport/public-types.js';
export type { GexGroup } from './crypto/kex/moduli.js';
export { supportedAlgorithms, type SupportedAlgorithms, type AlgorithmInfo } from './crypto/supported.js';
export {
  Transport, insecureAcceptAnyHostKey, type TransportListener, type SocketSpec, type TransportOptions, type TransportAlgorithms, type TransportTrace, type TransportLimits,
  type TransportAuthOptions, type TransportEvents, type ConnectOptions, type InteractiveHandler, type NewPasswordHandler, type HostKeyVerifier,
  type HostKeyContext,
} from './Transport.js';
export { Client, type ClientOptions, type ExecOptions, type ExecResult } from './Client.js';
export { Channel, type PtyRequest, type ExitSignal } from './connection/channel.js';
export type { ChannelEvents, ChannelListener } from './connection/channel-events.js';
export { OpenFailure, type ConnectionOptions } from './connection/connection.js';
export { ChannelOpenError } from './connection/open-error.js';
export { bridgeChannelSocket, type BridgeResult } from './connection/socket-bridge.js';
export type { ServerPolicy, ChannelOpenInfo, PtyInfo, WindowSize } from './connection/policy.js';
export { AuthResult, type ServerAuthPolicy, type InteractiveQuery, type PasswordChangeRequired, type PublicKeyContext, type HostbasedContext, type MaybePromise } from './auth/types.js';
export {
  SSHError, DecodeError, ProtocolError, AlgorithmNegotiationError, DisconnectError, LimitError, MacError, KexError, AuthError,
  HostKeyMismatch, TimeoutError, ChannelError, ConnectError, DisconnectReason, disconnectReasonName, type SSHErrorCode, type HostKeyMismatchDetails,
} from './errors.js';
export type { PrivateKey, PublicKey } from './crypto/types.js';
export type { PrivateKeyInput, PublicKeyInput } from './keys/key-input.js';
export { generateHostKey, privateKeyFromNode, publicKeyFromBlob, type HostKeyType, type NodePrivateKey, type ParsedPublicKey } from './crypto/hostkey/index.js';
export {
  parsePrivateKey, writeOpenSSHPrivateKey, writePkcs8PrivateKey, parsePublicKeyLine, formatPublicKeyLine,
  fingerprintSHA256, fingerprintMD5, generateKey,
  parseAuthorizedKeys, findAuthorizedKey, parseKnownHosts, checkKnownHost, addKnownHost, hashHostName,
  KeyFormatError, WrongPassphraseError,
  type ParsedPrivateKey, type AuthorizedKeyEntry, type KnownHostsDb, type KnownHostStatus, type KeyFormatErrorKind, type AuthorizedKeyOption,
  type AuthorizedKeyRestrictions, type KnownHostEntry, type PrivateKeyFormat, type KeyType, type KeyPair, type AuthorizedKeysList, type PublicKeyLine,
  type AddKnownHostOptions, type GenerateKind, type ParsePrivateKeyOptions, type OpenSSHWriteOptions,
} from './keys/index.js';
export type { KnownHostsProblem, KnownHostNames, KnownHostMarker } from './keys/known-hosts.js';
export type { AuthorizedKeysProblem } from './keys/authorized-keys.js';
export type { PemFormat } from './keys/pem.js';
export type { KeyCipherName } from './keys/openssh-cipher.js';
export {
  parseCertificate, signCertificate, checkCertificate, certifiedPrivateKey, isCertificateType, CERT_FOREVER, DEFAULT_USER_EXTENSIONS,
  type Certificate, type CertificateKind, type CertificateOptionValue, type SignCertificateOptions, type CertificateRequirements, type CertificateVerdict,
} from './keys/index.js';
export { trustUserCertificates, userCertificateVerdict, type UserCertificateTrust, type CertificatePolicy } from './auth/certificates.js';
export { certificateAlgorithmsFor } from './keys/cert.js';
