/**
 * One SSH channel as a Node Duplex (RFC 4254 §5): the readable side is the peer's data (stdout for a session),
 * `stderr` carries extended data type 1 both ways, writes go out within the peer's window.
 *
 * Backpressure: the receive window re-opens only as the application reads (`_read` credits what left the
 * stream buffers), so a consumer that stops reading stops the sender; writes wait for WINDOW_ADJUST and for
 * the socket to drain.
 *
 * Events are typed (ChannelEvents, channel-events.ts): besides the stream ones, 'eof' (the peer sent EOF),
 * 'channel-gone' (the channel number is released: both CLOSEs exchanged or the connection ended; writes are dropped
 * from then on), 'exit' (code | null, signal?, coreDumped?, message?) on the client; on the server, after the policy
 * allowed them: 'pty', 'env', 'shell', 'exec', 'subsystem', 'window-change', 'signal', 'eow'. A connection lost
 * before the peer's EOF closes the readable sides without 'end' (see _onClosed): cut-off data never looks complete.
 *
 * Request events are never lost to a late listener: the reply goes out as soon as the policy decides, but an
 * event nobody listens for yet is held on the channel and delivered, in arrival order, once the first listener
 * for that name is attached (on the next microtask). So `ch.once('exec', …)` after `await t.accept()`, or after
 * any other await, still sees an exec that arrived earlier. At most 64 events per name are held (the oldest are
 * dropped beyond that, e.g. a flood of window-change); what they set stays readable on the channel (`pty`, `env`,
 * `command`, `subsystemName`, `shellRequested`, `exitCode`, `exitSignal`).
 */
import type { EventEmitter } from 'node:events';
import { Duplex, type Readable } from 'node:stream';
import { ChannelError, SSHError } from '../errors.js';
import { checkBoolean, checkInt, checkObject, checkString } from '../validate.js';
import type { ChannelEvents, ChannelListener } from './channel-events.js';
import { encodeChannelRequestData, type ChannelRequestDataInput } from '../messages/index.js';
import { EXTENDED_DATA_STDERR, type Connection } from './connection.js';
import type { ChannelOpenInfo, PtyInfo } from './policy.js';

/**
 * Resolves once a channel's readable side (the channel itself or its `stderr`) has ended, or has closed without
 * ending because the connection died first (then `channel.error` says why and `readableEnded` stays false).
 */
export function readableDone(side: Readable): Promise<void> {
  return new Promise((resolve) => {
    if (side.readableEnded || side.destroyed) { resolve(); return; }
    side.once('end', () => resolve());
    side.once('close', () => resolve());
  });
}

/** What a Channel needs from the Transport that owns it. */
export interface ChannelHost {
  readonly conn: Connection;
  /** Writes what the connection queued; safe to call from anywhere (re-entrant calls are deferred). */
  flush(): void;
  /** The socket asked us to stop (its buffer is full). */
  writeBlocked(): boolean;
  /** Calls `cb` once the socket has drained. */
  whenDrained(cb: () => void): void;
}

/** The result of a request the peer sent on this channel; `event` is emitted on the channel after the reply. */
export interface RequestOutcome {
  readonly ok: boolean;
  readonly event?: readonly [string, ...unknown[]];
}
export type ChannelRequestHandler = (channel: Channel, requestType: string, data: Uint8Array) => RequestOutcome | Promise<RequestOutcome>;

export interface ExitSignal {
  readonly signal: string;
  readonly coreDumped: boolean;
  readonly errorMessage: string;
}

export interface PtyRequest {
  term?: string;
  cols?: number;
  rows?: number;
  widthPx?: number;
  heightPx?: number;
  /** Encoded terminal modes (RFC 4254 §8); default: just TTY_OP_END. */
  modes?: Uint8Array;
}

/** Events that report a request of the peer (see the class comment): held until someone listens. */
const REQUEST_EVENTS: ReadonlySet<string> = new Set(['pty', 'env', 'shell', 'exec', 'subsystem', 'window-change', 'signal', 'eow', 'exit', 'xon-xoff']);
/** Held events per name; a peer's flood of requests nobody listens for must not grow memory without bound. */
const MAX_HELD_PER_EVENT = 64;

