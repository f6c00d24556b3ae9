/**
 * `ssh-harness/testing`: the deliberate-deviation machinery, for test harnesses that must make an SSH
 * implementation misbehave on purpose. NOTHING HERE IS SAFE FOR A REAL CONNECTION: these hooks send malformed
 * packets, switch off MAC checks (`relax({ ignoreBadMac })`), skip state checks, resume connections without a key
 * exchange, and turn off the strict-kex (Terrapin) countermeasure. The main entry (`ssh-harness`) exposes none of
 * it — not in TransportOptions, not on Transport — so an application cannot switch a check off by accident; every
 * name here says "dangerous" (like rustls's `danger` module) so that code reaching for it reads as what it is.
 *
 *   import { Transport } from 'ssh-harness';
 *   import { withDangerousEngineOptions, dangerousEngine } from 'ssh-harness/testing';
 *   const t = new Transport(sock, withDangerousEngineOptions({ hostKeys: [key] }, {
 *     deviations: (d) => d.setKexInitOverride((k) => ({ ...k, kexAlgorithms: ['nope'] })),
 *   }));
 *   await t.startServer(policy);
 *   dangerousEngine(t).testing.sendRawPayload(Uint8Array.of(94));   // a message out of state
 *   dangerousFlush(t);
 */
import type { Transport, TransportOptions } from './Transport.js';
import { SSHError } from './errors.js';
import { DANGEROUS_OPTIONS, ENGINE_ACCESS, type DangerousEngineOptions, type EngineAccess } from './transport/danger.js';
import { Engine } from './transport/engine.js';

export type { DangerousEngineOptions };
export { Engine };
export {
  EngineTesting, type Corruption, type EngineState, type EstablishedSnapshot, type InboundRewrite, type OutboundRewrite,
  type OutboundRule, type Relaxations,
} from './transport/testing.js';
export type { EngineEvent, EngineLimits, EngineOptions, EnginePhase, KexSecrets, NegotiatedAlgorithms, PacketRecord, Role } from './transport/types.js';
export { Pair, type PairOptions, type Side } from './transport/testing/pair.js';

/**
 * A copy of `options` that also hands `engine` to the Transport's engine: deviation hooks installed before the
 * first KEXINIT (`deviations`), `resume` from a snapshot, `strictKex: false`, a seeded `rng`, raw limits.
 */
export function withDangerousEngineOptions(options: TransportOptions, engine: DangerousEngineOptions): TransportOptions {
  if (typeof engine !== 'object' || engine === null) throw new SSHError('USAGE', 'withDangerousEngineOptions: engine options must be an object');
  return { ...options, [DANGEROUS_OPTIONS]: { ...(options as { [DANGEROUS_OPTIONS]?: DangerousEngineOptions })[DANGEROUS_OPTIONS], ...engine } } as TransportOptions;
}

function access(t: Transport): EngineAccess {
  const a = (t as unknown as { [ENGINE_ACCESS]?: EngineAccess })[ENGINE_ACCESS];
  if (!a) throw new SSHError('USAGE', 'dangerousEngine: not a Transport');
  return a;
}

/**
 * The started Transport's sans-I/O engine: state inspection and `engine.testing`, the deviation interface (raw
 * payloads, corrupted packets, relaxations). After driving it directly, call dangerousFlush(t).
 */
export function dangerousEngine(t: Transport): Engine {
  return access(t).engine;
}

/** Writes what the engine queued and dispatches its events (every Transport method does this by itself). */
export function dangerousFlush(t: Transport): void {
  access(t).flush();
}
