/**
 * A connection with no engine behind it, for what happens before encryption: the identification strings
 * (RFC 4253 §4.2) and cleartext packets (§6) built byte by byte, however wrong. Inbound, it splits the peer's
 * lines and then its cleartext packets (no MAC, block size 8) and records them like any other connection.
 */
import net from 'node:net';
import { encodeMessage, type MessageInput } from '../../impl/messages/index.js';
import type { ConnectionRecorder } from './evidence.js';
import { DEFAULT_WITHIN_MS, Expectations } from './expect.js';
import type { ConnTrace } from './client-conn.js';
import type { TargetInfo, Verdict } from './types.js';
import { InfraError } from './verdict.js';

/** Larger inbound cleartext packets are not parsed (the peer's own limit is what checks probe, not ours). */
const MAX_PLAIN_PACKET = 256 * 1024;
const MAX_LINE = 8192;

export interface PacketFraming {
  /** padding_length to use (RFC 4253 §6 wants 4..255 and alignment). */
  readonly padding?: number;
  /** Overwrite packet_length on the wire. */
  readonly packetLength?: number;
  /** Align to this block size (default 8). */
  readonly block?: number;
  /** Bytes added to the normal padding (keep it a multiple of the block size to stay aligned). */
  readonly extraPadding?: number;
}

/** RFC 4253 §6 cleartext framing: uint32 packet_length, byte padding_length, payload, random padding. */
export function framePlain(payload: Uint8Array, f: PacketFraming = {}, rng: (n: number) => Uint8Array = (n) => new Uint8Array(n)): Uint8Array {
  const block = f.block ?? 8;
  let pad = block - ((5 + payload.length) % block);
  if (pad < 4) pad += block;
  if (f.extraPadding) pad += f.extraPadding;
  if (f.padding !== undefined) pad = f.padding;
  const out = Buffer.alloc(5 + payload.length + pad);
  out.writeUInt32BE(f.packetLength ?? 1 + payload.length + pad, 0);
  out[4] = pad & 0xff;
  out.set(payload, 5);
  out.set(rng(pad), 5 + payload.length);
  return out;
}

export class RawConn extends Expectations {
  /** Lines the peer sent before its identification string, then the identification string itself. */
  readonly lines: string[] = [];
  version: string | undefined;
  private buf = Buffer.alloc(0);
  private seqIn = 0;
  private seqOut = 0;
  private lineWaiters: { re: RegExp; resolve: (l: string | undefined) => void; timer: NodeJS.Timeout }[] = [];
  private broken = false;

  private constructor(rec: ConnectionRecorder, readonly socket: net.Socket, private readonly rng: (n: number) => Uint8Array, private readonly trace?: ConnTrace) {
    super(rec);
    socket.on('data', (chunk: Buffer) => {
      trace?.bytes('in', chunk, Date.now());
      this.buf = Buffer.concat([this.buf, chunk]);
      this.parse();
    });
    const closed = () => {
      trace?.close(Date.now());
      const last = this.rec.inbox.messages[this.rec.inbox.messages.length - 1];
      if (last?.name === 'SSH_MSG_DISCONNECT') this.rec.close({ kind: 'disconnect', reason: Number(last.fields?.['reason']), description: String(last.fields?.['description'] ?? ''), t: last.t });
      else this.rec.close({ kind: 'eof', t: this.rec.evidence.now() });
      for (const w of this.lineWaiters.splice(0)) { clearTimeout(w.timer); w.resolve(undefined); }
    };
    socket.on('close', closed);
    socket.on('error', () => { /* 'close' follows */ });
  }

