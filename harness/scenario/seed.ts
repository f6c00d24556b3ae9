/**
 * Deterministic randomness for checks: one run seed, and per check a ChaCha20 keystream keyed by
 * SHA-256(run seed || check id || attempt). Our engine then sends the same cookies, padding and ephemeral
 * keys on every run, so a run can be replayed with `--seed` and two runs differ only by what the peer does.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import type { Rng } from '../../impl/crypto/types.js';

/** A fresh run seed: 16 hex digits. */
export function newSeed(): string {
  return randomBytes(8).toString('hex');
}

export function checkSeed(runSeed: string, checkId: string, connection = 0): string {
  return createHash('sha256').update(`${runSeed}\0${checkId}\0${connection}`).digest('hex').slice(0, 16);
}

/** A Rng (n → n random bytes) from a seed string; streams, so consecutive calls never repeat bytes. */
export function seededRng(seed: string): Rng {
  const key = createHash('sha256').update(`ssh-harness rng\0${seed}`).digest();
  const cipher = createCipheriv('chacha20', key, Buffer.alloc(16));
  return (n: number) => new Uint8Array(cipher.update(Buffer.alloc(n)));
}
