/**
 * known_hosts files (sshd(8) SSH_KNOWN_HOSTS FILE FORMAT):
 *   [@cert-authority|@revoked] hostnames keytype base64-key [comment]
 * hostnames is a comma-separated pattern-list (`*`, `?`, `!` negation, `[host]:port` for other ports)
 * or one hashed name `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { decodeBase64Strict, encodeBase64, bytesEqual } from './encoding.js';
import { KeyFormatError } from './errors.js';
import { matchPatternList } from './patterns.js';
import { MAX_LINE, formatPublicKeyLine, parsePublicKeyFields } from './public-line.js';
import { peekBlobType } from './public-blob.js';

export type KnownHostMarker = 'cert-authority' | 'revoked';

export type KnownHostNames =
  | { readonly kind: 'patterns'; readonly patterns: string }
  | { readonly kind: 'hashed'; readonly salt: Uint8Array; readonly hash: Uint8Array };

export interface KnownHostEntry {
  /** 1-based line number in the parsed text. */
  readonly line: number;
  readonly marker: KnownHostMarker | null;
  readonly hosts: KnownHostNames;
  readonly type: string;
  readonly blob: Uint8Array;
  readonly comment: string;
  /** False for key types impl/keys does not implement (kept so they still count for type checks). */
  readonly supported: boolean;
}

export interface KnownHostsProblem {
  readonly line: number;
  readonly message: string;
}

export interface KnownHostsDb {
  readonly entries: readonly KnownHostEntry[];
  /** Lines that were skipped, as ssh(1) skips them (it only logs them at debug level). */
  readonly problems: readonly KnownHostsProblem[];
}

export type KnownHostStatus = 'match' | 'mismatch' | 'unknown' | 'revoked';

/** Longer lines are refused (sshkey.h SSH_MAX_PUBKEY_BYTES plus room for names and a comment). */
export const MAX_KNOWN_HOSTS_LINE = MAX_LINE;
/** hostfile.c: the salt and the hash are SHA-1 sized. */
const HASH_LEN = 20;
const HASH_MAGIC = '|1|';

export function parseKnownHosts(text: string): KnownHostsDb {
  const entries: KnownHostEntry[] = [];
  const problems: KnownHostsProblem[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    if (raw.length > MAX_KNOWN_HOSTS_LINE) {
      problems.push({ line: i + 1, message: `line longer than ${MAX_KNOWN_HOSTS_LINE} characters` });
      continue;
    }
    try {
      entries.push(parseKnownHostLine(trimmed, i + 1));
    } catch (e) {
      problems.push({ line: i + 1, message: e instanceof Error ? e.message : String(e) });
    }
  }
  return { entries, problems };
}

/** One non-comment line; KeyFormatError when it is malformed. */
export function parseKnownHostLine(line: string, lineNo = 1): KnownHostEntry {
  const fields = line.trim().split(/[ \t]+/);
  let marker: KnownHostMarker | null = null;
  if (fields[0]?.startsWith('@')) {
    const m = fields.shift()!;
    if (m !== '@cert-authority' && m !== '@revoked') throw new KeyFormatError('malformed', `known_hosts: unknown marker ${JSON.stringify(m.slice(0, 32))}`);
    marker = m.slice(1) as KnownHostMarker;
  }
  if (fields.length < 3) throw new KeyFormatError('malformed', 'known_hosts: expected "hostnames keytype key [comment]"');
  const hosts = parseHostNames(fields[0]!);
  const key = parsePublicKeyFields(fields[1]!, fields[2]!, commentOf(line, marker !== null));
  return { line: lineNo, marker, hosts, type: key.type, blob: key.blob, comment: key.comment, supported: key.supported };
}

/** Everything after the fourth (or fifth, with a marker) field, inner spacing kept. */
function commentOf(line: string, marked: boolean): string {
  const m = (marked ? /^\s*\S+[ \t]+\S+[ \t]+\S+[ \t]+\S+[ \t]*(.*)$/ : /^\s*\S+[ \t]+\S+[ \t]+\S+[ \t]*(.*)$/).exec(line);
  return (m?.[1] ?? '').trim();
}

function parseHostNames(field: string): KnownHostNames {
  if (!field.startsWith('|')) return { kind: 'patterns', patterns: field };
  // hostfile.c extract_salt: only "|1|" exists, and a hashed field holds exactly one name
  if (!field.startsWith(HASH_MAGIC)) throw new KeyFormatError('unsupported', 'known_hosts: unknown hashed host name format');
  const parts = field.slice(HASH_MAGIC.length).split('|');
  if (parts.length !== 2) throw new KeyFormatError('malformed', 'known_hosts: hashed host name must be |1|salt|hash');
  const salt = decodeBase64Strict(parts[0]!, 'known_hosts salt', 64);
  const hash = decodeBase64Strict(parts[1]!, 'known_hosts hash', 64);
  if (salt.length !== HASH_LEN || hash.length !== HASH_LEN) throw new KeyFormatError('malformed', `known_hosts: hashed host name salt and hash must be ${HASH_LEN} bytes`);
  return { kind: 'hashed', salt, hash };
}

