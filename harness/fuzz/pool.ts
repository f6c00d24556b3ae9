/**
 * Reuse of connections across cases (issue 8: "reusing kex work where the protocol allows, e.g. fuzzing
 * post-auth states over one connection"). A case that leaves its connection healthy — alive, nothing owed,
 * no stream-level deviation — hands it back; the next case that starts from the same phase with the same
 * algorithms takes it instead of paying for a new TCP connection, key exchange and login:
 *   - authenticated connections (channels closed) serve cases starting at 'authenticated', 'channel', 'rekey';
 *   - connections still in ssh-userauth serve a few cases starting at 'userauth' (servers count failed
 *     attempts per connection: OpenSSH MaxAuthTries, ours maxAttempts).
 * Findings are always confirmed on a fresh connection (campaign.ts), so reuse changes speed, not what a
 * corpus entry means.
 */
import type { Socket } from 'node:net';
import type { AlgorithmPreferences } from '../../impl/transport/types.js';
import { classifyOutcome, classifyText, type ConnectionGovernor } from './backoff.js';
import { currentState, type CaseRecord } from './executor.js';
import type { FuzzTarget, Link } from './link.js';
import { stepMessageId, type Phase, type Step } from './steps.js';

type PoolPhase = 'authenticated' | 'userauth' | 'channel';

/**
 * Steps after which a connection may look healthy but carry state into the next case: raw bytes and packet
 * deviations, custom KEXINITs, and fuzzed transport/kex messages 20–49 (a stray NEWKEYS makes OpenSSH reset
 * its sequence counter, found by these campaigns).
 */
function disturbsConnection(s: Step): boolean {
  // a forward leaves a listener on the peer and outside connections on our side: the connection ends with its case
  if (s.op === 'bytes' || s.op === 'deviate' || s.op === 'kexinit' || s.op === 'forward') return true;
  if (s.op !== 'send') return false;
  const id = stepMessageId(s);
  return id === undefined || (id >= 20 && id <= 49);
}

/**
 * Disturbing steps our own server (in-process) can be shown to have shrugged off: stray kex-method messages
 * 22–49 outside a key exchange, which it answers with UNIMPLEMENTED and nothing else (RFC 4253 §11.4;
 * impl/transport/engine.ts handleTransportMessage). Deviations (a skipped or duplicated CLOSE or
 * WINDOW_ADJUST would leave the connection layer out of step unseen), raw bytes, KEXINIT and NEWKEYS stay
 * disturbing.
 */
function forgivableInProcess(s: Step): boolean {
  if (s.op !== 'send') return false;
  const id = stepMessageId(s);
  return id !== undefined && id >= 22 && id <= 49;
}

/**
 * The evidence that lets an in-process connection be reused after such messages: every probe answered with
 * its own sequence number, both engines out of any key exchange with nothing held or half-read, and both
 * directions' sequence numbers in step (read from both engines).
 */
function provablyInStep(link: Link): boolean {
  const s = link.server;
  const c = link.client;
  if (!s || c.log.probes.length === 0 || c.log.probes.some((p) => !p.answered)) return false;
  const cs = c.engine.testing.inspect();
  const ss = s.engine.testing.inspect();
  return cs.phase === 'established' && ss.phase === 'established' && !cs.kexInProgress && !ss.kexInProgress
    && cs.heldPayloads === 0 && ss.heldPayloads === 0 && cs.bufferedInbound === 0 && ss.bufferedInbound === 0
    && cs.seqOut === ss.seqIn && cs.seqIn === ss.seqOut;
}

/** Pools a case starting at `start` may take from, best first. */
function poolsFor(start: Phase): readonly PoolPhase[] {
  if (start === 'channel') return ['channel', 'authenticated'];
  if (start === 'authenticated' || start === 'rekey') return ['authenticated'];
  if (start === 'userauth') return ['userauth'];
  return [];
}

