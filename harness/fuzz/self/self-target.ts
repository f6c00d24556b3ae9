/**
 * The `self` fuzz target: our FuzzClient and our ServerStack back to back in one process, on a simulated
 * clock (the Pair idea of impl/transport/testing/pair.ts, with the service layers on the server side).
 * Deterministic under a seed, no sockets, thousands of cases per second.
 *
 * A case that starts after the initial key exchange does not pay for one: per algorithm profile, one real
 * connection is snapshotted at rest right after its kex, and one right after its password login
 * (EngineTesting.snapshot); later connections for such cases resume the nearest snapshot before their start
 * phase with a fresh shared secret per connection (EngineOptions.resume), so their keys are real and their
 * own, and the kex (and login) is skipped: ~2.3 ms → ~0.13 ms of CPU per connection.
 * Cases that start before or inside the kex, and every traced connection (replay, pcap), run it for real;
 * findings are confirmed on such a connection before they are saved (campaign.ts).
 */
import { createHash, createPrivateKey, randomFillSync } from 'node:crypto';
import { privateKeyFromNode } from '../../../impl/crypto/hostkey/index.js';
import type { PrivateKey } from '../../../impl/crypto/types.js';
import type { EstablishedSnapshot } from '../../../impl/transport/testing.js';
import type { AlgorithmPreferences } from '../../../impl/transport/types.js';
import { FuzzClient } from '../client.js';
import type { FuzzTarget, Link, TraceTap } from '../link.js';
import { ServerStack, type ServerVariant } from './server-stack.js';
import type { Phase } from '../steps.js';

export const SELF_USER = 'fuzz';
export const SELF_PASSWORD = 'fuzz-Pw-4252';
/** Server kex timeout in simulated ms: short, so a stalled kex ends inside the settle horizon. */
const SERVER_KEX_TIMEOUT_MS = 10_000;
/** Timers further away than this are not fired by settle (e.g. the 1-hour rekey). */
const HORIZON_MS = 15_000;
/** Steps of one settle: a server that keeps producing bytes past this is livelocked (a hang finding). */
const MAX_SETTLE_ROUNDS = 5_000;

interface Keys { host: PrivateKey; client: PrivateKey }
let cachedKeys: Keys | undefined;

/**
 * Ed25519 keys from fixed seeds (RFC 8032 §5.1.5: the private key is 32 bytes), so corpus entries that carry
 * a key blob (publickey requests for the authorized key) replay in any process. Test keys, not secrets.
 */
