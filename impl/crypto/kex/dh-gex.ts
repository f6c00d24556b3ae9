/**
 * diffie-hellman-group-exchange-sha256 and -sha1 (RFC 4419), shape 'dh-gex': the server picks (p, g) for the
 * client's (min, n, max) (see moduli.ts chooseGexGroup), then e = g^x mod p / f = g^y mod p travel as mpints and
 * K = f^x mod p as an mpint, exactly as for the fixed groups (RFC 4253 §8). The engine passes the group in.
 *
 * The arithmetic is OpenSSL's, through DH KeyObjects imported from DER (PKCS#8 / SPKI with PKCS#3 DHParameter).
 * Not `createDiffieHellman(p, g)`: that runs DH_check, a primality test of p and (p-1)/2, on every call for
 * primes OpenSSL does not know by name — measured here 0.6 s for 2048 bits, 4 s for 3072 and 78 s for 8192.
 * A moduli file's primes were tested when the file was made (moduli(5)); the client side cannot afford the test
 * either, and RFC 4419 §6 does not ask for it.
 */
import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';
import { KexError } from '../../errors.js';
import { bigintFromBytes, bigintToBytes, mpintWithLength, stripLeadingZeros } from '../bytes.js';
import type { DhGroup, HashName, KexAlgorithm, KexClientSide, KexServerSide, Rng } from '../types.js';
import { checkDhPublic } from './dh-groups.js';

/** RFC 8270 §4 (and OpenSSH DH_GRP_MAX): groups above 8192 bits are refused; a bound on the work a peer can ask. */
export const GEX_MAX_BITS = 8192;

/**
 * Private exponent size for a modulus of `bits`: twice the symmetric strength NIST SP 800-57 gives the group, in the
 * same steps as the fixed groups in dh-groups.ts (512 bits for 2048/3072, 1024 from 4096 up), never more than p.
 */
export function gexExponentBits(bits: number): number {
  const want = bits < 2048 ? 320 : bits < 4096 ? 512 : 1024;
  return Math.min(want, bits - 1);
}

/** RFC 4419 §3 group sanity for either side: an odd p of at most 8192 bits and 1 < g < p - 1. */
function checkGroup(name: string, group: DhGroup | undefined): DhGroup {
  if (group === undefined) throw new KexError(`${name}: no group was negotiated (RFC 4419 §3)`);
  const bits = group.p.toString(2).length;
  if (group.p < 3n || (group.p & 1n) === 0n || bits > GEX_MAX_BITS) throw new KexError(`${name}: unusable modulus of ${bits} bits`);
  if (group.g <= 1n || group.g >= group.p - 1n) throw new KexError(`${name}: generator outside [2, p-2]`);
  return group;
}

// ───────────────────────────── DER for DH keys (X.690; PKCS#3 DHParameter, RFC 5208 PKCS#8, RFC 5280 SPKI) ─────

const derLen = (n: number): number[] => (n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : n < 0x10000 ? [0x82, n >> 8, n & 0xff] : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]);
function der(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const len = parts.reduce((n, p) => n + p.length, 0);
  const head = [tag, ...derLen(len)];
  const out = new Uint8Array(head.length + len);
  out.set(head, 0);
  let at = head.length;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
/** INTEGER from unsigned big-endian bytes (a 0x00 in front when the top bit is set). */
function derUint(be: Uint8Array): Uint8Array {
  const b = stripLeadingZeros(be);
  return der(0x02, b.length === 0 || (b[0]! & 0x80) !== 0 ? Uint8Array.of(0, ...b) : b);
}
/** 1.2.840.113549.1.3.1 dhKeyAgreement (PKCS #3) */
const OID_DH = Uint8Array.of(0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x03, 0x01);

/** Reads one TLV at `at`: the content's [start, end). Input comes from OpenSSL's own export. */
function derTlv(b: Uint8Array, at: number, tag: number): { start: number; end: number } {
  if (b[at] !== tag) throw new KexError('DH: unexpected DER from OpenSSL');
  let len = b[at + 1]!, start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[start + i]!;
    start += n;
  }
  return { start, end: start + len };
}

