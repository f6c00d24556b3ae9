/**
 * Binds an Engine to a stream socket: the only place in the transport that does I/O (STYLE §2, quinn's driver).
 * Pumps socket bytes into the engine, writes what it produces (corked, so a burst becomes one writev), arms a
 * timer from pollTimeout, and hands every event to `onEvent`. After each handler it flushes again, so service
 * layers may send from inside their handlers.
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
  private ended = false;
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
        let b = this.engine.pollTransmit();
        if (b) {
          (this.socket as Duplex & { cork?: () => void }).cork?.();
          for (; b; b = this.engine.pollTransmit()) {
            this.taps.onBytes?.('out', b, Date.now());
            const sent = b;
            if (this.recycle) this.socket.write(sent, (err) => this.recycle!(err, sent));
            else this.socket.write(sent);
            wrote = true;
          }
          process.nextTick(() => (this.socket as Duplex & { uncork?: () => void }).uncork?.());
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

  private arm(): void {
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    if (this.ended) return;
    const t = this.engine.pollTimeout();
    if (t === undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
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
    this.taps.onClose?.(Date.now());
  }
}
