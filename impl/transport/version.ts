import { DisconnectReason } from '../errors.js';
import { LimitError, ProtocolError } from '../errors.js';
import type { ByteQueue } from './byte-queue.js';

/** RFC 4253 §4.2: the identification string, CR LF included, is at most 255 bytes. */
export const MAX_VERSION_LINE = 255;
const latin1 = new TextDecoder('latin1');

export function formatVersion(softwareVersion: string, comments?: string): string {
  // RFC 4253 §4.2: printable US-ASCII, no spaces or '-' in softwareversion
  if (!/^[\x21-\x2c\x2e-\x7e]+$/.test(softwareVersion)) throw new RangeError(`softwareVersion: invalid characters in ${JSON.stringify(softwareVersion)}`);
  const line = `SSH-2.0-${softwareVersion}${comments ? ' ' + comments : ''}`;
  if (line.length + 2 > MAX_VERSION_LINE) throw new RangeError('identification string longer than 255 bytes');
  return line;
}

export type VersionResult = { version: string; preBanner: string[] } | undefined;

/**
 * Incremental parser of the peer's identification string. A client accepts other lines before it
 * (RFC 4253 §4.2: "The server MAY send other lines of data before sending the version string"), bounded in
 * count; the server requires the version line first. Lone LF is accepted like OpenSSH does.
 */
export class VersionParser {
  private readonly preBanner: string[] = [];

  constructor(private readonly acceptPreBanner: boolean, private readonly maxPreBannerLines: number) {}

  /** Consumes lines from `q`; returns the version once found, undefined when more bytes are needed. */
  parse(q: ByteQueue): VersionResult {
    for (;;) {
      const nl = q.indexOf(0x0a, MAX_VERSION_LINE);
      if (nl < 0) {
        if (q.length >= MAX_VERSION_LINE) throw new LimitError(`identification line longer than ${MAX_VERSION_LINE} bytes (RFC 4253 §4.2)`, DisconnectReason.PROTOCOL_ERROR);
        return undefined;
      }
      const raw = q.take(nl + 1);
      let end = raw.length - 1;
      if (end > 0 && raw[end - 1] === 0x0d) end--;
      const line = latin1.decode(raw.subarray(0, end));
      if (line.startsWith('SSH-')) return { version: checkVersion(line), preBanner: this.preBanner };
      if (!this.acceptPreBanner) throw new ProtocolError(`expected the identification string, got ${JSON.stringify(line.slice(0, 64))} (RFC 4253 §4.2)`, ['SSH-2.0-...'], 'other line', DisconnectReason.PROTOCOL_ERROR);
      if (this.preBanner.length >= this.maxPreBannerLines) throw new LimitError(`more than ${this.maxPreBannerLines} lines before the identification string`);
      this.preBanner.push(line);
    }
  }
}

function checkVersion(line: string): string {
  if (line.includes('\0')) throw new ProtocolError('NUL in identification string (RFC 4253 §4.2)');
  const m = /^SSH-([^-]+)-(.+)$/.exec(line);
  if (!m) throw new ProtocolError(`malformed identification string ${JSON.stringify(line)} (RFC 4253 §4.2)`, [], undefined, DisconnectReason.PROTOCOL_VERSION_NOT_SUPPORTED);
  // RFC 4253 §5.1: "1.99" means a server compatible with 2.0
  if (m[1] !== '2.0' && m[1] !== '1.99') {
    throw new ProtocolError(`unsupported protocol version ${JSON.stringify(m[1])}`, ['2.0'], m[1], DisconnectReason.PROTOCOL_VERSION_NOT_SUPPORTED);
  }
  return line;
}
