/**
 * authorized_keys files (sshd(8) AUTHORIZED_KEYS FILE FORMAT): `[options] keytype base64-key [comment]`.
 * Options are comma-separated, case-insensitive, and may not contain spaces except inside double quotes;
 * `\"` inside a quoted value stands for a quote (auth-options.c opt_dequote). A line with an unknown or
 * malformed option is refused, as sshd refuses it.
 */
import { bytesEqual, decodeBase64Strict } from './encoding.js';
import { KeyFormatError } from './errors.js';
import { MAX_PUBLIC_BLOB } from './key-types.js';
import { matchHostAndIp } from './patterns.js';
import { peekBlobType } from './public-blob.js';
import { KEY_TYPE_NAME, MAX_LINE, parsePublicKeyFields, type PublicKeyLine } from './public-line.js';

export interface AuthorizedKeyOption {
  /** Lower-cased option name, e.g. 'command', 'no-pty'. */
  readonly name: string;
  /** Dequoted value for `name="value"` options. */
  readonly value?: string;
}

/** The options of one line, folded the way sshd applies them (later flags override earlier ones). */
export interface AuthorizedKeyRestrictions {
  readonly certAuthority: boolean;
  readonly command?: string;
  /** from="pattern-list" (hosts and addresses; `!` negation; CIDR). */
  readonly from?: string;
  /** environment="NAME=value", first instance of each name wins (auth-options.c). */
  readonly environment: readonly { readonly name: string; readonly value: string }[];
  readonly permitOpen: readonly string[];
  readonly permitListen: readonly string[];
  readonly principals?: readonly string[];
  /** expiry-time="YYYYMMDD[HHMM[SS]][Z]"; the earliest wins. */
  readonly expiresAt?: Date;
  readonly tunnel?: string;
  readonly pty: boolean;
  readonly portForwarding: boolean;
  readonly agentForwarding: boolean;
  readonly x11Forwarding: boolean;
  readonly userRc: boolean;
  readonly noTouchRequired: boolean;
  readonly verifyRequired: boolean;
}

export interface AuthorizedKeyEntry extends PublicKeyLine {
  readonly line: number;
  /** Options in file order, as written (names lower-cased). */
  readonly options: readonly AuthorizedKeyOption[];
  readonly restrictions: AuthorizedKeyRestrictions;
}

export interface AuthorizedKeysProblem {
  readonly line: number;
  readonly message: string;
}

export interface AuthorizedKeysList {
  readonly entries: readonly AuthorizedKeyEntry[];
  /** Refused lines (sshd logs and skips them). */
  readonly problems: readonly AuthorizedKeysProblem[];
}

export const MAX_AUTHORIZED_KEYS_LINE = MAX_LINE;

const FLAGS = ['agent-forwarding', 'port-forwarding', 'pty', 'user-rc', 'x11-forwarding'] as const;
const VALUED = new Set(['command', 'environment', 'from', 'permitopen', 'permitlisten', 'principals', 'expiry-time', 'tunnel']);
const BARE = new Set(['restrict', 'cert-authority', 'no-touch-required', 'touch-required', 'verify-required', ...FLAGS, ...FLAGS.map((f) => `no-${f}`)]);

export function parseAuthorizedKeys(text: string): AuthorizedKeysList {
  const entries: AuthorizedKeyEntry[] = [];
  const problems: AuthorizedKeysProblem[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    if (raw.length > MAX_AUTHORIZED_KEYS_LINE) {
      problems.push({ line: i + 1, message: `line longer than ${MAX_AUTHORIZED_KEYS_LINE} characters` });
      continue;
    }
    try {
      entries.push(parseAuthorizedKeyLine(trimmed, i + 1));
    } catch (e) {
      problems.push({ line: i + 1, message: e instanceof Error ? e.message : String(e) });
    }
  }
  return { entries, problems };
}

/** One non-comment line. As sshd does, a line is first read as a bare key, then as options + key. */
export function parseAuthorizedKeyLine(line: string, lineNo = 1): AuthorizedKeyEntry {
  const text = line.trim();
  const bare = tryKey(text);
  if (bare) return { ...bare, line: lineNo, options: [], restrictions: fold([]) };
  const { options, rest } = parseOptions(text);
  const key = tryKey(rest.trimStart());
  if (!key) throw new KeyFormatError('malformed', 'authorized_keys: no valid key after the options');
  return { ...key, line: lineNo, options, restrictions: fold(options) };
}

