/**
 * How a fuzz session reaches its peer, and what the fuzzer can learn about the peer itself. The client side
 * (FuzzClient) is the same for every target; a Link moves its bytes (in-process, or over TCP to a real
 * server) and a FuzzTarget makes Links and watches the peer process.
 */
import type { AlgorithmPreferences, KexSecrets } from '../../impl/transport/types.js';
import type { FuzzClient, FuzzCredentials } from './client.js';
import type { ServerStack } from './self/server-stack.js';
import type { Profile } from './arb/profiles.js';
import type { Phase } from './steps.js';
import type { Finding } from './oracles.js';
import type { ForwardDialer } from './forward.js';

/** Where a replay's trace goes: every wire chunk and every key exchange's secrets (for pcap + keylog). */
export interface TraceTap {
  onBytes(direction: 'c2s' | 's2c', bytes: Uint8Array, timeMs: number): void;
  onKeys(k: KexSecrets): void;
  onClose(timeMs: number): void;
}

export interface Link {
  readonly client: FuzzClient;
  /** The clock the link runs on (simulated in-process, wall clock over TCP), in ms. */
  now(): number;
  /**
   * Moves bytes and handles events until `until()` holds, the connection is over, nothing more can happen
   * (in-process), or `budgetMs` ran out (TCP). Never throws for anything the peer does.
   */
  settle(until: () => boolean, budgetMs: number): Promise<void>;
  /** Ends the connection (TCP: destroys the socket). Idempotent. */
  close(): void;
  /** In-process targets expose the server stack to the oracles (escaped exceptions, invariants). */
  readonly server?: ServerStack;
  /** Network links: connections from outside to the listeners the peer opened for our forwards (forward.ts). */
  readonly forwards?: ForwardDialer;
}

/** What a target knows about its peer process between cases (local daemons and containers). */
export interface PeerHealth {
  /** The peer process (daemon/listener) is gone, with what we know about how it ended. */
  readonly dead?: string;
  /** Log lines since the last check that look like a crash (sanitizer reports, signals, assertion failures). */
  readonly crashLines: readonly string[];
}

export interface PeerResources {
  readonly rssKiB: number;
  readonly fds: number;
  /** Processes counted (an sshd master and its per-connection children). */
  readonly processes: number;
}

/** Values the arbitraries should use so generated inputs can hit the real thing (users, keys, names). */
export interface FuzzDictionary {
  readonly users: readonly string[];
  readonly passwords: readonly string[];
  /** Public key blobs the peer knows (authorized client keys, its own host keys). */
  readonly keyBlobs: readonly Uint8Array[];
  /** TCP ports that accept connections on the peer's host (its own listener): forwards that really connect. */
  readonly ports?: readonly number[];
}

export interface FuzzTarget {
  /** Corpus directory name and report label (e.g. 'self', 'sshd', 'self:hang-zero-data'). */
  readonly name: string;
  /** The peer's version (banner software version, or our package version for self). */
  readonly version: string;
  readonly kind: 'in-process' | 'network';
  readonly credentials: FuzzCredentials;
  readonly dictionary: FuzzDictionary;
  /** RFC 4252 §5.2: the peer lets 'none' succeed (then 'none' success is not a bypass). */
  readonly allowsNone: boolean;
  /** Bounds for waiting on replies (TCP): per step and for the final probe. */
  readonly budgets: { readonly stepMs: number; readonly probeMs: number };
  /**
   * A fresh connection (not started); `algorithms` is what our client offers (the case's profile). `start`, the
   * phase the case will walk to, lets an in-process target fork an established connection instead of running
   * a key exchange when the case starts after it (no trace tap); without it the connection is real from byte 0.
   */
  connect(algorithms?: AlgorithmPreferences, tap?: TraceTap, start?: Phase): Promise<Link>;
  /** Connections at once the peer tolerates (dropbear refuses a 6th unauthenticated one per IP); default 8. */
  readonly concurrency?: number;
  /** Grey-box: server instances to run at once (one case each at a time; default: `concurrency`). */
  readonly fleet?: number;
  /** How the reference prefix logs in (default: password when there is one: cheapest in-process). */
  readonly preferredAuth?: 'password' | 'publickey';
  /** Algorithm profiles the peer can do (default: all of arb/profiles.ts). */
  readonly profiles?: readonly Profile[];
  /** The peer's KEXINIT name-lists (client to server), when probed: grey-box algorithm mutations draw from them. */
  readonly algorithmOffer?: Readonly<Partial<Record<'kex' | 'hostKey' | 'cipher' | 'mac' | 'compression', readonly string[]>>>;
  health?(): Promise<PeerHealth>;
  /** Ask health() after every case, not only when the peer dropped the connection (crashes in this process). */
  readonly healthEachCase?: boolean;
  /** A fresh, normal connection (kex + auth): undefined when it succeeds, else what went wrong. */
  liveness?(): Promise<string | undefined>;
  /** The end of the peer's log, for findings about the peer process. */
  logTail?(): string;
  resources?(): PeerResources | undefined;
  /** Instrumented servers (harness/targets/instrumented.ts): the file their edge counters are mapped from. */
  readonly coverageMapPath?: string;
  /** Instrumented servers: the binary, whose code says which source file each edge is in (greybox/edge-sources.ts). */
  readonly coverageBinary?: string;
  /** Instrumented servers: the first sanitizer report the peer log gained since the last call. */
  sanitizerReport?(): Finding | undefined;
  close(): Promise<void>;
}
