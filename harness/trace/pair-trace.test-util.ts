/**
 * For the trace tests (imported only from *.test.ts): impl ↔ impl sessions in the in-process Pair, recorded through
 * TraceSession into a pcap + JSONL + keylog, and what a tshark shows of them once it has the keylog. Several
 * sessions can share one capture (connection i is client port 40000+i), so one tshark run judges a whole matrix.
 */
import { readFileSync } from 'node:fs';
import type { PrivateKey } from '../../impl/crypto/types.js';
import { seededRng } from '../../impl/crypto/test-util.js';
import { encodeMessage } from '../../impl/messages/index.js';
import { Pair } from '../../impl/transport/testing/pair.js';
import type { TraceLine } from './jsonl.js';
import { TraceSession, type TraceIndex } from './trace-session.js';

const BASE = 1_700_000_000_000;

export interface PairRun { readonly index: TraceIndex; readonly lines: TraceLine[] }

export interface PairTraceOptions {
  readonly kex?: string;
  readonly hostKey?: string;
  readonly cipher: string;
  readonly mac?: string;
  readonly strictKex?: boolean;
  /** Whose keys the keylog holds (the recording side). */
  readonly side: 'client' | 'server';
  /** Two rekeys after the first data: one started by the client, one by the server. */
  readonly rekey?: boolean;
  /**
   * Seed of both engines' randomness (cookies, padding, ephemeral keys), so a recording is the same bytes every
   * run. Default: the capture's name and the connection number. With random keys, 1 session in 256 has a shared
   * secret with a leading zero byte, which tshark 4.0 gets wrong (see README "What tshark 4.0 decrypts").
   */
  readonly seed?: string;
}

/** Sessions recorded into one capture; `add` returns the connection number (client port 40000 + n). */
export class PairTraceSet {
  private readonly session: TraceSession;
  private pair: Pair | undefined;
  private base = BASE;
  private count = 0;

  constructor(dir: string, private readonly name: string, private readonly hostKey: PrivateKey, o: { readonly keywordLines?: boolean } = {}) {
    this.session = TraceSession.open({ dir, name, keylog: { keywordLines: o.keywordLines ?? true }, threaded: false, clock: () => this.base + (this.pair?.now ?? 0) });
  }

  /**
   * One session: kex, SERVICE_REQUEST, a password USERAUTH_REQUEST for user "u", three rounds of CHANNEL_DATA
   * (c2s 100, 101, 102 bytes; s2c 5000 each); with `rekey`, then a client rekey, c2s 77, a server rekey, s2c 20000, c2s 10.
   */
  add(o: PairTraceOptions): number {
    const algorithms = { kex: [o.kex ?? 'curve25519-sha256'], hostKey: [o.hostKey ?? 'ssh-ed25519'], cipher: [o.cipher], mac: [o.mac ?? 'hmac-sha2-256'] };
    const conn = this.session.connection(o.side);
    const hooks = { onPacket: conn.onPacket, onKeys: conn.onKeys };
    const strictKex = o.strictKex ?? true;
    const base = (this.base = BASE + this.count * 10_000);
    const seed = o.seed ?? `${this.name}/${this.count}`;
    const p = (this.pair = new Pair({
      client: { algorithms, strictKex, rng: seededRng(`${seed}/client`), ...(o.side === 'client' ? hooks : {}) },
      server: { algorithms, strictKex, rng: seededRng(`${seed}/server`), hostKeys: [this.hostKey], ...(o.side === 'server' ? hooks : {}) },
      tap: (from, bytes, now) => conn.bytes.chunk(from === 'client' ? 'c2s' : 's2c', bytes, base + now),
    }));
    p.onEvent = (_side, e) => { if (e.type === 'serviceRequest') p.server.acceptService(e.service); };
    const step = (): void => { p.now += 1; p.drive(); };
    p.start().drive();
    p.client.requestService('ssh-userauth');
    step();
    p.client.sendPayload(encodeMessage({ type: 'SSH_MSG_USERAUTH_REQUEST', user: 'u', service: 'ssh-connection', method: 'password', changePassword: false, password: 'pw' }));
    step();
    const data = (n: number, fill: number) => encodeMessage({ type: 'SSH_MSG_CHANNEL_DATA', recipientChannel: 0, data: new Uint8Array(n).fill(fill) });
    for (let i = 0; i < 3; i++) { p.client.sendPayload(data(100 + i, 1)); p.server.sendPayload(data(5000, 2)); step(); }
    if (o.rekey) {
      p.client.rekey();
      step();
      p.client.sendPayload(data(77, 3));
      step();
      p.server.rekey(); // and one started by the server
      p.server.sendPayload(data(20_000, 4));
      step();
      p.client.sendPayload(data(10, 5));
      step();
    }
    conn.bytes.close(base + p.now + 1);
    return this.count++;
  }

