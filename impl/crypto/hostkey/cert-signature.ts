/**
 * Signature algorithms for OpenSSH certificates (OpenSSH PROTOCOL.certkeys): a certificate travels where a
 * public key blob would (host key in KEX_ECDH_REPLY, key in a publickey request), but the signature is made
 * by the certified key with the base algorithm. So verifying = taking the certified key out of the
 * certificate and verifying with the base algorithm. Whether the certificate itself is trusted (CA, type,
 * principals, validity) is decided above this layer (impl/keys/cert.ts).
 */
import { Reader, Writer } from '../../wire/index.js';
import type { SignatureAlgorithm } from '../types.js';
import { ecdsaSha2Nistp256, ecdsaSha2Nistp384, ecdsaSha2Nistp521 } from './ecdsa.js';
import { sshEd25519 } from './ed25519.js';
import { rsaSha2256, rsaSha2512, sshRsa } from './rsa.js';

/** PROTOCOL.certkeys: certificate key types end in this. */
export const CERT_SUFFIX = '-cert-v01@openssh.com';

/** The certificate key type for a plain key type: 'ssh-ed25519' → 'ssh-ed25519-cert-v01@openssh.com'. */
export function certTypeFor(keyType: string): string {
  return `${keyType}${CERT_SUFFIX}`;
}

/** The plain key type a certificate type certifies, or undefined when `name` is not a certificate type. */
export function certBaseType(name: string): string | undefined {
  return name.endsWith(CERT_SUFFIX) ? name.slice(0, -CERT_SUFFIX.length) : undefined;
}

const certBounds = { maxString: 16384, maxNames: 1 };

/**
 * The plain public key blob (RFC 4253 §6.6) inside a certificate blob: `string cert type || string nonce ||
 * <key fields of the base type> || ...` (PROTOCOL.certkeys). Undefined when malformed or not a certificate.
 */
export function certifiedKeyBlob(cert: Uint8Array): Uint8Array | undefined {
  try {
    const r = new Reader(cert, certBounds);
    const base = certBaseType(r.ascii('certificate type'));
    if (base === undefined) return undefined;
    r.string('nonce');
    const w = new Writer(cert.length).string(base);
    if (base === 'ssh-ed25519') w.string(r.string('ed25519 key'));
    else if (base.startsWith('ecdsa-sha2-')) w.string(r.string('curve')).string(r.string('ec point'));
    else if (base === 'ssh-rsa') { const e = r.mpint('rsa e'); w.mpint(e).mpint(r.mpint('rsa n')); }
    else return undefined;
    return w.finish();
  } catch {
    return undefined;
  }
}

function certAlgorithm(name: string, base: SignatureAlgorithm, legacy: boolean): SignatureAlgorithm {
  return {
    name, legacy, spec: 'OpenSSH PROTOCOL.certkeys', keyType: certTypeFor(base.keyType), signatureName: base.name,
    verify(cert, data, signature) {
      const key = certifiedKeyBlob(cert);
      return key !== undefined && base.verify(key, data, signature);
    },
  };
}

/**
 * The certificate signature algorithms, by name. RSA certificates sign with rsa-sha2-256/512 under the names
 * `rsa-sha2-256-cert-v01@openssh.com` / `rsa-sha2-512-cert-v01@openssh.com` (OpenSSH PROTOCOL.certkeys,
 * "rsa-sha2-256-cert-v01@openssh.com"); SHA-1 `ssh-rsa-cert-v01@openssh.com` is legacy.
 */
export const certSignatureAlgorithms: readonly SignatureAlgorithm[] = [
  certAlgorithm(certTypeFor('ssh-ed25519'), sshEd25519, false),
  certAlgorithm(certTypeFor('ecdsa-sha2-nistp256'), ecdsaSha2Nistp256, false),
  certAlgorithm(certTypeFor('ecdsa-sha2-nistp384'), ecdsaSha2Nistp384, false),
  certAlgorithm(certTypeFor('ecdsa-sha2-nistp521'), ecdsaSha2Nistp521, false),
  certAlgorithm(certTypeFor('rsa-sha2-512'), rsaSha2512, false),
  certAlgorithm(certTypeFor('rsa-sha2-256'), rsaSha2256, false),
  certAlgorithm(certTypeFor('ssh-rsa'), sshRsa, true),
];

/** The base signature algorithm of a certificate signature algorithm ('rsa-sha2-512-cert-v01@openssh.com' → 'rsa-sha2-512'). */
export function certSignatureBase(name: string): string | undefined {
  return certBaseType(name);
}