/** Steps that may leave the session channel unusable (EOF/CLOSE, a command that ends it). */
function touchesChannelLife(s: Step): boolean {
  if (s.op === 'exec' || s.op === 'open' || s.op === 'sftp') return true;
  if (s.op !== 'send') return false;
  const id = stepMessageId(s);
  return id === 96 || id === 97 || id === 90 || id === 91 || id === 92;
}

/** What a connection's peer sends first (up to 512 bytes, latin1): its identification line, or a refusal text. */
function sniff(link: Link): { text: string } {
  const first = { text: '' };
  const socket = (link as { socket?: Socket }).socket;
  if (!socket) return first;
  const onData = (b: Buffer): void => {
    first.text += b.subarray(0, 512 - first.text.length).toString('latin1');
    if (first.text.length >= 512) socket.off('data', onData);
  };
  socket.on('data', onData);
  return first;
}

/** A connection serves at most this many cases (bounds whatever state a peer accumulates per connection). */
const MAX_CASES: Readonly<Record<PoolPhase, number>> = { authenticated: 500, channel: 500, userauth: 4 };
const MAX_IDLE_PER_KEY = 16;

export class LinkPool {
  private readonly idle = new Map<string, Link[]>();
  reusedCases = 0;
  freshConnections = 0;

  /** Fresh connections holding a governor slot until their first case is over. */
  private readonly admitted = new WeakMap<Link, { readonly since: number; readonly first: { text: string } }>();

  /**
   * With a governor (network campaigns), fresh connections wait out back-offs and run under its parallelism,
   * and each one's first case tells it whether the peer served or refused the connection (backoff.ts).
   */
  constructor(private readonly target: FuzzTarget, private readonly closeBudgetMs: number, readonly governor?: ConnectionGovernor) {
    // idle unauthenticated connections count against Dropbear's per-address limit and OpenSSH's MaxStartups
    if (governor) governor.onRefusalHook = () => this.dropIdle('userauth');
  }

  /** Profiles are a few shared constant objects: their JSON is computed once per object. */
  private readonly profileKeys = new WeakMap<AlgorithmPreferences, string>();

  private key(phase: PoolPhase, a: AlgorithmPreferences | undefined): string {
    if (a === undefined) return `${phase} {}`;
    let k = this.profileKeys.get(a);
    if (k === undefined) this.profileKeys.set(a, (k = JSON.stringify(a)));
    return `${phase} ${k}`;
  }

  async acquire(algorithms: AlgorithmPreferences | undefined, start: Phase): Promise<Link> {
    for (const phase of poolsFor(start)) {
      const list = this.idle.get(this.key(phase, algorithms));
      for (let l = list?.pop(); l; l = list?.pop()) {
        if (l.client.alive) { this.reusedCases++; l.client.resetCase(phase === 'channel'); return l; }
        l.close();
      }
    }
    this.freshConnections++;
    if (!this.governor) return this.target.connect(algorithms, undefined, start);
    const link = await this.admitConnect(() => this.target.connect(algorithms, undefined, start));
    this.admitted.set(link, { since: performance.now(), first: sniff(link) });
    return link;
  }

  /**
   * Connects under the governor: waits for a slot and out of any back-off, and a refused connect backs off and
   * tries again until the peer has been unreachable for the grace time. Returns holding the slot.
   */
  private async admitConnect(connect: () => Promise<Link>): Promise<Link> {
    const g = this.governor!;
    for (;;) {
      const out = g.unreachableFor();
      if (out !== undefined) throw new Error(`peer unreachable for ${(out / 1000).toFixed(0)} s (grace ${(g.graceMs / 1000).toFixed(0)} s): ${g.stats().lastRefusal ?? ''}`);
      await g.admit();
      try {
        return await connect();
      } catch (e) {
        g.done();
        const msg = (e as Error).message;
        g.refused(classifyText(msg) ?? { kind: 'connect-failed', detail: msg });
      }
    }
  }

