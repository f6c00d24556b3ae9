/**
 * OpenSSH certificates (OpenSSH PROTOCOL.certkeys): parse, sign and check user and host certificates.
 *
 * A certificate is a public key blob of type `<key type>-cert-v01@openssh.com`:
 *   string type || string nonce || <the certified key's fields> || uint64 serial || uint32 type (1 user, 2 host) ||
 *   string key id || string valid principals || uint64 valid after || uint64 valid before ||
 *   string critical options || string extensions || string reserved || string signature key || string signature
 * The CA's signature covers every byte before the `signature` field.
 */
import { BlockList, isIP } from 'node:net';
import { randomBytes } from 'node:crypto';
import { CERT_SUFFIX, certBaseType, certTypeFor, certifiedKeyBlob } from '../crypto/hostkey/cert-signature.js';
import { signatureAlgorithms } from '../crypto/registry.js';
import type { PrivateKey } from '../crypto/types.js';
import { Reader, Writer } from '../wire/index.js';
import { bytesEqual } from './encoding.js';
import { KeyFormatError, asKeyFormatError } from './errors.js';
import { isKeyType, MAX_PUBLIC_BLOB, type KeyType } from './key-types.js';
import { peekBlobType } from './public-blob.js';

/** PROTOCOL.certkeys: `SSH_CERT_TYPE_USER` (1) authenticates a user, `SSH_CERT_TYPE_HOST` (2) a host. */
export type CertificateKind = 'user' | 'host';

/** valid_before of a certificate that never expires (ssh-keygen `-V always:forever`). */
export const CERT_FOREVER = 0xffff_ffff_ffff_ffffn;

/**
 * A critical option or extension: the value of an option that carries one (force-command, source-address),
 * or `true` for a flag whose data is empty (permit-pty, ...). PROTOCOL.certkeys "Critical options" / "Extensions".
 */
export type CertificateOptionValue = string | true;

/** A parsed OpenSSH certificate (PROTOCOL.certkeys). */
export interface Certificate {
  /** The certificate key type, e.g. `ssh-ed25519-cert-v01@openssh.com`. */
  readonly type: string;
  /** The certified key's type, e.g. `ssh-ed25519`. */
  readonly keyType: KeyType;
  /** The CA's random nonce (PROTOCOL.certkeys: it makes hash collisions on the signed data impractical). */
  readonly nonce: Uint8Array;
  /** The certified public key as a plain RFC 4253 §6.6 blob. */
  readonly publicKey: Uint8Array;
  readonly serial: bigint;
  readonly kind: CertificateKind;
  readonly keyId: string;
  /** User names or host names the certificate is valid for; empty means any (refused for user certificates). */
  readonly principals: readonly string[];
  /** Seconds since the epoch; valid from `validAfter` (inclusive) until `validBefore` (exclusive). */
  readonly validAfter: bigint;
  readonly validBefore: bigint;
  readonly criticalOptions: ReadonlyMap<string, CertificateOptionValue>;
  readonly extensions: ReadonlyMap<string, CertificateOptionValue>;
  /** The CA's public key blob. */
  readonly signatureKey: Uint8Array;
  /** The CA's signature blob (`string algorithm || string signature`). */
  readonly signature: Uint8Array;
  /** The whole certificate blob. */
  readonly blob: Uint8Array;
  /** The bytes the signature covers. */
  readonly signedData: Uint8Array;
}

/** Options that carry a string value; all others are flags with empty data (PROTOCOL.certkeys). */
const VALUED_OPTIONS: ReadonlySet<string> = new Set(['force-command', 'source-address']);
/** Critical options we understand; PROTOCOL.certkeys: an unrecognised critical option makes the certificate invalid. */
const KNOWN_CRITICAL: ReadonlySet<string> = new Set(['force-command', 'source-address']);
const CERT_LIMITS = { maxString: MAX_PUBLIC_BLOB, maxNames: 1 };
/** Bounds on counts inside one certificate (each item is at least 4 bytes, so the blob bound is the real one). */
const MAX_ITEMS = 256;

