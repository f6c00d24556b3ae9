/**
 * Writes SSH byte streams as a classic libpcap file with synthetic Ethernet (or raw) / IPv4 / TCP framing, so
 * Wireshark and tshark reassemble and dissect them as if they had been captured (harness/trace/README.md).
 *
 * Each connection is a `TcpRecorder` (the `ByteRecorder` seam that the socket adapter and the in-process pair call):
 * a three-way handshake at `open`, one or more segments per recorded chunk with correct sequence and
 * acknowledgement numbers, FIN/FIN/ACK at `close`. IPv4 (RFC 791 §3.1) and TCP (RFC 9293 §3.1) checksums are
 * computed, so `tshark -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE` finds none bad.
 *
 * MSS: 65495 by default — the largest payload one IPv4 datagram with a 20-byte TCP header can carry (65535 − 40),
 * as on a Linux loopback capture. It keeps any SSH packet up to 65 KB (RFC 4253 §6.1 requires 35000 bytes) in one
 * segment, which tshark's SSH decryption needs (harness/trace/README.md), and writes far fewer frames than a 1460-byte MSS would.
 */
import { copyAndSumWords, sumWords, fold } from './checksum.js';
import { type ByteSink, FileSink, MemorySink } from './byte-sink.js';
import { encodeGlobalHeader, LinkType, RECORD_HEADER_LEN, writeRecordHeader } from './pcap-format.js';

export type Direction = 'c2s' | 's2c';

/** The recording seam: called for every chunk that goes over the wire of one connection. */
export interface ByteRecorder {
  open(timeMs: number): void;
  /**
   * `packetEnds` (optional): offsets in `bytes` where SSH binary packets end. With `onePacketPerSegment`, each
   * packet goes in its own TCP segment(s); without it, or without marks, the chunk is split only at the MSS.
   */
  chunk(direction: Direction, bytes: Uint8Array, timeMs: number, packetEnds?: readonly number[]): void;
  close(timeMs: number): void;
}

export interface Endpoint {
  /** Dotted IPv4 address. */
  readonly ip: string;
  readonly port: number;
}

export interface PcapWriterOptions {
  /** LINKTYPE_ETHERNET (default) or LINKTYPE_RAW (IPv4 header first). */
  readonly linkType?: 'ethernet' | 'raw';
  readonly mss?: number;
  /** Put each caller-marked SSH packet in its own segment (tshark 4.0 decrypts those reliably, harness/trace/README.md). */
  readonly onePacketPerSegment?: boolean;
  /** Server port for synthetic endpoints; 22 by default, the port tshark dissects as SSH without `-d`. */
  readonly serverPort?: number;
  /** The receiver sends a pure ACK when this many bytes are unacknowledged (keeps bytes-in-flight under the window). */
  readonly ackEvery?: number;
  /**
   * Write the server's bytes after its version line only once the client has sent something (default true).
   * tshark 4.0 takes the SSH version from the client's string: a server KEXINIT seen before it is dissected as
   * "encrypted", its cookie is lost, and the session cannot be decrypted. RFC 4253 §7.1 lets a server send
   * KEXINIT right after its version (impl does; OpenSSH's sshd waits), so the writer holds those bytes (bounded)
   * and writes them right after the client's first chunk, with their own times (so the file's timestamps go back
   * once there). Each direction's bytes are unchanged.
   */
  readonly clientVersionFirst?: boolean;
}

export interface ConnectionOptions {
  readonly client?: Endpoint;
  readonly server?: Endpoint;
  /** Initial sequence numbers; deterministic per connection index by default. */
  readonly isn?: { readonly client: number; readonly server: number };
}

export const DEFAULT_MSS = 65495;
const MAX_MSS = 65495;
/** RFC 7323 §2.3: our synthetic peers advertise 65535 << 7 ≈ 8 MiB. */
const WINDOW_SHIFT = 7;
const SNAPLEN = 262144;
const ETH_LEN = 14;
const IP_LEN = 20;
const TCP_LEN = 20;

const FIN = 0x01, SYN = 0x02, PSH = 0x08, ACK = 0x10;

/** Writes the global header at once, then frames as connections record. */
export class PcapWriter {
  readonly linkType: number;
  readonly mss: number;
  readonly onePacketPerSegment: boolean;
  readonly ackEvery: number;
  readonly clientVersionFirst: boolean;
  private readonly serverPort: number;
  private readonly live = new Set<TcpRecorder>();
  private connections = 0;
  private lastTimeMs = 0;
  private frameCount = 0;