  static async open(rec: ConnectionRecorder, target: TargetInfo, rng: (n: number) => Uint8Array, trace?: ConnTrace): Promise<RawConn> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: target.host, port: target.port });
      const timer = setTimeout(() => { s.destroy(); reject(new InfraError(`connect to ${target.host}:${target.port} timed out`)); }, 5000);
      s.once('connect', () => { clearTimeout(timer); s.removeAllListeners('error'); s.setNoDelay(true); resolve(s); });
      s.once('error', (e) => { clearTimeout(timer); reject(new InfraError(`connect to ${target.host}:${target.port} failed: ${e.message}`)); });
    });
    return new RawConn(rec, socket, rng, trace);
  }

  private parse(): void {
    for (let guard = 0; guard < 10_000 && !this.broken; guard++) {
      if (this.version === undefined) {
        const nl = this.buf.indexOf(0x0a);
        if (nl < 0) {
          if (this.buf.length > MAX_LINE) { this.broken = true; this.rec.note(`peer sent a line longer than ${MAX_LINE} bytes`); }
          return;
        }
        const line = this.buf.subarray(0, nl + 1).toString('latin1');
        this.buf = this.buf.subarray(nl + 1);
        const text = line.replace(/\r?\n$/, '');
        this.rec.note(`s2c line ${JSON.stringify(line)}`);
        this.lines.push(line);
        if (text.startsWith('SSH-')) this.version = text;
        for (const w of [...this.lineWaiters]) {
          if (w.re.test(line)) { clearTimeout(w.timer); this.lineWaiters.splice(this.lineWaiters.indexOf(w), 1); w.resolve(line); }
        }
        continue;
      }
      if (this.buf.length < 4) return;
      const len = this.buf.readUInt32BE(0);
      if (len > MAX_PLAIN_PACKET || len < 5) {
        this.broken = true;
        this.rec.note(`peer sent packet_length ${len}: not a cleartext packet we can parse (encrypted or malformed)`);
        return;
      }
      if (this.buf.length < 4 + len) return;
      const pad = this.buf[4]!;
      const payload = new Uint8Array(this.buf.subarray(5, 4 + len - Math.min(pad, len - 1)));
      this.buf = this.buf.subarray(4 + len);
      this.rec.packet('in', this.seqIn++, payload);
    }
  }

  /** Waits for a line from the peer (the identification string, or a line before it) matching `re`. */
  async expectLine(re: RegExp, o: { within?: number; else?: Verdict; because?: string } = {}): Promise<string> {
    const seen = this.lines.find((l) => re.test(l));
    if (seen !== undefined) return seen;
    const within = o.within ?? DEFAULT_WITHIN_MS;
    const line = this.closed ? undefined : await new Promise<string | undefined>((resolve) => {
      const w = { re, resolve, timer: setTimeout(() => { this.lineWaiters.splice(this.lineWaiters.indexOf(w), 1); resolve(undefined); }, within) };
      this.lineWaiters.push(w);
    });
    if (line !== undefined) return line;
    const got = this.lines.length ? `got ${this.lines.map((l) => JSON.stringify(l)).join(', ')}` : this.closed ? 'the connection closed' : `nothing within ${within} ms`;
    return this.end(o.else ?? 'fail', `${o.because ? `${o.because}: ` : ''}expected a line matching ${re}; ${got}`);
  }

  sendBytes(bytes: Uint8Array, label = 'raw bytes'): void {
    const shown = bytes.length <= 80 && bytes.every((b) => b === 0x0d || b === 0x0a || (b >= 0x20 && b < 0x7f))
      ? JSON.stringify(Buffer.from(bytes).toString('latin1'))
      : `${Buffer.from(bytes.subarray(0, 40)).toString('hex')}${bytes.length > 40 ? '…' : ''}`;
    this.rec.note(`c2s ${bytes.length} bytes (${label}): ${shown}`);
    this.trace?.bytes('out', bytes, Date.now());
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** One cleartext packet; returns its sequence number. */
  sendPacket(payload: Uint8Array, f: PacketFraming = {}, label?: string): number {
    const seq = this.seqOut++;
    const deviation = label ?? (f.padding !== undefined || f.packetLength !== undefined ? `framing ${JSON.stringify(f)}` : undefined);
    this.rec.packet('out', seq, payload, deviation);
    const wire = framePlain(payload, f, this.rng);
    this.trace?.bytes('out', wire, Date.now());
    if (!this.socket.destroyed) this.socket.write(wire);
    return seq;
  }

  sendMessage(m: MessageInput, f: PacketFraming = {}, label?: string): number {
    return this.sendPacket(encodeMessage(m), f, label);
  }

  /** Waits until the peer closes the connection (any way). */
  async expectClosed(o: { within?: number; else?: Verdict; because?: string } = {}): Promise<void> {
    const within = o.within ?? DEFAULT_WITHIN_MS;
    const e = await this.rec.inbox.wait(this.rec.inbox.messages.length, () => false, within);
    if (e.kind === 'closed') return;
    this.end(o.else ?? 'fail', `${o.because ? `${o.because}: ` : ''}the connection was still open after ${within} ms`);
  }

  close(): void {
    this.rec.inbox.abandon();
    for (const w of this.lineWaiters.splice(0)) { clearTimeout(w.timer); w.resolve(undefined); }
    this.socket.destroy();
  }
}