/** True when `type` names an OpenSSH certificate key type. */
export function isCertificateType(type: string): boolean {
  return type.endsWith(CERT_SUFFIX);
}

/** Parses a certificate blob; KeyFormatError for malformed input. The signature is not checked here. */
export function parseCertificate(blob: Uint8Array): Certificate {
  if (blob.length > MAX_PUBLIC_BLOB) throw new KeyFormatError('limit', `certificate of ${blob.length} bytes exceeds ${MAX_PUBLIC_BLOB}`);
  try {
    const r = new Reader(blob, CERT_LIMITS);
    const type = r.ascii('certificate type');
    const keyType = certBaseType(type);
    if (keyType === undefined || !isKeyType(keyType)) throw new KeyFormatError('unsupported', `certificate type ${JSON.stringify(type.slice(0, 64))} is not supported`);
    const nonce = r.string('nonce');
    skipKeyFields(r, keyType);
    const publicKey = certifiedKeyBlob(blob);
    if (!publicKey) throw new KeyFormatError('malformed', 'certificate: bad certified key');
    const serial = r.uint64();
    const kindCode = r.uint32();
    if (kindCode !== 1 && kindCode !== 2) throw new KeyFormatError('malformed', `certificate: type ${kindCode} is neither user (1) nor host (2)`);
    const keyId = utf8(r.string('key id'));
    const principals = stringList(r.string('valid principals'));
    const validAfter = r.uint64();
    const validBefore = r.uint64();
    const criticalOptions = optionList(r.string('critical options'), 'critical options');
    const extensions = optionList(r.string('extensions'), 'extensions');
    r.string('reserved');
    const signatureKey = r.string('signature key');
    // PROTOCOL.certkeys: the CA key is a plain key, never itself a certificate
    if (isCertificateType(peekBlobType(signatureKey))) throw new KeyFormatError('malformed', 'certificate: the signature key is a certificate');
    const signedData = blob.subarray(0, r.offset);
    const signature = r.string('signature');
    r.end('certificate');
    return {
      type, keyType, nonce, publicKey, serial, kind: kindCode === 1 ? 'user' : 'host', keyId, principals, validAfter, validBefore,
      criticalOptions, extensions, signatureKey, signature, blob, signedData,
    };
  } catch (e) {
    throw asKeyFormatError(e, 'certificate');
  }
}

