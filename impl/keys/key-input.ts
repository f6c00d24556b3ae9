/**
 * Keys as a library user has them, turned into what the transport and auth layers sign and compare with.
 * Everywhere a private key is taken (host keys, publickey authentication) it may be:
 *   - the key file's contents, a string or a Buffer (OpenSSH, PEM PKCS#1/PKCS#8/SEC1, DER), with `passphrase`
 *     when it is encrypted — what ssh2 takes;
 *   - parsePrivateKey()'s result — paramiko's key object made from a file;
 *   - a PrivateKey (generateHostKey(), privateKeyFromNode(), ParsedPrivateKey.toPrivateKey());
 *   - a node:crypto private KeyObject.
 * Anything else is SSHError('USAGE') naming the argument; a bad key file is a KeyFormatError naming it.
 */
import { KeyObject } from 'node:crypto';
import { privateKeyFromNode } from '../crypto/hostkey/index.js';
import type { PrivateKey, PublicKey } from '../crypto/types.js';
import { SSHError } from '../errors.js';
import { usage } from '../validate.js';
import { KeyFormatError, WrongPassphraseError } from './errors.js';
import { parsePrivateKey, type ParsedPrivateKey } from './private-key.js';
import { peekBlobType } from './public-blob.js';
import { parsePublicKeyLine } from './public-line.js';

/** A private key in any form the library takes (see the module comment). */
export type PrivateKeyInput = string | Uint8Array | ParsedPrivateKey | PrivateKey | KeyObject;

/** A public key: a PublicKey, its RFC 4253 §6.6 blob, or an OpenSSH public key line (`ssh-ed25519 AAAA… comment`). */
export type PublicKeyInput = PublicKey | Uint8Array | string;

const EXPECTED_PRIVATE = "the key file's contents (string or Buffer), parsePrivateKey()'s result, a PrivateKey or a private KeyObject";

function isPrivateKey(v: object): v is PrivateKey {
  const k = v as Partial<PrivateKey>;
  return typeof k.sign === 'function' && Array.isArray(k.algorithms) && typeof k.type === 'string' && k.publicKey?.blob instanceof Uint8Array;
}

function isParsedPrivateKey(v: object): v is ParsedPrivateKey {
  const k = v as Partial<ParsedPrivateKey>;
  return typeof k.toPrivateKey === 'function' && k.keyObject instanceof KeyObject;
}

/** The same error with the argument named first (the class, and so `kind`, is kept). */
function named(e: unknown, what: string, input: string | Uint8Array): unknown {
  if (!(e instanceof KeyFormatError)) return e;
  // a string with no armor is most likely a path given where the contents belong
  const hint = typeof input === 'string' && e.kind === 'malformed' && !input.includes('-----BEGIN') && input.length < 4096
    ? " (this takes the key file's contents, not its path: read the file first, or use keyFilename)" : '';
  const message = `${what}: ${e.message}${hint}`;
  return e instanceof WrongPassphraseError ? new WrongPassphraseError(message) : new KeyFormatError(e.kind, message);
}

/** Any PrivateKeyInput → a signing PrivateKey. `what` names the argument in errors (e.g. 'connect: privateKey'). */
export function toPrivateKey(input: unknown, what: string, passphrase?: string): PrivateKey {
  if (passphrase !== undefined && typeof passphrase !== 'string') throw usage(`${what} passphrase`, 'a string', passphrase);
  if (typeof input === 'string' || input instanceof Uint8Array) {
    try {
      return parsePrivateKey(input, passphrase).toPrivateKey();
    } catch (e) {
      throw named(e, what, input);
    }
  }
  if (input instanceof KeyObject) {
    if (input.type !== 'private') throw new SSHError('USAGE', `${what}: expected a private key, got a ${input.type} KeyObject`);
    try {
      return privateKeyFromNode(input);
    } catch (e) {
      throw new SSHError('USAGE', `${what}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (typeof input === 'object' && input !== null) {
    if (isParsedPrivateKey(input)) return input.toPrivateKey();
    if (isPrivateKey(input)) return input;
  }
  throw usage(what, EXPECTED_PRIVATE, input);
}

/** Any PublicKeyInput → its blob (RFC 4253 §6.6). */
export function toPublicKeyBlob(input: unknown, what: string): Uint8Array {
  if (typeof input === 'string') {
    try {
      return parsePublicKeyLine(input).blob;
    } catch (e) {
      throw new SSHError('USAGE', `${what}: not an OpenSSH public key line (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  const blob = input instanceof Uint8Array ? input
    : typeof input === 'object' && input !== null && (input as Partial<PublicKey>).blob instanceof Uint8Array ? (input as PublicKey).blob
      : undefined;
  if (!blob) throw usage(what, 'a PublicKey, a public key blob or an OpenSSH public key line', input);
  try {
    peekBlobType(blob);
  } catch (e) {
    throw new SSHError('USAGE', `${what}: not a public key blob (${e instanceof Error ? e.message : String(e)})`);
  }
  return blob;
}
