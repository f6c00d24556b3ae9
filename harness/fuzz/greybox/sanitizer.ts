/**
 * The sanitizer oracle: AddressSanitizer and UndefinedBehaviorSanitizer reports in an instrumented server's
 * log (its stderr, where the per-connection children write too) are must-level `sanitizer` findings. A memory
 * error that does not crash the process, or undefined behaviour that happens to work, is invisible on the wire.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { Finding } from '../oracles.js';
import { packageRoot } from '../../targets/state.js';

/** Bounds: a report kept in a finding, and the log read per case. */
const MAX_REPORT = 16 * 1024;
const MAX_READ = 1 << 20;

const ASAN_HEAD = /==\d+==ERROR: (AddressSanitizer|LeakSanitizer): ([\w-]+)/;
const UBSAN_HEAD = /^(\S+?):(\d+):(\d+): runtime error: (.*)$/m;

export interface SanitizerReport {
  readonly tool: 'AddressSanitizer' | 'LeakSanitizer' | 'UndefinedBehaviorSanitizer';
  /** heap-buffer-overflow, SEGV, …; for UBSan the runtime error text. */
  readonly kind: string;
  /** The innermost frame of ours (`function file:line`), when the report has a stack. */
  readonly where?: string;
  /** The report text with its stack (bounded). */
  readonly text: string;
}

/** The first sanitizer report in `log`, or undefined. */
export function parseSanitizerReport(log: string): SanitizerReport | undefined {
  const a = ASAN_HEAD.exec(log);
  const u = UBSAN_HEAD.exec(log);
  if (!a && !u) return undefined;
  if (a && (!u || a.index <= u.index)) {
    const tail = log.slice(a.index);
    const end = tail.search(/==\d+==ABORTING|SUMMARY: \w+Sanitizer[^\n]*\n/);
    const text = (end >= 0 ? tail.slice(0, end + (/SUMMARY[^\n]*\n/.exec(tail.slice(end))?.[0].length ?? 12)) : tail).slice(0, MAX_REPORT);
    return { tool: a[1] as 'AddressSanitizer' | 'LeakSanitizer', kind: a[2]!, ...frameOf(text), text };
  }
  const tail = log.slice(u!.index);
  // then "0x…: note: pointer points here", a hex dump, and the stack (print_stacktrace=1) as "    #N 0x… in fn file:line"
  const lines = tail.split('\n');
  let n = 1;
  while (n < lines.length && n < 200 && (/^\s/.test(lines[n]!) || /^0x[0-9a-f]+: note:/.test(lines[n]!) || /^SUMMARY: UndefinedBehaviorSanitizer/.test(lines[n]!))) n++;
  const text = lines.slice(0, n).join('\n').slice(0, MAX_REPORT);
  return { tool: 'UndefinedBehaviorSanitizer', kind: u![4]!.trim(), where: `${u![1]!.replace(/^.*\//, '')}:${u![2]}`, text };
}

function frameOf(text: string): { where?: string } {
  const m = /#\d+ 0x[0-9a-f]+ in (\S+) (\S+)/.exec(text.replace(/#\d+ 0x[0-9a-f]+ in (?:__asan|__interceptor|__ubsan|mem|str)\w* \S+\n/g, ''));
  return m ? { where: `${m[1]} ${m[2]!.replace(/^.*\//, '')}` } : {};
}

export function sanitizerFinding(r: SanitizerReport): Finding {
  return {
    oracle: 'sanitizer', severity: 'must',
    message: `${r.tool}: ${r.kind.slice(0, 120)}${r.where ? ` in ${r.where}` : ''}`,
    detail: r.text,
  };
}

/** Reads what a log file gained since the last call (bounded per call; the file only grows). */
export class LogCursor {
  private offset: number;

  constructor(readonly path: string, fromStart = false) {
    this.offset = fromStart ? 0 : sizeOf(path);
  }

  next(): string {
    let fd: number | undefined;
    try {
      fd = openSync(this.path, 'r');
      const size = fstatSync(fd).size;
      if (size < this.offset) this.offset = 0;
      const len = Math.min(size - this.offset, MAX_READ);
      if (len <= 0) return '';
      const buf = Buffer.alloc(len);
      readSync(fd, buf, 0, len, this.offset);
      // a report being written right now: stop at the last complete line, the rest comes next time
      const lastNl = buf.lastIndexOf(10);
      const take = lastNl >= 0 ? lastNl + 1 : len === MAX_READ ? len : 0;
      this.offset += take;
      return buf.subarray(0, take).toString('utf8');
    } catch {
      return '';
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
}

function sizeOf(path: string): number {
  let fd: number | undefined;
  try { fd = openSync(path, 'r'); return fstatSync(fd).size; } catch { return 0; } finally { if (fd !== undefined) closeSync(fd); }
}

/**
 * ASan's run-time options for fuzzed servers (every connection is a fresh process, so per-process costs count):
 * no LeakSanitizer pass at each child's exit, malloc stacks by the frame-pointer unwinder and only 5 frames deep,
 * a 16 MB quarantine (a child lives for one case), no fake stacks for use-after-return. llvm-symbolizer starts
 * only when there is a report (symbolize=1 costs nothing until then).
 */
export const FUZZ_ASAN_OPTIONS = [
  'detect_leaks=0', 'abort_on_error=0', 'print_summary=1', 'symbolize=1', 'handle_abort=1',
  'fast_unwind_on_malloc=1', 'malloc_context_size=5', 'quarantine_size_mb=16', 'detect_stack_use_after_return=0',
].join(':');

/** Environment for an instrumented server: reports on stderr with stacks, no leak checking at each child's exit. */
export function sanitizerEnv(): NodeJS.ProcessEnv {
  return {
    // the pre-auth child of sshd is chrooted: a log_path would not resolve there, stderr (the peer log) always does
    ASAN_OPTIONS: FUZZ_ASAN_OPTIONS,
    // a suppression that matches makes the process start llvm-symbolizer to match it: keep the file for triaged
    // reports that cannot be compiled out (the recipes' ignorelists), not for anything on every connection
    UBSAN_OPTIONS: `print_stacktrace=1:print_summary=1:symbolize=1:suppressions=${join(packageRoot(), 'harness', 'targets', 'instrumented', 'ubsan.supp')}`,
    ASAN_SYMBOLIZER_PATH: '/usr/bin/llvm-symbolizer-14',
  };
}
