/**
 * Decryption of imported captures with an SSH keylog (the `decryptor` seam of import.ts), rekeys included.
 *
 * Per key exchange: both KEXINITs and the kex init/reply give the negotiated algorithms (RFC 4253 §7.1), the
 * host key and both public values (group exchange: also the request and the group, RFC 4419 §3); the keylog gives
 * K — a `SHARED_SECRET` line directly (any kex), or a `PRIVATE_KEY` / two-field line from which K is recomputed
 * with the other side's public value (curve25519, the fixed DH groups and group exchange). Then H (RFC 4253 §8 /
 * RFC 5656 §4 / RFC 4419 §3), the keys (§7.2) and impl's own packet opener and
 * reader do the rest, with sequence numbers as the engine counts them (RFC 4253 §6.4; reset at every NEWKEYS
 * under strict kex, OpenSSH PROTOCOL "strict key exchange").
 *
 * Compression other than 'none' is reported as not decryptable. A wrong key or a damaged
 * stream stops that direction with a reason; nothing throws out of `push`.
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { cipherAlgorithms, hashFor, kexAlgorithms, macAlgorithms } from '../../impl/crypto/registry.js';
import { makeOpener } from '../../impl/crypto/protect.js';
import type { Opener } from '../../impl/crypto/types.js';
import { decodeMessage, type Message } from '../../impl/messages/index.js';
import { ByteQueue } from '../../impl/transport/byte-queue.js';
import { deriveSessionKeys, exchangeHash } from '../../impl/transport/kdf.js';
import { negotiate } from '../../impl/transport/negotiate.js';
import { PacketReader } from '../../impl/transport/packet-reader.js';
import type { NegotiatedAlgorithms } from '../../impl/transport/types.js';
import { Writer } from '../../impl/wire/index.js';
import type { DecryptedPacket, DecryptorFactory, StreamDecryptor, UnencryptedPhase } from './import.js';
import type { KeylogEntry } from './keylog.js';
import type { Direction } from './tcp-reassembly.js';

const MAX_PACKET = 256 * 1024 + 64;
/** A kex method sends at most two messages per direction (group exchange); more are not kept. */
const MAX_KEX_MESSAGES = 4;
/** Bytes held for a direction whose next keys are not known yet (their kex reply is still in the other direction). */
const MAX_PARKED = 16 << 20;

type KexInitMsg = Extract<Message, { type: 'SSH_MSG_KEXINIT' }>;

/** One key exchange as seen on the wire. */
interface Round {
  client?: { payload: Uint8Array; msg: KexInitMsg };
  server?: { payload: Uint8Array; msg: KexInitMsg };
  /** The kex method's messages (30-49) per direction, in order: init (group exchange: request, init) … */
  readonly kexC2S: Uint8Array[];
  /** … and reply (group exchange: group, reply). */
  readonly kexS2C: Uint8Array[];
  algs?: NegotiatedAlgorithms;
  openers?: Record<Direction, Opener>;
  error?: string;
}

interface Half {
  readonly reader: PacketReader;
  readonly queue: ByteQueue;
  /** Index of the round whose keys this direction uses now (-1: not started). */
  round: number;
  /** This direction sent NEWKEYS for round `round + 1` and waits for its keys. */
  waitingForKeys: boolean;
  lastTimeMs: number;
  stopped?: string;
}

/** A decryptor factory for `importPcap({ decryptor })` from parsed keylog entries. */
export function keylogDecryptor(entries: readonly KeylogEntry[]): DecryptorFactory {
  const byCookie = new Map<string, KeylogEntry[]>();
  for (const e of entries) {
    const list = byCookie.get(e.cookie) ?? [];
    list.push(e);
    byCookie.set(e.cookie, list);
  }
  return (phase) => {
    const first = phase.packets.find((p) => p.payload[0] === 20);
    if (!first) return undefined;
    return new ConnectionDecryptor(phase, byCookie);
  };
}

class ConnectionDecryptor implements StreamDecryptor {
  private readonly rounds: Round[] = [];
  private readonly halves: Record<Direction, Half>;
  private strict = false;
  private sessionId: Uint8Array | undefined;
  private seen = 0; // unencrypted packets of `phase` already observed

