/**
 * What this implementation can negotiate, by kind — the counterpart of Go's `ssh.SupportedAlgorithms()` /
 * `InsecureAlgorithms()`: every registered wire name, with whether it is legacy (offered only when named in
 * `TransportOptions.algorithms`, never by default).
 */
import { cipherAlgorithms, compressionAlgorithms, kexAlgorithms, macAlgorithms, signatureAlgorithms } from './registry.js';

export interface AlgorithmInfo {
  /** The exact wire name (RFC 4251 §6), e.g. `aes128-gcm@openssh.com`. */
  readonly name: string;
  /** Offered only when named explicitly. */
  readonly legacy: boolean;
  /** Where it is specified, e.g. `RFC 5647 §7.1`. */
  readonly spec: string;
}

/** Keys as in `TransportOptions.algorithms`. */
export interface SupportedAlgorithms {
  readonly kex: readonly AlgorithmInfo[];
  readonly hostKey: readonly AlgorithmInfo[];
  readonly cipher: readonly AlgorithmInfo[];
  readonly mac: readonly AlgorithmInfo[];
  readonly compression: readonly AlgorithmInfo[];
}

const facts = (m: ReadonlyMap<string, AlgorithmInfo>): readonly AlgorithmInfo[] =>
  Object.freeze([...m.values()].map(({ name, legacy, spec }) => Object.freeze({ name, legacy, spec })));

let supported: SupportedAlgorithms | undefined;

export function supportedAlgorithms(): SupportedAlgorithms {
  supported ??= Object.freeze({
    kex: facts(kexAlgorithms), hostKey: facts(signatureAlgorithms), cipher: facts(cipherAlgorithms),
    mac: facts(macAlgorithms), compression: facts(compressionAlgorithms),
  });
  return supported;
}
