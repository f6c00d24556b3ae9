/**
 * Replays a corpus entry against a target: the same start phase, algorithms and steps, on a fresh connection,
 * with the same oracles — and writes the connection's trace (pcap, SSH keylog, decoded JSONL) so the finding
 * can be looked at in Wireshark. Also turns a `trace import` corpus entry (captured traffic) into a case:
 * its client→server service messages, sent after our own key exchange.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MessageFormatter } from '../trace/jsonl.js';
import type { KexSecrets } from '../../impl/transport/types.js';
import { KeylogWriter } from '../trace/keylog.js';
import { PcapWriter, type TcpRecorder } from '../trace/pcap-writer.js';
import { isTraceCorpusEntry, type TraceCorpusEntry } from '../trace/corpus.js';
import { countMessages, CorpusFormatError, readEntry, type FuzzCorpusEntry } from './corpus.js';
import { runCase, type CaseRecord } from './executor.js';
import type { FuzzTarget, TraceTap } from './link.js';
import type { Finding } from './oracles.js';
import type { FuzzCase, Step } from './steps.js';
import type { SeedCase } from './campaign.js';

export interface ReplayResult {
  /** The finding the replay produced (undefined: the case passes now). */
  readonly finding?: Finding;
  /** The entry's oracle fired again. */
  readonly reproduced: boolean;
  readonly record: CaseRecord;
  readonly files: readonly string[];
}

export interface ReplayInput extends FuzzCase {
  readonly id: string;
  readonly algorithms: FuzzCorpusEntry['algorithms'];
  readonly expected?: Finding;
}

/** Reads a fuzz corpus entry or a `trace import` entry (anything else is a CorpusFormatError). */
export function loadReplayInput(file: string): ReplayInput {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CorpusFormatError(file, `cannot read: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new CorpusFormatError(file, `invalid JSON: ${(e as Error).message}`);
  }
  if (isTraceCorpusEntry(raw)) return fromTrace(file, raw);
  const e = readEntry(file);
  return { id: e.id, start: e.start, steps: e.steps, algorithms: e.algorithms, expected: e.finding };
}

/**
 * A captured connection as a case: the client's messages from SERVICE_REQUEST on (kex messages are bound to
 * the captured keys and cannot be replayed), sent as they were, after our own kex.
 */
export function fromTrace(file: string, t: TraceCorpusEntry): ReplayInput {
  const conn = t.connections[0];
  if (!conn) throw new CorpusFormatError(file, 'the trace entry has no connection');
  const steps: Step[] = [];
  for (const m of conn.messages) {
    if (m.direction !== 'c2s' || m.payload === undefined || m.id < 5 || (m.id >= 20 && m.id < 50)) continue;
    if (!/^(?:[0-9a-f]{2})+$/i.test(m.payload)) throw new CorpusFormatError(file, `message ${m.seq}: payload is not hex`);
    const b = Uint8Array.from(Buffer.from(m.payload, 'hex'));
    steps.push({ op: 'send', msg: { type: 'unknown', id: b[0]!, body: b.subarray(1) } });
  }
  return { id: `trace-${conn.id}`, start: 'newkeys', steps, algorithms: {} };
}

/** A trace tap writing `<dir>/<id>.pcap`, `.keylog` (0600) and, after the run, `.jsonl`. */
function fileTap(dir: string, id: string): TraceTap & { files: string[]; finish(): void } {
  mkdirSync(dir, { recursive: true });
  const pcapPath = join(dir, `${id}.pcap`);
  const keylogPath = join(dir, `${id}.keylog`);
  const pcap = PcapWriter.toFile(pcapPath);
  const keylog = new KeylogWriter(keylogPath);
  const base = Date.now();
  let rec: TcpRecorder | undefined;
  return {
    files: [pcapPath, keylogPath],
    onBytes(direction, bytes, t) {
      if (!rec) { rec = pcap.connection(); rec.open(base + t); }
      rec.chunk(direction, bytes, base + t);
    },
    onKeys(k: KexSecrets) {
      // KexSecrets.sharedSecret is K as it enters the hash (with its length prefix); the keylog wants the body
      const body = k.sharedSecret.length >= 4 && new DataView(k.sharedSecret.buffer, k.sharedSecret.byteOffset).getUint32(0) === k.sharedSecret.length - 4
        ? k.sharedSecret.subarray(4) : k.sharedSecret;
      keylog.onKeys({ kex: k.kex, role: k.role, clientCookie: k.clientCookie, ephemeralPrivateKey: k.ephemeralPrivateKey, sharedSecret: body, sessionId: k.sessionId, exchangeHash: k.exchangeHash });
    },
    onClose(t) { rec?.close(base + t); rec = undefined; },
    finish() { rec?.close(Date.now()); pcap.close(); keylog.close(); },
  };
}

export async function replay(input: ReplayInput, target: FuzzTarget, traceDir?: string): Promise<ReplayResult> {
  const tap = traceDir ? fileTap(traceDir, input.id) : undefined;
  const { finding, record, link } = await runCase(target, input.start, input.steps, input.algorithms, tap);
  const files: string[] = [];
  if (tap) {
    tap.finish();
    files.push(...tap.files);
    const jsonl = join(traceDir!, `${input.id}.jsonl`);
    // the trace formatter of harness/trace: follows kex/auth to decode method numbers, redacts secrets
    const fmt = new MessageFormatter({ rawHex: false });
    const lines = link.client.log.trace.map((l) => JSON.stringify(fmt.format(l.dir === 'out' ? 'c2s' : 's2c', l.seq, l.payload, l.timeMs, l.deviation)));
    writeFileSync(jsonl, lines.join('\n') + (lines.length ? '\n' : ''));
    files.push(jsonl);
  }
  return { ...(finding ? { finding } : {}), reproduced: input.expected !== undefined && finding?.oracle === input.expected.oracle, record, files };
}

export { countMessages };

/** Every corpus entry under `dir` (fuzz findings and `trace import` entries), as seed cases for a campaign. */
export function loadSeeds(dir: string): { seeds: SeedCase[]; skipped: string[] } {
  const seeds: SeedCase[] = [];
  const skipped: string[] = [];
  const walk = (d: string, depth: number): void => {
    if (depth > 4) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p, depth + 1);
      else if (e.name.endsWith('.json')) {
        try {
          const r = loadReplayInput(p);
          seeds.push({ file: p, start: r.start, algorithms: r.algorithms, steps: r.steps });
        } catch (err) {
          skipped.push(err instanceof Error ? err.message : String(err));
        }
      }
    }
  };
  walk(dir, 0);
  return { seeds, skipped };
}
