import { SSHError } from '../errors.js';

/**
 * Why a key file or key line was refused. Callers match on `kind` (never on the message):
 * - 'malformed': bad armor, bad base64, bad structure, inconsistent key material
 * - 'truncated': the data ends before a field it announces
 * - 'unsupported': a key type, cipher or KDF we do not implement
 * - 'passphrase-required': the key is encrypted and no passphrase was given
 * - 'wrong-passphrase': decryption failed its check (OpenSSH check-int, PEM padding/DER)
 * - 'limit': a length, count or KDF round number past our bounds
 */
export type KeyFormatErrorKind = 'malformed' | 'truncated' | 'unsupported' | 'passphrase-required' | 'wrong-passphrase' | 'limit';

/** Key file / key line errors. Same stable code as wire errors ('DECODE'): both are bad input. */
export class KeyFormatError extends SSHError {
  constructor(readonly kind: KeyFormatErrorKind, message: string) {
    super('DECODE', message);
  }
}

/** The passphrase did not decrypt the key (OpenSSH PROTOCOL.key: the two check-ints differ). */
export class WrongPassphraseError extends KeyFormatError {
  constructor(message = 'wrong passphrase (or corrupt key)') {
    super('wrong-passphrase', message);
  }
}

/** Turns anything a parser below us throws (DecodeError from impl/wire, node:crypto errors) into a KeyFormatError. */
export function asKeyFormatError(e: unknown, context: string): KeyFormatError {
  if (e instanceof KeyFormatError) return e;
  if (e instanceof SSHError && e.code === 'DECODE') {
    const kind = /need \d+ bytes|exceeds the \d+ bytes left/.test(e.message) ? 'truncated' : /exceeds limit/.test(e.message) ? 'limit' : 'malformed';
    return new KeyFormatError(kind, `${context}: ${e.message}`);
  }
  const msg = e instanceof Error ? e.message : String(e);
  return new KeyFormatError('malformed', `${context}: ${msg}`);
}