  constructor(readonly sink: ByteSink, options: PcapWriterOptions = {}) {
    this.linkType = options.linkType === 'raw' ? LinkType.RAW : LinkType.ETHERNET;
    const mss = options.mss ?? DEFAULT_MSS;
    if (!Number.isInteger(mss) || mss < 1 || mss > MAX_MSS) throw new RangeError(`mss: expected 1..${MAX_MSS}, got ${mss}`);
    this.mss = mss;
    this.onePacketPerSegment = options.onePacketPerSegment ?? false;
    this.ackEvery = options.ackEvery ?? 1 << 20;
    this.clientVersionFirst = options.clientVersionFirst ?? true;
    this.serverPort = options.serverPort ?? 22;
    sink.write(encodeGlobalHeader({ linkType: this.linkType, snaplen: SNAPLEN }));
  }

  static toFile(path: string, options?: PcapWriterOptions): PcapWriter {
    return new PcapWriter(new FileSink(path), options);
  }

  static inMemory(options?: PcapWriterOptions): PcapWriter & { readonly sink: MemorySink } {
    return new PcapWriter(new MemorySink(), options) as PcapWriter & { readonly sink: MemorySink };
  }

  get frames(): number { return this.frameCount; }

  /**
   * A recorder for one more connection. Synthetic endpoints give every connection of a file a distinct 4-tuple:
   * client 10.0.0.1:40000+i (the next 20000 from 10.0.1.1, …), server 10.0.0.2:serverPort.
   */
  connection(options: ConnectionOptions = {}): TcpRecorder {
    const i = this.connections++;
    const synthetic = syntheticEndpoints(i, this.serverPort);
    const client = options.client ?? synthetic.client;
    const server = options.server ?? synthetic.server;
    const isnC = options.isn?.client ?? (Math.imul(i + 1, 0x9e3779b9) >>> 0);
    const isnS = options.isn?.server ?? ((isnC ^ 0x5a5a5a5a) >>> 0);
    const rec = new TcpRecorder(this, i, client, server, isnC, isnS);
    this.live.add(rec);
    return rec;
  }

  /** Closes the connections still open (at the last recorded time) and the sink. */
  close(): void {
    for (const rec of [...this.live]) rec.close(this.lastTimeMs);
    this.sink.close();
  }

  /** @internal */
  forget(rec: TcpRecorder): void {
    this.live.delete(rec);
  }

  /** Timestamps never go backwards within a file (tshark would show negative deltas). @internal */
  clock(timeMs: number): number {
    if (timeMs > this.lastTimeMs) this.lastTimeMs = timeMs;
    return this.lastTimeMs;
  }

  /** @internal */
  counted(): void {
    this.frameCount++;
  }
}

interface Half {
  readonly ip: number;
  readonly port: number;
  readonly mac: Uint8Array;
  /** Next sequence number this side sends. */
  seq: number;
  /** The highest of this side's sequence numbers the other side has acknowledged. */
  acked: number;
  ipId: number;
}

export class TcpRecorder implements ByteRecorder {
  private state: 'new' | 'open' | 'closed' = 'new';
  private readonly halves: readonly [Half, Half];
  /** Bytes offered after close (a bug in the caller, never a crash). */
  droppedAfterClose = 0;
  /** Server bytes held until the client speaks (see PcapWriterOptions.clientVersionFirst); null once released. */
  private held: { bytes: Uint8Array; timeMs: number; packetEnds?: readonly number[] }[] | null = [];
  private heldBytes = 0;
  /** The server's version line has been written (bytes after it are held while `held` is not null). */
  private serverVersionSeen = false;

  constructor(private readonly w: PcapWriter, readonly index: number, readonly client: Endpoint, readonly server: Endpoint, isnC: number, isnS: number) {
    this.halves = [
      { ip: parseIPv4(client.ip), port: checkPort(client.port), mac: mac(1), seq: isnC, acked: isnC, ipId: 1 },
      { ip: parseIPv4(server.ip), port: checkPort(server.port), mac: mac(2), seq: isnS, acked: isnS, ipId: 1 },
    ];
  }

  open(timeMs: number): void {
    if (this.state !== 'new') return;
    this.state = 'open';
    const synOptions = synOptionsFor(this.w.mss);
    // RFC 9293 §3.5: three-way handshake
    this.segment(0, SYN, undefined, timeMs, synOptions);
    this.segment(1, SYN | ACK, undefined, timeMs, synOptions);
    this.segment(0, ACK, undefined, timeMs);
  }

  chunk(direction: Direction, bytes: Uint8Array, timeMs: number, packetEnds?: readonly number[]): void {
    if (this.state === 'closed') { this.droppedAfterClose += bytes.length; return; }
    if (this.state === 'new') this.open(timeMs);
    if (bytes.length === 0) return;
    if (this.held !== null) {
      if (!this.w.clientVersionFirst) this.held = null;
      else if (direction === 'c2s') {
        this.write('c2s', bytes, timeMs, packetEnds);
        this.release();
        return;
      } else if (this.hold(bytes, timeMs, packetEnds)) return;
    }
    this.write(direction, bytes, timeMs, packetEnds);
  }

