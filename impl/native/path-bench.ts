/**
 * Micro-benchmark (not a test) of the per-packet paths for bulk channel data, to size the copies and allocations
 * around the cipher (findings for impl/transport and impl/connection, which this file only reads).
 * Outbound:
 *   today    encodeMessage(SSH_MSG_CHANNEL_DATA)            alloc + copy of the data
 *            PacketWriter.write: new Uint8Array(packet)      zeroed alloc + copy of the payload
 *            Sealer.seal                                     alloc of packet + tag (+ the pure path's own)
 *   room     as today, but the packet is allocated with macLen spare bytes and sealed in place
 *   direct   one allocUnsafe(4 + packet_length + macLen): the CHANNEL_DATA header and data are written straight
 *            into the packet (no encodeMessage buffer), then sealed in place: one alloc, one copy of the data
 * Inbound (a stream of sealed CHANNEL_DATA packets arriving as fresh 64 KiB socket reads, handed over as the
 * Driver hands net.Socket reads to the engine):
 *   joined   a packet spanning two reads is copied into one buffer, then opened in place
 *   split    it is opened from its two pieces (openSplit: no joining copy)
 *   (the pure path never decrypts in place: node:crypto cannot write into a caller's buffer)
 * GB/s of channel data; rounds interleave the variants, best round wins (shared machine).
 * Throughput is per CPU-second by default (bench-clock.ts; `--wall` for wall-clock).
 * Run: npx tsx impl/native/path-bench.ts [--rounds=N] [--ms=N] [--size=BYTES] [--wall]
 */
import { randomBytes } from 'node:crypto';
import { makeOpener, makeSealer } from '../crypto/protect.js';
import { cipherAlgorithms } from '../crypto/registry.js';
import type { Opener, Sealer } from '../crypto/types.js';
import { decodeMessage, encodeMessage } from '../messages/index.js';
import { ByteQueue } from '../transport/byte-queue.js';
import { PacketReader } from '../transport/packet-reader.js';
import { PacketWriter } from '../transport/packet-writer.js';
import { clockName, rate } from './bench-clock.js';
import { nativeBinding, type NativeBinding, type NativeContext } from './binding.js';
import { nativeOpener, nativeSealer } from './index.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => Number(args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
const rounds = opt('rounds', 7);
const roundMs = opt('ms', 100);
const size = opt('size', 32 * 1024);
const rng = (n: number): Uint8Array => randomBytes(n);

const round = (fn: () => void): number => rate(fn, size, roundMs);

function pureSealer(): Sealer {
  process.env.SSH_HARNESS_NO_NATIVE = '1';
  try { return makeSealer(cipherAlgorithms.get('aes128-gcm@openssh.com')!, null, { encKey: rng(16), iv: rng(12), macKey: new Uint8Array(0) }); } finally {
    delete process.env.SSH_HARNESS_NO_NATIVE;
  }
}

/** today's PacketWriter with the given sealer */
function today(s: Sealer): () => void {
  const w = new PacketWriter(rng);
  w.sealer = s;
  const data = rng(size);
  return () => { w.write(encodeMessage({ type: 'SSH_MSG_CHANNEL_DATA', recipientChannel: 0, data })); };
}

const pad = (aligned: number): number => { let p = 16 - (aligned % 16); if (p < 4) p += 16; return p; };

/** PacketWriter's framing with macLen bytes of room, sealed in place (the payload still comes from encodeMessage). */
function room(b: NativeBinding, ctx: NativeContext): () => void {
  const data = rng(size), padBytes = rng(256);
  return () => {
    const payload = encodeMessage({ type: 'SSH_MSG_CHANNEL_DATA', recipientChannel: 0, data });
    const p = pad(1 + payload.length), len = 1 + payload.length + p;
    const buf = Buffer.allocUnsafe(4 + len + 16);
    buf.writeUInt32BE(len, 0);
    buf[4] = p;
    buf.set(payload, 5);
    buf.set(padBytes.subarray(0, p), 5 + payload.length);
    b.gcmSeal(ctx, buf.subarray(0, 4 + len), buf);
  };
}

/** CHANNEL_DATA (RFC 4254 §5.2: byte 94, uint32 recipient, string data) written straight into the packet. */
function direct(b: NativeBinding, ctx: NativeContext): () => void {
  const data = rng(size), padBytes = rng(256);
  return () => {
    const payloadLen = 1 + 4 + 4 + data.length;
    const p = pad(1 + payloadLen), len = 1 + payloadLen + p;
    const buf = Buffer.allocUnsafe(4 + len + 16);
    buf.writeUInt32BE(len, 0);
    buf[4] = p;
    buf[5] = 94;
    buf.writeUInt32BE(0, 6);
    buf.writeUInt32BE(data.length, 10);
    buf.set(data, 14);
    buf.set(padBytes.subarray(0, p), 5 + payloadLen);
    b.gcmSeal(ctx, buf.subarray(0, 4 + len), buf);
  };
}

