/**
 * For the trace tests (imported only from *.test.ts): an impl ↔ impl session in the in-process Pair, recorded through
 * TraceSession into a pcap + JSONL + keylog, and what a tshark shows of it once it has the keylog.
 */
import { readFileSync } from 'node:fs';
import type { PrivateKey } from '../../impl/crypto/types.js';
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
  /** Also write `SHARED_SECRET` lines (default true). */
  readonly keywordLines?: boolean;
}

/**
 * The session: kex, SERVICE_REQUEST, a password USERAUTH_REQUEST for user "u", three rounds of CHANNEL_DATA
 * (c2s 100, 101, 102 bytes; s2c 5000 each); with `rekey`, then CHANNEL_DATA c2s 77, a server rekey, s2c 20000, c2s 10.
 */
export function recordPairTrace(dir: string, name: string, hostKey: PrivateKey, o: PairTraceOptions): PairRun {
  const algorithms = { kex: [o.kex ?? 'curve25519-sha256'], hostKey: [o.hostKey ?? 'ssh-ed25519'], cipher: [o.cipher], mac: [o.mac ?? 'hmac-sha2-256'] };
  let pair: Pair | undefined;
  const s = TraceSession.open({ dir, name, keylog: { keywordLines: o.keywordLines ?? true }, threaded: false, clock: () => BASE + (pair?.now ?? 0) });
  const conn = s.connection(o.side);
  const hooks = { onPacket: conn.onPacket, onKeys: conn.onKeys };
  const strictKex = o.strictKex ?? true;
  pair = new Pair({
    client: { algorithms, strictKex, ...(o.side === 'client' ? hooks : {}) },
    server: { algorithms, strictKex, hostKeys: [hostKey], ...(o.side === 'server' ? hooks : {}) },
    tap: (from, bytes, now) => conn.bytes.chunk(from === 'client' ? 'c2s' : 's2c', bytes, BASE + now),
  });
  const p = pair;
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
  conn.bytes.close(BASE + p.now + 1);
  const index = s.close();
  const lines = readFileSync(index.files.jsonl!, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TraceLine);
  return { index, lines };
}

/** The tshark arguments that list, per SSH packet, its source and the decoded fields the tests compare. */
export const DECODED_FIELDS: readonly string[] = [
  'ip.src', 'ssh.message_code', 'ssh.service_name', 'ssh.userauth_user_name', 'ssh.userauth_method_name', 'ssh.channel_data_length',
];

export function decodedArgs(run: PairRun): string[] {
  return ['-r', run.index.files.pcap!, '-o', `ssh.keylog_file:${run.index.files.keylog}`, '-Y', 'ssh',
    '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,', ...DECODED_FIELDS.flatMap((f) => ['-e', f])];
}

/** What tshark decoded, per direction (client 10.0.0.1, server 10.0.0.2): message codes and the fields that prove decryption. */
export interface Decoded {
  readonly c2s: string[];
  readonly s2c: string[];
  readonly services: string[];
  readonly users: string[];
  readonly methods: string[];
  readonly dataLengths: { readonly c2s: number[]; readonly s2c: number[] };
}

export function parseDecoded(out: string): Decoded {
  const rows = out.split('\n').filter((l) => l.length > 0).map((l) => l.split('\t'));
  const col = (r: string[], i: number) => (r[i] ? r[i]!.split(',') : []);
  const from = (src: string) => rows.filter((r) => r[0] === src);
  return {
    c2s: from('10.0.0.1').flatMap((r) => col(r, 1)),
    s2c: from('10.0.0.2').flatMap((r) => col(r, 1)),
    services: rows.flatMap((r) => col(r, 2)),
    users: rows.flatMap((r) => col(r, 3)),
    methods: rows.flatMap((r) => col(r, 4)),
    dataLengths: { c2s: from('10.0.0.1').flatMap((r) => col(r, 5)).map(Number), s2c: from('10.0.0.2').flatMap((r) => col(r, 5)).map(Number) },
  };
}