function skipKeyFields(r: Reader, keyType: KeyType): void {
  if (keyType === 'ssh-ed25519') r.string('ed25519 key');
  else if (keyType === 'ssh-rsa') { r.mpint('rsa e'); r.mpint('rsa n'); }
  else { r.string('curve'); r.string('ec point'); }
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
function utf8(b: Uint8Array): string {
  return utf8Decoder.decode(b);
}

function stringList(data: Uint8Array): string[] {
  const r = new Reader(data, CERT_LIMITS);
  const out: string[] = [];
  while (r.remaining > 0) {
    if (out.length >= MAX_ITEMS) throw new KeyFormatError('limit', `certificate: more than ${MAX_ITEMS} principals`);
    out.push(utf8(r.string('principal')));
  }
  return out;
}

/** PROTOCOL.certkeys: (string name, string data)*, names lexically ordered, each at most once. */
function optionList(data: Uint8Array, what: string): Map<string, CertificateOptionValue> {
  const r = new Reader(data, CERT_LIMITS);
  const out = new Map<string, CertificateOptionValue>();
  let last: string | undefined;
  while (r.remaining > 0) {
    if (out.size >= MAX_ITEMS) throw new KeyFormatError('limit', `certificate: more than ${MAX_ITEMS} ${what}`);
    const name = utf8(r.string(`${what} name`));
    const value = r.string(`${what} data`);
    if (last !== undefined && name <= last) throw new KeyFormatError('malformed', `certificate: ${what} not in lexical order or repeated (${JSON.stringify(name.slice(0, 64))})`);
    last = name;
    if (value.length === 0) { out.set(name, true); continue; }
    const inner = new Reader(value, CERT_LIMITS);
    const s = utf8(inner.string(`${what} value`));
    inner.end(`${what} ${name}`);
    out.set(name, s);
  }
  return out;
}

/** What a CA puts in a certificate it signs. */
export interface SignCertificateOptions {
  /** The key to certify: its plain public key blob (RFC 4253 §6.6). */
  readonly publicKey: Uint8Array;
  readonly kind: CertificateKind;
  readonly keyId: string;
  readonly principals: readonly string[];
  /** Seconds since the epoch. Default 0 (always). */
  readonly validAfter?: bigint;
  /** Seconds since the epoch. Default CERT_FOREVER. */
  readonly validBefore?: bigint;
  readonly serial?: bigint;
  readonly criticalOptions?: Readonly<Record<string, CertificateOptionValue>>;
  /** Default for user certificates: ssh-keygen's permit-* set; none for host certificates. */
  readonly extensions?: Readonly<Record<string, CertificateOptionValue>>;
  /** 32 random bytes by default. */
  readonly nonce?: Uint8Array;
  /** The CA's signature algorithm (default: its first, e.g. rsa-sha2-512 for an RSA CA). */
  readonly algorithm?: string;
}

/** ssh-keygen's default extensions for a user certificate. */
export const DEFAULT_USER_EXTENSIONS: Readonly<Record<string, CertificateOptionValue>> = Object.freeze({
  'permit-X11-forwarding': true, 'permit-agent-forwarding': true, 'permit-port-forwarding': true, 'permit-pty': true, 'permit-user-rc': true,
});

/** Signs a certificate with the CA key `ca` (which must be a plain key) and returns the certificate blob. */
export function signCertificate(ca: PrivateKey, o: SignCertificateOptions): Uint8Array {
  const keyType = peekBlobType(o.publicKey);
  if (!isKeyType(keyType)) throw new KeyFormatError('unsupported', `cannot certify a key of type ${JSON.stringify(keyType.slice(0, 64))}`);
  if (isCertificateType(ca.publicKey.type)) throw new KeyFormatError('unsupported', 'a certificate cannot sign certificates (PROTOCOL.certkeys)');
  const algorithm = o.algorithm ?? ca.algorithms[0];
  if (algorithm === undefined || !ca.algorithms.includes(algorithm)) throw new KeyFormatError('unsupported', `the CA key cannot sign with ${String(algorithm)}`);
  const w = new Writer(1024).string(certTypeFor(keyType)).string(o.nonce ?? new Uint8Array(randomBytes(32)));
  // the certified key's fields are the plain blob minus its leading type string
  const keyReader = new Reader(o.publicKey, CERT_LIMITS);
  keyReader.ascii('key type');
  w.raw(keyReader.rest());
  w.uint64(o.serial ?? 0n).uint32(o.kind === 'user' ? 1 : 2).string(o.keyId);
  const principals = new Writer(64);
  for (const p of o.principals) principals.string(p);
  w.string(principals.finish()).uint64(o.validAfter ?? 0n).uint64(o.validBefore ?? CERT_FOREVER);
  w.string(encodeOptions(o.criticalOptions ?? {}));
  w.string(encodeOptions(o.extensions ?? (o.kind === 'user' ? DEFAULT_USER_EXTENSIONS : {})));
  w.string(new Uint8Array(0)).string(ca.publicKey.blob);
  const signed = w.finish();
  return new Writer(signed.length + 600).raw(signed).string(ca.sign(algorithm, signed)).finish();
}

function encodeOptions(options: Readonly<Record<string, CertificateOptionValue>>): Uint8Array {
  const w = new Writer(64);
  // PROTOCOL.certkeys: lexical order of the names
  for (const name of Object.keys(options).sort()) {
    const v = options[name]!;
    w.string(name).string(v === true ? new Uint8Array(0) : new Writer(v.length + 4).string(v).finish());
  }
  return w.finish();
}

/** What a certificate must satisfy (sshd TrustedUserCAKeys, ssh `@cert-authority`). */
export interface CertificateRequirements {
  readonly kind: CertificateKind;
  /** The user name (user certificates) or host name (host certificates) that must be a listed principal. */
  readonly principal: string;
  /** CA public key blobs trusted for this check. */
  readonly trustedCAs: readonly Uint8Array[];
  /** Current time in milliseconds since the epoch (default Date.now()). */
  readonly now?: number;
  /** The client's address, for the source-address critical option of user certificates. */
  readonly clientAddress?: string;
  /** Signature algorithms a CA may sign with (default: every non-legacy one we implement, like OpenSSH's CASignatureAlgorithms). */
  readonly caSignatureAlgorithms?: readonly string[];
}

/** The outcome of checkCertificate: accepted (with what the server must enforce) or refused with a reason. */
export type CertificateVerdict =
  | { readonly ok: true; readonly certificate: Certificate; readonly forceCommand?: string }
  | { readonly ok: false; readonly reason: string; readonly certificate?: Certificate };

/**
 * Checks a certificate as OpenSSH does (PROTOCOL.certkeys, sshd TrustedUserCAKeys, ssh_config `@cert-authority`):
 * a trusted CA signed it with an allowed algorithm, it is of the wanted kind, `now` lies in its validity
 * interval, the principal is listed (a user certificate must list principals; a host certificate without
 * principals is valid for any host, as in OpenSSH), and every critical option is understood and satisfied.
 * Never throws for bad input.
 */
export function checkCertificate(input: Certificate | Uint8Array, req: CertificateRequirements): CertificateVerdict {
  let cert: Certificate;
  try {
    cert = input instanceof Uint8Array ? parseCertificate(input) : input;
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e) };
  }
  const refuse = (reason: string): CertificateVerdict => ({ ok: false, reason, certificate: cert });
  if (!req.trustedCAs.some((ca) => bytesEqual(ca, cert.signatureKey))) return refuse('certificate signed by an untrusted CA');
  const sigAlg = signatureAlgorithmName(cert.signature);
  const allowed = req.caSignatureAlgorithms ?? [...signatureAlgorithms.values()].filter((a) => !a.legacy && !isCertificateType(a.keyType)).map((a) => a.name);
  const alg = sigAlg === undefined ? undefined : signatureAlgorithms.get(sigAlg);
  if (!alg || !allowed.includes(alg.name)) return refuse(`CA signature algorithm ${JSON.stringify(sigAlg ?? '')} not allowed`);
  if (!alg.verify(cert.signatureKey, cert.signedData, cert.signature)) return refuse('bad CA signature');
  if (cert.kind !== req.kind) return refuse(`a ${cert.kind} certificate where a ${req.kind} certificate is needed`);
  const now = BigInt(Math.floor((req.now ?? Date.now()) / 1000));
  if (now < cert.validAfter) return refuse('certificate is not yet valid');
  if (now >= cert.validBefore) return refuse('certificate has expired');
  if (cert.principals.length === 0) {
    if (cert.kind === 'user') return refuse('certificate lacks a principal list');
  } else if (!cert.principals.includes(req.principal)) {
    return refuse(`${JSON.stringify(req.principal)} is not a principal of the certificate`);
  }
  if (cert.kind === 'host' && cert.criticalOptions.size > 0) return refuse('a host certificate with critical options');
  for (const [name] of cert.criticalOptions) if (!KNOWN_CRITICAL.has(name)) return refuse(`unrecognised critical option ${JSON.stringify(name)}`);
  for (const [name, v] of cert.criticalOptions) if (VALUED_OPTIONS.has(name) && v === true) return refuse(`critical option ${name} without a value`);
  const source = cert.criticalOptions.get('source-address');
  if (typeof source === 'string') {
    const verdict = sourceAddressAllows(source, req.clientAddress);
    if (verdict !== true) return refuse(verdict);
  }
  const force = cert.criticalOptions.get('force-command');
  return typeof force === 'string' ? { ok: true, certificate: cert, forceCommand: force } : { ok: true, certificate: cert };
}

