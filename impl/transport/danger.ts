/**
 * The hidden seam between a Transport and `ssh-harness/testing` (impl/testing.ts). Nothing here is exported by the
 * main entry, and nothing in TransportOptions' type mentions it: the engine options that switch protocol checks
 * off (deviation hooks, resume, strict kex off, a seeded RNG) ride on an options object under a symbol key, and a
 * started Transport exposes its engine under another. Symbol.for keys, so an ESM and a CJS copy of the package
 * loaded side by side still meet.
 */
import type { Engine } from './engine.js';
import type { EngineOptions } from './types.js';

/** Engine options a Transport passes through only when they come from impl/testing.ts. */
export type DangerousEngineOptions = Partial<Omit<EngineOptions, 'role' | 'hostKeys' | 'algorithms' | 'rekey' | 'verifyHostKey'>>;

export const DANGEROUS_OPTIONS: unique symbol = Symbol.for('ssh-harness/testing.dangerousOptions') as never;
export const ENGINE_ACCESS: unique symbol = Symbol.for('ssh-harness/testing.engineAccess') as never;

/** What a started Transport exposes under ENGINE_ACCESS. */
export interface EngineAccess {
  readonly engine: Engine;
  /** Writes what the engine queued and dispatches its events (after driving engine.testing directly). */
  flush(): void;
}

export function dangerousOptionsOf(options: object): DangerousEngineOptions | undefined {
  return (options as { [DANGEROUS_OPTIONS]?: DangerousEngineOptions })[DANGEROUS_OPTIONS];
}
