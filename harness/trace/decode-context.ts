/**
 * Follows a connection's messages to know how to decode the method-specific numbers (RFC 4251 §7):
 * 30–49 by the negotiated kex method (RFC 4253 §7.1: the first client kex algorithm the server also lists),
 * 60–79 by the method of the last SSH_MSG_USERAUTH_REQUEST (RFC 4252 §5). Feed it every message, in order.
 */
import type { DecodeContext, Message } from '../../impl/messages/index.js';
import type { Direction } from './tcp-reassembly.js';

type KexFamily = NonNullable<DecodeContext['kex']>;
type AuthContext = NonNullable<DecodeContext['auth']>;

/** The message-number family a kex method uses (its 30–49 messages), or undefined for unknown methods. */
export function kexFamily(kex: string): KexFamily | undefined {
  if (kex.startsWith('diffie-hellman-group-exchange-')) return 'dh-gex';
  if (kex.startsWith('diffie-hellman-group')) return 'dh';
  // ECDH (RFC 5656 §4), Curve25519/448 (RFC 8731), and the hybrid post-quantum methods that reuse 30/31
  if (/^(curve25519|curve448|ecdh-sha2-|sntrup761x25519|mlkem\d+(x25519|nistp))/.test(kex)) return 'ecdh';
  return undefined;
}

/** RFC 4253 §7.1: the first client algorithm that the server also supports. */
export function negotiate(client: readonly string[], server: readonly string[]): string | undefined {
  return client.find((a) => server.includes(a));
}

const AUTH_CONTEXTS: ReadonlySet<string> = new Set<AuthContext>(['publickey', 'password', 'keyboard-interactive']);

export class DecodeContextTracker {
  private clientKex: readonly string[] | undefined;
  private serverKex: readonly string[] | undefined;
  private ctx: { kex?: KexFamily; auth?: AuthContext } = {};
  /** The negotiated kex method name, once both KEXINITs were seen. */
  kexName: string | undefined;

  get context(): DecodeContext {
    return this.ctx;
  }

  /**
   * The context for a message sent in `direction`. Before both KEXINITs are known (a capture can show a kex
   * message ahead of the peer's KEXINIT, e.g. a guessed first kex packet, RFC 4253 §7), 30–49 from a side are
   * decoded with the family of that side's own first kex method.
   */
  contextFor(direction: Direction): DecodeContext {
    if (this.kexName !== undefined) return this.ctx;
    const own = direction === 'c2s' ? this.clientKex : this.serverKex;
    const kex = own?.[0] === undefined ? undefined : kexFamily(own[0]);
    return kex ? { ...this.ctx, kex } : this.ctx;
  }

  observe(direction: Direction, m: Message): void {
    if (m.type === 'SSH_MSG_KEXINIT') {
      if (direction === 'c2s') this.clientKex = m.kexAlgorithms; else this.serverKex = m.kexAlgorithms;
      if (this.clientKex && this.serverKex) {
        this.kexName = negotiate(this.clientKex, this.serverKex);
        const kex = this.kexName === undefined ? undefined : kexFamily(this.kexName);
        this.ctx = { ...(kex ? { kex } : {}), ...(this.ctx.auth ? { auth: this.ctx.auth } : {}) };
      }
    } else if (m.type === 'SSH_MSG_USERAUTH_REQUEST') {
      const auth = AUTH_CONTEXTS.has(m.method) ? (m.method as AuthContext) : undefined;
      this.ctx = { ...(this.ctx.kex ? { kex: this.ctx.kex } : {}), ...(auth ? { auth } : {}) };
    }
  }
}