function tryKey(text: string): PublicKeyLine | undefined {
  const m = /^(\S+)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(text);
  if (!m || !KEY_TYPE_NAME.test(m[1]!)) return undefined;
  try {
    if (peekBlobType(decodeBase64Strict(m[2]!, 'key', MAX_PUBLIC_BLOB)) !== m[1]) return undefined;
  } catch {
    return undefined; // not a key: the caller reads options instead
  }
  // It is a key: invalid key material is this line's error, not a hint to try options.
  return parsePublicKeyFields(m[1]!, m[2]!, (m[3] ?? '').trim());
}

/** auth-options.c sshauthopt_parse / opt_dequote: options end at the first unquoted space or tab. */
function parseOptions(text: string): { options: AuthorizedKeyOption[]; rest: string } {
  const options: AuthorizedKeyOption[] = [];
  let i = 0;
  // Each pass consumes at least one character, so the loop ends within text.length passes.
  while (i < text.length) {
    const nameMatch = /^[A-Za-z0-9-]+/.exec(text.slice(i, i + 64));
    if (!nameMatch) throw new KeyFormatError('malformed', `authorized_keys: bad option syntax at column ${i + 1}`);
    const name = nameMatch[0].toLowerCase();
    i += nameMatch[0].length;
    let value: string | undefined;
    if (text[i] === '=') {
      if (text[i + 1] !== '"') throw new KeyFormatError('malformed', `authorized_keys: ${name}= value must be in double quotes`);
      i += 2;
      let v = '';
      for (;;) {
        if (i >= text.length) throw new KeyFormatError('malformed', `authorized_keys: unterminated quoted value for ${name}`);
        const c = text[i]!;
        if (c === '\\' && text[i + 1] === '"') { v += '"'; i += 2; continue; }
        if (c === '"') { i++; break; }
        v += c;
        i++;
      }
      value = v;
    }
    checkOption(name, value);
    options.push(value === undefined ? { name } : { name, value });
    if (text[i] === ',') { i++; continue; }
    if (i >= text.length || text[i] === ' ' || text[i] === '\t') break;
    throw new KeyFormatError('malformed', `authorized_keys: unexpected ${JSON.stringify(text[i])} after option ${name}`);
  }
  return { options, rest: text.slice(i) };
}

function checkOption(name: string, value: string | undefined): void {
  if (value === undefined) {
    if (BARE.has(name)) return;
    if (VALUED.has(name)) throw new KeyFormatError('malformed', `authorized_keys: option ${name} needs ="value"`);
  } else {
    if (!VALUED.has(name)) {
      if (BARE.has(name)) throw new KeyFormatError('malformed', `authorized_keys: option ${name} takes no value`);
    } else {
      checkValue(name, value);
      return;
    }
  }
  throw new KeyFormatError('malformed', `authorized_keys: unsupported option ${JSON.stringify(name.slice(0, 64))}`);
}

function checkValue(name: string, value: string): void {
  const bad = (why: string): never => { throw new KeyFormatError('malformed', `authorized_keys: ${name}="${value.slice(0, 64)}": ${why}`); };
  switch (name) {
    case 'environment':
      if (!/^[A-Za-z0-9_]+=/.test(value)) bad('expected NAME=value');
      break;
    case 'permitopen':
      if (!/^(\[[^\]]+\]|[^:\s]+):(\*|\d{1,5})$/.test(value) || portOutOfRange(value)) bad('expected host:port');
      break;
    case 'permitlisten':
      if (!/^((\[[^\]]+\]|[^:\s]+):)?(\*|\d{1,5})$/.test(value) || portOutOfRange(value)) bad('expected [host:]port');
      break;
    case 'expiry-time':
      if (parseExpiry(value) === undefined) bad('expected YYYYMMDD[HHMM[SS]][Z]');
      break;
    case 'tunnel':
      if (!/^(any|\d{1,10})$/.test(value)) bad('expected a tunnel number');
      break;
    case 'from':
    case 'principals':
      if (value.length === 0) bad('empty list');
      break;
  }
}

function portOutOfRange(value: string): boolean {
  const port = value.slice(value.lastIndexOf(':') + 1);
  return port !== '*' && Number(port) > 65535;
}

