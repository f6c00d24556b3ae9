import { Writer } from '../wire/writer.js';

export type HashFn = (...parts: Uint8Array[]) => Uint8Array;

/**
 * RFC 4253 §7.2: K1 = HASH(K || H || X || session_id), Kn = HASH(K || H || K1 || ... || Kn-1), truncated to `len`.
 * `K` is already encoded (mpint or string, with its length prefix); X is 'A'..'F'.
 */
export function deriveKey(hash: HashFn, K: Uint8Array, H: Uint8Array, letter: string, sessionId: Uint8Array, len: number): Uint8Array {
  if (len === 0) return new Uint8Array(0);
  const x = Uint8Array.of(letter.charCodeAt(0));
  let out = hash(K, H, x, sessionId);
  while (out.length < len) {
    const next = hash(K, H, out);
    const grown = new Uint8Array(out.length + next.length);
    grown.set(out);
    grown.set(next, out.length);
    out = grown;
  }
  return out.slice(0, len);
}

export interface SessionKeys {
  readonly c2s: { iv: Uint8Array; encKey: Uint8Array; macKey: Uint8Array };
  readonly s2c: { iv: Uint8Array; encKey: Uint8Array; macKey: Uint8Array };
}

export interface KeySizes { ivLen: number; keyLen: number; macKeyLen: number }

/** All six keys of RFC 4253 §7.2 for the negotiated sizes per direction. */
export function deriveSessionKeys(hash: HashFn, K: Uint8Array, H: Uint8Array, sessionId: Uint8Array, c2s: KeySizes, s2c: KeySizes): SessionKeys {
  const d = (letter: string, len: number) => deriveKey(hash, K, H, letter, sessionId, len);
  return {
    c2s: { iv: d('A', c2s.ivLen), encKey: d('C', c2s.keyLen), macKey: d('E', c2s.macKeyLen) },
    s2c: { iv: d('B', s2c.ivLen), encKey: d('D', s2c.keyLen), macKey: d('F', s2c.macKeyLen) },
  };
}

/** Fields of the exchange hash H (RFC 4253 §8, RFC 4419 §3, RFC 5656 §4), each in its wire encoding. */
export interface ExchangeHashInput {
  readonly clientVersion: string;
  readonly serverVersion: string;
  readonly clientKexInit: Uint8Array;
  readonly serverKexInit: Uint8Array;
  readonly hostKey: Uint8Array;
  /** RFC 4419: uint32 min || uint32 n || uint32 max || mpint p || mpint g (already encoded), for group exchange. */
  readonly gexParams?: Uint8Array;
  /** e/Q_C and f/Q_S, already encoded (mpint or string). */
  readonly clientPublic: Uint8Array;
  readonly serverPublic: Uint8Array;
  /** K, already encoded. */
  readonly sharedSecret: Uint8Array;
}

export function exchangeHash(hash: HashFn, i: ExchangeHashInput): Uint8Array {
  const w = new Writer(1024 + i.clientKexInit.length + i.serverKexInit.length + i.hostKey.length);
  w.string(i.clientVersion).string(i.serverVersion).string(i.clientKexInit).string(i.serverKexInit).string(i.hostKey);
  if (i.gexParams) w.raw(i.gexParams);
  w.raw(i.clientPublic).raw(i.serverPublic).raw(i.sharedSecret);
  return hash(w.finish());
}
