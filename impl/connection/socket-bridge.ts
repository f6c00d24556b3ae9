/**
 * Port forwarding's data path (RFC 4254 §7): a direct-tcpip or forwarded-tcpip channel joined to a TCP socket,
 * with the end of each direction carried exactly (RFC 4254 §5.3), the way OpenSSH joins them:
 *
 * - Bytes both ways with backpressure: the channel's receive window re-opens only as the socket takes the data,
 *   and the socket is read only as fast as the peer's window lets us send.
 * - Half-close: the socket's FIN becomes the channel's EOF after the last byte read from the socket, and the
 *   channel's EOF becomes the socket's FIN after the last byte written to it. The other direction keeps going
 *   for as long as it needs (a client that half-closes after its request still gets the whole answer).
 * - CLOSE goes out only once both directions have ended: our EOF sent and the socket's write side flushed.
 * - The socket fails (reset, EPIPE) or is destroyed: what was already read from it still goes out, then EOF and
 *   CLOSE; what still arrives on the channel has nowhere to go and is discarded (the window stays open meanwhile,
 *   so the peer is not left stuck before our CLOSE).
 * - The peer closes the channel: what it sent is written to the socket, then FIN. Input the local side is still
 *   sending cannot be delivered; it is read and dropped for a short while before the socket is destroyed (closing
 *   a socket with unread input makes the kernel send a reset, which can discard data the local side has not read).
 * - The SSH connection ends under the channel before both EOFs went through: the socket is reset, so the local
 *   side cannot take a cut-off stream for a complete one.
 *
 * Give it sockets created with `allowHalfOpen: true` (net.createServer / net.connect option); it also sets the flag
 * itself, which is enough for a socket whose read side has not ended yet.
 */
import type * as net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Channel } from './channel.js';

export interface BridgeResult {
  /** Bytes read from the socket (all sent on the channel when `complete`). */
  readonly fromSocket: number;
  /** Bytes received on the channel (all written to the socket when `complete`). */
  readonly fromChannel: number;
  /** Both directions ended with EOF and every byte was passed on. */
  readonly complete: boolean;
  /** What cut the stream short: the socket's error or the connection's. */
  readonly error?: Error;
}

/** How long unread input from the local side is drained after the peer closed the channel. */
const LINGER_MS = 2000;

const ignore = (): void => {};

/**
 * Sends RST when the stream can do that (a TCP socket), else just destroys it. Not while our FIN is still queued
 * (end() called, 'finish' not yet: the peer stopped reading and the send buffer is full): libuv refuses to reset
 * a stream that is shutting down, and Node 20 then marks the handle closing without closing it, so the process
 * spins forever at exit (seen as `serve` not exiting after SIGTERM once ssh -L/-R clients were killed).
 */
function reset(sock: Duplex): void {
  if (sock.destroyed) return;
  const tcp = sock as Partial<net.Socket>;
  try {
    if (typeof tcp.resetAndDestroy === 'function' && !(sock.writableEnded && !sock.writableFinished)) { tcp.resetAndDestroy(); return; }
  } catch { /* not a TCP socket: plain destroy */ }
  sock.destroy();
}

/**
 * Joins `ch` and `sock` (see the module comment for the rules). Resolves once the channel is released and the
 * socket closed; never rejects.
 */
export function bridgeChannelSocket(ch: Channel, sock: Duplex): Promise<BridgeResult> {
  return new Promise((resolve) => {
    let fromSocket = 0;
    let fromChannel = 0;
    /** ch 'finish': every byte read from the socket was handed to the channel, then EOF. */
    let sentEof = false;
    /** ch 'finish' came while the channel was still there: our EOF really went out after the last byte. */
    let sentEofInTime = false;
    /** The peer's EOF arrived (not just its CLOSE): its direction ended the normal way. */
    let gotEof = false;
    /** sock 'finish': every byte the channel delivered reached the socket, then FIN. */
    let wroteFin = false;
    let sockGone = false;
    let chanGone = false;
    let complete = false;
    let error: Error | undefined;
    let linger: NodeJS.Timeout | undefined;

    const settle = (): void => {
      if (!sockGone || !chanGone) return;
      if (linger) clearTimeout(linger);
      resolve({ fromSocket, fromChannel, complete, ...(error && !complete ? { error } : {}) });
    };

    const bothEnded = (): void => {
      if (!sentEof || !wroteFin || complete) return;
      complete = sentEofInTime && gotEof;
      // both FINs are through: nothing is left unread on the socket, so destroying it cannot reset anything
      void ch.close();
      sock.destroy();
    };

    const onSocketGone = (): void => {
      if (sockGone) return;
      sockGone = true;
      if (!chanGone) {
        // nowhere to write the channel's data any more: discard it until our CLOSE
        ch.unpipe(sock);
        ch.resume();
        if (sentEof) void ch.close();
        else if (!ch.writableEnded) ch.end(); // what was read still goes out, then EOF; CLOSE follows on 'finish'
      }
      settle();
    };

    const onChannelGone = (): void => {
      if (chanGone) return;
      chanGone = true;
      sock.unpipe(ch);
      if (ch.error && !(sentEofInTime && gotEof)) {
        // the connection ended: cut the local side off loudly, not with a FIN that looks like a complete stream
        if (!complete) error ??= ch.error;
        reset(sock);
      } else if (!sockGone) {
        // the peer closed: its data still drains into the socket (the pipe ends it after the last byte)
        const drop = (): void => {
          sock.resume();
          if (sock.readableEnded) { sock.destroy(); return; }
          sock.once('end', () => sock.destroy());
          linger = setTimeout(() => sock.destroy(), LINGER_MS);
          linger.unref?.();
        };
        if (wroteFin) drop(); else sock.once('finish', drop);
      }
      settle();
    };

    (sock as { allowHalfOpen: boolean }).allowHalfOpen = true;
    sock.on('data', (d: Uint8Array) => { fromSocket += d.length; });
    ch.on('data', (d: Uint8Array) => { fromChannel += d.length; });
    sock.on('error', (e: Error) => { if (!complete) error ??= e; });
    ch.on('error', ignore);
    ch.once('eof', () => { gotEof = true; });
    ch.once('finish', () => {
      sentEof = true;
      sentEofInTime = !chanGone;
      // Node closes a socket whose two sides are done at once, which may be before the channel has sent the last
      // bytes read from it: that socket ended cleanly, and the stream is complete once those bytes and EOF are out
      // (sock.readableEnded: its FIN came after its last byte, which the pipe handed on before ending the channel)
      if (sockGone && !(sock.readableEnded && wroteFin)) void ch.close();
      else bothEnded();
    });
    sock.once('finish', () => { wroteFin = true; bothEnded(); });
    sock.once('close', onSocketGone);
    ch.once('channel-gone', onChannelGone);
    sock.pipe(ch);
    ch.pipe(sock);
    // either side may already be over before we were called
    if (ch.channelGone) onChannelGone();
    if (sock.closed) onSocketGone();
  });
}