  /** Keeps server bytes that follow its version line; false when the chunk may be written now. */
  private hold(bytes: Uint8Array, timeMs: number, packetEnds?: readonly number[]): boolean {
    let rest = bytes;
    if (!this.serverVersionSeen) {
      const end = this.versionLineEnd(bytes);
      if (end < 0) return false; // still in the version line (or lines before it): write as is
      this.serverVersionSeen = true;
      if (end === bytes.length) return false;
      this.write('s2c', bytes.subarray(0, end), timeMs);
      rest = bytes.subarray(end);
      packetEnds = packetEnds?.filter((e) => e > end).map((e) => e - end);
    }
    this.held!.push({ bytes: rest.slice(), timeMs, ...(packetEnds ? { packetEnds } : {}) });
    this.heldBytes += rest.length;
    // bounded: a client that never speaks must not make us buffer a whole session
    if (this.heldBytes > 1 << 20) this.release();
    return true;
  }

  /** Start of the server's current line, across chunks (only the first few lines are ever scanned). */
  private linePrefix = '';

  /**
   * End offset (after LF) of the server's "SSH-" line within this chunk, or -1 when the chunk does not complete it.
   * Lines before the version (RFC 4253 §4.2) are skipped.
   */
  private versionLineEnd(b: Uint8Array): number {
    for (let i = 0; i < b.length; i++) {
      if (b[i] === 0x0a) {
        if (this.linePrefix === 'SSH-') return i + 1;
        this.linePrefix = '';
      } else if (this.linePrefix.length < 4) {
        this.linePrefix += String.fromCharCode(b[i]!);
      }
    }
    return -1;
  }

  private release(): void {
    const held = this.held ?? [];
    this.held = null;
    // Held frames keep their own (earlier) times, so imported timestamps still match the live ones.
    this.keepTime = true;
    try {
      for (const h of held) this.write('s2c', h.bytes, h.timeMs, h.packetEnds);
    } finally {
      this.keepTime = false;
    }
  }

  /** Set while held frames are written: their timestamps are not clamped to the file's latest. */
  private keepTime = false;

  private write(direction: Direction, bytes: Uint8Array, timeMs: number, packetEnds?: readonly number[]): void {
    const from = direction === 'c2s' ? 0 : 1;
    if (this.w.onePacketPerSegment && packetEnds && packetEnds.length > 0) {
      let start = 0;
      for (const end of packetEnds) {
        if (end <= start || end > bytes.length) continue; // ignore marks that are out of order or out of range
        this.split(from, bytes.subarray(start, end), timeMs);
        start = end;
      }
      if (start < bytes.length) this.split(from, bytes.subarray(start), timeMs);
    } else {
      this.split(from, bytes, timeMs);
    }
    const sender = this.halves[from];
    if (((sender.seq - sender.acked) >>> 0) >= this.w.ackEvery) this.segment(1 - from as 0 | 1, ACK, undefined, timeMs);
  }

  close(timeMs: number): void {
    if (this.state === 'closed') return;
    if (this.state === 'new') this.open(timeMs);
    this.release();
    this.state = 'closed';
    // RFC 9293 §3.6: each side's FIN is acknowledged by the other
    this.segment(0, FIN | ACK, undefined, timeMs);
    this.segment(1, FIN | ACK, undefined, timeMs);
    this.segment(0, ACK, undefined, timeMs);
    this.w.forget(this);
  }

  /** Splits at the MSS; the last segment of a chunk carries PSH, as a real stack's would. */
  private split(from: 0 | 1, bytes: Uint8Array, timeMs: number): void {
    const mss = this.w.mss;
    for (let off = 0; off < bytes.length; off += mss) {
      const end = Math.min(bytes.length, off + mss);
      this.segment(from, end === bytes.length ? PSH | ACK : ACK, bytes.subarray(off, end), timeMs);
    }
  }

