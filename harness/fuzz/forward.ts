/**
 * Remote forwards the fuzzer asks for and then uses. A `forward` step asks the peer to listen for us
 * (`tcpip-forward` on 127.0.0.1, port 0: RFC 4254 §7.1; or `streamlocal-forward@openssh.com` on a scratch socket
 * path: OpenSSH PROTOCOL §2.4). Once the peer grants it, the harness connects to that listener from outside, as a
 * user's program would, writes the step's bytes and maybe half-closes. The peer then opens a `forwarded-tcpip` or
 * `forwarded-streamlocal@openssh.com` channel back to us (RFC 4254 §7.2), which the client accepts, so later steps
 * move data, EOF and CLOSE over it. Without an outside connection a server's listener, accept and forwarded-channel
 * code never runs, however the requests are fuzzed.
 *
 * Bounded: at most MAX_DIALS connections per case, each ended with the case's link; socket paths are removed
 * when the link closes (the peer leaves them behind).
 */
import net from 'node:net';
import { rmSync } from 'node:fs';
import { encodeGlobalRequestData, TcpipForwardReply } from '../../impl/messages/index.js';
import { Reader } from '../../impl/wire/reader.js';
import { Writer } from '../../impl/wire/writer.js';

/** A listener the peer opened for us on its host. */
export type PeerListener = { readonly kind: 'tcp'; readonly port: number } | { readonly kind: 'unix'; readonly path: string };

/** Where a forward listens: a TCP port the peer picks, or a socket path of ours under /tmp. */
export type ForwardKind = 'tcp' | 'unix';

/** Outside connections per case (each one becomes a channel the peer opens to us). */
export const MAX_DIALS = 4;

let pathCounter = 0;

/** A socket path no other forward of this process uses (sshd refuses to bind over an existing file). */
export function scratchSocketPath(): string {
  return `/tmp/ssh-harness-fwd-${process.pid}-${pathCounter++}.sock`;
}

/** The global request that asks for a forward of this kind. */
export function forwardRequest(kind: ForwardKind, path: string): { name: string; data: Uint8Array } {
  if (kind === 'tcp') return { name: 'tcpip-forward', data: encodeGlobalRequestData({ kind: 'tcpip-forward', address: '127.0.0.1', port: 0 }) };
  return { name: 'streamlocal-forward@openssh.com', data: new Writer().string(path).finish() };
}

/**
 * The listener a granted forward request opened (SSH_MSG_REQUEST_SUCCESS answering it), or undefined when the
 * request was not a forward or does not parse. Port 0 asks the peer to choose; it names the port in its reply.
 */
export function grantedListener(name: string, request: Uint8Array, reply: Uint8Array): PeerListener | undefined {
  try {
    const r = new Reader(request);
    if (name === 'tcpip-forward') {
      r.string('address');
      const asked = r.uint32();
      const port = asked === 0 ? TcpipForwardReply.decode(reply).port : asked;
      return port > 0 && port < 65536 ? { kind: 'tcp', port } : undefined;
    }
    if (name === 'streamlocal-forward@openssh.com') {
      const path = r.ascii('socket path');
      return path.startsWith('/') ? { kind: 'unix', path } : undefined;
    }
  } catch {
    return undefined; // a fuzzed request or reply that does not parse: nothing we can connect to
  }
  return undefined;
}

/** What an outside connection does once connected. */
export interface DialPlan {
  readonly data: Uint8Array;
  /** End our side after writing (the peer's channel then sees EOF: RFC 4254 §5.3). */
  readonly halfClose: boolean;
}

/**
 * The outside connections of one link: dials the peer's listeners on its host, reads and drops what comes back,
 * and ends them all with the link.
 */
export class ForwardDialer {
  private readonly sockets: net.Socket[] = [];

  constructor(private readonly host: string) {}

  /** Connects to a listener; errors (refused, no such path) are outcomes, not failures. */
  dial(l: PeerListener, plan: DialPlan): void {
    if (this.sockets.length >= MAX_DIALS) return;
    const s = l.kind === 'tcp' ? net.connect({ host: this.host, port: l.port }) : net.connect({ path: l.path });
    this.sockets.push(s);
    s.on('error', () => undefined);
    s.on('data', () => undefined); // the peer forwards our fuzzed channel data here: drop it
    s.once('connect', () => {
      if (plan.data.length) s.write(plan.data);
      if (plan.halfClose) s.end();
    });
  }

  /** Ends every connection, and removes the socket files the peer created for `paths` (it leaves them behind). */
  close(paths: readonly string[]): void {
    for (const s of this.sockets.splice(0)) s.destroy();
    for (const p of paths) rmSync(p, { force: true });
  }
}
