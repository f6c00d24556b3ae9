/**
 * One key exchange, from our KEXINIT to the peer's NEWKEYS (RFC 4253 §7–§8, RFC 4419, RFC 5656 §4).
 * It owns the negotiation result and the ephemeral secret of this run only; the engine owns the packet layer
 * and installs the keys this run hands it.
 */
import { cipherAlgorithms, compressionAlgorithms, hashFor, kexAlgorithms, macAlgorithms, signatureAlgorithms } from '../crypto/registry.js';
import type {
  CompressionAlgorithm, DhGroup, KexAlgorithm, KexClientSide, MakeOpener, MakeSealer, Opener, PrivateKey, PublicKey, Rng, Sealer,
} from '../crypto/types.js';
import { DisconnectReason, HostKeyMismatch, KexError, ProtocolError } from '../errors.js';
import { decodeMessage, type Message } from '../messages/index.js';
import { Reader } from '../wire/reader.js';
import { Writer } from '../wire/writer.js';
import { deriveSessionKeys, exchangeHash, type ExchangeHashInput } from './kdf.js';
import { EXT_INFO_C, guessWasRight, negotiate } from './negotiate.js';
import type { KexSecrets, NegotiatedAlgorithms, Role } from './types.js';

type KexInit = Extract<Message, { type: 'SSH_MSG_KEXINIT' }>;

/** What a run needs from its engine. */
export interface KexHost {
  readonly role: Role;
  readonly rng: Rng;
  readonly ourVersion: string;
  peerVersion(): string;
  sessionId(): Uint8Array | undefined;
  readonly hostKeys: readonly PrivateKey[];
  readonly verifyHostKey?: ((key: PublicKey) => boolean) | undefined;
  readonly extInfo: boolean;
  send(m: Message): void;
  installOutbound(sealer: Sealer, compression: CompressionAlgorithm | undefined): void;
  installInbound(opener: Opener, compression: CompressionAlgorithm | undefined): void;
  afterOurNewKeys(initial: boolean, peerWantsExtInfo: boolean): void;
  done(algs: NegotiatedAlgorithms, hostKey: PublicKey, initial: boolean, secrets: KexSecrets): void;
  setSessionId(h: Uint8Array): void;
  setStrict(): void;
  /** Server side of diffie-hellman-group-exchange: a group within [min, max], near n (RFC 4419 §3). */
  gexGroup?(min: number, n: number, max: number): DhGroup | undefined;
  readonly makeSealer: MakeSealer;
  readonly makeOpener: MakeOpener;
}

type Expect = 'kexinit' | 'init' | 'reply' | 'gex-request' | 'gex-group' | 'gex-init' | 'newkeys' | 'done';

/** RFC 8270: group-exchange moduli below 2048 bits are refused. */
const GEX_MIN = 2048, GEX_N = 3072, GEX_MAX = 8192;

export class KexRun {
  peerKexInit: KexInit | undefined;
  sentNewKeys = false;
  receivedNewKeys = false;
  /** Strict kex rules of the initial exchange are in force (known once both KEXINITs are seen). */
  strict = false;
  private peerKexInitPayload: Uint8Array | undefined;
  private algs: NegotiatedAlgorithms | undefined;
  private method: KexAlgorithm | undefined;
  private expect: Expect = 'kexinit';
  private ignoreNext = false;
  private peerWantsExtInfo = false;
  private eph: KexClientSide | undefined;
  private gex: { min: number; n: number; max: number; group?: DhGroup } | undefined;
  private pendingIn: { opener: Opener; compression: CompressionAlgorithm | undefined } | undefined;
  private result: { hostKey: PublicKey; secrets: KexSecrets } | undefined;

  constructor(private readonly host: KexHost, readonly initial: boolean, private readonly ours: KexInit, private readonly oursPayload: Uint8Array) {}

