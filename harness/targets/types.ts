/**
 * The one shape every peer has (issue 6): a server Target starts and yields a RunningTarget that the
 * harness connects to; a ClientPeer is driven against a server of ours and reports what happened.
 */

/** Ordered algorithm name lists, exactly as they go on the wire (RFC 4253 §7.1). A legacy name is offered only when listed. */
export interface AlgorithmLists {
  readonly kex?: readonly string[];
  readonly hostKey?: readonly string[];
  readonly cipher?: readonly string[];
  readonly mac?: readonly string[];
  readonly compression?: readonly string[];
}

export type AuthMethod = 'password' | 'publickey' | 'keyboard-interactive';

export interface StartOptions {
  /** Restrict/extend what the peer offers. Peers that cannot be configured at runtime reject this (PeerError 'unsupported-option'). */
  readonly algorithms?: AlgorithmLists;
  /** Methods the server accepts; default: password and publickey. */
  readonly authMethods?: readonly AuthMethod[];
  /** Milliseconds from spawn to "ready" before giving up with the peer's log in the error; default 15 000. */
  readonly startupTimeoutMs?: number;
  /** A fixed port instead of a free one (then no retry: a taken port is an error). */
  readonly port?: number;
  /** Peer-specific raw settings, e.g. sshd_config lines for OpenSSH. */
  readonly extraConfig?: readonly string[];
}

export interface HostKeyInfo {
  /** Key type as on the wire, e.g. `ssh-ed25519`. */
  readonly type: string;
  /** The public key blob (RFC 4253 §6.6). */
  readonly blob: Uint8Array;
  /** `SHA256:<base64, no padding>`, as OpenSSH prints it. */
  readonly fingerprint: string;
}

export interface Credentials {
  readonly user: string;
  readonly password?: string;
  /** OpenSSH-format private key accepted by the server. */
  readonly privateKeyPath?: string;
  /** The authorized_keys line of that key. */
  readonly publicKeyLine?: string;
}

export interface RunningTarget {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** The full identification line the server sent (RFC 4253 §4.2), without CR LF. */
  readonly banner?: string;
  /** softwareversion part of the banner, e.g. `OpenSSH_9.2p1`. */
  readonly version?: string;
  readonly hostKeys: readonly HostKeyInfo[];
  readonly credentials: Credentials;
  readonly pid?: number;
  readonly containerId?: string;
  /** The peer's own log so far (debug level where the peer has one); at most its last 4 MiB. */
  logs(): string;
  /** The file that log is written to, when it is a local file: readers that must see every line read it. */
  readonly logPath?: string;
  /** Idempotent; resolves once the process/container is gone. */
  stop(): Promise<void>;
}

export interface Target {
  readonly name: string;
  readonly kind: 'server';
  readonly description: string;
  /** Cheap check (binary present, image built, daemon up) without starting anything. */
  availability(): Promise<Availability>;
  start(opts?: StartOptions): Promise<RunningTarget>;
}

export interface Availability {
  readonly available: boolean;
  /** Version string when known without starting the peer (e.g. from `-V` or a package query). */
  readonly version?: string;
  /** Why not, and the fix (names the command to run). */
  readonly reason?: string;
}

export interface ClientRunOptions {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password?: string;
  /** OpenSSH-format private key file. */
  readonly identity?: string;
  readonly algorithms?: AlgorithmLists;
  /** Remote command. */
  readonly command: string;
  /** Bytes written to the remote command's stdin, then EOF. */
  readonly stdin?: string | Uint8Array;
  /** Server host key fingerprints to accept (`SHA256:...`); clients that insist on a known key need them. */
  readonly hostKeyFingerprints?: readonly string[];
  /** Whole-run limit; default 20 000 ms. The peer is killed and `timedOut` set when it runs out. */
  readonly timeoutMs?: number;
}

export interface ClientResult {
  /** The remote command's exit status when the peer reports it, else the peer's own failure code (e.g. ssh's 255). */
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

export interface ClientPeer {
  readonly name: string;
  readonly kind: 'client';
  readonly description: string;
  availability(): Promise<Availability>;
  run(opts: ClientRunOptions): Promise<ClientResult>;
  /**
   * Algorithms a server must offer besides the defaults for this client to connect at all (legacy ones it is
   * limited to, e.g. lsh 2.1's DH group14 with SHA-1): client-direction checks add them to our server's offer.
   */
  readonly serverAlgorithms?: AlgorithmLists;
  /** Public key types it can authenticate with (`ssh-rsa`, `ssh-ed25519`, …); any when absent. */
  readonly userKeyTypes?: readonly string[];
}
