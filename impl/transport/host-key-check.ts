/**
 * The client's check of the server's host key K_S (RFC 4253 §8), once per key exchange, before our NEWKEYS: the
 * key given to connect() must match, then the application's verifier decides. A synchronous answer is final here;
 * a Promise is kept (`pendingVerdict`) for the Transport to await before it sends anything else. A re-exchange must
 * present the key accepted first. Every refusal is a HostKeyMismatch with SHA256 fingerprints.
 */
import type { PublicKey } from '../crypto/types.js';
import { HostKeyMismatch, SSHError, type HostKeyMismatchDetails } from '../errors.js';
import { fingerprintSHA256 } from '../keys/fingerprint.js';
import type { HostKeyContext, HostKeyVerifier } from '../transport-options.js';

export interface HostKeyCheckOptions {
  readonly host: string | undefined;
  readonly port: number | undefined;
  /** The blob given to connect({ hostKey }), if any. */
  readonly expected: Uint8Array | undefined;
  readonly verifier: HostKeyVerifier | undefined;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

export class HostKeyCheck {
  private accepted: Uint8Array | undefined;
  /** The verifier's asynchronous answer for the initial key exchange; rejects with the refusal. */
  pendingVerdict: Promise<void> | undefined;

  constructor(private readonly o: HostKeyCheckOptions) {}

  /** Throws HostKeyMismatch (or the verifier's SSHError) to refuse `key`. */
  check(key: PublicKey): void {
    const { host, port } = this.o;
    const where = host === undefined ? 'the server' : port === 22 ? host : `${host}:${port}`;
    const fingerprint = fingerprintSHA256(key.blob);
    const details = (expected: readonly Uint8Array[]): HostKeyMismatchDetails => ({
      ...(host !== undefined ? { host } : {}), ...(port !== undefined ? { port } : {}), keyType: key.type,
      receivedFingerprint: fingerprint, expectedFingerprints: expected.map((b) => fingerprintSHA256(b)),
    });
    if (this.accepted) {
      if (!sameBytes(this.accepted, key.blob)) {
        throw new HostKeyMismatch(`host key of ${where} changed during a key re-exchange: ${key.type} ${fingerprint}, accepted was ${fingerprintSHA256(this.accepted)}`, details([this.accepted]));
      }
      return;
    }
    const expected = this.o.expected;
    if (expected && !sameBytes(expected, key.blob)) {
      throw new HostKeyMismatch(`host key mismatch for ${where}: expected ${fingerprintSHA256(expected)}, the server presented ${key.type} ${fingerprint}`, details([expected]));
    }
    const verify = this.o.verifier;
    if (verify) {
      const refused = () => new HostKeyMismatch(`host key of ${where} (${key.type} ${fingerprint}) refused by verifyHostKey`, details(expected ? [expected] : []));
      const failed = (e: unknown) => (e instanceof SSHError ? e : new HostKeyMismatch(`verifyHostKey failed for ${where}: ${e instanceof Error ? e.message : String(e)}`, details([])));
      const context: HostKeyContext = { host, port, fingerprint };
      let answer: boolean | PromiseLike<boolean>;
      try {
        answer = verify(key, context);
      } catch (e) {
        throw failed(e);
      }
      if (isThenable(answer)) {
        this.pendingVerdict = Promise.resolve(answer).then((ok) => { if (ok !== true) throw refused(); }, (e: unknown) => { throw failed(e); });
        this.pendingVerdict.catch(() => undefined); // awaited by the Transport
      } else if (answer !== true) {
        throw refused();
      }
    }
    this.accepted = key.blob;
  }
}