// ───────────────────────────── inbound ─────────────────────────────

const gcm = cipherAlgorithms.get('aes128-gcm@openssh.com')!;
type Keys = { encKey: Uint8Array; iv: Uint8Array; macKey: Uint8Array };
const PACKETS = 32;
const READ = 64 * 1024;

/** The native opener without its split form: spanning packets are joined first, as before openSplit. */
function joining(o: Opener): Opener {
  return { blockSize: o.blockSize, lengthExcluded: o.lengthExcluded, macLen: o.macLen, headerLen: o.headerLen,
    packetLength: (seq, h) => o.packetLength(seq, h), open: (seq, w) => o.open(seq, w),
    ...(o.openInPlace ? { openInPlace: (seq: number, w: Uint8Array) => o.openInPlace!(seq, w) } : {}) };
}

/** PACKETS sealed CHANNEL_DATA packets as one byte stream, and a reader run over fresh copies of its 64 KiB reads. */
function inbound(k: Keys, makeOpener: () => Opener): () => void {
  const w = new PacketWriter(rng);
  w.sealer = pureSealerWith(k);
  const data = rng(size);
  const wires: Uint8Array[] = [];
  for (let i = 0; i < PACKETS; i++) wires.push(w.write(encodeMessage({ type: 'SSH_MSG_CHANNEL_DATA', recipientChannel: 0, data })));
  const stream = Buffer.concat(wires);
  return () => {
    const r = new PacketReader(256 * 1024, 256 * 1024);
    r.opener = makeOpener();
    const q = new ByteQueue();
    let got = 0;
    for (let at = 0; at < stream.length; at += READ) {
      q.push(Buffer.from(stream.subarray(at, at + READ)), true); // a socket read: fresh memory every time, handed over
      for (let p = r.read(q); p; p = r.read(q)) { const m = decodeMessage(p.payload); if (m.type === 'SSH_MSG_CHANNEL_DATA') got += m.data.length; }
    }
    if (got !== PACKETS * size) throw new Error(`inbound model lost data: ${got}`);
  };
}

function pureSealerWith(k: Keys): Sealer {
  process.env.SSH_HARNESS_NO_NATIVE = '1';
  try { return makeSealer(gcm, null, k); } finally { delete process.env.SSH_HARNESS_NO_NATIVE; }
}

function pureOpenerWith(k: Keys): Opener {
  process.env.SSH_HARNESS_NO_NATIVE = '1';
  try { return makeOpener(gcm, null, k); } finally { delete process.env.SSH_HARNESS_NO_NATIVE; }
}

function measure(title: string, variants: [string, () => void][], perCall: number, baseName: string): void {
  const best = new Map<string, number>();
  for (let r = 0; r < rounds; r++) for (const [name, fn] of variants) best.set(name, Math.max(best.get(name) ?? 0, round(fn) * perCall));
  console.log(title);
  const base = best.get(baseName) ?? [...best.values()][0]!;
  for (const [name] of variants) console.log(`  ${name.padEnd(40)} ${best.get(name)!.toFixed(2).padStart(5)} GB/s  ${(best.get(name)! / base).toFixed(2)}× ${baseName}`);
}

const b = nativeBinding();
const kIn = { encKey: new Uint8Array(16).fill(7), iv: new Uint8Array(12).fill(9), macKey: new Uint8Array(0) };
const out: [string, () => void][] = [['today, pure aes128-gcm', today(pureSealer())]];
const inb: [string, () => void][] = [['today, pure aes128-gcm', inbound(kIn, () => pureOpenerWith(kIn))]];
if (b) {
  const k = { encKey: rng(16), iv: rng(12), macKey: new Uint8Array(0) };
  out.push(['today, native aes128-gcm', today(nativeSealer(gcm, null, k)!)]);
  out.push(['room for the tag, sealed in place', room(b, b.gcmNew(k.encKey, k.iv, true))]);
  out.push(['direct CHANNEL_DATA into the packet', direct(b, b.gcmNew(k.encKey, k.iv, true))]);
  inb.push(['native, spanning packets joined', inbound(kIn, () => joining(nativeOpener(gcm, null, kIn)!))]);
  inb.push(['native, spanning packets split (openSplit)', inbound(kIn, () => nativeOpener(gcm, null, kIn)!)]);
}
console.log(`CHANNEL_DATA of ${size} bytes, ${clockName}, best of ${rounds} × ${roundMs} ms, rounds interleaved; native: ${b ? 'loaded' : 'not loaded'}`);
measure('outbound: payload → sealed packet', out, 1, 'today, native aes128-gcm');
measure(`inbound: ${READ / 1024} KiB reads → channel data`, inb, PACKETS, 'native, spanning packets joined');
