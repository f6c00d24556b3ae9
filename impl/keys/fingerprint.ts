/** Key fingerprints as ssh-keygen -l prints them (OpenSSH sshkey_fingerprint). */
import { createHash } from 'node:crypto';

/** 'SHA256:' + unpadded base64 of SHA-256(blob) (ssh-keygen -l -E sha256). */
export function fingerprintSHA256(blob: Uint8Array): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

/** 'MD5:' + colon-separated lowercase hex of MD5(blob) (ssh-keygen -l -E md5; RFC 4716 §4 without the prefix). */
export function fingerprintMD5(blob: Uint8Array): string {
  return 'MD5:' + (createHash('md5').update(blob).digest('hex').match(/../g) ?? []).join(':');
}
