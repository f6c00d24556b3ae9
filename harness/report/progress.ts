/**
 * Progress while checks run: a bar with running counts on a TTY (cli-progress), otherwise one line per check
 * as it finishes (CI logs), failures with their reason.
 */
import { SingleBar } from 'cli-progress';
import type { Writable } from 'node:stream';
import type { CheckResult, Verdict } from '../scenario/types.js';
import { citations } from './format.js';

export interface Progress {
  result(r: CheckResult): void;
  stop(): void;
}

const LABEL: Record<Verdict, string> = { pass: 'PASS', fail: 'FAIL', inconclusive: 'INCO', 'not-applicable': 'N/A ' };

export function createProgress(total: number, o: { tty: boolean; stream: Writable; quiet?: boolean }): Progress {
  const counts: Record<Verdict, number> = { pass: 0, fail: 0, inconclusive: 0, 'not-applicable': 0 };
  let done = 0;
  if (o.quiet) return { result: () => undefined, stop: () => undefined };
  if (o.tty) {
    const bar = new SingleBar({
      format: '{bar} {value}/{total} | pass {pass} fail {fail} inconclusive {inconclusive} n/a {na} | {last}',
      stream: o.stream as NodeJS.WritableStream, hideCursor: true, clearOnComplete: false, barsize: 24, etaBuffer: 20,
    });
    bar.start(total, 0, { pass: 0, fail: 0, inconclusive: 0, na: 0, last: '' });
    return {
      result(r) {
        counts[r.verdict]++;
        bar.increment(1, { pass: counts.pass, fail: counts.fail, inconclusive: counts.inconclusive, na: counts['not-applicable'], last: r.id.slice(0, 48) });
      },
      stop() { bar.stop(); },
    };
  }
  const width = String(total).length;
  return {
    result(r) {
      done++;
      const known = r.known ? ' (known)' : '';
      const why = r.verdict === 'pass' ? '' : `  — ${r.reason.slice(0, 300)}${r.verdict === 'fail' ? ` [${citations(r)}]` : ''}`;
      o.stream.write(`[${String(done).padStart(width)}/${total}] ${LABEL[r.verdict]} ${r.level.padEnd(6)} ${r.id} (${r.durationMs} ms)${known}${why}\n`);
    },
    stop() { /* lines are already out */ },
  };
}
