/**
 * The interop matrix's data model (issue 6): one cell per (direction, peer, algorithm) with a status and,
 * for every fail and every unsupported cell, the reason. The JSON report is exactly a MatrixReport.
 */

/** Algorithm kinds of a KEXINIT (RFC 4253 §7.1), named as in `--algorithms` (the command-line contract in README.md). */
export type Kind = 'kex' | 'hostKey' | 'cipher' | 'mac' | 'compression';
export const KINDS: readonly Kind[] = ['kex', 'hostKey', 'cipher', 'mac', 'compression'];

/** `client`: our client → a server peer. `server`: a client peer → our server. */
export type Direction = 'client' | 'server';

export type CellStatus = 'pass' | 'fail' | 'unsupported';

export type Lists = { readonly [K in Kind]: readonly string[] };

export interface Cell {
  readonly direction: Direction;
  readonly peer: string;
  readonly kind: Kind;
  readonly algorithm: string;
  /** Ours is legacy: offered only when named (impl/crypto/registry.ts). */
  readonly legacy: boolean;
  readonly status: CellStatus;
  /** Why it failed or why it is unsupported; absent for pass. */
  readonly reason?: string;
  /** A pass with a caveat (a harness wrapper defect after a completed exchange, known-limitations.ts). */
  readonly note?: string;
  /** What the connection settled on (RFC 4253 §7.1), when it got that far. */
  readonly negotiated?: Readonly<Record<string, string>>;
  readonly durationMs: number;
}

export interface PeerReport {
  readonly name: string;
  /** Same meaning as Cell.direction: which side is ours. */
  readonly direction: Direction;
  readonly description?: string;
  readonly version?: string;
  readonly available: boolean;
  /** Setup problem (peer missing, did not start): every cell of this peer is absent and the run exits 2. */
  readonly setupError?: string;
  /** What the peer offers in its default configuration (its KEXINIT, RFC 4253 §7.1). */
  readonly defaultOffer?: Lists;
  /** What the instance the cells ran against offered (defaults plus re-enabled algorithms). */
  readonly testedOffer?: Lists;
  /** Names the peer offers that we do not implement (informational). */
  readonly peerOnly?: Lists;
  /** How the peer's side was configured, and other facts a reader needs. */
  readonly notes: readonly string[];
  readonly durationMs: number;
}

export interface MatrixSummary {
  readonly pass: number;
  readonly fail: number;
  readonly unsupported: number;
  readonly setupErrors: number;
}

export interface MatrixReport {
  readonly runId: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly concurrency: number;
  readonly cellTimeoutMs: number;
  /** Our catalogue, per kind, with legacy flags: the matrix rows. */
  readonly algorithms: { readonly [K in Kind]: ReadonlyArray<{ readonly name: string; readonly legacy: boolean }> };
  readonly peers: readonly PeerReport[];
  readonly cells: readonly Cell[];
  readonly summary: MatrixSummary;
}
