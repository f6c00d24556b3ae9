/**
 * What a client peer offers: a one-shot loopback listener that sends an identification line, reads the client's
 * (RFC 4253 §4.2) and its first binary packet, SSH_MSG_KEXINIT (RFC 4253 §7.1: sent without waiting for ours),
 * then hangs up. The mirror image of harness/targets/banner.ts `probe`, for the client direction.
 */
import net from 'node:net';
import { DecodeError, TimeoutError } from '../../../impl/errors.js';
import { decodeKexInitPayload, PROBE_BANNER, type ServerKexInit } from '../../targets/banner.js';

const MAX_LINE = 255;
const MAX_PRE_BANNER_LINES = 32;
/** RFC 4253 §6.1: 35000 bytes is the packet size every implementation must take; a KEXINIT is far smaller. */
const MAX_PACKET = 35_000;

export interface ClientProbe {
  readonly port: number;
  /** The client's identification line and KEXINIT, once it connected and sent them. */
  readonly result: Promise<{ readonly banner: string; readonly kexInit: ServerKexInit }>;
  close(): void;
}

/** Listens on 127.0.0.1 (a free port) for one connection; `result` rejects after `timeoutMs` without one. */
export async function listenForClientKexInit(timeoutMs: number): Promise<ClientProbe> {
  let resolveResult!: (v: { banner: string; kexInit: ServerKexInit }) => void;
  let rejectResult!: (e: Error) => void;
  const result = new Promise<{ banner: string; kexInit: ServerKexInit }>((res, rej) => { resolveResult = res; rejectResult = rej; });
  result.catch(() => undefined); // callers may close before asking
  const sockets = new Set<net.Socket>();
  let settled = false;
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('error', () => undefined);
    sock.on('close', () => sockets.delete(sock));
    if (settled) { sock.destroy(); return; }
    sock.write(`${PROBE_BANNER}\r\n`);
    let buf = Buffer.alloc(0);
    let banner: string | undefined;
    let preLines = 0;
    sock.on('data', (chunk: Buffer) => {
      if (settled) return;
      buf = Buffer.concat([buf, chunk]);
      try {
        while (banner === undefined) {
          const nl = buf.indexOf(0x0a);
          if (nl < 0) {
            if (buf.length > MAX_LINE) throw new DecodeError('client identification line longer than 255 bytes', 0);
            return;
          }
          const line = buf.subarray(0, nl).toString('latin1').replace(/\r$/, '');
          buf = buf.subarray(nl + 1);
          if (line.startsWith('SSH-')) banner = line;
          else if (++preLines > MAX_PRE_BANNER_LINES) throw new DecodeError('too many lines before the client identification line', 0);
        }
        if (buf.length < 5) return;
        const packetLength = buf.readUInt32BE(0);
        if (packetLength < 5 || packetLength > MAX_PACKET) throw new DecodeError(`packet_length ${packetLength} out of range`, 0);
        if (buf.length < 4 + packetLength) return;
        const padding = buf[4]!;
        // RFC 4253 §6: at least 4 bytes of padding, inside the packet
        if (padding < 4 || padding > packetLength - 1) throw new DecodeError(`padding_length ${padding} invalid for packet_length ${packetLength}`, 4);
        settle(undefined, { banner, kexInit: decodeKexInitPayload(buf.subarray(5, 4 + packetLength - padding)) });
      } catch (e) {
        settle(e as Error);
      }
    });
  });
  const timer = setTimeout(() => settle(new TimeoutError(`no client KEXINIT within ${timeoutMs} ms`)), timeoutMs);
  function settle(err: Error | undefined, v?: { banner: string; kexInit: ServerKexInit }): void {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    if (err) rejectResult(err); else resolveResult(v!);
    close();
  }
  function close(): void {
    clearTimeout(timer);
    if (!settled) { settled = true; rejectResult(new Error('probe closed before a client KEXINIT arrived')); }
    for (const s of sockets) s.destroy();
    server.close();
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  return { port: (server.address() as net.AddressInfo).port, result, close };
}
