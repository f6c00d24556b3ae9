/**
 * Algorithm profiles: what our client offers for one case (kex, cipher, MAC), so findings that depend on the
 * packet protection (AEAD vs encrypt-and-MAC vs EtM; chacha20's encrypted length) are found and replay with
 * the same algorithms. Cheap kex methods dominate; the expensive ones (ML-KEM in JS, DH, and NIST ECDH, which
 * measures ~5 ms per exchange in-process here against ~0.6 ms for X25519) stay in at low weight.
 */
import fc from 'fast-check';
import type { AlgorithmPreferences } from '../../../impl/transport/types.js';

export interface Profile { readonly name: string; readonly weight: number; readonly algorithms: AlgorithmPreferences }

export const PROFILES: readonly Profile[] = Object.freeze([
  { name: 'curve25519/chacha20-poly1305', weight: 20, algorithms: { kex: ['curve25519-sha256'], cipher: ['chacha20-poly1305@openssh.com'] } },
  { name: 'curve25519/aes128-gcm', weight: 20, algorithms: { kex: ['curve25519-sha256'], cipher: ['aes128-gcm@openssh.com'] } },
  { name: 'nistp256/aes256-gcm', weight: 2, algorithms: { kex: ['ecdh-sha2-nistp256'], cipher: ['aes256-gcm@openssh.com'] } },
  { name: 'curve25519/aes128-ctr+hmac-sha2-256', weight: 15, algorithms: { kex: ['curve25519-sha256'], cipher: ['aes128-ctr'], mac: ['hmac-sha2-256'] } },
  { name: 'curve25519/aes256-ctr+hmac-sha2-512-etm', weight: 15, algorithms: { kex: ['curve25519-sha256@libssh.org'], cipher: ['aes256-ctr'], mac: ['hmac-sha2-512-etm@openssh.com'] } },
  { name: 'nistp384/aes192-ctr+hmac-sha1', weight: 1, algorithms: { kex: ['ecdh-sha2-nistp384'], cipher: ['aes192-ctr'], mac: ['hmac-sha1'] } },
  // finite-field DH costs ~10 ms per exchange in-process: present, but rare
  { name: 'dh-group14-sha256/aes128-ctr+hmac-sha2-256-etm', weight: 1, algorithms: { kex: ['diffie-hellman-group14-sha256'], cipher: ['aes128-ctr'], mac: ['hmac-sha2-256-etm@openssh.com'] } },
  { name: 'mlkem768x25519/chacha20-poly1305', weight: 5, algorithms: { kex: ['mlkem768x25519-sha256'], cipher: ['chacha20-poly1305@openssh.com'] } },
]);

export function profileArb(profiles: readonly Profile[] = PROFILES): fc.Arbitrary<AlgorithmPreferences> {
  return fc.oneof(...profiles.map((p) => ({ weight: p.weight, arbitrary: fc.constant(p.algorithms) })));
}

/** What a peer offers, from its KEXINIT (RFC 4253 §7.1). */
export interface PeerOffer { readonly kex: readonly string[]; readonly cipher: readonly string[]; readonly mac: readonly string[] }

/** The profiles a peer can negotiate (so cases do not waste time on a kex the peer refuses). */
export function profilesFor(offer: PeerOffer | undefined): readonly Profile[] {
  if (!offer) return PROFILES;
  const has = (list: readonly string[] | undefined, peer: readonly string[]): boolean => list === undefined || list.some((x) => peer.includes(x));
  const ok = PROFILES.filter((p) => has(p.algorithms.kex, offer.kex) && has(p.algorithms.cipher, offer.cipher)
    && (p.algorithms.cipher?.every((c) => /gcm|poly1305/.test(c)) || has(p.algorithms.mac, offer.mac)));
  return ok.length > 0 ? ok : PROFILES;
}