  /**
   * `target` with its connections made under this pool's governor: for the connections a campaign makes outside the
   * pool (shrinking a failure, minimising and confirming a finding), which would otherwise meet the peer's connection
   * limits head-on — a refusal there read as the peer going down, or as a finding that does not reproduce.
   */
  governed(): FuzzTarget {
    if (!this.governor) return this.target;
    const target = this.target;
    const connect: FuzzTarget['connect'] = async (algorithms, tap, start) => {
      const link = await this.admitConnect(() => target.connect(algorithms, tap, start));
      this.governor!.done(); // a case at a time per caller: the slot only paces the connects
      return link;
    };
    // methods run on the target itself (its private state), only connect is replaced
    return new Proxy(target, {
      get: (t, p) => {
        if (p === 'connect') return connect;
        const v: unknown = Reflect.get(t, p, t);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    });
  }

  /** A fresh connection's first case is over: tell the governor whether the peer served it, free its slot. */
  private settleAdmission(link: Link): void {
    const g = this.governor;
    const a = this.admitted.get(link);
    if (!g || a === undefined) return;
    this.admitted.delete(link);
    g.done();
    const c = link.client;
    const socket = (link as { socket?: Socket }).socket;
    // a link without a socket (in-process) has no connection limits to meet
    if (!socket) return;
    const r = classifyOutcome({
      bytesRead: socket.bytesRead, firstText: a.first.text, closed: !c.alive || socket.destroyed, closedByUs: c.closed?.byUs === true, ageMs: performance.now() - a.since,
      ...(c.closed ? { closeText: c.closed.description ?? c.closed.error.message } : {}),
    });
    if (r === 'served') g.served();
    else if (r) g.refused(r);
  }

  private dropIdle(phase: PoolPhase): void {
    for (const [k, list] of this.idle) if (k.startsWith(`${phase} `)) { for (const l of list) l.close(); this.idle.delete(k); }
  }

  /** Takes the connection back if the case left it reusable; otherwise closes it. */
  async release(link: Link, algorithms: AlgorithmPreferences | undefined, record: CaseRecord, failed: boolean, start?: Phase): Promise<void> {
    this.settleAdmission(link);
    const c = link.client;
    const healthy = !failed && c.alive && c.serviceAccepted && !c.log.streamDesync && !c.log.sentCorrupt && !c.anythingOwed
      && !c.engine.kexInProgress
      && (!record.executed.some(disturbsConnection) || (record.executed.every((s) => !disturbsConnection(s) || forgivableInProcess(s)) && provablyInStep(link)))
      && (link.server === undefined || (link.server.escaped.length === 0 && !link.server.hung && !link.server.crashed));
    // a 'channel' case that left its session channel as it found it hands the channel on too (saves the
    // open/confirm and close/close round trips of the next 'channel' case)
    const keepChannel = start === 'channel' && c.authenticated && c.onlyFirstChannelOpen && !record.executed.some(touchesChannelLife);
    const phase: PoolPhase = keepChannel ? 'channel' : c.authenticated ? 'authenticated' : 'userauth';
    if (!healthy || c.reused + 1 >= MAX_CASES[phase]) { link.close(); return; }
    if (phase !== 'userauth') {
      c.closeChannels(keepChannel);
      await link.settle(() => !c.alive || (keepChannel ? c.onlyFirstChannelOpen : c.channelsClosed), this.closeBudgetMs);
    }
    // read the list only now: other workers may have changed it while we waited
    const key = this.key(phase, algorithms);
    const list = this.idle.get(key) ?? [];
    const settled = keepChannel ? c.onlyFirstChannelOpen : c.channelsClosed && currentState(c) === phase;
    if (!c.alive || !settled || list.length >= MAX_IDLE_PER_KEY || this.closed) { link.close(); return; }
    list.push(link);
    this.idle.set(key, list);
  }

  private closed = false;

  /** Closes every idle connection; connections released later are closed too. */
  closeAll(): void {
    this.closed = true;
    for (const list of this.idle.values()) for (const l of list) l.close();
    this.idle.clear();
  }
}
