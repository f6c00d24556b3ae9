/**
 * Finite-field Diffie-Hellman over the fixed MODP groups (RFC 4253 §8, RFC 8268): e = g^x mod p travels as
 * mpint; K = f^x mod p as mpint. The primes are OpenSSL's copies of RFC 2409 §6.2 (Oakley group 2) and
 * RFC 3526 §3, §5, §7 (groups 14, 16, 18), which node exposes as modp2/14/16/18.
 */
import { createDiffieHellman, getDiffieHellman } from 'node:crypto';
import { KexError } from '../../errors.js';
import { bigintFromBytes, bigintToBytes, mpintWithLength, stripLeadingZeros } from '../bytes.js';
import type { DhGroup, HashName, KexAlgorithm, KexClientSide, KexServerSide, Rng } from '../types.js';

const primeCache = new Map<string, bigint>();
function modpPrime(nodeName: string): bigint {
  let p = primeCache.get(nodeName);
  if (p === undefined) {
    p = bigintFromBytes(getDiffieHellman(nodeName).getPrime());
    primeCache.set(nodeName, p);
  }
  return p;
}

/** A group whose prime is fetched on first use (the 8192-bit one costs nothing until someone asks). */
function lazyGroup(nodeName: string): DhGroup {
  return { get p() { return modpPrime(nodeName); }, g: 2n };
}

export const oakleyGroup2: DhGroup = lazyGroup('modp2');
export const modpGroup14: DhGroup = lazyGroup('modp14');
export const modpGroup16: DhGroup = lazyGroup('modp16');
export const modpGroup18: DhGroup = lazyGroup('modp18');

/** RFC 8268 §4 / RFC 4253 §8: 1 < y < p-1, so that 0, 1 and p-1 (small-subgroup values) are refused. */
export function checkDhPublic(group: DhGroup, y: bigint, what: string): void {
  if (y < 2n || y > group.p - 2n) throw new KexError(`${what}: DH public value outside [2, p-2]`);
}

export interface DhEphemeral {
  readonly publicValue: Uint8Array;
  readonly privateKey: Uint8Array;
  /** K as mpint with its length, from the peer's unsigned big-endian public value. */
  agree(peerPublic: Uint8Array, what: string): Uint8Array;
}

/**
 * One side of a DH exchange. The private exponent has `exponentBits` bits with the top bit set (so x ≥ 2 and
 * x < p), following OpenSSH's choice of twice the security level in bits (dh.c dh_gen_key).
 */
export function dhEphemeral(group: DhGroup, rng: Rng, exponentBits: number): DhEphemeral {
  const x = rng(Math.ceil(exponentBits / 8));
  x[0] = (x[0]! & (0xff >>> ((8 - (exponentBits % 8)) % 8))) | (1 << ((exponentBits - 1) % 8));
  const pBytes = bigintToBytes(group.p);
  const dh = createDiffieHellman(pBytes, bigintToBytes(group.g));
  dh.setPrivateKey(x);
  const publicValue = stripLeadingZeros(dh.generateKeys());
  return {
    publicValue, privateKey: x,
    agree(peerPublic, what) {
      const y = stripLeadingZeros(peerPublic);
      if (y.length > pBytes.length) throw new KexError(`${what}: DH public value longer than p`);
      checkDhPublic(group, bigintFromBytes(y), what);
      try {
        return mpintWithLength(dh.computeSecret(y));
      } catch {
        throw new KexError(`${what}: DH agreement failed`);
      }
    },
  };
}

function dhFixed(name: string, spec: string, hash: HashName, group: DhGroup, exponentBits: number, legacy: boolean): KexAlgorithm {
  return {
    name, legacy, spec, hash, shape: 'dh', group,
    clientStart(rng: Rng): KexClientSide {
      const e = dhEphemeral(group, rng, exponentBits);
      return { publicValue: e.publicValue, privateKey: e.privateKey, finish: (f) => e.agree(f, name) };
    },
    serverRespond(rng: Rng, clientPublic: Uint8Array): KexServerSide {
      // refuse a bad e before doing our own exponentiation
      const e = stripLeadingZeros(clientPublic);
      checkDhPublic(group, bigintFromBytes(e), name);
      const ours = dhEphemeral(group, rng, exponentBits);
      return { publicValue: ours.publicValue, privateKey: ours.privateKey, sharedSecret: ours.agree(e, name) };
    },
  };
}

export const dhGroup14Sha256 = dhFixed('diffie-hellman-group14-sha256', 'RFC 8268 §3', 'sha256', modpGroup14, 512, false);
export const dhGroup16Sha512 = dhFixed('diffie-hellman-group16-sha512', 'RFC 8268 §3', 'sha512', modpGroup16, 1024, false);
export const dhGroup18Sha512 = dhFixed('diffie-hellman-group18-sha512', 'RFC 8268 §3', 'sha512', modpGroup18, 1024, false);
/** Legacy: SHA-1 exchange hash (RFC 9142 §3 says SHOULD NOT / MUST NOT for group1). */
export const dhGroup14Sha1 = dhFixed('diffie-hellman-group14-sha1', 'RFC 4253 §8.2', 'sha1', modpGroup14, 512, true);
export const dhGroup1Sha1 = dhFixed('diffie-hellman-group1-sha1', 'RFC 4253 §8.1', 'sha1', oakleyGroup2, 320, true);
