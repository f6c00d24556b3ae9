import { AlgorithmNegotiationError } from '../errors.js';
import type { NegotiatedAlgorithms, Role } from './types.js';

/** The KEXINIT lists that matter for negotiation, RFC 4253 §7.1. */
export interface KexInitLists {
  readonly kexAlgorithms: readonly string[];
  readonly serverHostKeyAlgorithms: readonly string[];
  readonly encryptionC2S: readonly string[];
  readonly encryptionS2C: readonly string[];
  readonly macC2S: readonly string[];
  readonly macS2C: readonly string[];
  readonly compressionC2S: readonly string[];
  readonly compressionS2C: readonly string[];
}

export const STRICT_KEX_C = 'kex-strict-c-v00@openssh.com';
export const STRICT_KEX_S = 'kex-strict-s-v00@openssh.com';
export const EXT_INFO_C = 'ext-info-c';
export const EXT_INFO_S = 'ext-info-s';

/** RFC 4253 §7.1: the first algorithm on the client's list that is also on the server's list. */
function choose(kind: string, client: readonly string[], server: readonly string[]): string {
  for (const c of client) if (server.includes(c)) return c;
  throw new AlgorithmNegotiationError(kind, client, server);
}

export interface NegotiationFacts {
  /** AEAD ciphers have an implicit MAC: the MAC lists are not negotiated for them (RFC 5647 §5.1). */
  isAead(cipher: string): boolean;
  /** Kex methods that need a host key able to sign (all of ours) accept only host key algorithms we can use. */
  hostKeyUsable?(name: string): boolean;
}

export function negotiate(client: KexInitLists, server: KexInitLists, facts: NegotiationFacts, initial: boolean): NegotiatedAlgorithms {
  const kex = choose('kex', client.kexAlgorithms, server.kexAlgorithms);
  const hostKey = choose('host key', client.serverHostKeyAlgorithms, server.serverHostKeyAlgorithms);
  const cipherC2S = choose('cipher (client to server)', client.encryptionC2S, server.encryptionC2S);
  const cipherS2C = choose('cipher (server to client)', client.encryptionS2C, server.encryptionS2C);
  const macC2S = facts.isAead(cipherC2S) ? 'none' : choose('MAC (client to server)', client.macC2S, server.macC2S);
  const macS2C = facts.isAead(cipherS2C) ? 'none' : choose('MAC (server to client)', client.macS2C, server.macS2C);
  const compressionC2S = choose('compression (client to server)', client.compressionC2S, server.compressionC2S);
  const compressionS2C = choose('compression (server to client)', client.compressionS2C, server.compressionS2C);
  // OpenSSH PROTOCOL "strict key exchange": only in the initial KEXINITs, both sides must offer their marker
  const strictKex = initial && client.kexAlgorithms.includes(STRICT_KEX_C) && server.kexAlgorithms.includes(STRICT_KEX_S);
  return { kex, hostKey, cipherC2S, cipherS2C, macC2S, macS2C, compressionC2S, compressionS2C, strictKex };
}

/**
 * RFC 4253 §7.1: a guessed first kex packet is wrong when "server and client have different preferred
 * algorithm" for kex or host key (the first entries of both lists differ).
 */
export function guessWasRight(client: KexInitLists, server: KexInitLists): boolean {
  return client.kexAlgorithms[0] === server.kexAlgorithms[0] && client.serverHostKeyAlgorithms[0] === server.serverHostKeyAlgorithms[0];
}

export function otherRole(r: Role): Role {
  return r === 'client' ? 'server' : 'client';
}
