/**
 * The optional native fast path for packet protection. `nativeSealer`/`nativeOpener` take the same
 * arguments as impl/crypto's MakeSealer/MakeOpener and return null whenever the pure path should run instead:
 * addon not built or disabled (SSH_HARNESS_NO_NATIVE=1), an algorithm it does not cover, or key material the
 * pure path would reject (so that path raises the usual RangeError/TypeError).
 *
 * Covered: aes128-gcm@openssh.com, aes256-gcm@openssh.com, chacha20-poly1305@openssh.com, and aes128/192/256-ctr
 * with hmac-sha1, hmac-sha1-96, hmac-sha2-256, hmac-sha2-512 and their -etm@openssh.com forms.
 */
import { cipherAlgorithms, macAlgorithms } from '../crypto/registry.js';
import type { CipherAlgorithm, DirectionKeys, MacAlgorithm } from '../crypto/types.js';
import { nativeBinding, type NativeBinding } from './binding.js';
import {
  NativeChachaOpener, NativeChachaSealer, NativeCtrHmacOpener, NativeCtrHmacSealer, NativeGcmOpener, NativeGcmSealer,
  type InPlaceOpener, type InPlaceSealer,
} from './packet-protection.js';

export { nativeDisabled, nativeStatus, type NativeStatus } from './binding.js';
export type { InPlaceOpener, InPlaceSealer } from './packet-protection.js';

type CipherKind = 'gcm' | 'chacha' | 'ctr';
interface CipherFacts { readonly kind: CipherKind; readonly keyLen: number; readonly ivLen: number; readonly blockSize: number }
interface MacFacts { readonly digest: 'SHA1' | 'SHA256' | 'SHA512'; readonly keyLen: number; readonly macLen: number; readonly etm: boolean }

const ciphers: ReadonlyMap<string, CipherFacts> = new Map<string, CipherFacts>([
  ['aes128-gcm@openssh.com', { kind: 'gcm', keyLen: 16, ivLen: 12, blockSize: 16 }],
  ['aes256-gcm@openssh.com', { kind: 'gcm', keyLen: 32, ivLen: 12, blockSize: 16 }],
  ['chacha20-poly1305@openssh.com', { kind: 'chacha', keyLen: 64, ivLen: 0, blockSize: 8 }],
  ['aes128-ctr', { kind: 'ctr', keyLen: 16, ivLen: 16, blockSize: 16 }],
  ['aes192-ctr', { kind: 'ctr', keyLen: 24, ivLen: 16, blockSize: 16 }],
  ['aes256-ctr', { kind: 'ctr', keyLen: 32, ivLen: 16, blockSize: 16 }],
]);

const ETM = '-etm@openssh.com';
const macs: ReadonlyMap<string, MacFacts> = new Map<string, MacFacts>(
  ([
    ['hmac-sha1', { digest: 'SHA1', keyLen: 20, macLen: 20 }],
    ['hmac-sha1-96', { digest: 'SHA1', keyLen: 20, macLen: 12 }],
    ['hmac-sha2-256', { digest: 'SHA256', keyLen: 32, macLen: 32 }],
    ['hmac-sha2-512', { digest: 'SHA512', keyLen: 64, macLen: 64 }],
  ] as const).flatMap(([name, f]): [string, MacFacts][] => [[name, { ...f, etm: false }], [name + ETM, { ...f, etm: true }]]),
);

type Plan =
  | { readonly kind: 'gcm' | 'chacha'; readonly key: Uint8Array; readonly iv: Uint8Array }
  | { readonly kind: 'ctr'; readonly key: Uint8Array; readonly iv: Uint8Array; readonly mac: MacFacts; readonly macKey: Uint8Array };

/**
 * What the addon should build, or null. Only impl/crypto's registered objects qualify, and their facts must match
 * ours: a look-alike with the same name (a harness deviation, a test double) keeps its own implementation.
 */
function planFor(cipher: CipherAlgorithm, mac: MacAlgorithm | null, keys: DirectionKeys): Plan | null {
  const c = ciphers.get(cipher.name);
  if (c === undefined || cipherAlgorithms.get(cipher.name) !== cipher) return null;
  if (cipher.keyLen !== c.keyLen || cipher.ivLen !== c.ivLen || cipher.blockSize !== c.blockSize) return null;
  if (cipher.aead !== (c.kind !== 'ctr')) return null;
  if (keys.encKey.length < c.keyLen || keys.iv.length < c.ivLen) return null;
  const key = keys.encKey.subarray(0, c.keyLen);
  const iv = keys.iv.subarray(0, c.ivLen);
  if (c.kind !== 'ctr') return { kind: c.kind, key, iv }; // AEAD: the negotiated MAC is not used (RFC 5647 §5.1)
  const m = mac === null ? undefined : macs.get(mac.name);
  if (mac === null || m === undefined || macAlgorithms.get(mac.name) !== mac || mac.keyLen !== m.keyLen || mac.macLen !== m.macLen || mac.etm !== m.etm) return null;
  if (keys.macKey.length < m.keyLen) return null;
  return { kind: 'ctr', key, iv, mac: m, macKey: keys.macKey.subarray(0, m.keyLen) };
}

function build<T>(cipher: CipherAlgorithm, mac: MacAlgorithm | null, keys: DirectionKeys, make: (b: NativeBinding, p: Plan) => T): T | null {
  const b = nativeBinding();
  if (b === null) return null;
  const p = planFor(cipher, mac, keys);
  return p === null ? null : make(b, p);
}

/** A native Sealer for this direction, or null to use impl/crypto's makeSealer. */
export function nativeSealer(cipher: CipherAlgorithm, mac: MacAlgorithm | null, keys: DirectionKeys): InPlaceSealer | null {
  return build(cipher, mac, keys, (b, p): InPlaceSealer => {
    switch (p.kind) {
      case 'gcm': return new NativeGcmSealer(b, b.gcmNew(p.key, p.iv, true));
      case 'chacha': return new NativeChachaSealer(b, b.chachaNew(p.key));
      case 'ctr': return new NativeCtrHmacSealer(b, b.ctrHmacNew(p.key, p.iv, p.mac.digest, p.macKey, p.mac.macLen, p.mac.etm), p.mac.macLen, p.mac.etm);
    }
  });
}

/** A native Opener for this direction, or null to use impl/crypto's makeOpener. */
export function nativeOpener(cipher: CipherAlgorithm, mac: MacAlgorithm | null, keys: DirectionKeys): InPlaceOpener | null {
  return build(cipher, mac, keys, (b, p): InPlaceOpener => {
    switch (p.kind) {
      case 'gcm': return new NativeGcmOpener(b, b.gcmNew(p.key, p.iv, false));
      case 'chacha': return new NativeChachaOpener(b, b.chachaNew(p.key));
      // CTR is its own inverse: the same keystream context decrypts
      case 'ctr': return new NativeCtrHmacOpener(b, b.ctrHmacNew(p.key, p.iv, p.mac.digest, p.macKey, p.mac.macLen, p.mac.etm), p.mac.macLen, p.mac.etm);
    }
  });
}