  constructor(private readonly phase: UnencryptedPhase, private readonly keylog: ReadonlyMap<string, KeylogEntry[]>) {
    const half = (): Half => ({ reader: new PacketReader(MAX_PACKET, MAX_PACKET), queue: new ByteQueue(), round: -1, waitingForKeys: false, lastTimeMs: 0 });
    this.halves = { c2s: half(), s2c: half() };
  }

  push(direction: Direction, bytes: Uint8Array, timeMs: number): readonly DecryptedPacket[] {
    this.catchUp();
    const h = this.halves[direction];
    if (h.stopped) return [];
    if (h.queue.length + bytes.length > MAX_PARKED) {
      this.stop(direction, 'too many bytes waiting for keys');
      return [];
    }
    h.queue.push(bytes.slice()); // the importer's buffers are views into the capture
    h.lastTimeMs = timeMs;
    if (h.round < 0) this.start(direction);
    // Reading one direction can complete the keys the other one waits for (its kex reply): run both until idle.
    const out: DecryptedPacket[] = [];
    for (let pass = 0; pass < 4; pass++) {
      const n = out.length;
      this.read('c2s', out);
      this.read('s2c', out);
      if (out.length === n) break;
    }
    return out;
  }

  /** Observes the unencrypted packets the importer added since the last call (both directions). */
  private catchUp(): void {
    const ps = this.phase.packets;
    for (; this.seen < ps.length; this.seen++) {
      const p = ps[this.seen]!;
      this.observe(p.direction, p.payload);
    }
  }

  /** The first encrypted byte of a direction: its NEWKEYS was the last unencrypted packet; keys of round 0. */
  private start(dir: Direction): void {
    const h = this.halves[dir];
    h.round = 0;
    const unencrypted = this.phase.packets.filter((p) => p.direction === dir).length;
    h.reader.seq = this.strict ? 0 : unencrypted;
    this.install(dir);
  }

  private install(dir: Direction): void {
    const h = this.halves[dir];
    const r = this.rounds[h.round];
    if (!r) return this.stop(dir, `no key exchange ${h.round + 1} seen`);
    this.keysFor(h.round);
    if (r.error) return this.stop(dir, r.error);
    if (!r.openers) { h.waitingForKeys = true; return; }
    h.reader.opener = r.openers[dir];
    h.waitingForKeys = false;
  }

  private read(dir: Direction, out: DecryptedPacket[]): void {
    const h = this.halves[dir];
    if (h.stopped || h.round < 0) return;
    if (h.waitingForKeys) {
      this.install(dir);
      if (h.waitingForKeys || h.stopped) return;
    }
    // Each pass consumes a whole packet or returns; the queue is finite.
    for (;;) {
      let p;
      try {
        p = h.reader.read(h.queue);
      } catch (e) {
        return this.stop(dir, `cannot decrypt packet ${h.reader.seq}: ${(e as Error).message} (wrong keylog entry?)`);
      }
      if (!p) return;
      out.push({ direction: dir, seq: p.seq, payload: p.payload.slice(), timeMs: h.lastTimeMs });
      this.observe(dir, p.payload);
      if (p.payload[0] === 21) {
        // RFC 4253 §7.3: what follows this direction's NEWKEYS uses the new keys
        h.round++;
        if (this.strict) h.reader.seq = 0;
        this.install(dir);
        if (h.waitingForKeys || h.stopped) return;
      }
    }
  }

  /** Kex bookkeeping for any packet, encrypted or not, in stream order per direction. */
  private observe(dir: Direction, payload: Uint8Array): void {
    const id = payload[0];
    if (id === 20) {
      let msg: KexInitMsg;
      try {
        msg = decodeMessage(payload) as KexInitMsg;
      } catch {
        return;
      }
      // a KEXINIT opens a new round unless it answers the peer's (the latest round misses this side's)
      let r = this.rounds.at(-1);
      const side = dir === 'c2s' ? 'client' : 'server';
      if (!r || r[side] || r.openers || r.error) { r = { kexC2S: [], kexS2C: [] }; this.rounds.push(r); }
      r[side] = { payload: payload.slice(), msg };
      if (this.rounds.length === 1 && r.client && r.server) {
        this.strict = r.client.msg.kexAlgorithms.includes('kex-strict-c-v00@openssh.com') && r.server.msg.kexAlgorithms.includes('kex-strict-s-v00@openssh.com');
      }
    } else if (id !== undefined && id >= 30 && id <= 49) {
      const r = this.rounds.at(-1);
      const list = dir === 'c2s' ? r?.kexC2S : r?.kexS2C;
      if (list && list.length < MAX_KEX_MESSAGES) list.push(payload.slice());
    }
  }

