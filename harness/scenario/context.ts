/**
 * The runner API a check sees (TypeScript checks call it directly; data scenarios through the step
 * interpreter): open connections to the target, end with a verdict, note what happened. Everything the
 * check opens is closed by the runner when the check ends, whatever the outcome.
 */
import { join } from 'node:path';
import { defaultAlgorithms } from '../../impl/crypto/registry.js';
import { withPeerOnly } from './offer-fallback.js';
import { KeylogWriter } from '../trace/keylog.js';
import { TraceWriters } from '../trace/trace-writers.js';
import { ClientConn, type ClientConnectOptions, type ConnTrace } from './client-conn.js';
import { ConnectionRecorder, Evidence } from './evidence.js';
import { RawConn } from './raw-conn.js';
import { runClientPeer, ServerSide, type ClientRun, type ServeOptions } from './server-side.js';
import { testCredentials } from '../targets/test-user.js';
import { getClientPeer } from '../targets/registry.js';
import type { ClientResult } from '../targets/types.js';
import { checkSeed, seededRng } from './seed.js';
import type { CheckMeta, TargetInfo, TraceFiles, Verdict } from './types.js';
import { VerdictSignal } from './verdict.js';

export interface TraceOptions {
  /** Directory for this run's trace files (one set per check). */
  readonly dir: string;
  readonly pcap: boolean;
  readonly keylog: boolean;
}

let connectionCounter = 0;

/**
 * Our server's offer for a client peer that needs more than our defaults to connect at all (ClientPeer.
 * serverAlgorithms: lsh 2.1 knows only DH group14 with SHA-1 and ssh-rsa): the defaults plus those, appended, so
 * any client that has a default algorithm still negotiates it. A check that sets its own lists keeps them.
 */
async function withClientNeeds(client: string, o: ServeOptions): Promise<ServeOptions> {
  const needs = await getClientPeer(client).then((p) => p.serverAlgorithms, () => undefined);
  if (!needs) return o;
  const given = o.transport?.algorithms ?? {};
  const add = (kind: 'kex' | 'hostKey' | 'cipher' | 'mac' | 'compression'): string[] => {
    const mine = given[kind];
    if (mine) return [...mine];
    const base = defaultAlgorithms[kind];
    return [...base, ...(needs[kind] ?? []).filter((n) => !base.includes(n))];
  };
  const algorithms = { kex: add('kex'), hostKey: add('hostKey'), cipher: add('cipher'), mac: add('mac'), compression: add('compression') };
  return { ...o, transport: { ...o.transport, algorithms } };
}

export class CheckContext {
  readonly evidence = new Evidence();
  /** Values a data scenario stores between steps (`as:`), e.g. a channel or a sequence number. */
  readonly vars = new Map<string, unknown>();
  private readonly closers: (() => void)[] = [];
  private conns = 0;
  private traceWriters: TraceWriters | undefined;
  private keylog: KeylogWriter | undefined;
  readonly traceFiles: { pcap?: string; jsonl?: string; keylog?: string } = {};

  constructor(
    readonly target: TargetInfo,
    readonly check: CheckMeta,
    readonly runSeed: string,
    private readonly trace?: TraceOptions,
  ) {}

  /** Seed of this check's n-th connection (the runner reports the check's run seed). */
  seedFor(n: number): string {
    return checkSeed(this.runSeed, this.check.id, n);
  }

  /** A new connection number and its recorder; `ours` is the role our side plays on it. */
  recorder(ours: 'client' | 'server'): ConnectionRecorder {
    return new ConnectionRecorder(this.evidence, ++this.conns, ours);
  }

  /** Trace taps for connection `n`, when the run records traces. */
  traceFor(n: number, ours: 'client' | 'server'): ConnTrace | undefined {
    if (!this.trace || (!this.trace.pcap && !this.trace.keylog)) return undefined;
    const safe = this.check.id.replace(/[^A-Za-z0-9._-]/g, '_');
    if (this.trace.pcap && !this.traceWriters) {
      this.traceFiles.pcap = join(this.trace.dir, `${safe}.pcap`);
      this.traceFiles.jsonl = join(this.trace.dir, `${safe}.jsonl`);
      this.traceWriters = new TraceWriters({ pcap: { path: this.traceFiles.pcap, options: { onePacketPerSegment: false } }, jsonl: { path: this.traceFiles.jsonl } });
    }
    if (this.trace.keylog && !this.keylog) {
      this.traceFiles.keylog = join(this.trace.dir, `${safe}.keylog`);
      this.keylog = new KeylogWriter(this.traceFiles.keylog);
    }
    const id = ++connectionCounter;
    const tw = this.traceWriters;
    const kl = this.keylog;
    const clientIp = `10.0.${(n >> 8) & 0xff}.${(n & 0xff) + 1}`;
    tw?.connection(id, { role: ours, client: { ip: clientIp, port: 40000 + n }, server: { ip: '10.0.0.254', port: 22 } });
    let opened = false;
    const toDir = (d: 'in' | 'out') => ((d === 'out') === (ours === 'client') ? 'c2s' : 's2c');
    return {
      bytes: (d, b, t) => {
        if (!opened) { tw?.open(id, t); opened = true; }
        tw?.bytes(id, toDir(d), b, t);
      },
      packet: (d, seq, payload, deviation) => tw?.packet(id, d === 'out', seq, payload, Date.now(), deviation),
      ...(kl ? { keys: (k) => kl.onKeys({ ...k, role: ours }) } : {}),
      close: (t) => tw?.close(id, t),
    };
  }