/** y from SubjectPublicKeyInfo { AlgorithmIdentifier, BIT STRING { INTEGER y } }. */
function publicFromSpki(spki: Uint8Array): Uint8Array {
  const outer = derTlv(spki, 0, 0x30);
  const algId = derTlv(spki, outer.start, 0x30);
  const bits = derTlv(spki, algId.end, 0x03);
  const y = derTlv(spki, bits.start + 1, 0x02); // skip the unused-bits byte
  return stripLeadingZeros(spki.subarray(y.start, y.end));
}

interface GexEphemeral {
  readonly publicValue: Uint8Array;
  readonly privateKey: Uint8Array;
  /** K as mpint with its length, from the peer's unsigned big-endian public value. */
  agree(peerPublic: Uint8Array, what: string): Uint8Array;
}

/**
 * One side of the exchange. The exponent has `exponentBits` bits with the top bit set (so 2 ≤ x < p), as in
 * dh-groups.ts, following OpenSSH's dh_gen_key (twice the wanted security in bits).
 */
function gexEphemeral(group: DhGroup, rng: Rng, exponentBits: number): GexEphemeral {
  const x = rng(Math.ceil(exponentBits / 8));
  x[0] = (x[0]! & (0xff >>> ((8 - (exponentBits % 8)) % 8))) | (1 << ((exponentBits - 1) % 8));
  const pBytes = bigintToBytes(group.p);
  const algId = der(0x30, OID_DH, der(0x30, derUint(pBytes), derUint(bigintToBytes(group.g))));
  let key: KeyObject;
  let publicValue: Uint8Array;
  try {
    key = createPrivateKey({ key: Buffer.from(der(0x30, derUint(new Uint8Array(1)), algId, der(0x04, derUint(x)))), format: 'der', type: 'pkcs8' });
    publicValue = publicFromSpki(new Uint8Array(createPublicKey(key).export({ format: 'der', type: 'spki' })));
  } catch (e) {
    if (e instanceof KexError) throw e;
    throw new KexError(`DH: OpenSSL refused the group (${(e as Error).message})`);
  }
  return {
    publicValue, privateKey: x,
    agree(peerPublic, what) {
      const y = stripLeadingZeros(peerPublic);
      if (y.length > pBytes.length) throw new KexError(`${what}: DH public value longer than p`);
      checkDhPublic(group, bigintFromBytes(y), what);
      try {
        const peer = createPublicKey({ key: Buffer.from(der(0x30, algId, der(0x03, Uint8Array.of(0), derUint(y)))), format: 'der', type: 'spki' });
        return mpintWithLength(diffieHellman({ privateKey: key, publicKey: peer }));
      } catch {
        throw new KexError(`${what}: DH agreement failed`);
      }
    },
  };
}

function dhGex(name: string, spec: string, hash: HashName, legacy: boolean): KexAlgorithm {
  return {
    name, legacy, spec, hash, shape: 'dh-gex',
    clientStart(rng: Rng, group?: DhGroup): KexClientSide {
      const g = checkGroup(name, group);
      const e = gexEphemeral(g, rng, gexExponentBits(g.p.toString(2).length));
      // RFC 4419 §3: the client refuses f outside [2, p-2] (agree checks)
      return { publicValue: e.publicValue, privateKey: e.privateKey, finish: (f) => e.agree(f, name) };
    },
    serverRespond(rng: Rng, clientPublic: Uint8Array, group?: DhGroup): KexServerSide {
      const g = checkGroup(name, group);
      // refuse a bad e (0, 1, p-1, ≥ p) before our own exponentiation
      const e = stripLeadingZeros(clientPublic);
      checkDhPublic(g, bigintFromBytes(e), name);
      const ours = gexEphemeral(g, rng, gexExponentBits(g.p.toString(2).length));
      return { publicValue: ours.publicValue, privateKey: ours.privateKey, sharedSecret: ours.agree(e, name) };
    },
  };
}

export const dhGexSha256 = dhGex('diffie-hellman-group-exchange-sha256', 'RFC 4419 §4.2', 'sha256', false);
/** Legacy: SHA-1 exchange hash (RFC 9142 §3.1: SHOULD NOT). */
export const dhGexSha1 = dhGex('diffie-hellman-group-exchange-sha1', 'RFC 4419 §4.1', 'sha1', true);
