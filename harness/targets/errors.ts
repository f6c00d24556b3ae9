/**
 * Errors of peer management. They are setup problems of this machine, not protocol findings, so the CLI
 * maps every PeerError to exit 2 (DESIGN §9) and prints `message` — which always names the fix.
 */
export type PeerErrorKind =
  | 'missing-binary' | 'docker-unavailable' | 'image-missing' | 'port-in-use' | 'startup-timeout'
  | 'startup-failed' | 'not-root' | 'unsupported-option' | 'unknown-target' | 'setup-failed';

export class PeerError extends Error {
  constructor(readonly kind: PeerErrorKind, message: string, readonly peerLog = '') {
    super(peerLog ? `${message}\n--- peer log (last lines) ---\n${lastLines(peerLog, 40)}` : message);
    this.name = 'PeerError';
  }
}

export function lastLines(text: string, n: number): string {
  const lines = text.trimEnd().split('\n');
  return lines.slice(-n).join('\n');
}
