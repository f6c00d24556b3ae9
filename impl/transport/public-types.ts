/**
 * The engine's types that the public API shows (negotiated algorithms, preferences, trace records). Kept apart from
 * EngineOptions (types.ts), whose deviation hooks belong to the testing entry only.
 */

export type Role = 'client' | 'server';

/** Ordered preference lists by kind; a legacy algorithm is offered only when named here. */
export interface AlgorithmPreferences {
  readonly kex?: readonly string[];
  readonly hostKey?: readonly string[];
  readonly cipher?: readonly string[];
  readonly mac?: readonly string[];
  readonly compression?: readonly string[];
}

/** Rekey thresholds, RFC 4344 §3 (defaults: 1 GiB, 2^31 packets, 1 hour). */
export interface RekeyLimits {
  readonly bytes?: number;
  readonly packets?: number;
  readonly seconds?: number;
}

export interface PacketRecord {
  readonly direction: 'in' | 'out';
  readonly seq: number;
  readonly payload: Uint8Array;
  /** Set when the harness deviated on purpose (testing hooks). */
  readonly deviation?: string;
}

export interface KexSecrets {
  readonly role: Role;
  readonly kex: string;
  /** Cookie of the client's KEXINIT: the key of Wireshark's SSH keylog lines. */
  readonly clientCookie: Uint8Array;
  /** Cookie of the server's KEXINIT (a server-side keylog entry is keyed by it in some tools). */
  readonly serverCookie: Uint8Array;
  readonly ephemeralPrivateKey: Uint8Array;
  /** K, encoded as it enters the exchange hash (mpint or string). */
  readonly sharedSecret: Uint8Array;
  readonly exchangeHash: Uint8Array;
  readonly sessionId: Uint8Array;
}

/** The algorithms one key exchange settled on (RFC 4253 §7.1). */
export interface NegotiatedAlgorithms {
  readonly kex: string;
  readonly hostKey: string;
  readonly cipherC2S: string;
  readonly cipherS2C: string;
  /** 'none' for AEAD ciphers, whose MAC is implicit. */
  readonly macC2S: string;
  readonly macS2C: string;
  readonly compressionC2S: string;
  readonly compressionS2C: string;
  readonly strictKex: boolean;
}
