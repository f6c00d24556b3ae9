/**
 * Contracts between the transport engine and the algorithm modules. Each algorithm is one object
 * registered by its exact wire name (facts first, constructor last). The engine never
 * branches on an algorithm's name: only on the facts declared here.
 */

export type HashName = 'sha1' | 'sha256' | 'sha384' | 'sha512' | 'md5';

/** Randomness is injected (engine code has no RNG of its own), so runs are reproducible under a seed. */
export type Rng = (n: number) => Uint8Array;

interface AlgorithmFacts {
  /** Exact wire name, e.g. 'aes128-gcm@openssh.com'. */
  readonly name: string;
  /** Offered only when named explicitly (STYLE: legacy algorithms). */
  readonly legacy: boolean;
  /** Where it is specified, e.g. 'RFC 5647 §7.1'. */
  readonly spec: string;
}

// ───────────────────────────── packet protection (cipher + MAC, one direction) ─────────────────

/**
 * Seals one binary packet (RFC 4253 §6). `packet` is the plaintext
 * `uint32 packet_length || byte padding_length || payload || padding`, already padded by the engine
 * to the alignment that `Sealer.blockSize` and `Sealer.lengthExcluded` ask for.
 * Returns the bytes for the wire: ciphertext (with the length in clear or encrypted as the mode says)
 * followed by the MAC/tag. May reuse `packet`'s memory.
 */
export interface Sealer {
  /** Padding aligns to this (≥ 8). */
  readonly blockSize: number;
  /** true when packet_length is not part of the aligned/encrypted block (EtM, AES-GCM, chacha20-poly1305). */
  readonly lengthExcluded: boolean;
  /** Bytes of MAC/tag appended. */
  readonly macLen: number;
  seal(seq: number, packet: Uint8Array): Uint8Array;
  /**
   * Optional zero-allocation form (the native path has it; node:crypto cannot write into a caller's buffer):
   * `buf` holds the plaintext packet in its first `packetLength` bytes followed by exactly `macLen` spare bytes;
   * it is sealed in place and returned.
   */
  sealInPlace?(seq: number, buf: Uint8Array, packetLength: number): Uint8Array;
}

/**
 * Opens inbound packets. The engine first buffers `headerLen` bytes and calls `packetLength`, checks the
 * returned length against its bounds (and alignment via `blockSize`/`lengthExcluded`), then buffers
 * `4 + packet_length + macLen` bytes and calls `open` with exactly those bytes.
 */
export interface Opener {
  readonly blockSize: number;
  readonly lengthExcluded: boolean;
  readonly macLen: number;
  /** Bytes needed to learn packet_length: 4 when the length is in clear or separately encrypted, else one cipher block. */
  readonly headerLen: number;
  /** packet_length from the first `headerLen` bytes (may decrypt and remember that block for `open`). */
  packetLength(seq: number, header: Uint8Array): number;
  /**
   * Verifies and decrypts. Returns `padding_length || payload || padding` (everything after packet_length).
   * Throws MacError on a bad MAC/tag. Must not throw anything else for any input of the promised size.
   */
  open(seq: number, wire: Uint8Array): Uint8Array;
  /**
   * Optional zero-allocation form (the native path has it): decrypts into `wire` itself and returns the view
   * `wire[4 .. end of body)`. The caller must own `wire`: anything else still reading it sees plaintext after.
   */
  openInPlace?(seq: number, wire: Uint8Array): Uint8Array;
  /**
   * Optional form for a packet that arrived in two pieces (wire = a || b, e.g. spanning two socket reads): as
   * `open`, into a new buffer, without joining the pieces first. Neither piece is modified.
   */
  openSplit?(seq: number, a: Uint8Array, b: Uint8Array): Uint8Array;
}

export interface CipherAlgorithm extends AlgorithmFacts {
  readonly keyLen: number;
  /** IV bytes taken from the KDF (RFC 4253 §7.2); 0 when the mode derives none (chacha20-poly1305). */
  readonly ivLen: number;
  readonly blockSize: number;
  /** Authenticated encryption: the negotiated MAC is not used (RFC 5647 §5.1, OpenSSH PROTOCOL.chacha20poly1305). */
  readonly aead: boolean;
  /** OpenSSH rekeys 64-bit block ciphers sooner (RFC 4344 §3.2). */
  readonly rekeyBytes?: number;
}

export interface MacAlgorithm extends AlgorithmFacts {
  readonly keyLen: number;
  readonly macLen: number;
  /** Encrypt-then-MAC (OpenSSH PROTOCOL §1.5): length in clear, MAC over the ciphertext. */
  readonly etm: boolean;
  /** Computes the MAC of `seq || data` (RFC 4253 §6.4); `data` may be given in parts. */
  create(key: Uint8Array): (seq: number, ...data: Uint8Array[]) => Uint8Array;
}

/** Keys for one direction, derived by the engine (RFC 4253 §7.2). */
export interface DirectionKeys {
  readonly iv: Uint8Array;
  readonly encKey: Uint8Array;
  readonly macKey: Uint8Array;
}

