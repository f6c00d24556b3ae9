/**
 * SSH key files and lines ↔ node:crypto KeyObjects and RFC 4253 §6.6 blobs: OpenSSH and PEM/PKCS#8
 * private keys, public key lines, authorized_keys, known_hosts and fingerprints.
 */
export { KeyFormatError, WrongPassphraseError, type KeyFormatErrorKind } from './errors.js';
export { KEY_TYPES, isKeyType, type KeyType } from './key-types.js';
export { parsePrivateKey, type ParsedPrivateKey, type ParsePrivateKeyOptions, type PrivateKeyFormat } from './private-key.js';
export {
  writeOpenSSHPrivateKey, encodeOpenSSHPrivateKey, parseOpenSSHPrivateKey, type OpenSSHKey, type OpenSSHReadOptions, type OpenSSHWriteOptions,
} from './openssh-private.js';
export { KEY_CIPHERS, DEFAULT_MAX_KDF_ROUNDS, type KeyCipher, type KeyCipherName } from './openssh-cipher.js';
export { writePemPrivateKey, writePkcs8PrivateKey, type PemFormat, type PemWriteOptions } from './pem.js';
export { encodePublicBlob, decodePublicBlob, keyTypeOf, peekBlobType, type DecodedPublicKey } from './public-blob.js';
export { parsePublicKeyLine, formatPublicKeyLine, type PublicKeyLine } from './public-line.js';
export { fingerprintSHA256, fingerprintMD5 } from './fingerprint.js';
export { generateKey, type GenerateKind, type KeyPair } from './generate.js';
export { matchPattern, matchPatternList, matchHostAndIp } from './patterns.js';
export {
  parseAuthorizedKeys, parseAuthorizedKeyLine, findAuthorizedKey, entryAllows,
  type AuthorizedKeyEntry, type AuthorizedKeyOption, type AuthorizedKeyRestrictions, type AuthorizedKeysList, type ClientOrigin,
} from './authorized-keys.js';
export {
  parseKnownHosts, parseKnownHostLine, checkKnownHost, addKnownHost, findKnownHostEntries, knownHostKeyTypes, knownHostName, hashHostName,
  type KnownHostsDb, type KnownHostEntry, type KnownHostStatus, type KnownHostMarker, type AddKnownHostOptions,
} from './known-hosts.js';
export {
  parseCertificate, signCertificate, checkCertificate, certifiedPrivateKey, isCertificateType, CERT_FOREVER, DEFAULT_USER_EXTENSIONS,
  type Certificate, type CertificateKind, type CertificateOptionValue, type SignCertificateOptions, type CertificateRequirements, type CertificateVerdict,
} from './cert.js';
