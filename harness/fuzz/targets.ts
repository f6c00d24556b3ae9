/**
 * Target names for `fuzz` and `replay`: `self` (our reference server in-process, sans-I/O: the fast path),
 * `self:<variant>` (a deliberately broken variant of it, for finding-power checks), `self-tcp` (the reference
 * Transport on loopback), any peer of harness/targets (`sshd`, `openssh:bookworm`, `dropbear`, …) started for
 * the campaign, or `tcp://host:port` (a running server).
 */
import { selfTarget } from './self/self-target.js';
import { VARIANTS } from './self/variants.js';
import type { FuzzTarget } from './link.js';

export class TargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetError';
  }
}

export interface TargetCredentials {
  readonly user?: string;
  readonly password?: string;
  /** OpenSSH private key file. */
  readonly identity?: string;
}

export function selfTargetNames(): string[] {
  return ['self', ...Object.keys(VARIANTS).map((v) => `self:${v}`)];
}

/** Resolves a target name; network peers are started (and stopped by target.close()). */
export async function resolveTarget(name: string, creds: TargetCredentials = {}): Promise<FuzzTarget> {
  if (name === 'self') return selfTarget();
  const v = name.startsWith('self:') ? VARIANTS[name.slice(5)] : undefined;
  if (v) return selfTarget({ variant: v });
  const { networkTarget } = await import('./net/network-target.js');
  return networkTarget(name, creds);
}
