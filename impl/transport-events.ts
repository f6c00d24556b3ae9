/** The events of a Transport (typed: a misspelt name or a listener of the wrong shape does not compile). */
import type { Channel } from './connection/channel.js';
import type { PublicKey } from './crypto/types.js';
import type { SSHError } from './errors.js';
import type { NegotiatedAlgorithms } from './transport/public-types.js';

/** Events of a Transport, by name: the listener's arguments. */
export interface TransportEvents {
  /** The peer's identification string (RFC 4253 §4.2), without CR LF. */
  version: [version: string];
  /** After every key exchange. */
  kex: [algorithms: NegotiatedAlgorithms];
  /** Client: the server's RFC 4252 §5.4 banner (peer text: escape it before printing). */
  banner: [message: string, language: string];
  /** Authentication succeeded (client: ours; server: the client's user name). */
  authenticated: [username: string];
  /** Server: a ServerPolicy check threw or rejected (the request was refused). */
  policyError: [error: unknown];
  /**
   * A channel the peer opened and we accepted (policy.checkChannelRequest / checkChannelRequest option), given
   * synchronously: request listeners attached here ('exec', 'pty', …) cannot miss a request. While a 'channel'
   * listener exists, channels go to it and not to accept().
   */
  channel: [channel: Channel];
  /**
   * Client: the server listed all its host keys after authentication (OpenSSH PROTOCOL §2.5 "hostkeys-00@openssh.com").
   * Unproven: call proveHostKeys() before trusting any of them (e.g. adding them to known_hosts).
   */
  hostKeys: [keys: PublicKey[]];
  /** SSH_MSG_DEBUG text from the peer (RFC 4253 §11.3). */
  debug: [message: string];
  /** The connection ended: the SSHError that ended it, or undefined after our own close(). Always the last event. */
  close: [error: SSHError | undefined];
}

/** A listener of the Transport event `E`. */
export type TransportListener<E extends keyof TransportEvents> = (...args: TransportEvents[E]) => void;
