/** A peer's offer (its KEXINIT name-lists, RFC 4253 §7.1) as matrix Lists, and list helpers. */
import type { ServerKexInit } from '../../targets/banner.js';
import type { AlgorithmLists } from '../../targets/types.js';
import { KINDS, type Kind, type Lists } from './types.js';

/** Client-to-server lists stand for the offer: every peer here offers the same both ways. */
export function listsOfKexInit(k: ServerKexInit): Lists {
  return { kex: k.kex, hostKey: k.hostKey, cipher: k.cipherC2S, mac: k.macC2S, compression: k.compC2S };
}

/** Pseudo-algorithms a peer adds to its kex list itself (RFC 8308 §2.1, OpenSSH PROTOCOL "strict key exchange"); never configured. */
export function withoutPseudo(kind: Kind, names: readonly string[]): string[] {
  return kind === 'kex' ? names.filter((n) => !/^(ext-info-[cs]|kex-strict-[cs]-v00@openssh\.com|kexguess2@matt\.ucc\.asn\.au)$/.test(n)) : [...names];
}

/** `base` per kind for the kinds in `add`, each followed by the added names (deduplicated). */
export function extend(base: Lists, add: Partial<Record<Kind, readonly string[]>>): AlgorithmLists {
  const out: Record<string, string[]> = {};
  for (const k of KINDS) {
    const extra = add[k];
    if (!extra?.length) continue;
    out[k] = [...new Set([...withoutPseudo(k, base[k]), ...extra])];
  }
  return out as AlgorithmLists;
}

export function hasAny(add: Partial<Record<Kind, readonly string[]>>): boolean {
  return KINDS.some((k) => (add[k]?.length ?? 0) > 0);
}

/** First line of an error message (peer logs follow on later lines), bounded. */
export function firstLine(s: string, max = 300): string {
  const line = s.split('\n').find((l) => l.trim()) ?? s;
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

/** Control characters (and DEL) as \xNN, so peer text is safe for terminals and one-line reports. */
export function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
