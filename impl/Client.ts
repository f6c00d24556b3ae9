/**
 * A convenience over Transport for the common case when the server's key is known: connect, authenticate, run a
 * command, collect its output. For known_hosts files and missing-host-key policies, use SSHClient.
 */
import { execCollect, type ExecOptions, type ExecResult } from './client/exec.js';
import type { PrivateKeyInput, PublicKeyInput } from './keys/key-input.js';
import { Transport, type HostKeyVerifier, type SocketSpec, type TransportOptions } from './Transport.js';
import { checkObject } from './validate.js';

export type { ExecOptions, ExecResult };

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
  exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    return execCollect(this.transport, command, opts);
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}

