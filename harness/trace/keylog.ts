/**
 * SSH keylog files for Wireshark/tshark (`-o ssh.keylog_file:FILE`), one entry per key exchange (rekeys too).
 *
 * Verified form for Debian's tshark 4.0: `<cookie hex> <ephemeral private key hex>` — two fields.
 * tshark looks the entry up by the *server's* KEXINIT cookie first, then the client's, and recomputes the shared
 * secret from the private key and the other side's public value; so the cookie must be the one sent by the side
 * whose private key is logged. Verified for curve25519-sha256 (the key is the raw 32-byte X25519 scalar); for
 * other methods the private value is written big-endian as the engine gives it, untested with 4.0.
 *
 * Newer Wireshark also reads `<cookie hex> SHARED_SECRET <K hex>` (the secret K as an unsigned big-endian
 * number). tshark 4.0 splits lines into two fields at the first space and rejects that value as invalid hex, so
 * writing both forms into one file is harmless there. Wireshark 4.4 (Debian 13's 4.4.19, measured by
 * tshark44.test.ts) keeps only the LAST line per cookie, and uses a SHARED_SECRET only for curve25519: for the
 * Diffie-Hellman groups and group exchange it needs the private key. So the private-key line comes last for
 * those, and the keyword line last for every other method (a later Wireshark may use it for them).
 */
import { appendFileSync, closeSync, openSync } from 'node:fs';

/** What the engine emits once per key exchange (its keylog seam). */
export interface KexKeys {
  /** Negotiated kex method name, e.g. 'curve25519-sha256'. */
  readonly kex: string;
  /** Which side's ephemeral key this is; 'client' when absent. */
  readonly role?: 'client' | 'server';
  /** 16-byte cookie of the client's KEXINIT (RFC 4253 §7.1). */
  readonly clientCookie: Uint8Array;
  /** 16-byte cookie of the server's KEXINIT; required when `role` is 'server'. */
  readonly serverCookie?: Uint8Array;
  readonly ephemeralPrivateKey: Uint8Array;
  /** K as encoded for the exchange hash (mpint or string), with or without its uint32 length prefix. */
  readonly sharedSecret: Uint8Array;
  readonly sessionId: Uint8Array;
  readonly exchangeHash: Uint8Array;
}

export interface KeylogOptions {
  /** Also write the `SHARED_SECRET` keyword line that newer Wireshark reads. Default true. */
  readonly keywordLines?: boolean;
  /** Append to an existing file (a shared `--keylog FILE`); false truncates it. Default true. */
  readonly append?: boolean;
}

/** Methods whose private-key line must be the last one per cookie, for Wireshark 4.4 to decrypt them. */
const PRIVATE_KEY_LAST: ReadonlySet<string> = new Set([
  'diffie-hellman-group1-sha1', 'diffie-hellman-group14-sha1', 'diffie-hellman-group14-sha256', 'diffie-hellman-group16-sha512',
  'diffie-hellman-group18-sha512', 'diffie-hellman-group-exchange-sha1', 'diffie-hellman-group-exchange-sha256',
]);

/** The keylog lines for one key exchange, without newlines. */
export function keylogLines(k: KexKeys, options: KeylogOptions = {}): string[] {
  const role = k.role ?? 'client';
  const cookie = role === 'server' ? k.serverCookie : k.clientCookie;
  if (!(cookie instanceof Uint8Array) || cookie.length !== 16) {
    throw new RangeError(`keylog: the ${role} KEXINIT cookie must be 16 bytes, got ${cookie instanceof Uint8Array ? cookie.length : typeof cookie}`);
  }
  const c = hex(cookie);
  const privateLine = `${c} ${hex(k.ephemeralPrivateKey)}`;
  if (!(options.keywordLines ?? true)) return [privateLine];
  const secretLine = `${c} SHARED_SECRET ${hex(secretValue(k.sharedSecret))}`;
  // Wireshark 4.4 keeps the last line per cookie: the one it can use comes last (see the header)
  return PRIVATE_KEY_LAST.has(k.kex) ? [secretLine, privateLine] : [privateLine, secretLine];
}

/** Appends entries to a keylog file (created 0600: it holds session secrets). Key exchanges are rare: sync is fine. */
export class KeylogWriter {
  private fd: number | undefined;
  entries = 0;

  constructor(readonly path: string, private readonly options: KeylogOptions = {}) {
    this.fd = openSync(path, options.append ?? true ? 'a' : 'w', 0o600);
  }

  /** Entries that could not be written (e.g. a server-side key without the server's cookie), with why. */
  readonly skipped: string[] = [];

  /** The engine's per-kex keys event. Never throws into the engine: a bad entry is skipped and noted. */
  onKeys(k: KexKeys): void {
    if (this.fd === undefined) return;
    try {
      appendFileSync(this.fd, keylogLines(k, this.options).map((l) => `${l}\n`).join(''));
      this.entries++;
    } catch (e) {
      if (this.skipped.length < 100) this.skipped.push((e as Error).message);
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * K as the bare number: impl's engine gives K as it enters the exchange hash, with its uint32 length (mpint or
 * string); callers may also pass the body alone. Leading zero bytes of an mpint are not part of the number.
 */
function secretValue(k: Uint8Array): Uint8Array {
  let body = k;
  if (k.length >= 4 && new DataView(k.buffer, k.byteOffset, k.byteLength).getUint32(0) === k.length - 4) body = k.subarray(4);
  let i = 0;
  while (i < body.length - 1 && body[i] === 0) i++;
  return body.subarray(i);
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** One entry of a keylog file, as tshark reads them (both forms). */
export interface KeylogEntry {
  readonly cookie: string;
  readonly type: 'PRIVATE_KEY' | 'SHARED_SECRET';
  readonly key: string;
}

/** Parses keylog text; lines that are neither form are counted, not fatal (tshark skips them too). */
export function parseKeylog(text: string): { entries: KeylogEntry[]; ignored: number } {
  const entries: KeylogEntry[] = [];
  let ignored = 0;
  const hexRe = /^(?:[0-9a-fA-F]{2})+$/;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split(' ');
    const [cookie, type, key] = f.length === 2 ? [f[0]!, 'PRIVATE_KEY', f[1]!] : [f[0]!, f[1]!, f[2] ?? ''];
    if (f.length > 3 || !hexRe.test(cookie) || !hexRe.test(key) || (type !== 'PRIVATE_KEY' && type !== 'SHARED_SECRET')) { ignored++; continue; }
    entries.push({ cookie: cookie.toLowerCase(), type, key: key.toLowerCase() });
  }
  return { entries, ignored };
}