function fixedEd25519(label: string): PrivateKey {
  const seed = createHash('sha256').update(`ssh-harness fuzz ${label}`).digest();
  // PKCS #8 wrapping of an Ed25519 seed (RFC 8410 §7)
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  return privateKeyFromNode(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
}

/**
 * node:crypto randomness drawn 16 KiB at a time and handed out in copies: the engines ask for a few bytes at
 * a time (cookies, padding, ephemeral keys: ~25 calls per connection), and each randomBytes() call costs
 * ~5 µs of fixed overhead, 4-5 % of a fresh in-process connection. The bytes are the same CSPRNG's.
 */
const RANDOM_CHUNK = 16 * 1024;
let randomPool = new Uint8Array(0);
let randomAt = 0;
function pooledRandom(n: number): Uint8Array {
  if (n > RANDOM_CHUNK / 4) return randomFillSync(new Uint8Array(n));
  if (randomAt + n > randomPool.length) { randomPool = randomFillSync(new Uint8Array(RANDOM_CHUNK)); randomAt = 0; }
  const out = randomPool.slice(randomAt, randomAt + n);
  randomAt += n;
  return out;
}

function keys(): Keys {
  return (cachedKeys ??= { host: fixedEd25519('self host key'), client: fixedEd25519('self client key') });
}

export class SelfLink implements Link {
  readonly client: FuzzClient;
  readonly server: ServerStack;
  private t = 0;
  /** The settle loop gave up: the pair never went idle (livelock). */
  livelock = false;
  private serverLost = false;
  private clientLost = false;

  constructor(client: FuzzClient, server: ServerStack, private readonly tap?: TraceTap) {
    this.client = client;
    this.server = server;
    server.start(this.t);
  }

  now(): number { return this.t; }

  settle(until: () => boolean, _budgetMs: number): Promise<void> {
    this.settleSync(until);
    return Promise.resolve();
  }

  /** Runs to quiescence (every byte delivered, every event handled, near timers fired). */
  settleSync(_until: () => boolean): void {
    const c = this.client.engine;
    const s = this.server;
    for (let round = 0; round < MAX_SETTLE_ROUNDS; round++) {
      let moved = 0;
      for (let b = c.pollTransmit(); b; b = c.pollTransmit()) { moved++; if (!this.serverLost) { this.tap?.onBytes('c2s', b, this.t); s.receive(b, this.t); } }
      for (let b = s.pollTransmit(); b; b = s.pollTransmit()) { moved++; if (!this.clientLost) { this.tap?.onBytes('s2c', b, this.t); c.receive(b, this.t); } }
      for (let e = c.pollEvent(); e; e = c.pollEvent()) { moved++; this.client.onEvent(e); }
      if (moved > 0) continue;
      // TCP semantics: whoever closed (or crashed) drops the connection once its last bytes are out
      if ((s.engine.isClosed || s.crashed) && !this.clientLost) { this.clientLost = true; c.connectionLost(this.t); continue; }
      if (c.isClosed && !this.serverLost) { this.serverLost = true; s.connectionLost(this.t); continue; }
      const next = [s.pollTimeout(), c.pollTimeout()].filter((x): x is number => x !== undefined && x <= this.t + HORIZON_MS);
      if (next.length === 0) return;
      this.t = Math.max(this.t, Math.min(...next));
      s.handleTimeout(this.t);
      c.handleTimeout(this.t);
    }
    this.livelock = true;
  }

  close(): void {
    if (!this.client.engine.isClosed) this.client.engine.connectionLost(this.t);
    if (!this.server.engine.isClosed) this.server.connectionLost(this.t);
    this.tap?.onClose(this.t);
  }
}

/** Which snapshot a case may resume from: the one after the kex, or the one after login (undefined: none). */
const LEVEL_FOR_START: Readonly<Partial<Record<Phase, Level>>> = { newkeys: 'kex', userauth: 'kex', authenticated: 'login', channel: 'login', rekey: 'login' };
type Level = 'kex' | 'login';

/** Both ends of one connection at rest after its initial key exchange, or after its login too. */
interface Template {
  readonly client: EstablishedSnapshot;
  readonly server: EstablishedSnapshot;
  /** Who logged in, how (level 'login'). */
  readonly login?: { readonly user: string; readonly method: string };
}

export interface SelfTargetOptions {
  readonly variant?: ServerVariant;
  readonly algorithms?: AlgorithmPreferences;
  /** Seeded randomness for both engines (deterministic replays); default node:crypto (pooledRandom). */
  readonly rng?: (n: number) => Uint8Array;
}

export function selfTarget(opts: SelfTargetOptions = {}): FuzzTarget & { connectSync(algorithms?: AlgorithmPreferences, tap?: TraceTap, start?: Phase): SelfLink } {
  const k = keys();
  const credentials = { user: SELF_USER, password: SELF_PASSWORD, privateKey: k.client };
  const rngFn = opts.rng ?? pooledRandom;
  const make = (algorithms: AlgorithmPreferences | undefined, tap: TraceTap | undefined, from?: { template: Template; secret: Uint8Array }): SelfLink => {
    const rng = { rng: rngFn };
    // the client offers the case's profile; the server offers everything it has (the reference defaults)
    const client = new FuzzClient(credentials, {
      ...rng, ...(algorithms ?? opts.algorithms ? { algorithms: algorithms ?? opts.algorithms } : {}), ...(tap ? { onKeys: (k) => tap.onKeys(k) } : {}),
      ...(from ? { resume: { snapshot: from.template.client, secret: from.secret } } : {}),
    });
    const server = new ServerStack({
      hostKeys: [k.host],
      credentials: { user: SELF_USER, password: SELF_PASSWORD, authorizedKeys: [k.client.publicKey.blob] },
      engine: {
        ...rng, ...(opts.algorithms ? { algorithms: opts.algorithms } : {}), limits: { kexTimeoutMs: SERVER_KEX_TIMEOUT_MS },
        ...(from ? { resume: { snapshot: from.template.server, secret: from.secret } } : {}),
      },
      ...(opts.variant ? { variant: opts.variant } : {}),
      ...(from?.template.login ? { authenticated: from.template.login } : {}),
    });
    const link = new SelfLink(client, server, tap);
    if (from?.template.login) {
      // logged in already: started, and its resume events (kexDone, serviceAccept) handled before the first step
      client.resumedAuthenticated();
      client.start(link.now());
      link.settleSync(() => true);
    }
    return link;
  };
  // per profile object (profiles are a few shared constants) and level; null: that profile could not get there
  const templates = new Map<Level, WeakMap<AlgorithmPreferences, Template | null>>([['kex', new WeakMap()], ['login', new WeakMap()]]);
  const defaults = new Map<Level, Template | null>();
  const templateFor = (algorithms: AlgorithmPreferences | undefined, level: Level): Template | null => {
    const cached = algorithms ? templates.get(level)!.get(algorithms) : defaults.get(level);
    if (cached !== undefined) return cached;
    const link = make(algorithms, undefined);
    const c = link.client;
    let t: Template | null = null;
    try {
      c.start(0);
      link.settleSync(() => true);
      if (level === 'login') {
        c.requestService('ssh-userauth');
        link.settleSync(() => true);
        c.auth('password', true);
        link.settleSync(() => true);
      }
      const method = link.server.authenticatedBy;
      if (c.kexDone && (level === 'kex' || (c.authenticated && method !== undefined))) {
        t = {
          client: c.engine.testing.snapshot(), server: link.server.engine.testing.snapshot(),
          ...(level === 'login' ? { login: { user: SELF_USER, method: method! } } : {}),
        };
      }
    } catch {
      t = null; // not at rest there (the variant broke it): such cases connect for real
    } finally {
      link.close();
    }
    if (algorithms) templates.get(level)!.set(algorithms, t); else defaults.set(level, t);
    return t;
  };
  const connectSync = (algorithms?: AlgorithmPreferences, tap?: TraceTap, start?: Phase): SelfLink => {
    const level = tap || start === undefined ? undefined : LEVEL_FOR_START[start];
    const template = level ? templateFor(algorithms, level) : null;
    // the resumed pair's keys come from this secret (EngineOptions.resume): fresh per connection, shared by its two ends
    return template ? make(algorithms, undefined, { template, secret: rngFn(32) }) : make(algorithms, tap);
  };
  return {
    name: opts.variant ? `self-${opts.variant.name}` : 'self',
    version: 'ssh-harness 0.1.0',
    kind: 'in-process',
    credentials,
    dictionary: { users: [SELF_USER], passwords: [SELF_PASSWORD], keyBlobs: [k.client.publicKey.blob, k.host.publicKey.blob] },
    allowsNone: false,
    budgets: { stepMs: 0, probeMs: 0 },
    connect: (algorithms, tap, start) => Promise.resolve(connectSync(algorithms, tap, start)),
    connectSync,
    close: () => Promise.resolve(),
  };
}