/**
 * The name ssh(1) looks up (misc.c put_host_port): the host itself on port 22, `[host]:port` otherwise.
 * Host names compare in lower case.
 */
export function knownHostName(host: string, port = 22): string {
  const h = host.toLowerCase();
  return port === 22 || port === 0 ? h : `[${h}]:${port}`;
}

/** HMAC-SHA1(key = salt, name), hostfile.c host_hash. */
export function hashHostName(name: string, salt: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha1', salt).update(name).digest());
}

function hostMatches(entry: KnownHostEntry, name: string): boolean {
  if (entry.hosts.kind === 'hashed') {
    const h = hashHostName(name, entry.hosts.salt);
    return timingSafeEqual(h, entry.hosts.hash);
  }
  return matchPatternList(name, entry.hosts.patterns) === 1;
}

/** Entries whose host field matches host:port (any marker). */
export function findKnownHostEntries(db: KnownHostsDb, host: string, port = 22): KnownHostEntry[] {
  const name = knownHostName(host, port);
  return db.entries.filter((e) => hostMatches(e, name));
}

/**
 * hostfile.c check_key_in_hostkeys, for plain keys (certificates are not handled here; `@cert-authority`
 * lines are skipped):
 * - 'revoked': a matching `@revoked` line holds this key. Callers must treat it as a mismatch (refuse).
 * - 'match': a matching line holds this key.
 * - 'mismatch': matching lines hold other keys of the same type (the host key changed).
 * - 'unknown': no matching line holds a key of this type.
 * Like ssh(1) (sshconnect.c check_host_key, "checking without port identifier"), when `[host]:port` is
 * unknown on a port other than 22, a line for the bare host name holding this very key is a match;
 * a different key there does not make a mismatch. `portFallback: false` turns that off.
 */
export function checkKnownHost(db: KnownHostsDb, host: string, port: number, blob: Uint8Array, opts: { portFallback?: boolean } = {}): KnownHostStatus {
  const status = statusFor(db, host, port, blob);
  if (status === 'unknown' && port !== 22 && port !== 0 && opts.portFallback !== false && statusFor(db, host, 22, blob) === 'match') return 'match';
  return status;
}

function statusFor(db: KnownHostsDb, host: string, port: number, blob: Uint8Array): KnownHostStatus {
  const entries = findKnownHostEntries(db, host, port);
  if (entries.some((e) => e.marker === 'revoked' && bytesEqual(e.blob, blob))) return 'revoked';
  const type = peekBlobType(blob);
  let sameType = false;
  for (const e of entries) {
    if (e.marker !== null) continue;
    if (bytesEqual(e.blob, blob)) return 'match';
    if (e.type === type) sameType = true;
  }
  return sameType ? 'mismatch' : 'unknown';
}

/**
 * Key types known for host:port, in file order (ssh(1) puts these first in its host key algorithm
 * offer so the server shows a key it can check).
 */
export function knownHostKeyTypes(db: KnownHostsDb, host: string, port = 22): string[] {
  const out: string[] = [];
  for (const e of findKnownHostEntries(db, host, port)) if (e.marker === null && !out.includes(e.type)) out.push(e.type);
  return out;
}

export interface AddKnownHostOptions {
  /** Write `|1|salt|hash` instead of the name (ssh_config HashKnownHosts). */
  readonly hash?: boolean;
  /** Salt for hashing (20 bytes); random by default. */
  readonly salt?: Uint8Array;
  readonly marker?: KnownHostMarker;
  readonly comment?: string;
}

/**
 * One known_hosts line (no newline) for host:port holding `blob`. `host` is a name or an IPv4/IPv6
 * address (written `[host]:port` off port 22); for a marker line it may also be a pattern-list.
 */
export function addKnownHost(host: string, port: number, blob: Uint8Array, opts: AddKnownHostOptions = {}): string {
  if (host.length === 0 || /[\s#]/.test(host) || (!opts.marker && /[,*?!|[\]]/.test(host))) {
    throw new TypeError(`addKnownHost: ${JSON.stringify(host)} is not a host name`);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`addKnownHost: port ${port} out of range`);
  const name = knownHostName(host, port);
  let field = name;
  if (opts.hash) {
    const salt = opts.salt ?? new Uint8Array(randomBytes(HASH_LEN));
    if (salt.length !== HASH_LEN) throw new RangeError(`addKnownHost: salt must be ${HASH_LEN} bytes`);
    field = `${HASH_MAGIC}${encodeBase64(salt)}|${encodeBase64(hashHostName(name, salt))}`;
  }
  const key = formatPublicKeyLine(blob, opts.comment ?? '');
  return opts.marker ? `@${opts.marker} ${field} ${key}` : `${field} ${key}`;
}
