/** RFC 7468 textual encoding ("-----BEGIN LABEL-----"), as OpenSSH and OpenSSL write key files. */
import { KeyFormatError } from './errors.js';
import { decodeBase64Strict, encodeBase64 } from './encoding.js';

/** No key file we read is near this; bounds the work done on garbage input. */
export const MAX_KEY_FILE = 1 << 20;

export interface Armored {
  readonly label: string;
  /** RFC 1421 headers of traditional encrypted PEM (Proc-Type, DEK-Info), empty otherwise. */
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Uint8Array;
  /** The block itself, BEGIN to END line inclusive (what OpenSSL is given back). */
  readonly text: string;
}

/** Finds the first armored block; text before and after it is ignored (RFC 7468 §2). */
export function findArmor(text: string): Armored | undefined {
  const begin = /-----BEGIN ([A-Z0-9 ]{1,64})-----/.exec(text);
  if (!begin) return undefined;
  const label = begin[1]!;
  const endMarker = `-----END ${label}-----`;
  const start = begin.index + begin[0].length;
  const end = text.indexOf(endMarker, start);
  if (end < 0) throw new KeyFormatError('truncated', `${label}: no "${endMarker}" line`);
  const lines = text.slice(start, end).split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  const headers = new Map<string, string>();
  // Headers come first and each holds a colon; a base64 line never does.
  while (lines.length > 0 && lines[0]!.includes(':')) {
    const h = lines.shift()!;
    const i = h.indexOf(':');
    headers.set(h.slice(0, i).trim(), h.slice(i + 1).trim());
  }
  const body = decodeBase64Strict(lines.join(''), label, MAX_KEY_FILE);
  return { label, headers, body, text: text.slice(begin.index, end + endMarker.length) + '\n' };
}

/** Armors bytes with lines of `width` characters (OpenSSH: 70, OpenSSL: 64). */
export function armor(label: string, body: Uint8Array, width: number): string {
  const b64 = encodeBase64(body);
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += width) lines.push(b64.slice(i, i + width));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
