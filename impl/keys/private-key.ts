/** One entry point for private key files: OpenSSH openssh-key-v1, PEM (PKCS#1, SEC1, PKCS#8) or DER. */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { privateKeyFromNode } from '../crypto/hostkey/index.js';
import type { PrivateKey } from '../crypto/types.js';
import { MAX_KEY_FILE, findArmor } from './armor.js';
import { KeyFormatError } from './errors.js';
import type { KeyType } from './key-types.js';
import { OPENSSH_LABEL, hasOpenSSHMagic, parseOpenSSHPrivateKey } from './openssh-private.js';
import { isPemPrivateLabel, parseDerPrivateKey, parsePemPrivateKey, type PemFormat } from './pem.js';
import { encodePublicBlob } from './public-blob.js';

export type PrivateKeyFormat = 'openssh' | PemFormat;

export interface ParsedPrivateKey {
  readonly format: PrivateKeyFormat;
  readonly type: KeyType;
  /** The private key (node:crypto). */
  readonly keyObject: KeyObject;
  readonly publicKeyObject: KeyObject;
  /** RFC 4253 §6.6 public key blob. */
  readonly publicBlob: Uint8Array;
  /** OpenSSH files carry a comment; PEM/DER files do not (''). */
  readonly comment: string;
  readonly encrypted: boolean;
  /** A signer for the transport and auth layers (impl/crypto/hostkey). */
  toPrivateKey(): PrivateKey;
}

export interface ParsePrivateKeyOptions {
  /** Refuse OpenSSH bcrypt round counts above this (default 1024; ~22 ms per round here). */
  readonly maxKdfRounds?: number;
}

const latin1 = new TextDecoder('latin1');

/**
 * Parses a private key file (text or bytes). Bad input, a missing or wrong passphrase, unsupported
 * types/ciphers/KDFs and absurd sizes are KeyFormatError (WrongPassphraseError for the passphrase).
 */
export function parsePrivateKey(input: string | Uint8Array, passphrase?: string, opts: ParsePrivateKeyOptions = {}): ParsedPrivateKey {
  if (input.length > MAX_KEY_FILE) throw new KeyFormatError('limit', `key file of ${input.length} bytes exceeds ${MAX_KEY_FILE}`);
  if (typeof input !== 'string') {
    if (hasOpenSSHMagic(input)) return fromOpenSSH(input, passphrase, opts);
    if (!looksLikeText(input)) {
      const k = parseDerPrivateKey(input, passphrase);
      return result(k.format, k.type, k.privateKey, '', k.encrypted);
    }
    input = latin1.decode(input);
  }
  const block = findArmor(input);
  if (!block) {
    if (/^PuTTY-User-Key-File-/m.test(input)) throw new KeyFormatError('unsupported', 'PuTTY .ppk keys are not supported (convert with puttygen)');
    throw new KeyFormatError('malformed', 'no "-----BEGIN ... PRIVATE KEY-----" block found');
  }
  if (block.label === OPENSSH_LABEL) return fromOpenSSH(block.body, passphrase, opts);
  if (isPemPrivateLabel(block.label)) {
    const k = parsePemPrivateKey(block, passphrase);
    return result(k.format, k.type, k.privateKey, '', k.encrypted);
  }
  throw new KeyFormatError('unsupported', `${JSON.stringify(block.label)} blocks are not supported private keys`);
}

function fromOpenSSH(bin: Uint8Array, passphrase: string | undefined, opts: ParsePrivateKeyOptions): ParsedPrivateKey {
  const k = parseOpenSSHPrivateKey(bin, { ...(passphrase === undefined ? {} : { passphrase }), ...(opts.maxKdfRounds === undefined ? {} : { maxKdfRounds: opts.maxKdfRounds }) });
  return result('openssh', k.type, k.privateKey, k.comment, k.encrypted, k.publicBlob);
}

function result(format: PrivateKeyFormat, type: KeyType, keyObject: KeyObject, comment: string, encrypted: boolean, blob?: Uint8Array): ParsedPrivateKey {
  const publicBlob = blob ?? encodePublicBlob(keyObject);
  let signer: PrivateKey | undefined;
  return {
    format, type, keyObject, publicKeyObject: createPublicKey(keyObject), publicBlob, comment, encrypted,
    toPrivateKey: () => (signer ??= privateKeyFromNode(keyObject)),
  };
}

/** PEM files are ASCII; DER starts with 0x30 (SEQUENCE), which is also '0', so look further. */
function looksLikeText(b: Uint8Array): boolean {
  const n = Math.min(b.length, 256);
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c !== 9 && c !== 10 && c !== 13 && (c < 32 || c > 126)) return false;
  }
  return true;
}
