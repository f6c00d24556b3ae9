/**
 * Errors of peer management. They are setup problems of this machine, not protocol findings, so the CLI
 * maps every PeerError to exit 2 (the command-line contract in README.md) and prints `message` — which always names the fix.
 */
export type PeerErrorKind =
  | 'missing-binary' | 'docker-unavailable' | 'image-missing' | 'port-in-use' | 'startup-timeout'
  | 'startup-failed' | 'not-root' | 'unsupported-option' | 'unknown-target' | 'setup-failed';

const BRAND = Symbol.for('ssh-harness.PeerError');

export class PeerError extends Error {
  readonly [BRAND] = true;
  constructor(readonly kind: PeerErrorKind, message: string, readonly peerLog = '') {
    super(peerLog ? `${message}\n--- peer log (last lines) ---\n${lastLines(peerLog, 40)}` : message);
    this.name = 'PeerError';
  }
}

/**
 * `instanceof` fails when one module is loaded twice (tsx under mocha may load the same file once as CJS
 * and once as ESM after a dynamic import); the brand survives that.
 */
export function isPeerError(e: unknown, kind?: PeerErrorKind): e is PeerError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true && (kind === undefined || (e as PeerError).kind === kind);
}

export function lastLines(text: string, n: number): string {
  const lines = text.trimEnd().split('\n');
  return lines.slice(-n).join('\n');
}
