/**
 * Public contract of the sans-I/O transport engine (RFC 4253). Bytes and time go in; bytes, deadlines and
 * events come out. The engine has no clock, no RNG and no I/O of its own.
 */
import type { GexGroup } from '../crypto/kex/moduli.js';
import type { PrivateKey, PublicKey, Rng } from '../crypto/types.js';
import type { SSHError } from '../errors.js';
import type { EngineTesting, EstablishedSnapshot } from './testing.js';
import type { AlgorithmPreferences, KexSecrets, NegotiatedAlgorithms, PacketRecord, RekeyLimits, Role } from './public-types.js';

export type { AlgorithmPreferences, KexSecrets, NegotiatedAlgorithms, PacketRecord, RekeyLimits, Role };

export interface EngineLimits {
  /** Largest packet_length accepted (RFC 4253 §6.1 requires support for 35000). Default 256 KiB + 64. */
  readonly maxPacket?: number;
  /** Lines a client accepts before the server's version line (RFC 4253 §4.2). Default 64. */
  readonly maxPreBannerLines?: number;
  /** Bytes of queued plaintext payloads held while a key exchange is in progress. Default 8 MiB. */
  readonly maxQueuedDuringKex?: number;
  /** A key exchange that has not finished after this long fails with TimeoutError. Default 60 s. */
  readonly kexTimeoutMs?: number;
}

export interface EngineOptions {
  readonly role: Role;
  /** Randomness for cookies, padding and ephemeral keys (default: node:crypto randomBytes). */
  readonly rng?: Rng;
  /** Software version in our identification string, RFC 4253 §4.2. Default 'ssh_harness_0.1'. */
  readonly softwareVersion?: string;
  readonly comments?: string;
  readonly algorithms?: AlgorithmPreferences;
  /** Server: host keys to offer (the hostKey list is filtered to those we can sign with). */
  readonly hostKeys?: readonly PrivateKey[];
  /**
   * Client: decides whether to trust the server's host key (called once per key exchange, before NEWKEYS).
   * Return false to abort with HOST_KEY_NOT_VERIFIABLE.
   */
  readonly verifyHostKey?: (key: PublicKey) => boolean;
  readonly rekey?: RekeyLimits;
  /**
   * Server: groups for diffie-hellman-group-exchange (RFC 4419), e.g. `loadModuli('/etc/ssh/moduli').groups`;
   * built-in RFC 3526 groups are used when none fits. RFC 8270: never below 2048 bits.
   */
  readonly gexGroups?: readonly GexGroup[];
  readonly limits?: EngineLimits;
  /** Offer kex-strict-*-v00@openssh.com (OpenSSH PROTOCOL, "strict key exchange"). Default true. */
  readonly strictKex?: boolean;
  /** Offer ext-info-c / send server-sig-algs (RFC 8308). Default true. */
  readonly extInfo?: boolean;
  /** Observes every payload after decryption (in) or before encryption (out), for traces. */
  readonly onPacket?: (p: PacketRecord) => void;
  /**
   * onPacket reads `payload` only while it runs (it copies what it keeps): outbound bulk data may then be passed
   * as a view of a buffer the engine reuses, saving an allocation per packet. Default false: payloads are owned.
   */
  readonly onPacketBorrows?: boolean;
  /** Observes each completed key exchange's secrets, for SSH keylogs. */
  readonly onKeys?: (k: KexSecrets) => void;
  /**
   * Harness only (impl/testing.ts, withDangerousEngineOptions): called from the constructor with the deviation interface, so hooks such as a
   * KEXINIT override are in place before start() sends anything, also when a Transport owns the engine.
   */
  readonly deviations?: (t: EngineTesting) => void;
  /**
   * Harness only (impl/testing.ts): start() skips the version exchange and the initial key exchange and resumes in
   * the state `snapshot` recorded (EngineTesting.snapshot()), with fresh keys drawn from SHAKE256(secret ‖
   * session id). Both ends of an in-process pair get the snapshots of the two ends of one connection and the
   * same secret: the fuzzer forks an established connection in microseconds instead of paying a key exchange
   * No onKeys call (no kex happened), so no keylog; never for a real peer.
   */
  readonly resume?: { readonly snapshot: EstablishedSnapshot; readonly secret: Uint8Array };
}

export type EngineEvent =
  /** The peer's identification string, RFC 4253 §4.2 (without CR LF). */
  | { readonly type: 'version'; readonly version: string; readonly preBanner: readonly string[] }
  | { readonly type: 'kexDone'; readonly algorithms: NegotiatedAlgorithms; readonly initial: boolean; readonly hostKey: PublicKey }
  /** Server: the client asked for a service; call acceptService() or disconnect(). */
  | { readonly type: 'serviceRequest'; readonly service: string }
  /** Client: the server accepted our SERVICE_REQUEST. */
  | { readonly type: 'serviceAccept'; readonly service: string }
  /** RFC 8308: extensions the peer announced (server-sig-algs, ...). */
  | { readonly type: 'extInfo'; readonly extensions: ReadonlyMap<string, Uint8Array> }
  | { readonly type: 'debug'; readonly message: string; readonly alwaysDisplay: boolean }
  /** A service-layer payload (message number ≥ 50): decode with impl/messages in the layer that owns it. */
  | { readonly type: 'payload'; readonly payload: Uint8Array; readonly seq: number }
  /** The connection is over: by our DISCONNECT (error is the cause), by the peer's, or lost. Always the last event. */
  | { readonly type: 'closed'; readonly error: SSHError };

export type EnginePhase = 'version' | 'kex' | 'established' | 'closed';
