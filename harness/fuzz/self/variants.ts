/**
 * Deliberately broken variants of our server (issue 8, finding power): each wraps the reference ServerStack
 * through `ServerVariant.inspect` and misbehaves on one specific input. The fuzzer must find each from a
 * fixed seed within 60 s and shrink it to ≤ 3 messages (harness/fuzz/finding-power.test.ts).
 */
import { decodeMessage } from '../../../impl/messages/index.js';
import { Reader } from '../../../impl/wire/index.js';
import type { ServerVariant } from './server-stack.js';

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

/** The process dies on a client KEXINIT offering plain `zlib` compression client→server (RFC 4253 §6.2). */
export const crashOnKexinitZlib: ServerVariant = {
  name: 'crash-kexinit',
  description: 'crashes (process exit, no DISCONNECT) when the client KEXINIT lists "zlib" in compression_algorithms_client_to_server',
  inspect(payload) {
    if (payload[0] !== 20) return undefined;
    try {
      const m = decodeMessage(payload);
      return m.type === 'SSH_MSG_KEXINIT' && m.compressionC2S.includes('zlib') ? 'crash' : undefined;
    } catch {
      return undefined;
    }
  },
};

/** `string algorithm || string signature` with nothing left over (RFC 4253 §6.6)? */
function wellFormedSignature(sig: Uint8Array): boolean {
  try {
    const r = new Reader(sig);
    r.ascii('signature algorithm');
    r.string('signature');
    return r.remaining === 0;
  } catch {
    return false;
  }
}

/** Accepts a publickey request for an authorized key when its signature blob is malformed (RFC 4252 §7). */
export const authMalformedSignature: ServerVariant = {
  name: 'auth-malformed-signature',
  description: 'answers USERAUTH_SUCCESS to a signed publickey request for an authorized key whose signature blob does not parse',
  inspect(payload, stack) {
    if (payload[0] !== 50 || stack.authenticated) return undefined;
    try {
      const m = decodeMessage(payload);
      if (m.type !== 'SSH_MSG_USERAUTH_REQUEST' || m.method !== 'publickey' || !('hasSignature' in m) || !m.hasSignature || !m.signature) return undefined;
      const authorized = stack.credentials.authorizedKeys.some((k) => sameBytes(k, m.key));
      return authorized && !wellFormedSignature(m.signature) ? 'grant' : undefined;
    } catch {
      return undefined;
    }
  },
};

/** Stops answering anything after a zero-length SSH_MSG_CHANNEL_DATA (RFC 4254 §5.2 allows empty data). */
export const hangOnZeroLengthData: ServerVariant = {
  name: 'hang-zero-data',
  description: 'stops reading and writing (socket left open) after an SSH_MSG_CHANNEL_DATA with zero-length data',
  inspect(payload) {
    if (payload[0] !== 94) return undefined;
    try {
      const m = decodeMessage(payload);
      return m.type === 'SSH_MSG_CHANNEL_DATA' && m.data.length === 0 ? 'hang' : undefined;
    } catch {
      return undefined;
    }
  },
};

export const VARIANTS: Readonly<Record<string, ServerVariant>> = Object.freeze({
  [crashOnKexinitZlib.name]: crashOnKexinitZlib,
  [authMalformedSignature.name]: authMalformedSignature,
  [hangOnZeroLengthData.name]: hangOnZeroLengthData,
});
