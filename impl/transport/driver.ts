/**
 * Binds an Engine to a stream socket: the only place in the transport that does I/O (quinn's driver is the model).
 * Pumps socket bytes into the engine, writes what it produces, arms a timer from pollTimeout, and hands every event
 * to `onEvent`. After each handler it flushes again, so service layers may send from inside their handlers.
 *
 * Writes are not corked: while a write is in flight node's stream buffers the next ones and sends them as one
 * writev anyway (a bulk sender is nearly always in that state), and cork + uncork on the next tick cost a callback
 * per flush plus optimising node's clearBuffer chain in every fresh process (issue 22: a cold 256 MiB upload to
 * sshd, aes128-gcm, 0.53–0.59 s of client CPU without, 0.58–0.67 s with, five alternating runs). Bytes leave when
 * produced, as with OpenSSH and ssh2: an application that destroys the socket in an event handler no longer
 * drops what the engine queued before that event.
 */
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Engine } from './engine.js';
import type { EngineEvent } from './types.js';

export interface DriverTaps {
  /**
   * Every chunk as it crosses the socket, for pcap recording. The bytes are valid only during the call: inbound
   * chunks are decrypted in place right after, so copy what you keep.
   */
  onBytes?(direction: 'in' | 'out', bytes: Uint8Array, timeMs: number): void;
  onClose?(timeMs: number): void;
}

export class Driver {
  private timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (ms, Date.now clock). */
  private timerAt = Number.POSITIVE_INFINITY;
  private ended = false;
  /** Packets written in this flush, given back to the engine together once the last of them is written. */
  private sentBatch: Uint8Array[] = [];
  private readonly recycle: ((err: Error | null | undefined, b: Uint8Array) => void) | undefined;

  constructor(readonly engine: Engine, readonly socket: Duplex, private readonly onEvent: (e: EngineEvent) => void, private readonly taps: DriverTaps = {}) {
    // we batch writes ourselves (cork/uncork per flush); Nagle would only add delayed-ACK stalls to every round trip
    (socket as Duplex & { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    // a net.Socket read is a fresh buffer no one else holds, so the engine may decrypt it in place; chunks of
    // other streams (pipes in memory, user streams) may alias the writer's memory and are left untouched
    const transfer = socket instanceof Socket;
    // likewise the kernel has copied a net.Socket write once its callback runs, so the packet buffer can be reused
    this.recycle = transfer ? (err: Error | null | undefined, b: Uint8Array) => { if (!err) engine.recycle(b); } : undefined;
    socket.on('data', (chunk: Buffer) => {
      const now = Date.now();
      this.taps.onBytes?.('in', chunk, now);
      engine.receive(chunk, now, transfer); // taps have copied what they keep
      this.flush();
    });
    const lost = () => {
      if (!engine.isClosed) engine.connectionLost(Date.now());
      this.flush();
      this.stop();
    };
    socket.on('end', lost);
    socket.on('close', lost);
    socket.on('error', lost);
  }

  start(): this {
    this.engine.start(Date.now());
    this.flush();
    return this;
  }

  /** Writes pending bytes, dispatches pending events, re-arms the timer. Call after every engine command. */
  flush(): void {
    for (let guard = 0; guard < 10_000; guard++) {
      let wrote = false;
      if (!this.socket.destroyed && this.socket.writable) {
        for (let b = this.engine.pollTransmit(); b;) {
          const next = this.engine.pollTransmit();
          this.taps.onBytes?.('out', b, Date.now());
          if (!this.recycle) this.socket.write(b);
          else if (next) {
            this.sentBatch.push(b);
            this.socket.write(b);
          } else {
            // a stream completes writes in order: once the last of a batch is written, so are the others
            const batch = this.sentBatch;
            batch.push(b);
            this.sentBatch = [];
            this.socket.write(b, (err) => { for (const x of batch) this.recycle!(err, x); });
          }
          wrote = true;
          b = next;
        }
      } else {
        while (this.engine.pollTransmit()) { /* socket gone: drop */ }
      }
      const e = this.engine.pollEvent();
      if (e) {
        this.onEvent(e);
        if (e.type === 'closed') this.finish();
        continue;
      }
      if (!wrote) break;
    }
    this.arm();
  }

  /** True when the socket wants us to stop producing (backpressure for bulk senders). */
  get writeBlocked(): boolean {
    return this.socket.writableNeedDrain;
  }

  /**
   * Keeps a timer that fires no later than the engine's deadline. One armed for an earlier time stays (handleTimeout
   * before a deadline does nothing, and the flush after it re-arms): a bulk transfer flushes thousands of times a
   * second with the same deadline, and replacing the timer each time showed up in its profile.
   */
  private arm(): void {
    const t = this.ended ? undefined : this.engine.pollTimeout();
    if (this.timer && t !== undefined && this.timerAt <= t) return;
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; this.timerAt = Number.POSITIVE_INFINITY; }
    if (t === undefined) return;
    this.timerAt = t;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.engine.handleTimeout(Date.now());
      this.flush();
    }, Math.max(0, Math.min(t - Date.now(), 2 ** 31 - 1)));
    this.timer.unref();
  }

  private finish(): void {
    if (this.ended) return;
    // let the DISCONNECT we queued reach the wire, then close our half
    if (!this.socket.destroyed) this.socket.end();
    this.stop();
  }

  stop(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    this.taps.onClose?.(Date.now());
  }
}
