/**
 * A transport-level session over a real socket: our Engine + Driver, with promises for the events tests wait on.
 * Used by interop tests that check the transport alone against real servers (no auth layer involved).
 */
import net from 'node:net';
import { Driver } from '../../impl/transport/driver.js';
import { Engine } from '../../impl/transport/engine.js';
import type { EngineEvent, EngineOptions } from '../../impl/transport/types.js';

export class EngineSession {
  readonly events: EngineEvent[] = [];
  private waiters: { pred: (e: EngineEvent) => boolean; resolve: (e: EngineEvent) => void; reject: (err: Error) => void }[] = [];
  readonly engine: Engine;
  readonly driver: Driver;

  private constructor(socket: net.Socket, options: Omit<EngineOptions, 'role'> & { role?: 'client' | 'server' }) {
    this.engine = new Engine({ role: 'client', ...options });
    this.driver = new Driver(this.engine, socket, (e) => this.onEvent(e));
  }

  static async connect(host: string, port: number, options: Omit<EngineOptions, 'role'> = {}): Promise<EngineSession> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host, port }, () => resolve(s));
      s.once('error', reject);
    });
    const session = new EngineSession(socket, options);
    session.driver.start();
    return session;
  }

  private onEvent(e: EngineEvent): void {
    this.events.push(e);
    for (const w of [...this.waiters]) {
      if (w.pred(e)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(e);
      } else if (e.type === 'closed') {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.reject(e.error);
      }
    }
  }

  /** Resolves with the next event matching `pred` (or one already seen after `since`); rejects on close or timeout. */
  waitFor<T extends EngineEvent['type']>(type: T, timeoutMs = 10_000, pred: (e: Extract<EngineEvent, { type: T }>) => boolean = () => true, since = 0): Promise<Extract<EngineEvent, { type: T }>> {
    const seen = this.events.slice(since).find((e) => e.type === type && pred(e as Extract<EngineEvent, { type: T }>));
    if (seen) return Promise.resolve(seen as Extract<EngineEvent, { type: T }>);
    const closed = this.events.find((e) => e.type === 'closed');
    if (closed && type !== 'closed') return Promise.reject((closed as Extract<EngineEvent, { type: 'closed' }>).error);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${type}`)), timeoutMs);
      this.waiters.push({
        pred: (e) => e.type === type && pred(e as Extract<EngineEvent, { type: T }>),
        resolve: (e) => { clearTimeout(timer); resolve(e as Extract<EngineEvent, { type: T }>); },
        reject: (err) => { clearTimeout(timer); reject(err); },
      });
    });
  }

  /** Runs an engine command and flushes what it produced to the socket. */
  act(fn: (e: Engine) => void): void {
    fn(this.engine);
    this.driver.flush();
  }

  close(): void {
    if (!this.engine.isClosed) this.act((e) => e.disconnect());
    this.driver.socket.destroy();
  }
}
