/**
 * Reuse of authenticated connections across cases (issue 8: "reusing kex work where the protocol allows,
 * e.g. fuzzing post-auth states over one connection"). A case that leaves its connection healthy — alive,
 * nothing owed, no stream-level deviation — hands it back with its channels closed; the next case that
 * starts at 'authenticated', 'channel' or 'rekey' with the same algorithms takes it instead of paying for a
 * new key exchange and login. Findings are always confirmed on a fresh connection (campaign.ts), so reuse
 * changes speed, not what a corpus entry means.
 */
import type { AlgorithmPreferences } from '../../impl/transport/types.js';
import { currentState, type CaseRecord } from './executor.js';
import type { FuzzTarget, Link } from './link.js';
import type { Phase } from './steps.js';

/** Phases a reused (authenticated, channel-free) connection can start from. */
const REUSABLE_STARTS: readonly Phase[] = ['authenticated', 'channel', 'rekey'];
/** A connection serves at most this many cases (bounds whatever state a peer accumulates per connection). */
const MAX_CASES_PER_LINK = 500;
const MAX_IDLE_PER_KEY = 16;

export class LinkPool {
  private readonly idle = new Map<string, Link[]>();
  reusedCases = 0;
  freshConnections = 0;

  constructor(private readonly target: FuzzTarget, private readonly closeBudgetMs: number) {}

  private key(a: AlgorithmPreferences | undefined): string {
    return JSON.stringify(a ?? {});
  }

  async acquire(algorithms: AlgorithmPreferences | undefined, start: Phase): Promise<Link> {
    if (REUSABLE_STARTS.includes(start)) {
      const list = this.idle.get(this.key(algorithms));
      for (let l = list?.pop(); l; l = list?.pop()) {
        if (l.client.alive) { this.reusedCases++; l.client.resetCase(); return l; }
        l.close();
      }
    }
    this.freshConnections++;
    return this.target.connect(algorithms);
  }

  /** Takes the connection back if the case left it reusable; otherwise closes it. */
  async release(link: Link, algorithms: AlgorithmPreferences | undefined, record: CaseRecord, failed: boolean): Promise<void> {
    const c = link.client;
    const clean = !failed && c.alive && c.authenticated && !c.streamDesync && !c.sentCorrupt && !c.anythingOwed && c.reused < MAX_CASES_PER_LINK
      && !c.engine.kexInProgress && !record.executed.some((s) => s.op === 'bytes' || s.op === 'deviate' || s.op === 'kexinit')
      && (link.server === undefined || (link.server.escaped.length === 0 && !link.server.hung && !link.server.crashed));
    const list = this.idle.get(this.key(algorithms)) ?? [];
    if (!clean || list.length >= MAX_IDLE_PER_KEY) { link.close(); return; }
    c.closeChannels();
    await link.settle(() => !c.alive || c.channelsClosed, this.closeBudgetMs);
    const st = currentState(c);
    if (!c.alive || !c.channelsClosed || st !== 'authenticated') { link.close(); return; }
    list.push(link);
    this.idle.set(this.key(algorithms), list);
  }

  closeAll(): void {
    for (const list of this.idle.values()) for (const l of list) l.close();
    this.idle.clear();
  }
}