  onPeerKexInit(payload: Uint8Array, seq: number, wasFirstPacket: boolean): void {
    const m = decodeMessage(payload);
    if (m.type !== 'SSH_MSG_KEXINIT') throw new ProtocolError('bad SSH_MSG_KEXINIT');
    this.peerKexInit = m;
    this.peerKexInitPayload = payload.slice(); // I_C / I_S enter the exchange hash verbatim
    const [client, server] = this.host.role === 'client' ? [this.ours, m] : [m, this.ours];
    const algs = negotiate(client, server, { isAead: (n) => cipherAlgorithms.get(n)?.aead === true }, this.initial);
    this.algs = algs;
    if (algs.strictKex) {
      this.strict = true;
      this.host.setStrict();
      // OpenSSH PROTOCOL "strict key exchange": KEXINIT must be the first packet received
      if (!wasFirstPacket || seq !== 0) throw new ProtocolError('strict KEX violation: SSH_MSG_KEXINIT was not the first packet', ['SSH_MSG_KEXINIT first'], `seq ${seq}`);
    }
    this.peerWantsExtInfo = this.host.role === 'server' && this.initial && m.kexAlgorithms.includes(EXT_INFO_C);
    // RFC 4253 §7.1: a wrong guess means the peer's next kex packet is ignored
    if (m.firstKexPacketFollows && !guessWasRight(client, server)) this.ignoreNext = true;
    const method = kexAlgorithms.get(algs.kex);
    if (!method) throw new KexError(`negotiated kex ${algs.kex} has no implementation`);
    this.method = method;
    if (this.host.role === 'server') {
      this.expect = method.shape === 'dh-gex' ? 'gex-request' : 'init';
      return;
    }
    if (method.shape === 'dh-gex') {
      this.gex = { min: GEX_MIN, n: GEX_N, max: GEX_MAX };
      this.host.send({ type: 'SSH_MSG_KEX_DH_GEX_REQUEST', min: GEX_MIN, n: GEX_N, max: GEX_MAX });
      this.expect = 'gex-group';
      return;
    }
    this.eph = method.clientStart(this.host.rng, method.group);
    this.host.send(method.shape === 'ecdh'
      ? { type: 'SSH_MSG_KEX_ECDH_INIT', publicKey: this.eph.publicValue }
      : { type: 'SSH_MSG_KEXDH_INIT', e: bigFromBytes(this.eph.publicValue) });
    this.expect = 'reply';
  }

  /** Messages 30–49, interpreted by the negotiated method's shape (RFC 4251 §7). */
  onMethodMessage(payload: Uint8Array): void {
    if (this.ignoreNext) { this.ignoreNext = false; return; }
    const method = this.method!;
    const m = decodeMessage(payload, { kex: method.shape });
    switch (this.expect) {
      case 'init':
        if (m.type === 'SSH_MSG_KEX_ECDH_INIT') return this.serverReply(m.publicKey, undefined);
        if (m.type === 'SSH_MSG_KEXDH_INIT') return this.serverReply(bytesFromBig(m.e), undefined);
        break;
      case 'gex-request':
        if (m.type === 'SSH_MSG_KEX_DH_GEX_REQUEST' || m.type === 'SSH_MSG_KEX_DH_GEX_REQUEST_OLD') {
          const [min, n, max] = m.type === 'SSH_MSG_KEX_DH_GEX_REQUEST' ? [m.min, m.n, m.max] : [GEX_MIN, m.n, GEX_MAX];
          // RFC 4419 §3: min ≤ n ≤ max
          if (!(min <= n && n <= max) || max < GEX_MIN) throw new KexError(`bad group exchange request min=${min} n=${n} max=${max} (RFC 4419 §3)`);
          const group = this.host.gexGroup?.(min, n, max);
          if (!group) throw new KexError(`no group for min=${min} n=${n} max=${max} (RFC 4419 §3)`);
          this.gex = { min, n, max, group };
          this.host.send({ type: 'SSH_MSG_KEX_DH_GEX_GROUP', p: group.p, g: group.g });
          this.expect = 'gex-init';
          return;
        }
        break;
      case 'gex-group':
        if (m.type === 'SSH_MSG_KEX_DH_GEX_GROUP') {
          const bits = m.p.toString(2).length;
          const g = this.gex!;
          // RFC 8270 §3 / RFC 4419 §3: refuse moduli outside what we asked for
          if (m.p <= 0n || bits < g.min || bits > g.max || m.g <= 1n || m.g >= m.p - 1n) throw new KexError(`group exchange modulus of ${bits} bits outside [${g.min}, ${g.max}] (RFC 8270)`);
          g.group = { p: m.p, g: m.g };
          this.eph = method.clientStart(this.host.rng, g.group);
          this.host.send({ type: 'SSH_MSG_KEX_DH_GEX_INIT', e: bigFromBytes(this.eph.publicValue) });
          this.expect = 'reply';
          return;
        }
        break;
      case 'gex-init':
        if (m.type === 'SSH_MSG_KEX_DH_GEX_INIT') return this.serverReply(bytesFromBig(m.e), this.gex!.group);
        break;
      case 'reply':
        if (m.type === 'SSH_MSG_KEX_ECDH_REPLY') return this.clientFinish(m.hostKey, m.publicKey, m.signature);
        if (m.type === 'SSH_MSG_KEXDH_REPLY' || m.type === 'SSH_MSG_KEX_DH_GEX_REPLY') return this.clientFinish(m.hostKey, bytesFromBig(m.f), m.signature);
        break;
      default:
        break;
    }
    throw new ProtocolError(`unexpected ${m.type === 'unknown' ? `message ${payload[0]}` : m.type} while expecting ${this.expect} (RFC 4253 §7)`, [this.expect], m.type, DisconnectReason.PROTOCOL_ERROR);
  }