/** Most bytes handed to the connection between two checks of the socket and the key exchange. */
const WRITE_SLICE = 256 * 1024;

interface PendingWrite { data: Uint8Array; readonly ext: number | undefined; readonly cb: (err?: Error | null) => void }

export class Channel extends Duplex {
  /** Our channel number. */
  readonly id: number;
  readonly kind: string;
  readonly info: ChannelOpenInfo;
  /** Extended data (type 1, stderr): readable for what the peer sends, writable to send. */
  readonly stderr: Duplex;
  /** Server side: what the client asked for (set once the policy allowed it). */
  pty: PtyInfo | undefined;
  command: string | undefined;
  subsystemName: string | undefined;
  shellRequested = false;
  readonly env = new Map<string, string>();
  /** Client side: the remote exit status / signal once reported (RFC 4254 §6.10). */
  exitCode: number | undefined;
  exitSignal: ExitSignal | undefined;
  /** Set when the connection ended under this channel. */
  error: SSHError | undefined;

  private readonly writes: PendingWrite[] = [];
  private readonly replyWaiters: { resolve: (ok: boolean) => void; reject: (e: Error) => void }[] = [];
  private pushed = 0;
  private credited = 0;
  private remoteGone = false;
  /** The peer's EOF came: the readable sides hold all the peer will send. */
  private peerEof = false;
  private waitingDrain = false;
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;
  private readonly exitPromise: Promise<number | null>;
  private resolveExit!: (code: number | null) => void;
  /** Request events emitted while nobody listened for them, per event name, oldest first. */
  private readonly held = new Map<string, unknown[][]>();

  /** @hidden Channels are made by their Transport (openSession, openChannel, accept, the 'channel' event). */
  constructor(private readonly host: ChannelHost, id: number, info: ChannelOpenInfo, private readonly onRequest: ChannelRequestHandler) {
    // autoDestroy off: ending both directions must not send CLOSE before exit-status; CLOSE is explicit (close/exit/destroy)
    super({ allowHalfOpen: true, autoDestroy: false, readableHighWaterMark: 64 * 1024, writableHighWaterMark: 256 * 1024 });
    this.id = id;
    this.kind = info.kind;
    this.info = info;
    this.closedPromise = new Promise((r) => { this.resolveClosed = r; });
    this.exitPromise = new Promise((r) => { this.resolveExit = r; });
    const self = this;
    this.stderr = new Duplex({
      allowHalfOpen: true,
      readableHighWaterMark: 64 * 1024,
      read() { self.creditSoon(); },
      write(chunk: Buffer, _enc, cb) { self.enqueue(chunk, EXTENDED_DATA_STDERR, cb); },
      final(cb) { cb(); }, // RFC 4254 has no separate EOF for extended data
    });
    this.stderr.on('error', () => { /* surfaced on the channel itself */ });
    // 'newListener' fires before the listener is added: hand over what was held once it is in place
    this.emitter.on('newListener', (name: string | symbol) => {
      if (typeof name === 'string' && this.held.has(name)) queueMicrotask(() => this.releaseHeld(name));
    });
    const readStderr = this.stderr.read.bind(this.stderr);
    this.stderr.read = (size?: number) => {
      const chunk: unknown = readStderr(size);
      if (chunk !== null) this.creditSoon();
      return chunk;
    };
  }

  // ───────────────────────────── session requests (client side), RFC 4254 §6 ─────────────────────────────

  /** RFC 4254 §6.5: run a command. Rejects with ChannelError when the server refuses. */
  async exec(command: string): Promise<void> {
    checkString(command, 'exec: command');
    return this.mustSucceed({ kind: 'exec', command }, `exec ${JSON.stringify(command)}`);
  }

  async shell(): Promise<void> {
    return this.mustSucceed({ kind: 'shell' }, 'shell');
  }

  async subsystem(name: string): Promise<void> {
    checkString(name, 'subsystem: name', { nonEmpty: true });
    return this.mustSucceed({ kind: 'subsystem', name }, `subsystem ${JSON.stringify(name)}`);
  }

