/**
 * Our client's offer for a peer whose KEXINIT shares nothing with our defaults for some kind (lsh 2.1: DH with
 * SHA-1, ssh-rsa and CBC only): our defaults plus what the peer offers that we implement (legacy included), so a
 * check or an interop cell about something else is not cut short by "no common algorithm" (RFC 4253 §7.1). Kinds
 * the caller sets explicitly are left alone: negotiation itself is tested with explicit lists.
 */
import { cipherAlgorithms, compressionAlgorithms, defaultAlgorithms, kexAlgorithms, macAlgorithms, signatureAlgorithms } from '../../impl/crypto/registry.js';

export type OfferKind = 'kex' | 'hostKey' | 'cipher' | 'mac' | 'compression';
export type OfferLists = { readonly [K in OfferKind]?: readonly string[] };

const REGISTRIES: Readonly<Record<OfferKind, ReadonlyMap<string, unknown>>> = {
  kex: kexAlgorithms, hostKey: signatureAlgorithms, cipher: cipherAlgorithms, mac: macAlgorithms, compression: compressionAlgorithms,
};
export const OFFER_KINDS: readonly OfferKind[] = ['kex', 'hostKey', 'cipher', 'mac', 'compression'];

/** `given` lists (our defaults where absent) extended per kind; `explicit` kinds are never touched. */
export function withPeerOnly(given: OfferLists, peer: OfferLists | undefined, explicit: OfferLists = {}): OfferLists {
  if (!peer) return given;
  const out: { [K in OfferKind]?: readonly string[] } = { ...given };
  for (const kind of OFFER_KINDS) {
    if (explicit[kind] !== undefined) continue;
    const theirs = peer[kind] ?? [];
    const ours = given[kind] ?? defaultAlgorithms[kind];
    if (theirs.length === 0 || ours.some((n) => theirs.includes(n))) continue;
    const extra = theirs.filter((n) => REGISTRIES[kind].has(n));
    if (extra.length) out[kind] = [...ours, ...extra];
  }
  return out;
}
