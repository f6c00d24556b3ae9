/**
 * Hand-built SSH byte streams for trace tests and the import benchmark: no engine needed. The KEXINIT layout is
 * RFC 4253 §7.1; the binary packet framing RFC 4253 §6 (unencrypted: block size 8, random-free zero padding).
 */
import { encodeMessage } from '../../impl/messages/index.js';
import { Writer } from '../../impl/wire/index.js';
import type { Direction } from './tcp-reassembly.js';

export interface KexInitLists {
  readonly kex: readonly string[];
  readonly hostKey: readonly string[];
  readonly cipher: readonly string[];
  readonly mac: readonly string[];
  readonly compression: readonly string[];
}

export const sampleKexLists: KexInitLists = {
  kex: ['curve25519-sha256', 'curve25519-sha256@libssh.org', 'ext-info-c', 'kex-strict-c-v00@openssh.com'],
  hostKey: ['ssh-ed25519', 'rsa-sha2-512'],
  cipher: ['chacha20-poly1305@openssh.com', 'aes128-gcm@openssh.com'],
  mac: ['hmac-sha2-256-etm@openssh.com', 'hmac-sha2-256'],
  compression: ['none'],
};

/** An SSH_MSG_KEXINIT payload (message number first). */
export function kexInitPayload(cookie: Uint8Array, l: KexInitLists = sampleKexLists, firstKexFollows = false): Uint8Array {
  const w = new Writer(512).byte(20).raw(cookie);
  w.nameList(l.kex).nameList(l.hostKey).nameList(l.cipher).nameList(l.cipher).nameList(l.mac).nameList(l.mac);
  w.nameList(l.compression).nameList(l.compression).nameList([]).nameList([]);
  return w.boolean(firstKexFollows).uint32(0).finish().slice();
}

/** RFC 4253 §6 unencrypted framing: packet_length, padding_length, payload, ≥ 4 padding bytes to a multiple of 8. */
export function framePacket(payload: Uint8Array, block = 8): Uint8Array {
  let pad = block - ((5 + payload.length) % block);
  if (pad < 4) pad += block;
  const w = new Writer(5 + payload.length + pad).uint32(1 + payload.length + pad).byte(pad).raw(payload).raw(new Uint8Array(pad));
  return w.finish().slice();
}

export const bannerBytes = (line: string): Uint8Array => new TextEncoder().encode(`${line}\r\n`);

/** xorshift32: deterministic splits and data. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 2 ** 32; };
}

export interface Chunk { readonly dir: Direction; readonly bytes: Uint8Array; readonly t: number }
export interface Packet { readonly dir: Direction; readonly seq: number; readonly payload: Uint8Array; t: number }

/**
 * A synthetic SSH session: version strings, KEXINITs, ECDH init/reply (decoded only if the importer negotiates the
 * kex family), NEWKEYS, then opaque "encrypted" bytes; each direction cut into chunks at random places.
 */
export function syntheticSession(seed: number, encryptedBytes = 3000): { chunks: Chunk[]; packets: Packet[] } {
  const r = rng(seed);
  const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
  const plain: Record<Direction, Uint8Array[]> = {
    c2s: [kexInitPayload(bytes(16)), encodeMessage({ type: 'SSH_MSG_KEX_ECDH_INIT', publicKey: bytes(32) }), Uint8Array.of(21)],
    // host key and signature shaped as RFC 8709 ssh-ed25519 blobs (random contents), so dissectors accept them
    s2c: [kexInitPayload(bytes(16)), encodeMessage({ type: 'SSH_MSG_KEX_ECDH_REPLY', hostKey: ed25519Blob(bytes(32)), publicKey: bytes(32), signature: ed25519Blob(bytes(64)) }), Uint8Array.of(21)],
  };
  const packets: Packet[] = [];
  const streams = {} as Record<Direction, { data: Uint8Array; ends: { end: number; p: Packet }[] }>;
  for (const dir of ['c2s', 's2c'] as const) {
    const parts: Uint8Array[] = [bannerBytes(dir === 'c2s' ? 'SSH-2.0-synthetic_client' : 'SSH-2.0-synthetic_server')];
    let len = parts[0]!.length;
    const ends: { end: number; p: Packet }[] = [];
    plain[dir].forEach((payload, seq) => {
      const framed = framePacket(payload);
      parts.push(framed);
      len += framed.length;
      const p: Packet = { dir, seq, payload, t: 0 };
      ends.push({ end: len, p });
      packets.push(p);
    });
    parts.push(bytes(encryptedBytes));
    streams[dir] = { data: Buffer.concat(parts), ends };
  }
  // interleave random-sized chunks of both directions; a packet's time is that of the chunk holding its last byte
  const chunks: Chunk[] = [];
  const pos = { c2s: 0, s2c: 0 };
  let t = 1_700_000_000_000.25;
  for (let guard = 0; guard < 1_000_000 && (pos.c2s < streams.c2s.data.length || pos.s2c < streams.s2c.data.length); guard++) {
    const dir: Direction = pos.s2c >= streams.s2c.data.length || (pos.c2s < streams.c2s.data.length && r() < 0.5) ? 'c2s' : 's2c';
    const s = streams[dir];
    const n = Math.min(s.data.length - pos[dir], 1 + Math.floor(r() * 700));
    t += 0.0015 + r();
    chunks.push({ dir, bytes: s.data.subarray(pos[dir], pos[dir] + n), t });
    pos[dir] += n;
    for (const e of s.ends) if (e.p.t === 0 && e.end <= pos[dir]) e.p.t = t;
  }
  packets.sort((a, b) => a.t - b.t);
  return { chunks, packets };
}


/** RFC 8709 §4/§6 layout: string "ssh-ed25519", string key-or-signature. */
export function ed25519Blob(body: Uint8Array): Uint8Array {
  return new Writer(64 + body.length).string('ssh-ed25519').string(body).finish().slice();
}