function signatureAlgorithmName(sig: Uint8Array): string | undefined {
  try {
    return new Reader(sig, CERT_LIMITS).ascii('signature algorithm');
  } catch {
    return undefined;
  }
}

/** PROTOCOL.certkeys source-address: a comma-separated list of addresses / CIDR blocks; true or why not. */
function sourceAddressAllows(list: string, address: string | undefined): true | string {
  if (address === undefined) return 'source-address restricted certificate but the client address is unknown';
  const plain = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  const family = isIP(plain);
  if (family === 0) return `client address ${JSON.stringify(address)} is not an IP address`;
  const blocks = new BlockList();
  for (const item of list.split(',')) {
    const [ip, bits] = item.trim().split('/');
    const v = isIP(ip ?? '');
    if (v === 0) return `source-address: ${JSON.stringify(item)} is not an address or CIDR block`;
    const type = v === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) { blocks.addAddress(ip!, type); continue; }
    const prefix = /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
    if (!(prefix >= 0 && prefix <= (v === 4 ? 32 : 128))) return `source-address: bad prefix in ${JSON.stringify(item)}`;
    blocks.addSubnet(ip!, prefix, type);
  }
  return blocks.check(plain, family === 4 ? 'ipv4' : 'ipv6') ? true : `client address ${plain} is not in source-address ${list}`;
}