  /** RFC 4254 §6.2. */
  async requestPty(p: PtyRequest = {}): Promise<void> {
    checkObject(p, 'requestPty: options');
    if (p.term !== undefined) checkString(p.term, 'requestPty: term');
    for (const k of ['cols', 'rows', 'widthPx', 'heightPx'] as const) if (p[k] !== undefined) checkInt(p[k], `requestPty: ${k}`, 0, 0xffff_ffff);
    if (p.modes !== undefined && !(p.modes instanceof Uint8Array)) throw new SSHError('USAGE', 'requestPty: modes must be a Uint8Array (RFC 4254 §8 encoding)');
    return this.mustSucceed({
      kind: 'pty-req', term: p.term ?? 'vt100', cols: p.cols ?? 80, rows: p.rows ?? 24,
      widthPx: p.widthPx ?? 0, heightPx: p.heightPx ?? 0, modes: p.modes ?? new Uint8Array([0]),
    }, 'pty-req');
  }

  /** RFC 4254 §6.4. With wantReply false (what OpenSSH sends) the promise resolves once sent. */
  async setEnv(name: string, value: string, opts: { wantReply?: boolean } = {}): Promise<boolean> {
    checkString(name, 'setEnv: name', { nonEmpty: true });
    checkString(value, 'setEnv: value');
    if (checkObject<{ wantReply?: boolean }>(opts, 'setEnv: options').wantReply !== undefined) checkBoolean(opts.wantReply, 'setEnv: options.wantReply');
    return this.request({ kind: 'env', name, value }, opts.wantReply ?? true);
  }

  /** RFC 4254 §6.7 (no reply). */
  resizePty(cols: number, rows: number, widthPx = 0, heightPx = 0): void {
    for (const [v, n] of [[cols, 'cols'], [rows, 'rows'], [widthPx, 'widthPx'], [heightPx, 'heightPx']] as const) checkInt(v, `resizePty: ${n}`, 0, 0xffff_ffff);
    this.notify({ kind: 'window-change', cols, rows, widthPx, heightPx });
  }

  /** RFC 4254 §6.9: signal name without "SIG", e.g. 'TERM' (no reply). */
  signal(name: string): void {
    checkString(name, 'signal: name', { nonEmpty: true });
    this.notify({ kind: 'signal', signal: name });
  }

  /** True once the channel number is released ('channel-gone' was emitted): nothing more goes either way. */
  get channelGone(): boolean {
    return this.remoteGone;
  }

  /** Resolves with the exit status, or null when the command died by a signal or the channel closed without one. */
  exitStatus(): Promise<number | null> {
    return this.exitPromise;
  }

  // ───────────────────────────── server side ─────────────────────────────

  /** RFC 4254 §6.10. */
  sendExitStatus(status: number): void {
    checkInt(status, 'sendExitStatus: status', 0, 0xffff_ffff);
    this.notify({ kind: 'exit-status', status: status >>> 0 });
  }

  sendExitSignal(signal: string, coreDumped = false, errorMessage = ''): void {
    checkString(signal, 'sendExitSignal: signal', { nonEmpty: true });
    checkBoolean(coreDumped, 'sendExitSignal: coreDumped');
    checkString(errorMessage, 'sendExitSignal: errorMessage');
    this.notify({ kind: 'exit-signal', signal, coreDumped, errorMessage, language: '' });
  }

  /**
   * Server side: finishes a command the usual way: waits until everything written has been sent, then EOF,
   * exit-status (or exit-signal), CLOSE. Resolves when the peer's CLOSE arrives.
   */
  async exit(status: number | { signal: string; coreDumped?: boolean; errorMessage?: string }): Promise<void> {
    if (typeof status === 'number') checkInt(status, 'exit: status', 0, 0xffff_ffff);
    else checkString(checkObject<{ signal: string }>(status, 'exit: status').signal, 'exit: status.signal', { nonEmpty: true });
    if (!this.writableFinished && !this.remoteGone) {
      await new Promise<void>((resolve) => {
        const done = (): void => { this.off('finish', done); this.off('channel-gone', done); resolve(); };
        this.on('finish', done);
        this.on('channel-gone', done);
        if (!this.writableEnded) this.end();
      });
    }
    if (!this.remoteGone) {
      if (typeof status === 'number') this.sendExitStatus(status);
      else this.sendExitSignal(status.signal, status.coreDumped ?? false, status.errorMessage ?? '');
    }
    return this.close();
  }

