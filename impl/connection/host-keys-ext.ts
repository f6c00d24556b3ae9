/**
 * OpenSSH PROTOCOL §2.5 "hostkeys-00@openssh.com" / "hostkeys-prove-00@openssh.com": after authentication the server
 * tells the client every host key it has (so known_hosts can learn new keys before a rotation), and on request proves
 * it holds the private halves by signing `string "hostkeys-prove-00@openssh.com" || string session identifier ||
 * string host key` with each.
 */
import { certBaseType } from '../crypto/hostkey/cert-signature.js';
import { signatureAlgorithms } from '../crypto/registry.js';
import type { PrivateKey, PublicKey } from '../crypto/types.js';
import { Reader, Writer } from '../wire/index.js';

export const HOSTKEYS = 'hostkeys-00@openssh.com';
export const HOSTKEYS_PROVE = 'hostkeys-prove-00@openssh.com';
/** More keys than any server holds: a longer prove request is refused rather than signed. */
const MAX_PROVE_KEYS = 32;

/**
 * Clients known to answer hostkeys-00 although it asks for no reply (RFC 4254 §4: then "no reply is sent"): GNU lsh 2.1
 * sends SSH_MSG_REQUEST_FAILURE, which a strict peer must treat as a reply to nothing. They are not told (OpenSSH's
 * sshd keeps the same kind of list in its compat flags).
 */
const ANSWERS_UNWANTED_REPLY = /^SSH-2\.0-lsh[_-]/i;

/** Whether to send hostkeys-00 to a client with this identification string. */
export function announceHostKeysTo(peerVersion: string | undefined): boolean {
  return peerVersion !== undefined && !ANSWERS_UNWANTED_REPLY.test(peerVersion);
}

/** The plain (non-certificate) host keys, as `string[] hostkeys` data of a hostkeys-00 request. */
export function hostKeysAnnouncement(keys: readonly PrivateKey[]): Uint8Array | undefined {
  const plain = keys.filter((k) => certBaseType(k.publicKey.type) === undefined);
  if (plain.length === 0) return undefined;
  const w = new Writer(1024);
  for (const k of plain) w.string(k.publicKey.blob);
  return w.finish();
}

/** The bytes each proof signature covers (PROTOCOL §2.5). */
export function hostKeyProofData(sessionId: Uint8Array, blob: Uint8Array): Uint8Array {
  return new Writer(sessionId.length + blob.length + 48).string(HOSTKEYS_PROVE).string(sessionId).string(blob).finish();
}

/**
 * The REQUEST_SUCCESS data answering hostkeys-prove-00 (`string[] signatures`, in request order), or undefined when
 * the data is malformed or names a key we do not hold (the request then fails). RSA keys sign with rsa-sha2-512
 * unless the key exchange negotiated rsa-sha2-256 (OpenSSH does the same).
 */
export function proveHostKeys(keys: readonly PrivateKey[], sessionId: Uint8Array, data: Uint8Array, negotiatedHostKey: string | undefined): Uint8Array | undefined {
  const blobs: Uint8Array[] = [];
  try {
    const r = new Reader(data);
    while (r.remaining > 0) {
      if (blobs.length >= MAX_PROVE_KEYS) return undefined;
      blobs.push(r.string('host key'));
    }
  } catch {
    return undefined;
  }
  if (blobs.length === 0) return undefined;
  const w = new Writer(blobs.length * 300);
  for (const blob of blobs) {
    const key = keys.find((k) => Buffer.compare(Buffer.from(k.publicKey.blob), Buffer.from(blob)) === 0);
    if (!key || certBaseType(key.publicKey.type) !== undefined) return undefined;
    const algorithm = key.type === 'ssh-rsa' ? (negotiatedHostKey === 'rsa-sha2-256' ? 'rsa-sha2-256' : 'rsa-sha2-512') : key.algorithms[0]!;
    w.string(key.sign(algorithm, hostKeyProofData(sessionId, blob)));
  }
  return w.finish();
}

/**
 * The `string[]` of a hostkeys-00 request (or of a prove reply), as PublicKeys; malformed data or more than
 * MAX_PROVE_KEYS items give an empty list (the announcement is advisory: nothing to act on).
 */
export function announcedHostKeys(data: Uint8Array): PublicKey[] {
  const out: PublicKey[] = [];
  try {
    const r = new Reader(data);
    while (r.remaining > 0) {
      if (out.length >= MAX_PROVE_KEYS) return [];
      const blob = r.string('host key');
      out.push({ type: new Reader(blob).ascii('key type'), blob });
    }
  } catch {
    return [];
  }
  return out;
}

/** One proof signature checked with the algorithm it names (which must fit the key). */
export function verifyHostKeyProof(blob: Uint8Array, sessionId: Uint8Array, signature: Uint8Array): boolean {
  let name: string;
  try {
    name = new Reader(signature).ascii('signature algorithm');
  } catch {
    return false;
  }
  const alg = signatureAlgorithms.get(name);
  return alg !== undefined && alg.signatureName === undefined && alg.verify(blob, hostKeyProofData(sessionId, blob), signature);
}