/**
 * A signer that presents a certificate: the private key signs with the base algorithm, the peer sees the
 * certificate and the `-cert-v01@openssh.com` algorithm names (client publickey authentication, server host key).
 * Throws KeyFormatError when the certificate does not certify this key.
 */
export function certifiedPrivateKey(key: PrivateKey, certificate: Uint8Array): PrivateKey {
  const cert = parseCertificate(certificate);
  if (!bytesEqual(cert.publicKey, key.publicKey.blob)) throw new KeyFormatError('malformed', 'the certificate certifies a different key');
  const algorithms = key.algorithms.map(certTypeFor).filter((n) => signatureAlgorithms.has(n));
  return {
    type: cert.type,
    publicKey: { type: cert.type, blob: cert.blob },
    algorithms,
    sign(algorithm, data) {
      const base = certBaseType(algorithm);
      if (base === undefined || !algorithms.includes(algorithm)) throw new TypeError(`a ${cert.type} key cannot sign ${JSON.stringify(algorithm)}`);
      return key.sign(base, data);
    },
  };
}

/**
 * The certificate signature algorithms for a list of plain host key algorithms, in the same order
 * ('ssh-ed25519' → 'ssh-ed25519-cert-v01@openssh.com', 'rsa-sha2-512' → 'rsa-sha2-512-cert-v01@openssh.com').
 */
export function certificateAlgorithmsFor(algorithms: readonly string[]): string[] {
  return algorithms.map(certTypeFor).filter((n) => signatureAlgorithms.get(n)?.legacy === false);
}

/**
 * The host key algorithms a server holding `keys` offers by default: the certificate algorithms of its certified keys
 * first (as sshd lists them), then `defaults`.
 */
export function hostKeyAlgorithmsWithCertificates(keys: readonly PrivateKey[], defaults: readonly string[]): string[] {
  const certs = keys.filter((k) => isCertificateType(k.publicKey.type)).flatMap((k) => k.algorithms.filter((a) => signatureAlgorithms.get(a)?.legacy === false));
  return [...new Set([...certs, ...defaults])];
}