  /** Derives the openers of round `i` once its messages are known. */
  private keysFor(i: number): void {
    const r = this.rounds[i];
    if (!r || r.openers || r.error || !r.client || !r.server) return;
    try {
      r.algs ??= negotiate(r.client.msg, r.server.msg, { isAead: (c) => cipherAlgorithms.get(c)?.aead ?? false }, i === 0);
      const kex = kexAlgorithms.get(r.algs.kex);
      if (!kex) throw new Error(`kex ${r.algs.kex} is not known to impl`);
      const gex = kex.shape === 'dh-gex';
      const needed = gex ? 2 : 1; // RFC 4419 §3: request + init / group + reply
      if (r.kexC2S.length < needed || r.kexS2C.length < needed) return;
      for (const c of [r.algs.compressionC2S, r.algs.compressionS2C]) if (c !== 'none') throw new Error(`compression ${c} is not decrypted by the importer`);
      const ctx = { kex: kex.shape };
      const init = decodeMessage(r.kexC2S[needed - 1]!, ctx), reply = decodeMessage(r.kexS2C[needed - 1]!, ctx);
      let clientPublic: Uint8Array, serverPublic: Uint8Array, clientRaw: Uint8Array, serverRaw: Uint8Array, hostKey: Uint8Array;
      let gexParams: Uint8Array | undefined;
      let group: { readonly p: bigint } | undefined;
      if (gex) {
        const request = decodeMessage(r.kexC2S[0]!, ctx), offered = decodeMessage(r.kexS2C[0]!, ctx);
        if (offered.type !== 'SSH_MSG_KEX_DH_GEX_GROUP' || init.type !== 'SSH_MSG_KEX_DH_GEX_INIT' || reply.type !== 'SSH_MSG_KEX_DH_GEX_REPLY') {
          throw new Error(`unexpected group exchange messages ${offered.type} / ${init.type} / ${reply.type}`);
        }
        const w = new Writer();
        // RFC 4419 §3 hashes min || n || max; §5: the old request has n alone
        if (request.type === 'SSH_MSG_KEX_DH_GEX_REQUEST') w.uint32(request.min).uint32(request.n).uint32(request.max);
        else if (request.type === 'SSH_MSG_KEX_DH_GEX_REQUEST_OLD') w.uint32(request.n);
        else throw new Error(`unexpected group exchange request ${request.type}`);
        gexParams = w.mpint(offered.p).mpint(offered.g).finish();
        group = { p: offered.p };
        clientRaw = unsigned(init.e); serverRaw = unsigned(reply.f); hostKey = reply.hostKey;
        clientPublic = new Writer().mpint(init.e).finish();
        serverPublic = new Writer().mpint(reply.f).finish();
      } else if (init.type === 'SSH_MSG_KEX_ECDH_INIT' && reply.type === 'SSH_MSG_KEX_ECDH_REPLY') {
        clientRaw = init.publicKey; serverRaw = reply.publicKey; hostKey = reply.hostKey;
        clientPublic = new Writer(clientRaw.length + 4).string(clientRaw).finish();
        serverPublic = new Writer(serverRaw.length + 4).string(serverRaw).finish();
      } else if (init.type === 'SSH_MSG_KEXDH_INIT' && reply.type === 'SSH_MSG_KEXDH_REPLY') {
        clientRaw = unsigned(init.e); serverRaw = unsigned(reply.f); hostKey = reply.hostKey;
        clientPublic = new Writer().mpint(init.e).finish();
        serverPublic = new Writer().mpint(reply.f).finish();
      } else {
        throw new Error(`unexpected kex messages ${init.type} / ${reply.type}`);
      }
      const K = this.sharedSecret(r, r.algs.kex, clientRaw, serverRaw, group);
      const hash = hashFor(kex.hash);
      const H = exchangeHash(hash, {
        clientVersion: this.phase.banners.client ?? '', serverVersion: this.phase.banners.server ?? '',
        clientKexInit: r.client.payload, serverKexInit: r.server.payload, hostKey, ...(gexParams ? { gexParams } : {}), clientPublic, serverPublic, sharedSecret: K,
      });
      this.sessionId ??= H;
      const cC2S = cipherAlgorithms.get(r.algs.cipherC2S)!, cS2C = cipherAlgorithms.get(r.algs.cipherS2C)!;
      const mC2S = r.algs.macC2S === 'none' ? null : macAlgorithms.get(r.algs.macC2S)!;
      const mS2C = r.algs.macS2C === 'none' ? null : macAlgorithms.get(r.algs.macS2C)!;
      const keys = deriveSessionKeys(hash, K, H, this.sessionId,
        { ivLen: cC2S.ivLen, keyLen: cC2S.keyLen, macKeyLen: mC2S?.keyLen ?? 0 },
        { ivLen: cS2C.ivLen, keyLen: cS2C.keyLen, macKeyLen: mS2C?.keyLen ?? 0 });
      r.openers = { c2s: makeOpener(cC2S, mC2S, keys.c2s), s2c: makeOpener(cS2C, mS2C, keys.s2c) };
    } catch (e) {
      r.error = `key exchange ${i + 1}: ${(e as Error).message}`;
    }
  }

