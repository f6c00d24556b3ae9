/**
 * A convenience over Transport for the common case when the server's key is known: connect, authenticate, run a
 * command, collect its output. For known_hosts files and missing-host-key policies, use SSHClient.
 */
import type { Readable } from 'node:stream';
import type { PrivateKeyInput, PublicKeyInput } from './keys/key-input.js';
import { Transport, type HostKeyVerifier, type SocketSpec, type TransportOptions } from './Transport.js';
import { checkObject } from './validate.js';

export interface ClientOptions {
  readonly username: string;
  readonly password?: string;
  /** File contents (string/Buffer), parsePrivateKey()'s result, a PrivateKey or a private KeyObject. */
  readonly privateKey?: PrivateKeyInput;
  /** Decrypts an encrypted `privateKey` file. */
  readonly passphrase?: string;
  /** Expected server host key; a different one fails with HostKeyMismatch. */
  readonly hostKey?: PublicKeyInput;
  /** Host key check when no `hostKey` is given (one of the two is required; see TransportOptions.verifyHostKey). */
  readonly verifyHostKey?: HostKeyVerifier;
  readonly transport?: TransportOptions;
}

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

export class Client {
  private constructor(readonly transport: Transport) {}

  /** Connects and authenticates. */
  static async connect(target: SocketSpec, opts: ClientOptions): Promise<Client> {
    const o = checkObject<ClientOptions>(opts, 'Client.connect: options');
    const t = new Transport(target, { ...o.transport, ...(o.verifyHostKey ? { verifyHostKey: o.verifyHostKey } : {}) });
    try {
      await t.connect({
        username: o.username,
        ...(o.password !== undefined ? { password: o.password } : {}),
        ...(o.privateKey !== undefined ? { privateKey: o.privateKey } : {}),
        ...(o.passphrase !== undefined ? { passphrase: o.passphrase } : {}),
        ...(o.hostKey !== undefined ? { hostKey: o.hostKey } : {}),
      });
    } catch (e) {
      await t.close(100).catch(() => undefined);
      throw e;
    }
    return new Client(t);
  }

  /** One command on a fresh connection: `Client.exec('127.0.0.1:22', { username, password }, 'uname -a')`. */
  static async exec(target: SocketSpec, opts: ClientOptions & ExecOptions, command: string): Promise<ExecResult> {
    const c = await Client.connect(target, opts);
    try {
      return await c.exec(command, opts);
    } finally {
      await c.close();
    }
  }

  /** Runs `command` on a new session channel and collects stdout, stderr and the exit status. */
  async exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const ch = await this.transport.openSession();
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    ch.on('data', (d: Buffer) => out.push(d));
    ch.stderr.on('data', (d: Buffer) => err.push(d));
    const ended = Promise.all([new Promise((r) => ch.once('end', r)), new Promise((r) => ch.stderr.once('end', r))]);
    for (const [k, v] of Object.entries(opts.env ?? {})) await ch.setEnv(k, v, { wantReply: false });
    if (opts.pty) await ch.requestPty();
    await ch.exec(command);
    const stdin = opts.stdin;
    if (stdin === undefined) ch.end();
    else if (typeof stdin === 'string' || stdin instanceof Uint8Array) ch.end(stdin);
    else stdin.pipe(ch);
    const code = await ch.exitStatus();
    await ended;
    if (this.transport.closeError && code === null && !ch.exitSignal) throw this.transport.closeError;
    return { stdout: Buffer.concat(out), stderr: Buffer.concat(err), code, ...(ch.exitSignal ? { signal: ch.exitSignal.signal } : {}) };
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}

