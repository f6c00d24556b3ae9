/**
 * The events of a Channel, by name: the listener's arguments. A Channel is a Node Duplex, so the stream events
 * are here too; the SSH ones follow RFC 4254 §6. Server-side request events are emitted after the ServerPolicy
 * allowed the request and the reply went out.
 */
import type { Readable } from 'node:stream';
import type { PtyInfo, WindowSize } from './policy.js';

export interface ChannelEvents {
  // ── stream events (node:stream Duplex) ──
  data: [chunk: Buffer];
  end: [];
  close: [];
  error: [error: Error];
  finish: [];
  drain: [];
  readable: [];
  pause: [];
  resume: [];
  pipe: [source: Readable];
  unpipe: [source: Readable];
  // ── SSH (RFC 4254) ──
  /** The peer sent SSH_MSG_CHANNEL_EOF (§5.3): it will send no more data. */
  eof: [];
  /** The channel number is released: both CLOSEs exchanged, or the connection ended. Writes are dropped from here on. */
  'channel-gone': [];
  /** Client: exit-status (code) or exit-signal (code null, signal name without "SIG", core dumped, message) — §6.10. */
  exit: [code: number | null, signal?: string, coreDumped?: boolean, errorMessage?: string];
  /** OpenSSH PROTOCOL "eow@openssh.com": the peer will write no more but keeps reading. */
  eow: [];
  /** Client: xon-xoff (§6.8), whether the client may do flow control. */
  'xon-xoff': [clientCanDo: boolean];
  /** Server: a pty was granted (§6.2). */
  pty: [pty: PtyInfo];
  /** Server: an environment variable was accepted (§6.4). */
  env: [name: string, value: string];
  /** Server: a shell was requested (§6.5). */
  shell: [];
  /** Server: a command to run (§6.5). */
  exec: [command: string];
  /** Server: a subsystem such as 'sftp' (§6.5). */
  subsystem: [name: string];
  /** Server: the client's terminal was resized (§6.7). */
  'window-change': [size: WindowSize];
  /** Server: a signal for the process, name without "SIG" (§6.9). */
  signal: [signal: string];
}

export type ChannelListener<E extends keyof ChannelEvents> = (...args: ChannelEvents[E]) => void;
