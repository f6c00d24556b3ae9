import { Reader, Writer } from '../wire/index.js';

/**
 * The bytes a publickey authentication signature covers, RFC 4252 §7:
 * string session_id || byte SSH_MSG_USERAUTH_REQUEST || string user || string service ||
 * string "publickey" || boolean TRUE || string algorithm || string key blob.
 */
export function publicKeySignedData(sessionId: Uint8Array, user: string, service: string, algorithm: string, keyBlob: Uint8Array): Uint8Array {
  return new Writer(sessionId.length + keyBlob.length + user.length * 3 + 96)
    .string(sessionId).byte(50).string(user).string(service).string('publickey').boolean(true)
    .string(algorithm).string(keyBlob).finish();
}

/**
 * OpenSSH PROTOCOL §3.1 publickey-hostbound-v00@openssh.com: the publickey signed data with the method name
 * "publickey-hostbound-v00@openssh.com" and `string server host key` appended after the key blob.
 */
export function hostboundSignedData(sessionId: Uint8Array, user: string, service: string, algorithm: string, keyBlob: Uint8Array, hostKey: Uint8Array): Uint8Array {
  return new Writer(sessionId.length + keyBlob.length + hostKey.length + user.length * 3 + 128)
    .string(sessionId).byte(50).string(user).string(service).string(HOSTBOUND_METHOD).boolean(true)
    .string(algorithm).string(keyBlob).string(hostKey).finish();
}

/** OpenSSH PROTOCOL §3.1: the method name of host-bound publickey authentication. */
export const HOSTBOUND_METHOD = 'publickey-hostbound-v00@openssh.com';

/**
 * The bytes a hostbased authentication signature covers, RFC 4252 §9:
 * string session_id || byte SSH_MSG_USERAUTH_REQUEST || string user || string service || string "hostbased" ||
 * string algorithm || string client host key || string client host name || string client user name.
 */
export function hostbasedSignedData(
  sessionId: Uint8Array, user: string, service: string, algorithm: string, keyBlob: Uint8Array, clientHost: string, clientUser: string,
): Uint8Array {
  return new Writer(sessionId.length + keyBlob.length + (user.length + clientHost.length + clientUser.length) * 3 + 96)
    .string(sessionId).byte(50).string(user).string(service).string('hostbased')
    .string(algorithm).string(keyBlob).string(clientHost).string(clientUser).finish();
}

/** The key type a public key blob starts with (RFC 4253 §6.6), or undefined when the blob is malformed. */
export function blobKeyType(blob: Uint8Array): string | undefined {
  try {
    return new Reader(blob).ascii('key type');
  } catch {
    return undefined;
  }
}

/** The algorithm name a signature blob starts with (`string algorithm || string signature`), or undefined. */
export function signatureAlgorithmOf(signature: Uint8Array): string | undefined {
  return blobKeyType(signature);
}
