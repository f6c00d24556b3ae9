/**
 * PEM/DER private keys through node:crypto (OpenSSL): PKCS#1 "RSA PRIVATE KEY" (RFC 8017 App. A.1.2),
 * SEC1 "EC PRIVATE KEY" (RFC 5915), PKCS#8 "PRIVATE KEY" and "ENCRYPTED PRIVATE KEY" (RFC 5958),
 * and traditional encrypted PEM (RFC 1421 Proc-Type/DEK-Info headers, as `ssh-keygen -m PEM -N` writes).
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import type { Armored } from './armor.js';
import { KeyFormatError, WrongPassphraseError } from './errors.js';
import { RSA_MAX_BITS, RSA_MIN_BITS, type KeyType } from './key-types.js';
import { keyTypeOf } from './public-blob.js';

export type PemFormat = 'pkcs1' | 'pkcs8' | 'sec1';

const LABELS: ReadonlyMap<string, PemFormat> = new Map([
  ['RSA PRIVATE KEY', 'pkcs1'],
  ['EC PRIVATE KEY', 'sec1'],
  ['PRIVATE KEY', 'pkcs8'],
  ['ENCRYPTED PRIVATE KEY', 'pkcs8'],
]);

export interface PemKey {
  readonly type: KeyType;
  readonly privateKey: KeyObject;
  readonly format: PemFormat;
  readonly encrypted: boolean;
}

export function isPemPrivateLabel(label: string): boolean {
  return LABELS.has(label);
}

/** A PEM block already found by findArmor. */
export function parsePemPrivateKey(block: Armored, passphrase?: string): PemKey {
  const format = LABELS.get(block.label);
  if (!format) throw new KeyFormatError('unsupported', `PEM block ${JSON.stringify(block.label)} is not a supported private key`);
  const encrypted = block.label === 'ENCRYPTED PRIVATE KEY' || /ENCRYPTED/.test(block.headers.get('Proc-Type') ?? '');
  return finish(format, encrypted, () => createPrivateKey({ key: block.text, format: 'pem', ...(passphrase === undefined ? {} : { passphrase }) }), passphrase);
}

/** Binary DER: PKCS#8 (plain or encrypted), PKCS#1 or SEC1, tried in that order. */
export function parseDerPrivateKey(der: Uint8Array, passphrase?: string): PemKey {
  const buf = Buffer.from(der.buffer, der.byteOffset, der.length);
  for (const format of ['pkcs8', 'pkcs1', 'sec1'] as const) {
    try {
      const privateKey = createPrivateKey({ key: buf, format: 'der', type: format, ...(passphrase === undefined ? {} : { passphrase }) });
      return finish(format, false, () => privateKey, passphrase);
    } catch (e) {
      if (e instanceof KeyFormatError) throw e;
      if (isMissingPassphrase(e)) throw new KeyFormatError('passphrase-required', 'DER private key is encrypted: a passphrase is required');
      if (isBadDecrypt(e)) throw new WrongPassphraseError();
    }
  }
  throw new KeyFormatError('malformed', 'not a PKCS#8, PKCS#1 or SEC1 DER private key');
}

function finish(format: PemFormat, encrypted: boolean, load: () => KeyObject, passphrase: string | undefined): PemKey {
  if (encrypted && (passphrase === undefined || passphrase === '')) throw new KeyFormatError('passphrase-required', 'PEM private key is encrypted: a passphrase is required');
  let privateKey: KeyObject;
  try {
    privateKey = load();
  } catch (e) {
    // A wrong key usually fails the CBC padding check, and rarely (1/256) the DER parse after it.
    if (encrypted) throw new WrongPassphraseError();
    throw new KeyFormatError('malformed', `PEM private key: ${e instanceof Error ? e.message : String(e)}`);
  }
  const type = keyTypeOf(privateKey);
  if (type === 'ssh-rsa') {
    const bits = privateKey.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) throw new KeyFormatError('malformed', `RSA modulus of ${bits} bits outside [${RSA_MIN_BITS}, ${RSA_MAX_BITS}]`);
  }
  return { type, privateKey, format, encrypted };
}

function errorCode(e: unknown): string {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : '';
}
function isMissingPassphrase(e: unknown): boolean {
  return ['ERR_MISSING_PASSPHRASE', 'ERR_OSSL_CRYPTO_INTERRUPTED_OR_CANCELLED'].includes(errorCode(e));
}
function isBadDecrypt(e: unknown): boolean {
  return /BAD_DECRYPT/.test(errorCode(e));
}

export interface PemWriteOptions {
  /** Default 'pkcs8'. 'pkcs1' is RSA only, 'sec1' EC only. */
  readonly format?: PemFormat;
  /** Encrypts (PKCS#8: PBES2 with `cipher`; PKCS#1/SEC1: traditional DEK-Info PEM). */
  readonly passphrase?: string;
  /** OpenSSL cipher name, default 'aes-256-cbc'. */
  readonly cipher?: string;
}

/** PEM text of a private KeyObject ("-----BEGIN PRIVATE KEY-----" by default). */
export function writePemPrivateKey(key: KeyObject, opts: PemWriteOptions = {}): string {
  if (key.type !== 'private') throw new TypeError('writePemPrivateKey: expected a private KeyObject');
  const format = opts.format ?? 'pkcs8';
  const type = keyTypeOf(key);
  if (format === 'pkcs1' && type !== 'ssh-rsa') throw new KeyFormatError('unsupported', 'PKCS#1 holds RSA keys only');
  if (format === 'sec1' && !type.startsWith('ecdsa-')) throw new KeyFormatError('unsupported', 'SEC1 holds EC keys only');
  const enc = opts.passphrase ? { cipher: opts.cipher ?? 'aes-256-cbc', passphrase: opts.passphrase } : {};
  return key.export({ type: format, format: 'pem', ...enc }) as string;
}

/** PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----", or ENCRYPTED with a passphrase). */
export function writePkcs8PrivateKey(key: KeyObject, opts: { passphrase?: string; cipher?: string } = {}): string {
  return writePemPrivateKey(key, { ...opts, format: 'pkcs8' });
}