/** Builds one direction's packet protection from the negotiated cipher and MAC (null for AEAD ciphers / none). */
export type MakeSealer = (cipher: CipherAlgorithm, mac: MacAlgorithm | null, keys: DirectionKeys) => Sealer;
export type MakeOpener = (cipher: CipherAlgorithm, mac: MacAlgorithm | null, keys: DirectionKeys) => Opener;

// ───────────────────────────── key exchange ──────────────────────────────────────────────────────

/**
 * Message shapes a kex method uses (RFC 4251 §7: numbers 30–49 are per method):
 * - 'ecdh': KEX_ECDH_INIT(30){string Q_C} / KEX_ECDH_REPLY(31){string K_S, string Q_S, string sig}
 *   (RFC 5656 §4, RFC 8731, hybrid PQ drafts);
 * - 'dh': KEXDH_INIT(30){mpint e} / KEXDH_REPLY(31){string K_S, mpint f, string sig} (RFC 4253 §8);
 * - 'dh-gex': RFC 4419 §3 (GEX_REQUEST 34, GROUP 31, INIT 32, REPLY 33).
 */
export type KexShape = 'ecdh' | 'dh' | 'dh-gex';

/** A finite-field group for 'dh' and 'dh-gex'. */
export interface DhGroup {
  readonly p: bigint;
  readonly g: bigint;
}

/**
 * One side's ephemeral key. `publicValue` goes on the wire: for 'ecdh' the string's bytes (Q_C or Q_S),
 * for 'dh'/'dh-gex' the big-endian unsigned bytes of e or f (the engine writes them as mpint).
 */
export interface KexEphemeral {
  readonly publicValue: Uint8Array;
  /** Private key bytes, exposed for SSH keylogs (Wireshark: "<cookie> <private key>"). */
  readonly privateKey: Uint8Array;
}

export interface KexClientSide extends KexEphemeral {
  /**
   * Shared secret K from the server's public value, already encoded as it enters the exchange hash and
   * KDF (RFC 4253 §7.2 / §8): an mpint (with its uint32 length) for DH/ECDH/X25519, a string for the
   * hybrid PQ methods. Throws KexError for an invalid public value (wrong length, not on the curve, 0/1/p-1).
   */
  finish(serverPublic: Uint8Array): Uint8Array;
}

export interface KexServerSide extends KexEphemeral {
  /** K, encoded as for KexClientSide.finish. */
  readonly sharedSecret: Uint8Array;
}

export interface KexAlgorithm extends AlgorithmFacts {
  readonly hash: HashName;
  readonly shape: KexShape;
  /** For 'dh': the fixed group. For 'dh-gex': undefined (the server picks one). */
  readonly group?: DhGroup;
  clientStart(rng: Rng, group?: DhGroup): KexClientSide;
  /** Throws KexError for an invalid client public value. */
  serverRespond(rng: Rng, clientPublic: Uint8Array, group?: DhGroup): KexServerSide;
}

// ───────────────────────────── host keys and signatures ─────────────────────────────────────────

/** A public key as it travels in SSH: the blob `string type || ...` (RFC 4253 §6.6). */
export interface PublicKey {
  /** Key type from the blob, e.g. 'ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256'. */
  readonly type: string;
  readonly blob: Uint8Array;
}

/** A private key able to sign for one or more signature algorithms. */
export interface PrivateKey {
  readonly type: string;
  readonly publicKey: PublicKey;
  /** Signature algorithms this key can produce, e.g. ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] for RSA. */
  readonly algorithms: readonly string[];
  /** Returns the signature blob `string algorithm || string signature` (RFC 4253 §6.6). */
  sign(algorithm: string, data: Uint8Array): Uint8Array;
}

export interface SignatureAlgorithm extends AlgorithmFacts {
  /** Blob key type it verifies with (e.g. rsa-sha2-512 → 'ssh-rsa'). */
  readonly keyType: string;
  /**
   * The name inside its signature blobs when it differs from `name`: certificate algorithms sign with their base
   * algorithm (OpenSSH PROTOCOL.certkeys: 'ssh-ed25519-cert-v01@openssh.com' signs as 'ssh-ed25519').
   */
  readonly signatureName?: string;
  /** Verifies a signature blob (`string algorithm || string signature`) over data. False, never a throw, for bad input. */
  verify(publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean;
}

// ───────────────────────────── compression ──────────────────────────────────────────────────────

export interface Compressor { compress(payload: Uint8Array): Uint8Array; }
export interface Decompressor {
  /** Throws SSHError(reason COMPRESSION_ERROR) on corrupt input or when output would exceed maxOut. */
  decompress(payload: Uint8Array, maxOut: number): Uint8Array;
}
export interface CompressionAlgorithm extends AlgorithmFacts {
  /** zlib@openssh.com starts only after USERAUTH_SUCCESS (OpenSSH PROTOCOL §2.1). */
  readonly delayed: boolean;
  /** null for 'none'. */
  compressor(): Compressor | null;
  decompressor(): Decompressor | null;
}
