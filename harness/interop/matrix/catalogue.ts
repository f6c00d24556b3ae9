/**
 * Our side of the matrix: every algorithm we implement, per kind (impl/crypto/registry.ts, legacy ones included:
 * the matrix names them, so they are offered), and the one-algorithm restriction each cell puts on a side.
 */
import {
  cipherAlgorithms, compressionAlgorithms, kexAlgorithms, macAlgorithms, signatureAlgorithms,
} from '../../../impl/crypto/registry.js';
import type { AlgorithmLists } from '../../targets/types.js';
import { withoutPseudo } from './offer.js';
import type { Kind, Lists } from './types.js';

const registries = {
  kex: kexAlgorithms, hostKey: signatureAlgorithms, cipher: cipherAlgorithms, mac: macAlgorithms, compression: compressionAlgorithms,
} as const;

export interface CatalogueEntry { readonly name: string; readonly legacy: boolean }

export function catalogue(kind: Kind): readonly CatalogueEntry[] {
  // certificate host key algorithms need a certificate on the peer's side: the certificate tests cover them, not the matrix
  return [...registries[kind].values()].filter((a) => !a.name.endsWith('-cert-v01@openssh.com')).map((a) => ({ name: a.name, legacy: a.legacy }));
}

export function isOurs(kind: Kind, name: string): boolean {
  return registries[kind].has(name);
}

export function isLegacy(kind: Kind, name: string): boolean {
  return registries[kind].get(name)?.legacy === true;
}

/** AEAD ciphers carry their own tag: with one of them negotiated the MAC lists are ignored (OpenSSH PROTOCOL.chacha20poly1305, RFC 5647 §5.1). */
export function isAead(cipher: string): boolean {
  return cipherAlgorithms.get(cipher)?.aead === true || cipher === 'chacha20-poly1305@openssh.com' || cipher.includes('-gcm');
}

/** Ciphers a MAC cell may use, best first: a MAC is only negotiated alongside a non-AEAD cipher. */
const MAC_CARRIERS = ['aes128-ctr', 'aes256-ctr', 'aes192-ctr', 'aes128-cbc', 'aes256-cbc', 'aes192-cbc', '3des-cbc'] as const;

/** The non-AEAD cipher a MAC cell runs over, from what the other side offers (undefined: it has none). */
export function macCarrier(otherSideCiphers: readonly string[]): string | undefined {
  return MAC_CARRIERS.find((c) => otherSideCiphers.includes(c));
}

/**
 * The lists that force one algorithm: only `name` for its kind (RFC 4253 §7.1: the first client algorithm the
 * server also supports wins, so offering one name decides it), and for a MAC also one non-AEAD cipher.
 */
export function restrictTo(kind: Kind, name: string, carrier?: string): AlgorithmLists {
  if (kind === 'mac') return { mac: [name], ...(carrier ? { cipher: [carrier] } : {}) };
  return { [kind]: [name] };
}

/** Names of `offer` that are ours / not ours (pseudo-algorithms dropped), per kind. */
export function splitOffer(offer: Lists): { ours: Lists; peerOnly: Lists } {
  const pick = (keep: boolean) => Object.fromEntries(
    (Object.keys(registries) as Kind[]).map((k) => [k, withoutPseudo(k, offer[k]).filter((n) => isOurs(k, n) === keep)]),
  ) as unknown as Lists;
  return { ours: pick(true), peerOnly: pick(false) };
}

export const EMPTY_LISTS: Lists = { kex: [], hostKey: [], cipher: [], mac: [], compression: [] };
