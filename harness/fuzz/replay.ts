/**
 * Replays a corpus entry against a target: the same start phase, algorithms and steps, on a fresh connection,
 * with the same oracles — and writes the connection's trace (pcap, SSH keylog, decoded JSONL) so the finding
 * can be looked at in Wireshark. Also turns a `trace import` corpus entry (captured traffic) into a case:
 * its client→server service messages, sent after our own key exchange.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isTraceCorpusEntry, type TraceCorpusEntry } from '../trace/corpus.js';
import { countMessages, CorpusFormatError, readEntry, type FuzzCorpusEntry } from './corpus.js';
import { runTracedCase, type CaseTraceOptions } from './case-trace.js';
import type { CaseRecord } from './executor.js';
import type { FuzzTarget } from './link.js';
import type { Finding } from './oracles.js';
import type { FuzzCase, Step } from './steps.js';
import type { SeedCase } from './campaign.js';
import { isGreyboxSeed, readGreyboxSeed } from './greybox/queue.js';

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
  if (isGreyboxSeed(raw)) {
    // a grey-box queue entry: a case that reached new code (no finding to expect)
    const g = readGreyboxSeed(file);
    return { id: g.id, start: g.start, steps: g.steps, algorithms: g.algorithms };
  }
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

/**
 * Runs the case on a fresh connection. `trace.dir` gets `<id>.pcap` and `<id>.jsonl`, `trace.keylogPath` the keylog
 * (see case-trace.ts); nothing is recorded without them.
 */
export async function replay(input: ReplayInput, target: FuzzTarget, trace: CaseTraceOptions = {}): Promise<ReplayResult> {
  const { finding, record, files } = await runTracedCase(target, input.id, input.start, input.steps, input.algorithms, trace);
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