/** auth-options.c parse_absolute_time: local time unless it ends in Z. */
function parseExpiry(v: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?(Z?)$/.exec(v);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4] ?? '0', m[5] ?? '0', m[6] ?? '0'].map(Number) as [number, number, number, number, number, number];
  const date = m[7] ? new Date(Date.UTC(y, mo - 1, d, h, mi, s)) : new Date(y, mo - 1, d, h, mi, s);
  if (Number.isNaN(date.getTime()) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return undefined;
  return date;
}

function fold(options: readonly AuthorizedKeyOption[]): AuthorizedKeyRestrictions {
  const perm: Record<(typeof FLAGS)[number], boolean> = { 'agent-forwarding': true, 'port-forwarding': true, pty: true, 'user-rc': true, 'x11-forwarding': true };
  let certAuthority = false, noTouchRequired = false, verifyRequired = false;
  let command: string | undefined, from: string | undefined, principals: string[] | undefined, expiresAt: Date | undefined, tunnel: string | undefined;
  const environment: { name: string; value: string }[] = [];
  const permitOpen: string[] = [];
  const permitListen: string[] = [];
  const once = (name: string, current: unknown): void => {
    if (current !== undefined) throw new KeyFormatError('malformed', `authorized_keys: duplicate ${name}= option`);
  };
  for (const { name, value } of options) {
    if (name === 'restrict') for (const f of FLAGS) perm[f] = false;
    else if ((FLAGS as readonly string[]).includes(name)) perm[name as (typeof FLAGS)[number]] = true;
    else if (name.startsWith('no-') && (FLAGS as readonly string[]).includes(name.slice(3))) perm[name.slice(3) as (typeof FLAGS)[number]] = false;
    else if (name === 'cert-authority') certAuthority = true;
    else if (name === 'no-touch-required') noTouchRequired = true;
    else if (name === 'touch-required') noTouchRequired = false;
    else if (name === 'verify-required') verifyRequired = true;
    else if (name === 'command') { once(name, command); command = value!; }
    else if (name === 'from') { once(name, from); from = value!; }
    else if (name === 'principals') { once(name, principals); principals = value!.split(','); }
    else if (name === 'tunnel') { once(name, tunnel); tunnel = value!; }
    else if (name === 'expiry-time') {
      const t = parseExpiry(value!)!;
      if (expiresAt === undefined || t < expiresAt) expiresAt = t;
    } else if (name === 'environment') {
      const eq = value!.indexOf('=');
      const envName = value!.slice(0, eq);
      if (!environment.some((e) => e.name === envName)) environment.push({ name: envName, value: value!.slice(eq + 1) });
    } else if (name === 'permitopen') permitOpen.push(value!);
    else if (name === 'permitlisten') permitListen.push(value!);
  }
  return {
    certAuthority, environment, permitOpen, permitListen, noTouchRequired, verifyRequired,
    pty: perm.pty, portForwarding: perm['port-forwarding'], agentForwarding: perm['agent-forwarding'],
    x11Forwarding: perm['x11-forwarding'], userRc: perm['user-rc'],
    ...(command === undefined ? {} : { command }), ...(from === undefined ? {} : { from }),
    ...(principals === undefined ? {} : { principals }), ...(expiresAt === undefined ? {} : { expiresAt }),
    ...(tunnel === undefined ? {} : { tunnel }),
  };
}

/**
 * The entry that authorises `blob` as a plain user key (cert-authority lines authorise certificates,
 * not the CA key itself, so they are skipped), or undefined.
 */
export function findAuthorizedKey(list: AuthorizedKeysList | readonly AuthorizedKeyEntry[], blob: Uint8Array): AuthorizedKeyEntry | undefined {
  const entries = Array.isArray(list) ? (list as readonly AuthorizedKeyEntry[]) : (list as AuthorizedKeysList).entries;
  return entries.find((e) => !e.restrictions.certAuthority && bytesEqual(e.blob, blob));
}

export interface ClientOrigin {
  /** Host name (canonical, as sshd resolves it) — may equal the address when unresolved. */
  readonly host: string;
  readonly ip: string;
  /** Defaults to now; for expiry-time. */
  readonly now?: Date;
}

/** Whether from= and expiry-time= let this client use the entry (sshd auth_authorise_keyopts). */
export function entryAllows(entry: AuthorizedKeyEntry, origin: ClientOrigin): boolean {
  const r = entry.restrictions;
  if (r.expiresAt !== undefined && (origin.now ?? new Date()) > r.expiresAt) return false;
  if (r.from !== undefined && !matchHostAndIp(origin.host, origin.ip, r.from)) return false;
  return true;
}