  /** OpenSSH PROTOCOL "eow@openssh.com": no more writes from us, but keep reading. */
  sendEow(): void {
    this.notify({ kind: 'eow@openssh.com' });
  }

  /** A request without reply; false (nothing sent) when the channel is already closed. */
  private notify(data: ChannelRequestDataInput): boolean {
    if (this.remoteGone || !this.host.conn.info(this.id)?.open) return false;
    this.host.conn.sendRequest(this.id, data.kind, false, encodeChannelRequestData(data));
    this.host.flush();
    return true;
  }

  /**
   * Client, on a session: asks the server to forward our SSH agent (OpenSSH PROTOCOL.agent "auth-agent-req@openssh.com").
   * Resolves whether the server agreed; it then opens `auth-agent@openssh.com` channels to us, which the application
   * accepts (TransportOptions.checkChannelRequest) and joins to its agent socket (bridgeChannelSocket).
   */
  requestAgentForwarding(): Promise<boolean> {
    return this.request({ kind: 'auth-agent-req@openssh.com' }, true);
  }

  /**
   * Sends a channel request (RFC 4254 §5.4). With wantReply, resolves true/false with the peer's answer;
   * otherwise resolves true once queued. Low level: exec, shell, subsystem, requestPty and setEnv build these.
   * @hidden
   */
  request(data: ChannelRequestDataInput & { kind: string }, wantReply: boolean): Promise<boolean> {
    const info = this.host.conn.info(this.id);
    if (!info?.open || this.remoteGone) return Promise.reject(this.error ?? new ChannelError(`channel ${this.id} is closed`));
    const body = encodeChannelRequestData(data as ChannelRequestDataInput);
    const type = data.kind === 'unknown' ? 'unknown' : data.kind;
    this.host.conn.sendRequest(this.id, type, wantReply, body);
    this.host.flush();
    if (!wantReply) return Promise.resolve(true);
    return new Promise((resolve, reject) => this.replyWaiters.push({ resolve, reject }));
  }

  /**
   * Sends CLOSE now and resolves when the peer's CLOSE arrives. Writes still queued (waiting for window) are
   * dropped: to finish sending first, `end()` and wait for 'finish' (or use `exit()` / `bridgeChannelSocket`).
   */
  close(): Promise<void> {
    if (!this.remoteGone) {
      this.host.conn.close(this.id);
      this.host.flush();
    }
    return this.closedPromise;
  }

  private async mustSucceed(data: ChannelRequestDataInput, what: string): Promise<void> {
    const ok = await this.request(data as ChannelRequestDataInput & { kind: string }, true);
    if (!ok) throw new ChannelError(`${what} request refused by the peer`);
  }

  // ───────────────────────────── Duplex plumbing ─────────────────────────────

  override _read(): void {
    this.creditSoon();
  }

  /** Every consumption, flowing mode included (flow() calls read()), gives the window back. */
  override read(size?: number): ReturnType<Duplex['read']> {
    const chunk: ReturnType<Duplex['read']> = super.read(size);
    if (chunk !== null) this.creditSoon();
    return chunk;
  }

  override _write(chunk: Buffer | Uint8Array, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.enqueue(chunk, undefined, cb);
  }

