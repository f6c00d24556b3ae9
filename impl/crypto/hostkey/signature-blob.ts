import type { KeyObject } from 'node:crypto';
import { Reader, Writer } from '../../wire/index.js';
import type { PrivateKey } from '../types.js';

/** A PrivateKey backed by a node:crypto KeyObject (kept so keys/ can serialise it). */
export interface NodePrivateKey extends PrivateKey {
  readonly keyObject: KeyObject;
}

/** RFC 4253 §6.6: `string signature format identifier || string signature blob`. */
export function signatureBlob(algorithm: string, sig: Uint8Array): Uint8Array {
  return new Writer(8 + algorithm.length + sig.length).string(algorithm).string(sig).finish();
}

/**
 * The inner signature bytes when `blob` is a well-formed signature of `algorithm` with nothing after it
 * (OpenSSH rejects trailing data too); null otherwise. Never throws.
 */
export function readSignatureBlob(blob: Uint8Array, algorithm: string): Uint8Array | null {
  try {
    const r = new Reader(blob);
    if (r.ascii('signature algorithm') !== algorithm) return null;
    const sig = r.string('signature');
    r.end('signature blob');
    return sig;
  } catch {
    return null;
  }
}
