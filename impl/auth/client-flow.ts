/**
 * The client's authentication as Promises (paramiko's auth_* calls) over the sans-I/O AuthClient: asks for the
 * ssh-userauth service once (RFC 4253 §10), runs one method at a time in call order, answers password-change
 * requests and keyboard-interactive prompts through the caller's callbacks.
 */
import { AuthError, SSHError } from '../errors.js';
import type { AuthClient, AuthClientEvent } from './client.js';

/** paramiko's interactive handler: (title, instructions, prompts) → answers. */
export type InteractiveHandler = (name: string, instruction: string, prompts: readonly { prompt: string; echo: boolean }[]) => readonly string[] | Promise<readonly string[]>;

/** Supplies a new password when the server demands a change (RFC 4252 §8); undefined gives up. */
export type NewPasswordHandler = () => string | undefined | Promise<string | undefined>;

export interface ClientFlowHost {
  /** Sends SSH_MSG_SERVICE_REQUEST; the host calls serviceAccepted() on SSH_MSG_SERVICE_ACCEPT. */
  requestService(name: string): void;
  /** Throws when the connection has ended. */
  checkOpen(): void;
  flush(): void;
  onBanner(message: string, language: string): void;
  onAuthenticated(user: string): void;
}

interface Op {
  readonly resolve: (remaining: string[]) => void;
  readonly reject: (e: Error) => void;
  readonly user: string;
  readonly onInfo?: InteractiveHandler;
  readonly newPassword?: NewPasswordHandler;
}

export class ClientAuthFlow {
  private queue: Promise<unknown> = Promise.resolve();
  private op: Op | undefined;
  private service: { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } | undefined;

  constructor(readonly client: AuthClient, private readonly host: ClientFlowHost) {}

  /**
   * Runs one method: `begin` starts it on the AuthClient. Resolves with the methods still wanted (empty on
   * success, RFC 4252 §5.1 partial success otherwise); rejects AuthError when the server says no.
   */
  run(user: string, extra: { onInfo?: InteractiveHandler; newPassword?: NewPasswordHandler }, begin: (c: AuthClient) => void): Promise<string[]> {
    const attempt = async (): Promise<string[]> => {
      this.host.checkOpen();
      if (this.client.authenticated) throw new SSHError('USAGE', 'already authenticated');
      await this.userauthService();
      return new Promise<string[]>((resolve, reject) => {
        this.op = { resolve, reject, user, ...extra };
        begin(this.client);
        this.host.flush();
      });
    };
    const p = this.queue.then(attempt, attempt);
    this.queue = p.catch(() => undefined);
    return p;
  }

  serviceAccepted(): void {
    this.service?.resolve();
  }

  /** The connection ended: everything waiting fails with `error`. */
  fail(error: Error): void {
    this.service?.reject(error);
    const op = this.op;
    this.op = undefined;
    op?.reject(error);
  }

  onEvent(e: AuthClientEvent): void {
    const op = this.op;
    switch (e.type) {
      case 'banner':
        this.host.onBanner(e.message, e.language);
        return;
      case 'success':
        this.op = undefined;
        if (op) this.host.onAuthenticated(op.user);
        op?.resolve([]);
        return;
      case 'failure':
        this.op = undefined;
        if (e.partialSuccess) op?.resolve([...e.methods]);
        else op?.reject(new AuthError(`${e.method} authentication failed; the server allows: ${e.methods.join(',') || '(nothing)'}`, e.methods));
        return;
      case 'passwordChange':
        void this.answer(op, async () => {
          const next = await op?.newPassword?.();
          if (next === undefined) throw new AuthError(`the server requires a password change: ${JSON.stringify(e.prompt)}`, ['password']);
          this.client.changePassword(next);
        });
        return;
      case 'infoRequest':
        void this.answer(op, async () => {
          if (!op?.onInfo) throw new AuthError('keyboard-interactive prompts but no handler', ['keyboard-interactive']);
          this.client.respond(await op.onInfo(e.name, e.instruction, e.prompts));
        });
        return;
    }
  }

  private userauthService(): Promise<void> {
    if (!this.service) {
      let resolve!: () => void, reject!: (e: Error) => void;
      const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
      promise.catch(() => undefined);
      this.service = { promise, resolve, reject };
      this.host.requestService('ssh-userauth');
      this.host.flush();
    }
    return this.service.promise;
  }

  /** Runs a user callback that answers the server; on error the method is abandoned and the call fails. */
  private async answer(op: Op | undefined, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
      this.host.flush();
    } catch (e) {
      this.client.abandon();
      if (this.op === op) this.op = undefined;
      op?.reject(e instanceof Error ? e : new AuthError(String(e)));
    }
  }
}
