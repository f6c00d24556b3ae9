/**
 * A hand-made look at a server's first bytes, independent of the engine: the identification line
 * (RFC 4253 §4.2) and the first binary packet, which must be SSH_MSG_KEXINIT (RFC 4253 §7.1). Used for
 * readiness, version detection and the per-target handshake check until the full client drives peers.
 */
import net from 'node:net';
import { Reader } from '../../impl/wire/reader.js';
import { DecodeError, TimeoutError } from '../../impl/errors.js';

export const PROBE_BANNER = 'SSH-2.0-ssh_harness_probe';

/** RFC 4253 §4.2: lines before the identification line are allowed; we bound how many we read. */
const MAX_PRE_BANNER_LINES = 32;
const MAX_LINE = 255;
/** RFC 4253 §6.1: implementations must handle packets of 35000 bytes; a KEXINIT is far smaller. */
const MAX_KEXINIT_PACKET = 35_000;

export interface ServerKexInit {
  readonly cookie: Uint8Array;
  readonly kex: string[];
  readonly hostKey: string[];
  readonly cipherC2S: string[];
  readonly cipherS2C: string[];
  readonly macC2S: string[];
  readonly macS2C: string[];
  readonly compC2S: string[];
  readonly compS2C: string[];
  readonly langC2S: string[];
  readonly langS2C: string[];
  readonly firstKexFollows: boolean;
}

export interface ProbeResult {
  readonly banner: string;
  readonly version: string;
  readonly kexInit?: ServerKexInit;
}

/** `SSH-2.0-OpenSSH_9.2p1 Debian-2` → `OpenSSH_9.2p1` (RFC 4253 §4.2 softwareversion). */
export function versionFromBanner(banner: string): string {
  const m = /^SSH-[^-]+-([^ \r\n]*)/.exec(banner);
  return m?.[1] ?? banner;
}

export function decodeKexInitPayload(payload: Uint8Array): ServerKexInit {
  const r = new Reader(payload);
  const id = r.byte();
  if (id !== 20) throw new DecodeError(`first packet is message ${id}, not SSH_MSG_KEXINIT (20)`, 0);
  const cookie = r.bytes(16, 'cookie');
  const lists = Array.from({ length: 10 }, () => r.nameList());
  const firstKexFollows = r.boolean();
  r.uint32(); // reserved
  const [kex, hostKey, cipherC2S, cipherS2C, macC2S, macS2C, compC2S, compS2C, langC2S, langS2C] = lists as [string[], string[], string[], string[], string[], string[], string[], string[], string[], string[]];
  return { cookie, kex, hostKey, cipherC2S, cipherS2C, macC2S, macS2C, compC2S, compS2C, langC2S, langS2C, firstKexFollows };
}

/**
 * Connects, sends our identification line, reads the server's, and (when `readKexInit`) the first binary
 * packet: uint32 packet_length, byte padding_length, payload, padding (RFC 4253 §6). No MAC yet: none is in use.
 */
export function probe(host: string, port: number, opts: { readKexInit?: boolean; timeoutMs?: number } = {}): Promise<ProbeResult> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    let banner: string | undefined;
    let preLines = 0;
    let settled = false;
    const finish = (err: Error | undefined, result?: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(result!);
    };
    const timer = setTimeout(() => finish(new TimeoutError(`no ${banner ? 'KEXINIT' : 'banner'} from ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
    sock.on('connect', () => sock.write(PROBE_BANNER + '\r\n'));
    sock.on('error', (e) => finish(e));
    sock.on('close', () => finish(new DecodeError(`connection closed by ${host}:${port} before ${banner ? 'KEXINIT' : 'banner'}`, buf.length)));
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      try {
        while (banner === undefined) {
          const nl = buf.indexOf(0x0a);
          if (nl < 0) {
            if (buf.length > MAX_LINE) throw new DecodeError('identification line longer than 255 bytes', 0);
            return;
          }
          const line = buf.subarray(0, nl).toString('latin1').replace(/\r$/, '');
          buf = buf.subarray(nl + 1);
          if (line.startsWith('SSH-')) banner = line;
          else if (++preLines > MAX_PRE_BANNER_LINES) throw new DecodeError(`more than ${MAX_PRE_BANNER_LINES} lines before the identification line`, 0);
        }
        if (!opts.readKexInit) return finish(undefined, { banner, version: versionFromBanner(banner) });
        if (buf.length < 4) return;
        const packetLength = buf.readUInt32BE(0);
        if (packetLength < 5 || packetLength > MAX_KEXINIT_PACKET) throw new DecodeError(`packet_length ${packetLength} out of range`, 0);
        if (buf.length < 4 + packetLength) return;
        const paddingLength = buf[4]!;
        // RFC 4253 §6: at least 4 bytes of padding, and it lies inside the packet
        if (paddingLength < 4 || paddingLength > packetLength - 1) throw new DecodeError(`padding_length ${paddingLength} invalid for packet_length ${packetLength}`, 4);
        const payload = buf.subarray(5, 4 + packetLength - paddingLength);
        finish(undefined, { banner, version: versionFromBanner(banner), kexInit: decodeKexInitPayload(payload) });
      } catch (e) {
        finish(e as Error);
      }
    });
  });
}