  onNewKeys(payload: Uint8Array): void {
    decodeMessage(payload);
    if (this.expect !== 'newkeys' || !this.pendingIn) throw new ProtocolError(`SSH_MSG_NEWKEYS out of order while expecting ${this.expect} (RFC 4253 §7.3)`, [this.expect], 'SSH_MSG_NEWKEYS');
    this.receivedNewKeys = true;
    this.expect = 'done';
    this.host.installInbound(this.pendingIn.opener, this.pendingIn.compression);
    this.pendingIn = undefined;
    this.host.done(this.algs!, this.result!.hostKey, this.initial, this.result!.secrets);
  }

  // ───────────────────────────── server ─────────────────────────────

  private serverReply(clientPublic: Uint8Array, group: DhGroup | undefined): void {
    const method = this.method!;
    const algs = this.algs!;
    const key = this.host.hostKeys.find((k) => k.algorithms.includes(algs.hostKey));
    if (!key) throw new KexError(`no host key for ${algs.hostKey}`);
    const resp = method.serverRespond(this.host.rng, clientPublic, group ?? method.group);
    const hashIn = this.hashInput(key.publicKey.blob, clientPublic, resp.publicValue, resp.sharedSecret);
    const H = exchangeHash(hashFor(method.hash), hashIn);
    const signature = key.sign(algs.hostKey, H);
    const hostKey = key.publicKey.blob;
    if (method.shape === 'ecdh') this.host.send({ type: 'SSH_MSG_KEX_ECDH_REPLY', hostKey, publicKey: resp.publicValue, signature });
    else if (method.shape === 'dh') this.host.send({ type: 'SSH_MSG_KEXDH_REPLY', hostKey, f: bigFromBytes(resp.publicValue), signature });
    else this.host.send({ type: 'SSH_MSG_KEX_DH_GEX_REPLY', hostKey, f: bigFromBytes(resp.publicValue), signature });
    this.newKeys(resp.sharedSecret, H, key.publicKey, resp.privateKey);
  }

  // ───────────────────────────── client ─────────────────────────────

  private clientFinish(hostKeyBlob: Uint8Array, serverPublic: Uint8Array, signature: Uint8Array): void {
    const algs = this.algs!;
    const method = this.method!;
    const sigAlg = signatureAlgorithms.get(algs.hostKey);
    if (!sigAlg) throw new KexError(`negotiated host key algorithm ${algs.hostKey} has no implementation`);
    const keyType = blobType(hostKeyBlob, 'host key');
    if (keyType !== sigAlg.keyType) throw new KexError(`host key of type ${JSON.stringify(keyType)} does not match negotiated ${algs.hostKey} (RFC 4253 §7.1)`);
    const sigName = blobType(signature, 'signature');
    // RFC 8332 §3: the signature algorithm must be the negotiated one, not merely the key's type
    if (sigName !== (sigAlg.signatureName ?? algs.hostKey)) throw new KexError(`signature algorithm ${JSON.stringify(sigName)} differs from negotiated ${algs.hostKey} (RFC 8332 §3)`);
    const K = this.eph!.finish(serverPublic);
    const H = exchangeHash(hashFor(method.hash), this.hashInput(hostKeyBlob, this.eph!.publicValue, serverPublic, K));
    if (!sigAlg.verify(hostKeyBlob, H, signature)) throw new KexError('host key signature over the exchange hash does not verify (RFC 4253 §8)');
    const hostKey: PublicKey = { type: keyType, blob: hostKeyBlob.slice() };
    if (this.host.verifyHostKey && !this.host.verifyHostKey(hostKey)) throw new HostKeyMismatch('host key rejected by verifyHostKey');
    this.newKeys(K, H, hostKey, this.eph!.privateKey);
  }