  /** K, encoded as it enters H and the KDF: a string for the hybrid PQ methods, else an mpint. */
  private sharedSecret(r: Round, kexName: string, clientPublic: Uint8Array, serverPublic: Uint8Array, gexGroup?: { readonly p: bigint }): Uint8Array {
    const hybrid = /^(mlkem|sntrup)/.test(kexName);
    const encode = (value: Uint8Array): Uint8Array => {
      if (!hybrid) return new Writer(value.length + 5).mpint(bigFrom(value)).finish();
      const len = kexName.endsWith('sha512') || kexName.includes('sha512') ? 64 : 32; // K = HASH(...), fixed size
      const padded = new Uint8Array(Math.max(len, value.length));
      padded.set(value, padded.length - value.length);
      return new Writer(padded.length + 4).string(padded).finish();
    };
    const cookies = { client: hexOf(r.client!.msg.cookie), server: hexOf(r.server!.msg.cookie) };
    for (const side of ['server', 'client'] as const) {
      const e = this.keylog.get(cookies[side])?.find((x) => x.type === 'SHARED_SECRET');
      if (e) return encode(Buffer.from(e.key, 'hex'));
    }
    for (const side of ['server', 'client'] as const) {
      const e = this.keylog.get(cookies[side])?.find((x) => x.type === 'PRIVATE_KEY');
      if (!e) continue;
      const priv = Buffer.from(e.key, 'hex');
      const peer = side === 'client' ? serverPublic : clientPublic;
      if (/^curve25519-sha256/.test(kexName)) return encode(x25519.getSharedSecret(priv, peer));
      const group = gexGroup ?? kexAlgorithms.get(kexName)?.group;
      if (group) return encode(unsigned(modPow(bigFrom(peer), bigFrom(priv), group.p)));
      throw new Error(`${kexName}: a private key alone is not enough here; the keylog needs a SHARED_SECRET line`);
    }
    throw new Error(`no keylog entry for cookie ${cookies.client} or ${cookies.server}`);
  }

  private stop(dir: Direction, reason: string): void {
    const h = this.halves[dir];
    if (h.stopped) return;
    h.stopped = reason;
    this.phase.report?.(dir, reason);
  }
}

function bigFrom(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt(`0x${Buffer.from(b).toString('hex')}`);
}

function unsigned(v: bigint): Uint8Array {
  let hex = v.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

function hexOf(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** Square-and-multiply; the exponent is a kex private value (bounded size). */
function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  let b = base % mod;
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % mod;
    b = (b * b) % mod;
  }
  return result;
}

