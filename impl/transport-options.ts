/**
 * What a Transport can be configured with, and the check of it at construction: a misspelt option, an unknown
 * algorithm name or a value of the wrong kind is SSHError('USAGE') from the constructor, not a failure deep
 * inside the handshake. Options that switch a protocol check off are not here: they exist only for the test
 * harness, behind `ssh-harness/testing` (impl/testing.ts).
 */
import type { ConnectionOptions, OpenFailure } from './connection/connection.js';
import type { ChannelOpenInfo } from './connection/policy.js';
import { cipherAlgorithms, compressionAlgorithms, kexAlgorithms, macAlgorithms, signatureAlgorithms } from './crypto/registry.js';
import type { PublicKey } from './crypto/types.js';
import { SSHError } from './errors.js';
import type { PrivateKeyInput } from './keys/key-input.js';
import type { AlgorithmPreferences, KexSecrets, PacketRecord, RekeyLimits } from './transport/public-types.js';
import {
  checkInt, checkKnownKeys, checkObject, checkOptionalFunction, checkOptionalMs, checkOptionalString, checkStringList, usage,
} from './validate.js';

/** Ordered preference lists (paramiko's plural names and the engine's singular ones are both accepted). */
export interface TransportAlgorithms extends AlgorithmPreferences {
  readonly hostKeys?: readonly string[];
  readonly ciphers?: readonly string[];
  readonly macs?: readonly string[];
}

/** Observers for traces: the seam pcap / keylog / JSONL writers plug into. */
export interface TransportTrace {
  /** Every chunk on the socket (pcap); valid only during the call (inbound chunks are then decrypted in place). */
  onBytes?(direction: 'in' | 'out', bytes: Uint8Array, timeMs: number): void;
  /** Every decrypted payload (JSONL). */
  onPacket?(p: PacketRecord): void;
  /** True when onPacket copies what it keeps: payloads may then be views of reused buffers. */
  readonly onPacketBorrows?: boolean;
  /** Each key exchange's secrets (SSH keylog). */
  onKeys?(k: KexSecrets): void;
  onClose?(timeMs: number): void;
}

/** Bounds that protect us from a peer. */
export interface TransportLimits {
  /** Largest packet_length accepted (RFC 4253 §6.1 requires at least 35000). Default 256 KiB + 64. */
  readonly maxPacket?: number;
  /** Client: lines accepted before the server's identification string (RFC 4253 §4.2). Default 64. */
  readonly maxPreBannerLines?: number;
  /** Bytes of our own payloads held while a key exchange runs (RFC 4253 §7.1). Default 8 MiB. */
  readonly maxQueuedDuringKex?: number;
}

/** What a host key verifier is told besides the key. */
export interface HostKeyContext {
  /** The host and port we connected to, when the Transport opened the socket itself (undefined for a given socket). */
  readonly host: string | undefined;
  readonly port: number | undefined;
  /** SHA256 fingerprint of the key, as `ssh-keygen -l` prints it. */
  readonly fingerprint: string;
}

/**
 * Decides whether the server's host key is the right one (RFC 4253 §8). Return (or resolve) true to accept;
 * false, a rejected Promise or a throw refuses it: the connection ends with HOST_KEY_NOT_VERIFIABLE and the
 * error is a HostKeyMismatch (or the SSHError thrown). A synchronous answer is given inside the key exchange,
 * before our NEWKEYS; a Promise is awaited after the key exchange and before anything else is sent, so no
 * credentials leave before it resolves.
 */
export type HostKeyVerifier = (key: PublicKey, context: HostKeyContext) => boolean | Promise<boolean>;

/** Server authentication options (RFC 4252). */
export interface TransportAuthOptions {
  /** Services a client may authenticate for (RFC 4252 §5). Default ['ssh-connection']. */
  readonly services?: readonly string[];
  /** Failed attempts (not counting 'none') before we disconnect with NO_MORE_AUTH_METHODS_AVAILABLE. Default 10. */
  readonly maxAttempts?: number;
  /** Minimum time from a request's arrival to its FAILURE reply, so timing does not tell users apart. Default 8 ms. */
  readonly failureDelayMs?: number;
  /** Requests a client may pipeline while one is being decided. Default 32. */
  readonly maxQueued?: number;
}

export interface TransportOptions {
  readonly algorithms?: TransportAlgorithms;
  /** RFC 4344 §3 defaults (1 GiB, 2^31 packets, 1 hour). */
  readonly rekey?: RekeyLimits;
  /** Server host keys (same as addServerKey): file contents, parsePrivateKey() results, PrivateKeys, KeyObjects. */
  readonly hostKeys?: readonly PrivateKeyInput[];
  /**
   * Client: how the server's host key is checked. A client Transport needs a decision: this option, or
   * `connect({ hostKey })`; with neither, startClient() fails with SSHError('USAGE'). To accept any key (tests,
   * a lab), say so: `verifyHostKey: insecureAcceptAnyHostKey`. SSHClient does this for you with known_hosts.
   */
  readonly verifyHostKey?: HostKeyVerifier;
  /** Software version in our identification string (RFC 4253 §4.2). */
  readonly softwareVersion?: string;
  /** Comments after it in the identification string (RFC 4253 §4.2). */
  readonly comments?: string;
  /** Window, max packet and channel cap for ssh-connection. */
  readonly connection?: ConnectionOptions;
  /** Server: attempt limit, failure delay, services. */
  readonly auth?: TransportAuthOptions;
  readonly trace?: TransportTrace;
  readonly limits?: TransportLimits;
  /**
   * The version exchange and every key exchange must complete within this many ms, else the connection ends
   * with a TimeoutError (a silent or non-SSH peer fails fast). Default 20 000; 0 = no limit.
   */
  readonly handshakeTimeoutMs?: number;
  /** TCP connect timeout for 'host:port' / [host, port] targets. Default 30 000; 0 = none. */
  readonly connectTimeoutMs?: number;
  /** Server: time from connect to successful authentication before we disconnect (sshd's LoginGraceTime). Default 120 s; 0 = none. */
  readonly loginGraceMs?: number;
  /** Client: which channels the server may open to us (forwarded-tcpip for our forwards is always allowed). */
  readonly checkChannelRequest?: (kind: string, info: ChannelOpenInfo) => true | OpenFailure;
}

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 20_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;