  private segment(from: 0 | 1, flags: number, payload: Uint8Array | undefined, timeMs: number, options?: Uint8Array): void {
    const src = this.halves[from];
    const dst = this.halves[1 - from]!;
    const w = this.w;
    const t = this.keepTime ? timeMs : w.clock(timeMs);
    const payloadLen = payload?.length ?? 0;
    const tcpLen = TCP_LEN + (options?.length ?? 0);
    const ipTotal = IP_LEN + tcpLen + payloadLen;
    const linkLen = w.linkType === LinkType.ETHERNET ? ETH_LEN : 0;
    const frameLen = linkLen + ipTotal;

    const out = w.sink.reserve(RECORD_HEADER_LEN + frameLen);
    const v = new DataView(out.buffer, out.byteOffset, RECORD_HEADER_LEN + frameLen);
    writeRecordHeader(v, 0, t, frameLen, frameLen);
    let o = RECORD_HEADER_LEN;
    if (linkLen) {
      out.set(dst.mac, o);
      out.set(src.mac, o + 6);
      v.setUint16(o + 12, 0x0800); // EtherType IPv4
      o += ETH_LEN;
    }

    // IPv4 header, RFC 791 §3.1
    const ip = o;
    v.setUint8(ip, 0x45); // version 4, IHL 5 words
    v.setUint8(ip + 1, 0);
    v.setUint16(ip + 2, ipTotal);
    v.setUint16(ip + 4, src.ipId);
    src.ipId = (src.ipId + 1) & 0xffff;
    v.setUint16(ip + 6, 0x4000); // DF, fragment offset 0
    v.setUint8(ip + 8, 64); // TTL
    v.setUint8(ip + 9, 6); // protocol TCP
    v.setUint16(ip + 10, 0);
    v.setUint32(ip + 12, src.ip);
    v.setUint32(ip + 16, dst.ip);
    v.setUint16(ip + 10, ~fold(sumWords(out.subarray(ip, ip + IP_LEN))) & 0xffff);

    // TCP header, RFC 9293 §3.1
    const tcp = ip + IP_LEN;
    const withAck = (flags & ACK) !== 0;
    v.setUint16(tcp, src.port);
    v.setUint16(tcp + 2, dst.port);
    v.setUint32(tcp + 4, src.seq);
    v.setUint32(tcp + 8, withAck ? dst.seq : 0);
    v.setUint8(tcp + 12, (tcpLen / 4) << 4);
    v.setUint8(tcp + 13, flags);
    v.setUint16(tcp + 14, 0xffff); // window (scaled by WINDOW_SHIFT after the SYNs)
    v.setUint16(tcp + 16, 0);
    v.setUint16(tcp + 18, 0);
    if (options) out.set(options, tcp + TCP_LEN);
    // Pseudo-header: source, destination, zero, protocol, TCP length (RFC 9293 §3.1)
    let sum = (src.ip >>> 16) + (src.ip & 0xffff) + (dst.ip >>> 16) + (dst.ip & 0xffff) + 6 + tcpLen + payloadLen;
    sum = sumWords(out.subarray(tcp, tcp + tcpLen), sum); // header length is even, so the payload's words align
    // the payload is copied into the frame and summed in one pass
    if (payload) sum = copyAndSumWords(out.subarray(tcp + tcpLen, tcp + tcpLen + payloadLen), payload, sum);
    v.setUint16(tcp + 16, ~fold(sum) & 0xffff);
    w.sink.commit(RECORD_HEADER_LEN + frameLen);
    w.counted();

    src.seq = (src.seq + payloadLen + (flags & SYN ? 1 : 0) + (flags & FIN ? 1 : 0)) >>> 0;
    if (withAck) dst.acked = dst.seq;
  }
}

/** The synthetic 4-tuple of connection `i`: client 10.0.0.1:40000+i (then 10.0.1.1, …), server 10.0.0.2. */
export function syntheticEndpoints(i: number, serverPort = 22): { client: Endpoint; server: Endpoint } {
  const block = Math.floor(i / 20000) % (250 * 256);
  return { client: { ip: `10.${Math.floor(block / 250)}.${block % 250}.1`, port: 40000 + (i % 20000) }, server: { ip: '10.0.0.2', port: serverPort } };
}

function synOptionsFor(mss: number): Uint8Array {
  // MSS (kind 2, RFC 9293 §3.7.1), NOP, window scale (kind 3, RFC 7323 §2.2): 8 bytes, a multiple of 4
  return Uint8Array.of(2, 4, mss >> 8, mss & 0xff, 1, 3, 3, WINDOW_SHIFT);
}

function mac(n: number): Uint8Array {
  return Uint8Array.of(0x02, 0, 0, 0, 0, n); // locally administered unicast
}

function checkPort(p: number): number {
  if (!Number.isInteger(p) || p < 1 || p > 65535) throw new RangeError(`port: expected 1..65535, got ${p}`);
  return p;
}

export function parseIPv4(s: string): number {
  const parts = s.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) throw new TypeError(`not a dotted IPv4 address: ${JSON.stringify(s)}`);
  return parts.reduce((a, p) => ((a << 8) | Number(p)) >>> 0, 0);
}
