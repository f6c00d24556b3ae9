/**
 * The trace of one fuzz case's connection (issue 9): a pcap and the decoded JSONL of what went over the wire, and
 * the SSH keylog that lets Wireshark/tshark decrypt the pcap. `replay` writes one for the case it runs; a campaign
 * with `--pcap` / `--keylog` writes one for the confirming run of every finding, the run that replay repeats.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AlgorithmPreferences, KexSecrets } from '../../impl/transport/types.js';
import { MessageFormatter } from '../trace/jsonl.js';
import { KeylogWriter } from '../trace/keylog.js';
import { PcapWriter, type TcpRecorder } from '../trace/pcap-writer.js';
import { runCase } from './executor.js';
import type { FuzzTarget, Link, TraceTap } from './link.js';
import type { Phase, Step } from './steps.js';

export interface CaseTraceOptions {
  /** `<dir>/<id>.pcap` and `<dir>/<id>.jsonl`; none when undefined. */
  readonly dir?: string;
  /** The keylog file (appended to, mode 0600); none when undefined. */
  readonly keylogPath?: string;
}

export interface CaseTrace extends TraceTap {
  /** The files written so far (all of them once `finish` or `close` ran). */
  readonly files: readonly string[];
  /** Writes the JSONL from the case's link and closes everything; returns the files. */
  finish(link: Link): readonly string[];
  /** Closes the files without a JSONL (the case did not run to the end). Idempotent. */
  close(): void;
}

export function openCaseTrace(id: string, o: CaseTraceOptions): CaseTrace {
  if (o.dir) mkdirSync(o.dir, { recursive: true });
  if (o.keylogPath) mkdirSync(dirname(o.keylogPath), { recursive: true });
  const pcapPath = o.dir ? join(o.dir, `${id}.pcap`) : undefined;
  const pcap = pcapPath ? PcapWriter.toFile(pcapPath) : undefined;
  const keylog = o.keylogPath ? new KeylogWriter(o.keylogPath) : undefined;
  const files: string[] = [...(pcapPath ? [pcapPath] : []), ...(o.keylogPath ? [o.keylogPath] : [])];
  const base = Date.now();
  let rec: TcpRecorder | undefined;
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    rec?.close(Date.now());
    rec = undefined;
    pcap?.close();
    keylog?.close();
  };
  return {
    files,
    onBytes(direction, bytes, t) {
      if (!pcap || closed) return;
      if (!rec) { rec = pcap.connection(); rec.open(base + t); }
      rec.chunk(direction, bytes, base + t);
    },
    onKeys(k: KexSecrets) {
      // KeylogWriter takes K with its length prefix, as the engine gives it
      if (!closed) keylog?.onKeys(k);
    },
    onClose(t) { rec?.close(base + t); rec = undefined; },
    finish(link) {
      close();
      if (o.dir) {
        const jsonl = join(o.dir, `${id}.jsonl`);
        // the trace formatter of harness/trace: follows kex/auth to decode method numbers, redacts secrets
        const fmt = new MessageFormatter({ rawHex: false });
        const lines = link.client.log.trace.map((l) => fmt.formatJson(l.dir === 'out' ? 'c2s' : 's2c', l.seq, l.payload, l.timeMs, l.deviation));
        writeFileSync(jsonl, lines.join('\n') + (lines.length ? '\n' : ''));
        files.push(jsonl);
      }
      return files;
    },
    close,
  };
}

/**
 * `runCase` with the connection recorded as `<id>` (see `openCaseTrace`); nothing is recorded when `trace` names no
 * file. The files are closed even when the case throws (a harness error), and listed in `files` when it returns.
 */
export async function runTracedCase(target: FuzzTarget, id: string, start: Phase, steps: readonly Step[], algorithms: AlgorithmPreferences | undefined, trace: CaseTraceOptions): Promise<Awaited<ReturnType<typeof runCase>> & { files: readonly string[] }> {
  const tap = trace.dir || trace.keylogPath ? openCaseTrace(id, trace) : undefined;
  let run;
  try {
    run = await runCase(target, start, steps, algorithms, tap);
  } finally {
    tap?.close();
  }
  return { ...run, files: tap ? tap.finish(run.link) : [] };
}