const OPTION_NAMES = [
  'algorithms', 'rekey', 'hostKeys', 'verifyHostKey', 'softwareVersion', 'comments', 'connection', 'auth', 'trace', 'limits',
  'handshakeTimeoutMs', 'connectTimeoutMs', 'loginGraceMs', 'checkChannelRequest',
] as const;

const ALGORITHM_KINDS: readonly (readonly [keyof TransportAlgorithms, string, ReadonlyMap<string, unknown>])[] = [
  ['kex', 'kex', kexAlgorithms], ['hostKey', 'host key', signatureAlgorithms], ['hostKeys', 'host key', signatureAlgorithms],
  ['cipher', 'cipher', cipherAlgorithms], ['ciphers', 'cipher', cipherAlgorithms], ['mac', 'MAC', macAlgorithms],
  ['macs', 'MAC', macAlgorithms], ['compression', 'compression', compressionAlgorithms],
];

function checkAlgorithms(v: unknown): void {
  const a = checkObject<TransportAlgorithms>(v, 'options.algorithms');
  checkKnownKeys(a, 'options.algorithms', ALGORITHM_KINDS.map(([k]) => k));
  for (const [key, kind, registry] of ALGORITHM_KINDS) {
    const list = a[key];
    if (list === undefined) continue;
    checkStringList(list, `options.algorithms.${key}`);
    if (list.length === 0) throw new SSHError('USAGE', `options.algorithms.${key}: empty list`);
    for (const n of list) if (!registry.has(n)) throw new SSHError('USAGE', `options.algorithms.${key}: unknown ${kind} algorithm ${JSON.stringify(n)}`);
  }
}

function checkNumbers(v: unknown, what: string, names: readonly string[]): void {
  const o = checkObject<Record<string, unknown>>(v, what);
  checkKnownKeys(o, what, names);
  for (const n of names) if (o[n] !== undefined) checkInt(o[n], `${what}.${n}`, 0, Number.MAX_SAFE_INTEGER);
}

/** Checks every option (see the module comment); returns them typed. */
export function checkTransportOptions(v: unknown): TransportOptions {
  const o = checkObject<TransportOptions>(v, 'Transport options');
  checkKnownKeys(o, 'Transport options', OPTION_NAMES);
  if (o.algorithms !== undefined) checkAlgorithms(o.algorithms);
  if (o.rekey !== undefined) checkNumbers(o.rekey, 'options.rekey', ['bytes', 'packets', 'seconds']);
  if (o.hostKeys !== undefined && !Array.isArray(o.hostKeys)) throw usage('options.hostKeys', 'an array of private keys', o.hostKeys);
  checkOptionalFunction(o.verifyHostKey, 'options.verifyHostKey');
  checkOptionalString(o.softwareVersion, 'options.softwareVersion');
  checkOptionalString(o.comments, 'options.comments');
  if (o.connection !== undefined) checkNumbers(o.connection, 'options.connection', ['initialWindow', 'maxPacket', 'maxChannels', 'maxPendingRequests']);
  if (o.auth !== undefined) {
    const a = checkObject<Record<string, unknown>>(o.auth, 'options.auth');
    checkKnownKeys(a, 'options.auth', ['services', 'maxAttempts', 'failureDelayMs', 'maxQueued']);
    if (a.services !== undefined) checkStringList(a.services, 'options.auth.services');
    for (const n of ['maxAttempts', 'failureDelayMs', 'maxQueued']) if (a[n] !== undefined) checkInt(a[n], `options.auth.${n}`, 0, Number.MAX_SAFE_INTEGER);
  }
  if (o.trace !== undefined) {
    const t = checkObject<Record<string, unknown>>(o.trace, 'options.trace');
    checkKnownKeys(t, 'options.trace', ['onBytes', 'onPacket', 'onPacketBorrows', 'onKeys', 'onClose']);
    for (const n of ['onBytes', 'onPacket', 'onKeys', 'onClose']) checkOptionalFunction(t[n], `options.trace.${n}`);
  }
  if (o.limits !== undefined) checkNumbers(o.limits, 'options.limits', ['maxPacket', 'maxPreBannerLines', 'maxQueuedDuringKex']);
  checkOptionalMs(o.handshakeTimeoutMs, 'options.handshakeTimeoutMs');
  checkOptionalMs(o.connectTimeoutMs, 'options.connectTimeoutMs');
  checkOptionalMs(o.loginGraceMs, 'options.loginGraceMs');
  checkOptionalFunction(o.checkChannelRequest, 'options.checkChannelRequest');
  return o;
}
