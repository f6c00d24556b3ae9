/**
 * Key-exchange-method specific messages, numbers 30–49 (RFC 4251 §7). The same number means different
 * things per method family, so these codecs are chosen by a decode context `{ kex }`, never by number alone.
 */
import { defineMessage, type ValueOf } from './define-message.js';
import { mpint, string, uint32 } from './fields.js';

/** Families of kex methods that share a message layout. */
export type KexFamily = 'ecdh' | 'dh' | 'dh-gex';

// 'ecdh': RFC 5656 §4 (numbers §7.1); also curve25519-sha256 (RFC 8731 §3) and the hybrid post-quantum
// methods (mlkem768x25519-sha256, sntrup761x25519-sha512), whose client/server values travel in the same strings.
export const KexEcdhInit = defineMessage({
  id: 30, name: 'SSH_MSG_KEX_ECDH_INIT', spec: 'RFC 5656 §4',
  fields: { publicKey: string }, // Q_C
});

export const KexEcdhReply = defineMessage({
  id: 31, name: 'SSH_MSG_KEX_ECDH_REPLY', spec: 'RFC 5656 §4',
  fields: { hostKey: string, publicKey: string, signature: string }, // K_S, Q_S, signature of H
});

// 'dh': RFC 4253 §8.
export const KexDhInit = defineMessage({
  id: 30, name: 'SSH_MSG_KEXDH_INIT', spec: 'RFC 4253 §8',
  fields: { e: mpint },
});

export const KexDhReply = defineMessage({
  id: 31, name: 'SSH_MSG_KEXDH_REPLY', spec: 'RFC 4253 §8',
  fields: { hostKey: string, f: mpint, signature: string },
});

// 'dh-gex': RFC 4419 §5.
export const KexDhGexRequestOld = defineMessage({
  id: 30, name: 'SSH_MSG_KEX_DH_GEX_REQUEST_OLD', spec: 'RFC 4419 §5',
  fields: { n: uint32 },
});

export const KexDhGexGroup = defineMessage({
  id: 31, name: 'SSH_MSG_KEX_DH_GEX_GROUP', spec: 'RFC 4419 §5',
  fields: { p: mpint, g: mpint },
});

export const KexDhGexInit = defineMessage({
  id: 32, name: 'SSH_MSG_KEX_DH_GEX_INIT', spec: 'RFC 4419 §5',
  fields: { e: mpint },
});

export const KexDhGexReply = defineMessage({
  id: 33, name: 'SSH_MSG_KEX_DH_GEX_REPLY', spec: 'RFC 4419 §5',
  fields: { hostKey: string, f: mpint, signature: string },
});

export const KexDhGexRequest = defineMessage({
  id: 34, name: 'SSH_MSG_KEX_DH_GEX_REQUEST', spec: 'RFC 4419 §5',
  fields: { min: uint32, n: uint32, max: uint32 },
});

export const kexCodecs = {
  ecdh: [KexEcdhInit, KexEcdhReply],
  dh: [KexDhInit, KexDhReply],
  'dh-gex': [KexDhGexRequestOld, KexDhGexGroup, KexDhGexInit, KexDhGexReply, KexDhGexRequest],
} as const;

// The value types fall out of the schemas.
export type KexEcdhInit = ValueOf<typeof KexEcdhInit>;
export type KexEcdhReply = ValueOf<typeof KexEcdhReply>;
export type KexDhInit = ValueOf<typeof KexDhInit>;
export type KexDhReply = ValueOf<typeof KexDhReply>;
export type KexDhGexRequestOld = ValueOf<typeof KexDhGexRequestOld>;
export type KexDhGexGroup = ValueOf<typeof KexDhGexGroup>;
export type KexDhGexInit = ValueOf<typeof KexDhGexInit>;
export type KexDhGexReply = ValueOf<typeof KexDhGexReply>;
export type KexDhGexRequest = ValueOf<typeof KexDhGexRequest>;
