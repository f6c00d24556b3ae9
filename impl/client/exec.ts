/** Running one command on a session channel and collecting its output (Client.exec, SSHClient.exec). */
import type { Readable } from 'node:stream';
import type { Transport } from '../Transport.js';
import { SSHError } from '../errors.js';
import { readableDone } from '../connection/channel.js';
import { checkBoolean, checkObject, checkString, usage } from '../validate.js';

export interface ExecOptions {
  /** Sent to the command's stdin, then EOF. Default: EOF right away. */
  readonly stdin?: Uint8Array | string | Readable;
  /** Request a pty first (RFC 4254 §6.2). */
  readonly pty?: boolean;
  readonly env?: Readonly<Record<string, string>>;
}

export interface ExecResult {
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  /** Exit status, or null when the command died by a signal or none was reported. */
  readonly code: number | null;
  readonly signal?: string;
}

/** Runs `command` on a new session channel of `t` and collects stdout, stderr and the exit status. */
export async function execCollect(t: Transport, command: string, opts: ExecOptions = {}): Promise<ExecResult> {
  checkString(command, 'exec: command');
  const o = checkObject<ExecOptions>(opts, 'exec: options');
  if (o.pty !== undefined) checkBoolean(o.pty, 'exec: options.pty');
  if (o.stdin !== undefined && typeof o.stdin !== 'string' && !(o.stdin instanceof Uint8Array) && typeof (o.stdin as Readable).pipe !== 'function') {
    throw usage('exec: options.stdin', 'a string, a Buffer or a Readable', o.stdin);
  }
  for (const [k, v] of Object.entries(checkObject<Record<string, unknown>>(o.env, 'exec: options.env'))) checkString(v, `exec: options.env.${k}`);
  const ch = await t.openSession();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  ch.on('data', (d: Buffer) => out.push(d));
  ch.stderr.on('data', (d: Buffer) => err.push(d));
  const ended = Promise.all([readableDone(ch), readableDone(ch.stderr)]);
  for (const [k, v] of Object.entries(o.env ?? {})) await ch.setEnv(k, v, { wantReply: false });
  if (o.pty) await ch.requestPty();
  await ch.exec(command);
  const stdin = o.stdin;
  if (stdin === undefined) ch.end();
  else if (typeof stdin === 'string' || stdin instanceof Uint8Array) ch.end(stdin);
  else stdin.pipe(ch);
  const code = await ch.exitStatus();
  await ended;
  // the connection died before the output was complete: no result made of a cut-off stream
  if (!ch.readableEnded || !ch.stderr.readableEnded) {
    throw t.closeError ?? ch.error ?? new SSHError('CLOSED', `the connection was lost before the output of ${JSON.stringify(command)} was complete`);
  }
  if (code === null && !ch.exitSignal) {
    const cause = t.closeError ?? ch.error;
    if (cause) throw cause;
    if (!t.isActive()) throw new SSHError('CLOSED', `the connection was closed before ${JSON.stringify(command)} reported an exit status`);
  }
  return { stdout: Buffer.concat(out), stderr: Buffer.concat(err), code, ...(ch.exitSignal ? { signal: ch.exitSignal.signal } : {}) };
}