  close(): PairRun {
    const index = this.session.close();
    const lines = readFileSync(index.files.jsonl!, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TraceLine);
    return { index, lines };
  }
}

/** One session in its own capture. */
export function recordPairTrace(dir: string, name: string, hostKey: PrivateKey, o: PairTraceOptions & { readonly keywordLines?: boolean }): PairRun {
  const set = new PairTraceSet(dir, name, hostKey, o.keywordLines === undefined ? {} : { keywordLines: o.keywordLines });
  set.add(o);
  return set.close();
}

const DECODED_FIELDS: readonly string[] = [
  'tcp.srcport', 'tcp.dstport', 'ssh.message_code', 'ssh.service_name', 'ssh.userauth_user_name', 'ssh.userauth_method_name', 'ssh.channel_data_length',
];

/** tshark arguments that list, per frame, its ports and the decoded fields the tests compare. */
export function decodedArgs(run: PairRun): string[] {
  return ['-r', run.index.files.pcap!, '-o', `ssh.keylog_file:${run.index.files.keylog}`, '-Y', 'ssh',
    '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,', ...DECODED_FIELDS.flatMap((f) => ['-e', f])];
}

/** What tshark decoded of one connection, per direction: message codes, and the fields that prove decryption. */
export interface Decoded {
  readonly c2s: string[];
  readonly s2c: string[];
  readonly services: string[];
  readonly users: string[];
  readonly methods: string[];
  readonly dataLengths: { readonly c2s: number[]; readonly s2c: number[] };
}

/** Splits `decodedArgs` output by connection (client port 40000 + n). */
export function parseDecoded(out: string): Map<number, Decoded> {
  const byConn = new Map<number, { c2s: string[][]; s2c: string[][] }>();
  for (const line of out.split('\n')) {
    if (!line) continue;
    const r = line.split('\t');
    const [src, dst] = [Number(r[0]), Number(r[1])];
    const c2s = dst === 22;
    const n = (c2s ? src : dst) - 40000;
    const e = byConn.get(n) ?? { c2s: [], s2c: [] };
    byConn.set(n, e);
    (c2s ? e.c2s : e.s2c).push(r);
  }
  const col = (rows: string[][], i: number) => rows.flatMap((r) => (r[i] ? r[i]!.split(',') : []));
  const out2 = new Map<number, Decoded>();
  for (const [n, e] of byConn) {
    const all = [...e.c2s, ...e.s2c];
    out2.set(n, {
      c2s: col(e.c2s, 2), s2c: col(e.s2c, 2), services: col(all, 3), users: col(all, 4), methods: col(all, 5),
      dataLengths: { c2s: col(e.c2s, 6).map(Number), s2c: col(e.s2c, 6).map(Number) },
    });
  }
  return out2;
}

/** How much of a session (before any rekey) a tshark decrypted: everything, some of it, or nothing. */
export type Coverage = 'full' | 'partial' | 'none';

export function coverage(d: Decoded | undefined): Coverage {
  if (!d) return 'none';
  const full = d.services.filter((s) => s === 'ssh-userauth').length === 2 && d.users.includes('u') && d.methods.includes('password')
    && [100, 101, 102].every((n) => d.dataLengths.c2s.includes(n)) && d.dataLengths.s2c.filter((n) => n === 5000).length === 3;
  if (full) return 'full';
  // a wrong key gives garbage, not these values (tshark 4.0 shows undecryptable packets as random message codes)
  const some = d.services.includes('ssh-userauth') || d.users.includes('u') || [100, 101, 102].some((n) => d.dataLengths.c2s.includes(n)) || d.dataLengths.s2c.includes(5000);
  return some ? 'partial' : 'none';
}
