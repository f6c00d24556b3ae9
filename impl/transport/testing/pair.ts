/**
 * Two engines wired back to back in one process (quinn's `Pair`): the fastest way to run a client and a server
 * against each other, deterministic, with a simulated clock. Used by impl tests and by the harness target `self`.
 */
import { TimeoutError } from '../../errors.js';
import { Engine } from '../engine.js';
import type { EngineEvent, EngineOptions } from '../types.js';

export type Side = 'client' | 'server';

export interface PairOptions {
  client?: Omit<EngineOptions, 'role'>;
  server?: Omit<EngineOptions, 'role'>;
  /** Deliver bytes in pieces of at most this size (exercises every split of the stream). */
  chunk?: number;
  /** Called for every chunk that crosses the simulated wire (e.g. a pcap recorder). */
  tap?: (from: Side, bytes: Uint8Array, now: number) => void;
}

export class Pair {
  readonly client: Engine;
  readonly server: Engine;
  now = 0;
  readonly events: { client: EngineEvent[]; server: EngineEvent[] } = { client: [], server: [] };
  /** Per-side handler run for every event (e.g. a service layer answering); may send through the engines. */
  onEvent: ((side: Side, e: EngineEvent, pair: Pair) => void) | undefined;

  constructor(private readonly opts: PairOptions = {}) {
    this.client = new Engine({ ...opts.client, role: 'client' });
    this.server = new Engine({ ...opts.server, role: 'server' });
  }

  start(): this {
    this.client.start(this.now);
    this.server.start(this.now);
    return this;
  }

  /** Moves bytes from one engine to the other; returns how many moved. */
  private pump(from: Side): number {
    const src = from === 'client' ? this.client : this.server;
    const dst = from === 'client' ? this.server : this.client;
    let moved = 0;
    for (let b = src.pollTransmit(); b; b = src.pollTransmit()) {
      moved += b.length;
      this.opts.tap?.(from, b, this.now);
      const step = this.opts.chunk ?? b.length;
      for (let i = 0; i < b.length; i += step) dst.receive(b.subarray(i, i + step), this.now);
    }
    return moved;
  }

  private drainEvents(side: Side): number {
    const e = side === 'client' ? this.client : this.server;
    let n = 0;
    for (let ev = e.pollEvent(); ev; ev = e.pollEvent()) {
      n++;
      this.events[side].push(ev);
      this.onEvent?.(side, ev, this);
    }
    return n;
  }

  /** Runs until neither side has bytes or events left (bounded: a livelock is a TimeoutError). */
  drive(maxSteps = 10_000): this {
    for (let i = 0; i < maxSteps; i++) {
      const moved = this.pump('client') + this.pump('server') + this.drainEvents('client') + this.drainEvents('server');
      if (moved === 0) return this;
    }
    throw new TimeoutError(`pair not idle after ${maxSteps} steps`);
  }

  /** Advances the simulated clock to the next deadline of either engine and fires it. */
  advanceToNextTimeout(): boolean {
    const t = [this.client.pollTimeout(), this.server.pollTimeout()].filter((x): x is number => x !== undefined);
    if (t.length === 0) return false;
    this.now = Math.max(this.now, Math.min(...t));
    this.client.handleTimeout(this.now);
    this.server.handleTimeout(this.now);
    return true;
  }

  last(side: Side, type: EngineEvent['type']): EngineEvent | undefined {
    return [...this.events[side]].reverse().find((e) => e.type === type);
  }
}