  /** Packet tap for JSONL traces (the recorder covers evidence). */
  get traceSink(): TraceWriters | undefined {
    return this.traceWriters;
  }

  /** Our engine-based client connected to the target, version and KEXINIT already on their way. */
  async connect(o: ClientConnectOptions = {}): Promise<ClientConn> {
    const rec = this.recorder('client');
    const trace = this.traceFor(rec.conn, 'client');
    rec.tap = trace?.packet;
    const req = this.check.requires;
    const algorithms = o.algorithms ?? (req ? { ...(req.kex ? { kex: req.kex } : {}), ...(req.hostKey ? { hostKey: req.hostKey } : {}), ...(req.cipher ? { cipher: req.cipher } : {}), ...(req.mac ? { mac: req.mac } : {}), ...(req.compression ? { compression: req.compression } : {}) } : undefined);
    // checks that do not care about the kex method use a quick one (curve25519) when the peer has it
    const kex = algorithms?.kex ?? (this.target.kexInit?.kex.includes('curve25519-sha256') ? ['curve25519-sha256', ...defaultAlgorithms.kex.filter((k) => k !== 'curve25519-sha256')] : undefined);
    const k = this.target.kexInit;
    const peer = k ? { kex: k.kex, hostKey: k.hostKey, cipher: k.cipherC2S, mac: k.macC2S, compression: k.compC2S } : undefined;
    const algs = { ...withPeerOnly(kex ? { kex } : {}, peer, algorithms ?? {}), ...(algorithms ?? {}) };
    const c = await ClientConn.open(rec, this.target, seededRng(this.seedFor(rec.conn)), { ...o, ...(Object.keys(algs).length ? { algorithms: algs } : {}) }, trace);
    this.closers.push(() => c.close());
    return c;
  }

  /** A bare socket for version-exchange and cleartext-packet checks. */
  async connectRaw(): Promise<RawConn> {
    const rec = this.recorder('client');
    const trace = this.traceFor(rec.conn, 'client');
    rec.tap = trace?.packet;
    const c = await RawConn.open(rec, this.target, seededRng(this.seedFor(rec.conn)), trace);
    this.closers.push(() => c.close());
    return c;
  }

  /** Client-direction checks: our (deviating) server for one connection of the client peer. */
  async serve(o: ServeOptions = {}): Promise<ServerSide> {
    if (!this.check.client) throw new Error(`${this.check.id} is a client-direction check but no client peer was given`);
    const rec = this.recorder('server');
    const trace = this.traceFor(rec.conn, 'server');
    rec.tap = trace?.packet;
    const side = await ServerSide.start(rec, await testCredentials(), await withClientNeeds(this.check.client, o), trace);
    this.closers.push(() => side.close());
    return side;
  }

  /** Runs the check's client peer against `side` (after serve()). */
  runClient(side: ServerSide, r: ClientRun): Promise<ClientResult> {
    return runClientPeer(this.check.client!, side, r);
  }

  /** Registers cleanup for something the check started (servers of client-direction checks). */
  onCleanup(fn: () => void): void {
    this.closers.push(fn);
  }

  note(text: string): void {
    this.evidence.note(0, text);
  }

  verdict(v: Verdict, reason: string): never {
    this.evidence.add({ t: this.evidence.now(), conn: 0, dir: 'note', text: `${v}: ${reason}`, verdict: v });
    throw new VerdictSignal(v, reason);
  }

  fail(reason: string): never { return this.verdict('fail', reason); }
  pass(reason: string): never { return this.verdict('pass', reason); }
  notApplicable(reason: string): never { return this.verdict('not-applicable', reason); }
  inconclusive(reason: string): never { return this.verdict('inconclusive', reason); }

  /** Closes everything the check opened; returns the trace files written. */
  cleanup(): TraceFiles | undefined {
    for (const c of this.closers.splice(0).reverse()) {
      try { c(); } catch { /* already closed */ }
    }
    this.traceWriters?.finish();
    this.keylog?.close();
    return Object.keys(this.traceFiles).length ? { ...this.traceFiles } : undefined;
  }
}
