/**
 * The OpenSSH private key format "openssh-key-v1" (OpenSSH PROTOCOL.key):
 *
 *   "openssh-key-v1\0" string ciphername, string kdfname, string kdfoptions,
 *   uint32 N (= 1), string publickey, string encrypted-section [, byte[authlen] tag]
 *   section = uint32 checkint, uint32 checkint, (string type, private fields, string comment)…, 1 2 3… padding
 */
import { createECDH, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import type { Jwk } from '../crypto/jwk.js';
import { Reader, Writer, mpintFromUnsigned } from '../wire/index.js';
import { armor } from './armor.js';
import { KeyFormatError, WrongPassphraseError, asKeyFormatError } from './errors.js';
import { bigintFromBytes, bytesEqual, bytesFromBigint, fromBase64Url, modInverse, toBase64Url } from './encoding.js';
import { curveByType, isKeyType, type KeyType } from './key-types.js';
import { DEFAULT_MAX_KDF_ROUNDS, MAX_KDF_SALT, bcryptKdf, decryptSection, encryptSection, keyCipher, type KeyCipherName } from './openssh-cipher.js';
import { checkRsaPublic, ecPoint, ecPointToJwk, encodePublicBlob, importJwk, keyTypeOf } from './public-blob.js';

export const OPENSSH_LABEL = 'OPENSSH PRIVATE KEY';
const MAGIC = new TextEncoder().encode('openssh-key-v1\0');
/** A 16384-bit RSA key's private section is ~9 KiB; nothing legitimate comes near these bounds. */
const limits = { maxString: 64 * 1024, maxNames: 1 };
const lenientUtf8 = new TextDecoder('utf-8');

export interface OpenSSHReadOptions {
  readonly passphrase?: string;
  /** Refuse bcrypt round counts above this (default DEFAULT_MAX_KDF_ROUNDS). */
  readonly maxKdfRounds?: number;
}

export interface OpenSSHKey {
  readonly type: KeyType;
  readonly privateKey: KeyObject;
  readonly publicBlob: Uint8Array;
  readonly comment: string;
  readonly encrypted: boolean;
  readonly cipher: string;
  readonly kdfRounds?: number;
}

export function hasOpenSSHMagic(bin: Uint8Array): boolean {
  return bin.length >= MAGIC.length && bytesEqual(bin.subarray(0, MAGIC.length), MAGIC);
}

/** Parses the binary body of an OPENSSH PRIVATE KEY block. */
export function parseOpenSSHPrivateKey(bin: Uint8Array, opts: OpenSSHReadOptions = {}): OpenSSHKey {
  try {
    return parseBody(bin, opts);
  } catch (e) {
    throw asKeyFormatError(e, 'openssh private key');
  }
}

function parseBody(bin: Uint8Array, opts: OpenSSHReadOptions): OpenSSHKey {
  if (!hasOpenSSHMagic(bin)) throw new KeyFormatError('malformed', 'openssh private key: missing "openssh-key-v1" magic');
  const r = new Reader(bin.subarray(MAGIC.length), limits, MAGIC.length);
  const cipher = keyCipher(r.ascii('ciphername'));
  const kdfName = r.ascii('kdfname');
  const kdfOptions = r.string('kdfoptions');
  const nKeys = r.uint32();
  // sshkey.c private2_decode: exactly one key per file
  if (nKeys !== 1) throw new KeyFormatError('unsupported', `openssh private key: ${nKeys} keys in one file (only 1 is supported)`);
  const publicBlob = r.string('public key');
  const encrypted = r.string('private section');
  const tag = r.bytes(cipher.authLen, 'authentication tag');
  r.end('openssh private key');

  let keyIv: Uint8Array = new Uint8Array(0);
  let rounds: number | undefined;
  if (cipher.name === 'none') {
    if (kdfName !== 'none' || kdfOptions.length !== 0) throw new KeyFormatError('malformed', `openssh private key: cipher none with kdf ${JSON.stringify(kdfName)}`);
  } else {
    if (kdfName !== 'bcrypt') throw new KeyFormatError('unsupported', `openssh private key: kdf ${JSON.stringify(kdfName.slice(0, 64))} is not supported`);
    const k = new Reader(kdfOptions, limits);
    const salt = k.string('bcrypt salt', MAX_KDF_SALT);
    rounds = k.uint32();
    k.end('bcrypt kdfoptions');
    const max = opts.maxKdfRounds ?? DEFAULT_MAX_KDF_ROUNDS;
    if (rounds < 1 || rounds > max) throw new KeyFormatError('limit', `openssh private key: ${rounds} bcrypt rounds outside [1, ${max}]`);
    if (opts.passphrase === undefined || opts.passphrase === '') throw new KeyFormatError('passphrase-required', 'openssh private key is encrypted: a passphrase is required');
    if (salt.length === 0) throw new KeyFormatError('malformed', 'openssh private key: empty bcrypt salt');
    keyIv = bcryptKdf(opts.passphrase, salt, rounds, cipher.keyLen + cipher.ivLen);
  }
  if (encrypted.length % cipher.blockSize !== 0) {
    throw new KeyFormatError('malformed', `openssh private key: private section of ${encrypted.length} bytes is not a multiple of ${cipher.blockSize}`);
  }
  const plain = decryptSection(cipher, keyIv, encrypted, tag);

  const p = new Reader(plain, limits);
  const check1 = p.uint32();
  const check2 = p.uint32();
  if (check1 !== check2) {
    if (cipher.name === 'none') throw new KeyFormatError('malformed', 'openssh private key: check-ints differ in an unencrypted key');
    throw new WrongPassphraseError();
  }
  const type = p.ascii('key type');
  if (!isKeyType(type)) throw new KeyFormatError('unsupported', `openssh private key: key type ${JSON.stringify(type.slice(0, 64))} is not supported`);
  const privateKey = readPrivateFields(p, type);
  const comment = lenientUtf8.decode(p.string('comment'));
  // PROTOCOL.key: padding is 1, 2, 3, … up to the cipher's block size
  const pad = p.rest();
  for (let i = 0; i < pad.length; i++) {
    if (pad[i] !== i + 1) throw new KeyFormatError('malformed', 'openssh private key: bad padding after the private section');
  }
  if (!bytesEqual(encodePublicBlob(privateKey), publicBlob)) {
    throw new KeyFormatError('malformed', 'openssh private key: public key does not match the private key');
  }
  return { type, privateKey, publicBlob, comment, encrypted: cipher.name !== 'none', cipher: cipher.name, ...(rounds === undefined ? {} : { kdfRounds: rounds }) };
}

/** Reads one key's private fields (after its type string) and checks they are consistent. */
function readPrivateFields(r: Reader, type: KeyType): KeyObject {
  if (type === 'ssh-ed25519') {
    // PROTOCOL.key / RFC 8709: string pk(32), string sk(64) = seed || pk
    const pk = r.string('ed25519 public key');
    const sk = r.string('ed25519 private key');
    if (pk.length !== 32 || sk.length !== 64 || !bytesEqual(sk.subarray(32), pk)) {
      throw new KeyFormatError('malformed', 'openssh private key: inconsistent ed25519 key');
    }
    const key = importJwk({ kty: 'OKP', crv: 'Ed25519', d: toBase64Url(sk.subarray(0, 32)), x: toBase64Url(pk) }, 'private', 'ed25519 key');
    // node derives the public half from the seed and ignores x, so compare
    if (createPublicKey(key).export({ format: 'jwk' }).x !== toBase64Url(pk)) throw new KeyFormatError('malformed', 'openssh private key: ed25519 seed does not match its public key');
    return key;
  }
  if (type === 'ssh-rsa') {
    // sshkey.c: mpint n, e, d, iqmp, p, q
    const n = r.mpint('rsa n'); const e = r.mpint('rsa e'); const d = r.mpint('rsa d');
    const iqmp = r.mpint('rsa iqmp'); const p = r.mpint('rsa p'); const q = r.mpint('rsa q');
    checkRsaPublic(e, n, 'openssh private key');
    if (p <= 1n || q <= 1n || p * q !== n || d <= 0n || d >= n || (iqmp * q) % p !== 1n
      || (e * (d % (p - 1n))) % (p - 1n) !== 1n || (e * (d % (q - 1n))) % (q - 1n) !== 1n) {
      throw new KeyFormatError('malformed', 'openssh private key: inconsistent RSA parameters');
    }
    const b = (v: bigint): string => toBase64Url(bytesFromBigint(v));
    return importJwk({ kty: 'RSA', n: b(n), e: b(e), d: b(d), p: b(p), q: b(q), dp: b(d % (p - 1n)), dq: b(d % (q - 1n)), qi: b(modInverse(q, p)) }, 'private', 'rsa key');
  }
  const curve = curveByType(type)!;
  const id = r.ascii('curve identifier');
  const q = r.string('ec point Q');
  const dBytes = r.string('ec private scalar');
  if (id !== curve.sshCurve) throw new KeyFormatError('malformed', `openssh private key: curve ${JSON.stringify(id)} does not match ${type}`);
  if (dBytes.length > curve.fieldBytes + 1 || (dBytes.length > 0 && dBytes[0]! & 0x80)) throw new KeyFormatError('malformed', 'openssh private key: EC private scalar out of range');
  const d = bytesFromBigint(bigintFromBytes(dBytes), curve.fieldBytes + 1).subarray(1);
  let derived: Uint8Array;
  try {
    const ecdh = createECDH(curve.nodeCurve);
    ecdh.setPrivateKey(d); // rejects 0 and values ≥ the group order
    derived = new Uint8Array(ecdh.getPublicKey());
  } catch {
    throw new KeyFormatError('malformed', 'openssh private key: EC private scalar out of range');
  }
  if (!bytesEqual(derived, q)) throw new KeyFormatError('malformed', 'openssh private key: EC private scalar does not match its public point');
  return importJwk({ kty: 'EC', crv: curve.jwkCrv, ...ecPointToJwk(q, curve.fieldBytes, 'openssh private key'), d: toBase64Url(d) }, 'private', 'ec key');
}

function writePrivateFields(w: Writer, key: KeyObject, type: KeyType): void {
  const jwk: Jwk = key.export({ format: 'jwk' });
  w.string(type);
  if (type === 'ssh-ed25519') {
    const pk = fromBase64Url(jwk.x, 'ed25519 x');
    const seed = fromBase64Url(jwk.d, 'ed25519 d');
    const sk = new Uint8Array(64);
    sk.set(seed);
    sk.set(pk, 32);
    w.string(pk).string(sk);
    return;
  }
  if (type === 'ssh-rsa') {
    const m = (v: string | undefined, what: string): Uint8Array => mpintFromUnsigned(fromBase64Url(v, what));
    // JWK qi = q⁻¹ mod p, which is OpenSSH's iqmp
    w.string(m(jwk.n, 'n')).string(m(jwk.e, 'e')).string(m(jwk.d, 'd')).string(m(jwk.qi, 'qi')).string(m(jwk.p, 'p')).string(m(jwk.q, 'q'));
    return;
  }
  const curve = curveByType(type)!;
  w.string(curve.sshCurve).string(ecPoint(jwk, curve.fieldBytes)).string(mpintFromUnsigned(fromBase64Url(jwk.d, 'ec d')));
}

export interface OpenSSHWriteOptions {
  readonly comment?: string;
  /** Encrypts with bcrypt + `cipher` when given and non-empty. */
  readonly passphrase?: string;
  /** bcrypt rounds (ssh-keygen -a); default 16 like ssh-keygen. */
  readonly rounds?: number;
  /** Default aes256-ctr (ssh-keygen's default). */
  readonly cipher?: KeyCipherName;
  /** Randomness for salt and check-int; default node:crypto randomBytes. */
  readonly rng?: (n: number) => Uint8Array;
}

/** Binary openssh-key-v1 body of a private KeyObject. */
export function encodeOpenSSHPrivateKey(key: KeyObject, opts: OpenSSHWriteOptions = {}): Uint8Array {
  if (key.type !== 'private') throw new TypeError('encodeOpenSSHPrivateKey: expected a private KeyObject');
  const rng = opts.rng ?? ((n: number) => new Uint8Array(randomBytes(n)));
  const type = keyTypeOf(key);
  const encrypt = opts.passphrase !== undefined && opts.passphrase !== '';
  const cipher = keyCipher(encrypt ? (opts.cipher ?? 'aes256-ctr') : 'none');
  const rounds = opts.rounds ?? 16;
  if (encrypt && (!Number.isInteger(rounds) || rounds < 1 || rounds > 0xffffffff)) throw new RangeError(`rounds: expected an integer ≥ 1, got ${rounds}`);

  const check = rng(4);
  const section = new Writer(1024).raw(check).raw(check);
  writePrivateFields(section, key, type);
  section.string(opts.comment ?? '');
  for (let i = 1; section.length % cipher.blockSize !== 0; i++) section.byte(i);

  let kdfName = 'none';
  let kdfOptions: Uint8Array = new Uint8Array(0);
  let keyIv: Uint8Array = new Uint8Array(0);
  if (encrypt) {
    const salt = rng(16);
    kdfName = 'bcrypt';
    kdfOptions = new Writer(32).string(salt).uint32(rounds).finish();
    keyIv = bcryptKdf(opts.passphrase!, salt, rounds, cipher.keyLen + cipher.ivLen);
  }
  const { data, tag } = encryptSection(cipher, keyIv, section.finish());
  return new Writer(data.length + 512).raw(MAGIC).string(cipher.name).string(kdfName).string(kdfOptions)
    .uint32(1).string(encodePublicBlob(key)).string(data).raw(tag).finish();
}

/** The "-----BEGIN OPENSSH PRIVATE KEY-----" file ssh-keygen writes (70-column base64). */
export function writeOpenSSHPrivateKey(key: KeyObject, opts: OpenSSHWriteOptions = {}): string {
  return armor(OPENSSH_LABEL, encodeOpenSSHPrivateKey(key, opts), 70);
}
