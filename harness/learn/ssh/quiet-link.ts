/**
 * The in-process link for learning: the self target's SelfLink runs a pair to quiescence and then moves its
 * simulated clock to the next timer (the fuzzer wants stalled exchanges to time out). A learner's query
 * must not: while our KEXINIT waits for its abstract input, the server's kex timer would fire between two
 * inputs. This link pumps bytes and events until nothing moves, and never advances the clock.
 */
import type { Link } from '../../fuzz/link.js';
import type { SelfLink } from '../../fuzz/self/self-target.js';

const MAX_ROUNDS = 5_000;

export class QuietLink implements Link {
  readonly client: SelfLink['client'];
  readonly server: SelfLink['server'];
  private serverLost = false;
  private clientLost = false;

  constructor(private readonly inner: SelfLink) {
    this.client = inner.client;
    this.server = inner.server;
  }

  now(): number { return this.inner.now(); }

  settle(_until: () => boolean, _budgetMs: number): Promise<void> {
    const c = this.client.engine, s = this.server, t = this.inner.now();
    for (let round = 0; round < MAX_ROUNDS; round++) {
      let moved = 0;
      for (let b = c.pollTransmit(); b; b = c.pollTransmit()) { moved++; if (!this.serverLost) s.receive(b, t); }
      for (let b = s.pollTransmit(); b; b = s.pollTransmit()) { moved++; if (!this.clientLost) c.receive(b, t); }
      for (let e = c.pollEvent(); e; e = c.pollEvent()) { moved++; this.client.onEvent(e); }
      if (moved > 0) continue;
      // TCP semantics: whoever closed (or crashed) drops the connection once its last bytes are out
      if ((s.engine.isClosed || s.crashed) && !this.clientLost) { this.clientLost = true; c.connectionLost(t); continue; }
      if (c.isClosed && !this.serverLost) { this.serverLost = true; s.connectionLost(t); continue; }
      break;
    }
    return Promise.resolve();
  }

  close(): void {
    this.inner.close();
  }
}