  // ───────────────────────────── both ─────────────────────────────

  private hashInput(hostKey: Uint8Array, clientPublic: Uint8Array, serverPublic: Uint8Array, K: Uint8Array): ExchangeHashInput {
    const client = this.host.role === 'client';
    const enc = (v: Uint8Array) => (this.method!.shape === 'ecdh' ? new Writer(v.length + 4).string(v) : new Writer(v.length + 5).mpint(bigFromBytes(v))).finish();
    let gexParams: Uint8Array | undefined;
    if (this.method!.shape === 'dh-gex') {
      const g = this.gex!;
      gexParams = new Writer().uint32(g.min).uint32(g.n).uint32(g.max).mpint(g.group!.p).mpint(g.group!.g).finish();
    }
    return {
      clientVersion: client ? this.host.ourVersion : this.host.peerVersion(),
      serverVersion: client ? this.host.peerVersion() : this.host.ourVersion,
      clientKexInit: client ? this.oursPayload : this.peerKexInitPayload!,
      serverKexInit: client ? this.peerKexInitPayload! : this.oursPayload,
      hostKey,
      ...(gexParams ? { gexParams } : {}),
      clientPublic: enc(clientPublic),
      serverPublic: enc(serverPublic),
      sharedSecret: K,
    };
  }

  /** RFC 4253 §7.2 key derivation, then our NEWKEYS and the switch of outbound keys (§7.3). */
  private newKeys(K: Uint8Array, H: Uint8Array, hostKey: PublicKey, ephemeralPrivateKey: Uint8Array): void {
    const algs = this.algs!;
    this.host.setSessionId(H);
    const sessionId = this.host.sessionId()!;
    const cC2S = cipherAlgorithms.get(algs.cipherC2S)!;
    const cS2C = cipherAlgorithms.get(algs.cipherS2C)!;
    const mC2S = algs.macC2S === 'none' ? null : macAlgorithms.get(algs.macC2S)!;
    const mS2C = algs.macS2C === 'none' ? null : macAlgorithms.get(algs.macS2C)!;
    const keys = deriveSessionKeys(hashFor(this.method!.hash), K, H, sessionId,
      { ivLen: cC2S.ivLen, keyLen: cC2S.keyLen, macKeyLen: mC2S?.keyLen ?? 0 },
      { ivLen: cS2C.ivLen, keyLen: cS2C.keyLen, macKeyLen: mS2C?.keyLen ?? 0 });
    const client = this.host.role === 'client';
    const sealer = client ? this.host.makeSealer(cC2S, mC2S, keys.c2s) : this.host.makeSealer(cS2C, mS2C, keys.s2c);
    const opener = client ? this.host.makeOpener(cS2C, mS2C, keys.s2c) : this.host.makeOpener(cC2S, mC2S, keys.c2s);
    const compOut = compressionAlgorithms.get(client ? algs.compressionC2S : algs.compressionS2C);
    const compIn = compressionAlgorithms.get(client ? algs.compressionS2C : algs.compressionC2S);
    this.pendingIn = { opener, compression: compIn };
    this.result = {
      hostKey,
      secrets: {
        role: this.host.role, kex: algs.kex,
        clientCookie: (client ? this.ours : this.peerKexInit!).cookie,
        serverCookie: (client ? this.peerKexInit! : this.ours).cookie,
        ephemeralPrivateKey, sharedSecret: K, exchangeHash: H, sessionId,
      },
    };
    this.host.send({ type: 'SSH_MSG_NEWKEYS' });
    this.sentNewKeys = true;
    this.expect = 'newkeys';
    this.host.installOutbound(sealer, compOut);
    this.host.afterOurNewKeys(this.initial, this.peerWantsExtInfo);
  }
}

function blobType(blob: Uint8Array, what: string): string {
  return new Reader(blob).ascii(`${what} type`);
}

export function bigFromBytes(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt('0x' + Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex'));
}

/** Unsigned big-endian bytes of a non-negative bigint (negative values cannot be DH publics). */
export function bytesFromBig(v: bigint): Uint8Array {
  if (v < 0n) throw new KexError('negative DH public value');
  if (v === 0n) return new Uint8Array(0);
  let hex = v.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}
