/**
 * The in-process link for learning: the self target's SelfLink runs a pair to quiescence and then moves its
 * simulated clock to the next timer (the fuzzer wants stalled exchanges to time out). A learner's query
 * must not: while our KEXINIT waits for its abstract input, the server's kex timer would fire between two
 * inputs. This link pumps bytes and events until nothing moves, and advances the clock only to a server
 * timer that comes before the server engine's own (the delayed answer to a failed authentication), never to
 * a kex or rekey deadline.
 */
import type { Link } from '../../fuzz/link.js';
import type { SelfLink } from '../../fuzz/self/self-target.js';

const MAX_ROUNDS = 5_000;

export class QuietLink implements Link {
  readonly client: SelfLink['client'];
  readonly server: SelfLink['server'];
  private serverLost = false;
  private clientLost = false;
  private t: number;

  constructor(private readonly inner: SelfLink) {
    this.client = inner.client;
    this.server = inner.server;
    this.t = inner.now();
  }

  now(): number { return this.t; }

  settle(_until: () => boolean, _budgetMs: number): Promise<void> {
    const c = this.client.engine, s = this.server;
    let t = this.t;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      let moved = 0;
      for (let b = c.pollTransmit(); b; b = c.pollTransmit()) { moved++; if (!this.serverLost) s.receive(b, t); }
      for (let b = s.pollTransmit(); b; b = s.pollTransmit()) { moved++; if (!this.clientLost) c.receive(b, t); }
      for (let e = c.pollEvent(); e; e = c.pollEvent()) { moved++; this.client.onEvent(e); }
      if (moved > 0) continue;
      // TCP semantics: whoever closed (or crashed) drops the connection once its last bytes are out
      if ((s.engine.isClosed || s.crashed) && !this.clientLost) { this.clientLost = true; c.connectionLost(t); continue; }
      if (c.isClosed && !this.serverLost) { this.serverLost = true; s.connectionLost(t); continue; }
      const st = s.pollTimeout(), et = s.engine.pollTimeout();
      if (st !== undefined && (et === undefined || st < et)) { t = this.t = Math.max(t, st); s.handleTimeout(t); continue; }
      break;
    }
    return Promise.resolve();
  }

  close(): void {
    this.inner.close();
  }
}
