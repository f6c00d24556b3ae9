/**
 * One-line public keys as in *.pub, authorized_keys and known_hosts: `type base64(blob) [comment]`
 * (sshd(8) AUTHORIZED_KEYS FILE FORMAT; the blob is RFC 4253 §6.6).
 */
import type { KeyObject } from 'node:crypto';
import { KeyFormatError } from './errors.js';
import { decodeBase64Strict, encodeBase64 } from './encoding.js';
import { MAX_PUBLIC_BLOB, isKeyType, type KeyType } from './key-types.js';
import { decodePublicBlob, peekBlobType } from './public-blob.js';

export interface PublicKeyLine {
  /** Key type as named on the line and inside the blob (they must agree). */
  readonly type: string;
  readonly blob: Uint8Array;
  readonly comment: string;
  /** True for the types impl/keys implements; others (certificates, sk-*) are carried as opaque blobs. */
  readonly supported: boolean;
  /** Present when `supported`: the validated public key. */
  readonly keyObject?: KeyObject;
}

/** Room for the largest blob in base64 plus a comment (authorized_keys and known_hosts use the same bound). */
export const MAX_LINE = 64 * 1024;

/** Key type names: letters, digits and `-_.@` (RFC 4250 §4.6.1 naming plus @domain extensions). */
export const KEY_TYPE_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** Parses `type base64 [comment]` (leading/trailing whitespace ignored). */
export function parsePublicKeyLine(line: string): PublicKeyLine {
  if (line.length > MAX_LINE) throw new KeyFormatError('limit', `public key line longer than ${MAX_LINE} characters`);
  // trim first: a lazy comment group followed by \s*$ would be quadratic on long runs of spaces
  const m = /^(\S+)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(line.trim());
  if (!m) throw new KeyFormatError('malformed', 'public key line: expected "type base64 [comment]"');
  return parsePublicKeyFields(m[1]!, m[2]!, m[3] ?? '');
}

/** The key part once a caller (authorized_keys, known_hosts) has split off its own fields. */
export function parsePublicKeyFields(type: string, base64: string, comment: string): PublicKeyLine {
  if (!KEY_TYPE_NAME.test(type)) throw new KeyFormatError('malformed', `public key line: ${JSON.stringify(type.slice(0, 64))} is not a key type name`);
  const blob = decodeBase64Strict(base64, 'public key', MAX_PUBLIC_BLOB);
  const inner = peekBlobType(blob);
  if (inner !== type) throw new KeyFormatError('malformed', `public key line: type ${JSON.stringify(type)} but the blob says ${JSON.stringify(inner)}`);
  if (!isKeyType(type)) return { type, blob, comment, supported: false };
  return { type, blob, comment, supported: true, keyObject: decodePublicBlob(blob).keyObject };
}

/** `type base64 comment`, as ssh-keygen writes *.pub files (no trailing newline). */
export function formatPublicKeyLine(blob: Uint8Array, comment = ''): string {
  const type = peekBlobType(blob);
  if (!KEY_TYPE_NAME.test(type)) throw new KeyFormatError('malformed', `public key blob: ${JSON.stringify(type.slice(0, 64))} is not a key type name`);
  // A newline in the comment would start a new authorized_keys/known_hosts line.
  if (/[\r\n]/.test(comment)) throw new KeyFormatError('malformed', 'public key comment must not contain a line break');
  return comment ? `${type} ${encodeBase64(blob)} ${comment}` : `${type} ${encodeBase64(blob)}`;
}

export type { KeyType };
