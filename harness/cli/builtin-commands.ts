/**
 * The deterministic command set `ssh-harness serve` runs instead of real programs (the command-line contract in README.md):
 * `echo ARGS`, `cat` (stdin to stdout until EOF), `exit N`, `discard` (read everything, print the count),
 * `yes N` (write N bytes of "y\n"). A shell session reads command lines from stdin and runs them one by one;
 * with a pty it echoes what is typed and handles CR, backspace, ^C and ^D like a cooked terminal.
 */
import type { Readable, Writable } from 'node:stream';

export interface CommandIO {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** Aborted when the client sends a signal (RFC 4254 §6.9); the command stops and the caller reports it. */
  readonly signal?: AbortSignal;
}

export const BUILTIN_NAMES = ['echo', 'cat', 'exit', 'discard', 'yes'] as const;

/** Exit status for a command we do not have, like a POSIX shell. */
export const NOT_FOUND = 127;

const YES_BLOCK = Buffer.alloc(64 * 1024, 'y\n');

/** Writes and waits for 'drain' when the stream asks (or until it closes), leaving no listener behind. */
async function write(out: Writable, data: string | Uint8Array): Promise<void> {
  if (out.write(data)) return;
  await new Promise<void>((resolve) => {
    const done = (): void => { out.off('drain', done); out.off('close', done); resolve(); };
    out.on('drain', done);
    out.on('close', done);
  });
}

/** Resolves with the abort, so a blocked read can be abandoned when the client sends a signal. */
function aborted(signal: AbortSignal | undefined): Promise<null> | undefined {
  if (!signal) return undefined;
  if (signal.aborted) return Promise.resolve(null);
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(null), { once: true }));
}

/** Splits a command line on blanks (no quoting: the set has no use for it). */
export function splitCommand(line: string): string[] {
  return line.trim().split(/[ \t]+/).filter((w) => w.length > 0);
}

/** Where a command's stdin comes from: a stream, or the shell's line reader. */
interface Input {
  /** Next chunk, or null at EOF. */
  next(): Promise<Uint8Array | null>;
}

/**
 * Reads without destroying the stream at EOF (the default async iterator would, and destroying a channel
 * sends CLOSE before the exit status).
 */
function chunks(stdin: Readable): AsyncIterator<Buffer> {
  return stdin.iterator({ destroyOnReturn: false }) as AsyncIterator<Buffer>;
}

/**
 * Stream input in flowing mode: chunks are handed over as they arrive, never joined (the async iterator's
 * read() concatenates whatever is buffered, a copy per read on the bulk path). The stream is paused while
 * more than QUEUE_MAX bytes wait, so backpressure still reaches the channel's window.
 */
const QUEUE_MAX = 1 << 20;
function streamInput(stdin: Readable, signal?: AbortSignal): Input {
  const queue: Buffer[] = [];
  let queued = 0;
  let ended = stdin.readableEnded || stdin.destroyed;
  let wake: (() => void) | undefined;
  const notify = (): void => { const w = wake; wake = undefined; w?.(); };
  const onData = (c: Buffer): void => {
    queue.push(c);
    queued += c.length;
    if (queued > QUEUE_MAX) stdin.pause();
    notify();
  };
  const onEnd = (): void => { ended = true; notify(); };
  stdin.on('data', onData);
  stdin.once('end', onEnd);
  stdin.once('close', onEnd);
  signal?.addEventListener('abort', notify, { once: true });
  return {
    async next() {
      for (;;) {
        if (signal?.aborted) return null;
        const c = queue.shift();
        if (c) {
          queued -= c.length;
          if (queued <= QUEUE_MAX / 2 && stdin.isPaused()) stdin.resume();
          return c;
        }
        if (ended) {
          stdin.off('data', onData);
          return null;
        }
        await new Promise<void>((r) => { wake = r; });
      }
    },
  };
}

/** Runs one built-in command line; resolves with its exit status. */
export async function runBuiltin(line: string, io: CommandIO): Promise<number> {
  return run(splitCommand(line), io, streamInput(io.stdin, io.signal));
}

async function run(words: string[], io: CommandIO, input: Input): Promise<number> {
  const [name, ...args] = words;
  switch (name) {
    case undefined:
      return 0;
    case 'echo':
      await write(io.stdout, `${args.join(' ')}\n`);
      return 0;
    case 'exit': {
      const n = args[0] === undefined ? 0 : Number.parseInt(args[0], 10);
      // POSIX: the status is taken modulo 256
      return Number.isFinite(n) ? ((n % 256) + 256) % 256 : 2;
    }
    case 'cat':
      for (let c = await input.next(); c !== null && !io.signal?.aborted; c = await input.next()) await write(io.stdout, c);
      return 0;
    case 'discard': {
      let n = 0;
      for (let c = await input.next(); c !== null && !io.signal?.aborted; c = await input.next()) n += c.length;
      await write(io.stdout, `${n}\n`);
      return 0;
    }
    case 'yes': {
      const total = args[0] === undefined ? 0 : Number.parseInt(args[0], 10);
      if (!Number.isSafeInteger(total) || total < 0) {
        await write(io.stderr, `yes: bad byte count ${JSON.stringify(args[0])}\n`);
        return 2;
      }
      for (let left = total; left > 0 && !io.signal?.aborted; left -= YES_BLOCK.length) {
        await write(io.stdout, left >= YES_BLOCK.length ? YES_BLOCK : YES_BLOCK.subarray(0, left));
      }
      return 0;
    }
    default:
      await write(io.stderr, `${name}: command not found (built-ins: ${BUILTIN_NAMES.join(', ')})\n`);
      return NOT_FOUND;
  }
}