  /**
   * RFC 4254 §5.3: EOF covers extended data too, so it goes out only after stderr's queued bytes (they share the
   * window with stdout and may still be waiting for it): ending the channel ends stderr, and EOF follows its 'finish'.
   */
  override _final(cb: (err?: Error | null) => void): void {
    let done = false;
    const sendEof = (): void => {
      if (done) return;
      done = true;
      if (!this.remoteGone && this.host.conn.info(this.id)?.open) {
        this.host.conn.sendEof(this.id);
        this.host.flush();
      }
      cb();
    };
    const err = this.stderr;
    if (err.writableFinished || err.destroyed) return sendEof();
    err.once('finish', sendEof);
    err.once('close', sendEof);
    if (!err.writableEnded) err.end();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.remoteGone) {
      this.host.conn.close(this.id);
      this.host.flush();
    }
    for (const w of this.writes.splice(0)) w.cb();
    cb(err);
  }

  /**
   * Node calls _read() *before* it takes the chunk being read out of the buffer, so readableLength there still
   * counts it: crediting at once would miss it, and a window smaller than the high-water mark would never reopen
   * (no further _read comes). Credit once the read has completed.
   */
  private creditScheduled = false;
  private creditSoon(): void {
    if (this.creditScheduled) return;
    this.creditScheduled = true;
    queueMicrotask(() => { this.creditScheduled = false; this.credit(); });
  }

  /** Gives the window back for whatever the application has taken out of both stream buffers. */
  private credit(): void {
    const consumed = this.pushed - this.readableLength - this.stderr.readableLength - this.credited;
    if (consumed <= 0) return;
    this.credited += consumed;
    this.host.conn.consume(this.id, consumed);
    this.host.flush();
  }

  private enqueue(chunk: Uint8Array, ext: number | undefined, cb: (err?: Error | null) => void): void {
    this.writes.push({ data: chunk, ext, cb });
    this.pumpWrites();
  }

  /** Sends queued writes as far as the window and the socket allow. */
  private pumpWrites(): void {
    const conn = this.host.conn;
    while (this.writes.length > 0) {
      const w = this.writes[0]!;
      // the peer closed: nothing can be delivered any more (like writing to a reset socket, minus the error)
      if (this.remoteGone || !conn.info(this.id)?.open) { this.writes.shift(); w.cb(); continue; }
      if (this.host.writeBlocked()) {
        if (!this.waitingDrain) {
          this.waitingDrain = true;
          this.host.whenDrained(() => { this.waitingDrain = false; this.pumpWrites(); });
        }
        break;
      }
      // Bounded slices, so a rekey that starts inside sendData (byte limit reached) or a full socket is seen
      // before the next slice: the peer's window alone may be far larger than what the engine may hold.
      const slice = Math.min(w.data.length, WRITE_SLICE);
      const n = conn.writable(this.id) > 0 ? conn.sendData(this.id, w.data.subarray(0, slice), w.ext) : 0;
      w.data = w.data.subarray(n);
      if (n < slice) break; // the window is used up: resumes on 'windowAvailable'
      if (w.data.length > 0) { this.host.flush(); continue; }
      this.writes.shift();
      w.cb();
    }
    this.host.flush();
  }

  // ───────────────────────────── events from the Transport ─────────────────────────────

  /** @internal */
  _onData(data: Uint8Array, extended: number | undefined): void {
    this.pushed += data.length;
    if (extended === undefined) this.push(data);
    else if (extended === EXTENDED_DATA_STDERR) this.stderr.push(data);
    else this.credit(); // unknown extended data types are dropped (RFC 4254 §5.2 defines only stderr)
  }

  /** @internal */
  _onWindow(): void {
    if (this.writes.length > 0) this.pumpWrites();
  }

  /** @internal */
  _onEof(): void {
    this.peerEof = true;
    this.push(null);
    this.stderr.push(null);
    this.emit('eof');
  }

  /** @internal */
  _onReply(ok: boolean): void {
    this.replyWaiters.shift()?.resolve(ok);
  }

  /** @internal The channel number is free: both CLOSEs were exchanged, or the connection ended (`error`). */
  _onClosed(error?: SSHError): void {
    if (this.remoteGone) return;
    this.remoteGone = true;
    if (error) this.error = error;
    for (const w of this.replyWaiters.splice(0)) w.reject(error ?? new ChannelError(`channel ${this.id} closed before the reply`));
    for (const w of this.writes.splice(0)) w.cb();
    if (error && !this.peerEof) {
      // The connection died before the peer's EOF: what arrived may be cut short, so the readable sides must not
      // end as if complete (a pipe into a file would finish it). They close without 'end', which pipeline() and
      // finished() report as a premature close; like node's http responses, they emit `error` only to a listener
      // (no crash for programs that never listened), and `channel.error` says why either way.
      for (const side of [this.stderr, this]) side.destroy(side.listenerCount('error') > 0 ? error : undefined);
    } else {
      if (!this.readableEnded) this.push(null);
      if (!this.stderr.readableEnded) this.stderr.push(null);
      // The writable side stays open: later writes are accepted and dropped (ending it here would turn an
      // application's next write into an unhandled 'write after end' error).
      // 'close' once the application has read everything (destroying earlier would drop buffered data)
      if (this.readableEnded) this.destroy(); else this.once('end', () => this.destroy());
    }
    this.resolveExit(this.exitCode ?? null);
    this.resolveClosed();
    this.emit('channel-gone');
  }

  /** @internal A request from the peer; `token` ≥ 0 when it wants a reply. */
  _onRequest(requestType: string, data: Uint8Array, token: number): void {
    let outcome: RequestOutcome | Promise<RequestOutcome>;
    try {
      outcome = this.onRequest(this, requestType, data);
    } catch {
      outcome = { ok: false };
    }
    const finish = (o: RequestOutcome): void => {
      if (token >= 0) {
        this.host.conn.replyRequest(this.id, token, o.ok);
        this.host.flush();
      }
      if (o.ok && o.event) this.deliver(o.event[0], o.event.slice(1));
    };
    if (outcome instanceof Promise) outcome.then(finish, () => finish({ ok: false }));
    else finish(outcome);
  }

  /** The EventEmitter under the typed event map (ChannelEvents), for delivering request events by name. */
  private get emitter(): EventEmitter {
    return this as unknown as EventEmitter;
  }

  /** Emits a request event now, or holds it until a listener for it exists (behind anything held before it). */
  private deliver(name: string, args: unknown[]): void {
    const queue = this.held.get(name);
    if (!queue && (this.listenerCount(name) > 0 || !REQUEST_EVENTS.has(name))) {
      this.emitter.emit(name, ...args);
      return;
    }
    if (queue) {
      queue.push(args);
      if (queue.length > MAX_HELD_PER_EVENT) queue.shift();
    } else this.held.set(name, [args]);
    if (this.listenerCount(name) > 0) queueMicrotask(() => this.releaseHeld(name));
  }

  private releaseHeld(name: string): void {
    const queue = this.held.get(name);
    if (!queue) return;
    // a `once` listener takes one event; the rest wait for the next listener
    while (queue.length > 0 && this.listenerCount(name) > 0) this.emitter.emit(name, ...queue.shift()!);
    if (queue.length === 0) this.held.delete(name);
  }

  /** @internal Exit status/signal from the peer (client side). */
  _onExit(code: number | undefined, signal: ExitSignal | undefined): void {
    if (code !== undefined) this.exitCode = code;
    if (signal !== undefined) this.exitSignal = signal;
    this.resolveExit(code ?? null);
  }
}

/** Typed EventEmitter methods of Channel (declaration merging): a misspelt event or a wrong listener does not compile. */
export interface Channel {
  on<E extends keyof ChannelEvents>(event: E, listener: ChannelListener<E>): this;
  once<E extends keyof ChannelEvents>(event: E, listener: ChannelListener<E>): this;
  off<E extends keyof ChannelEvents>(event: E, listener: ChannelListener<E>): this;
  addListener<E extends keyof ChannelEvents>(event: E, listener: ChannelListener<E>): this;
  removeListener<E extends keyof ChannelEvents>(event: E, listener: ChannelListener<E>): this;
  prependListener<E extends keyof ChannelEvents>(event: E, listener: ChannelListener<E>): this;
  prependOnceListener<E extends keyof ChannelEvents>(event: E, listener: ChannelListener<E>): this;
  emit<E extends keyof ChannelEvents>(event: E, ...args: ChannelEvents[E]): boolean;
}