/**
 * Cooked-terminal input for a shell with a pty: echoes printable input, CR or LF ends a line (echoed as CR LF),
 * DEL/BS erase, ^C drops the line, ^D on an empty line is EOF. Without a pty, lines are split on LF.
 */
class LineInput {
  private buf = '';
  private readonly lines: string[] = [];
  private eof = false;
  private readonly it: AsyncIterator<Buffer>;
  private readonly stop: Promise<null> | undefined;

  constructor(stdin: Readable, private readonly echo: ((s: string) => Promise<void>) | undefined, private readonly signal?: AbortSignal) {
    this.it = chunks(stdin);
    this.stop = aborted(signal);
  }

  async readLine(): Promise<string | null> {
    for (let guard = 0; ; guard++) {
      const l = this.lines.shift();
      if (l !== undefined) return l;
      if (this.eof || this.signal?.aborted) {
        if (this.buf.length === 0) return null;
        const rest = this.buf;
        this.buf = '';
        return rest;
      }
      const r = await (this.stop ? Promise.race([this.it.next(), this.stop]) : this.it.next());
      if (r === null) continue; // aborted: the loop returns what is buffered, then null
      if (r.done) { this.eof = true; continue; }
      await this.feed(r.value.toString('latin1'));
      if (guard > 1e9) return null;
    }
  }

  /** Lines as raw chunks (for `cat` inside the shell). */
  async next(): Promise<Uint8Array | null> {
    const l = await this.readLine();
    return l === null ? null : Buffer.from(`${l}\n`, 'latin1');
  }

  private async feed(s: string): Promise<void> {
    if (!this.echo) {
      const parts = (this.buf + s).split('\n');
      this.buf = parts.pop()!;
      for (const p of parts) this.lines.push(p.replace(/\r$/, ''));
      return;
    }
    let echoed = '';
    for (const ch of s) {
      if (ch === '\r' || ch === '\n') {
        // CR LF from a terminal is one line end
        if (ch === '\n' && this.lastWasCr) { this.lastWasCr = false; continue; }
        this.lastWasCr = ch === '\r';
        this.lines.push(this.buf);
        this.buf = '';
        echoed += '\r\n';
        continue;
      }
      this.lastWasCr = false;
      if (ch === '\x7f' || ch === '\b') {
        if (this.buf.length > 0) { this.buf = this.buf.slice(0, -1); echoed += '\b \b'; }
      } else if (ch === '\x03') {
        this.buf = '';
        echoed += '^C\r\n';
        this.lines.push('');
      } else if (ch === '\x04') {
        if (this.buf.length === 0) { this.eof = true; break; }
      } else if (ch >= ' ') {
        this.buf += ch;
        echoed += ch;
      }
    }
    if (echoed) await this.echo(echoed);
  }

  private lastWasCr = false;
}

/** ONLCR: a terminal turns LF into CR LF on output. */
function onlcr(out: Writable): Writable {
  const w = {
    write(data: string | Uint8Array): boolean {
      const s = typeof data === 'string' ? data : Buffer.from(data).toString('latin1');
      return out.write(Buffer.from(s.replace(/\r?\n/g, '\r\n'), 'latin1'));
    },
    once: out.once.bind(out),
  };
  return w as unknown as Writable;
}

/**
 * A shell session: reads command lines and runs the built-ins until `exit N` (its status) or EOF (0).
 * With `pty`, echoes input, prints a "$ " prompt and translates LF to CR LF.
 */
export async function runShell(io: CommandIO, opts: { pty: boolean }): Promise<number> {
  const stdout = opts.pty ? onlcr(io.stdout) : io.stdout;
  const stderr = opts.pty ? onlcr(io.stderr) : io.stderr;
  const input = new LineInput(io.stdin, opts.pty ? (s) => write(io.stdout, s) : undefined, io.signal);
  const prompt = async (): Promise<void> => { if (opts.pty) await write(io.stdout, '$ '); };
  await prompt();
  for (let line = await input.readLine(); line !== null; line = await input.readLine()) {
    const words = splitCommand(line);
    if (words[0] === 'exit') return run(words, io, input);
    await run(words, { ...io, stdout, stderr }, input);
    if (io.signal?.aborted) return 130;
    await prompt();
  }
  return 0;
}
