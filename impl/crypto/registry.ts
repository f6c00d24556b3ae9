/**
 * The algorithm catalogue, keyed by exact wire name (golang/crypto ssh's cipherModes/macModes/kexAlgoMap),
 * and the default preference lists. 'none' cipher/MAC are deliberately absent: the engine handles the
 * unencrypted state itself.
 */
import { aes128Cbc, aes192Cbc, aes256Cbc, tripleDesCbc } from './cipher/cbc.js';
import { aes128Ctr, aes192Ctr, aes256Ctr } from './cipher/aes-ctr.js';
import { aes128Gcm, aes256Gcm } from './cipher/aes-gcm.js';
import { chacha20Poly1305 } from './cipher/chacha20-poly1305.js';
import { noCompression } from './compression/none.js';
import { zlibCompression, zlibOpenssh } from './compression/zlib.js';
import { hashFor } from './hash.js';
import {
  ecdsaSha2Nistp256, ecdsaSha2Nistp384, ecdsaSha2Nistp521, rsaSha2256, rsaSha2512, sshEd25519, sshRsa,
} from './hostkey/index.js';
import { certSignatureAlgorithms } from './hostkey/cert-signature.js';
import { curve25519Sha256, curve25519Sha256Libssh } from './kex/curve25519.js';
import { dhGroup14Sha1, dhGroup14Sha256, dhGroup16Sha512, dhGroup18Sha512, dhGroup1Sha1 } from './kex/dh-groups.js';
import { ecdhSha2Nistp256, ecdhSha2Nistp384, ecdhSha2Nistp521 } from './kex/ecdh-nist.js';
import { dhGexSha1, dhGexSha256 } from './kex/dh-gex.js';
import { mlkem768x25519Sha256 } from './kex/mlkem-hybrid.js';
import { sntrup761x25519Sha512, sntrup761x25519Sha512Openssh } from './kex/sntrup761x25519.js';
import {
  hmacMd5, hmacMd596, hmacMd596Etm, hmacMd5Etm, hmacSha1, hmacSha196, hmacSha196Etm, hmacSha1Etm,
  hmacSha2256, hmacSha2256Etm, hmacSha2512, hmacSha2512Etm,
} from './mac/hmac.js';
import { umac128, umac128Etm, umac64, umac64Etm } from './mac/umac.js';
import type { CipherAlgorithm, CompressionAlgorithm, KexAlgorithm, MacAlgorithm, SignatureAlgorithm } from './types.js';

export { hashFor };

function byName<T extends { readonly name: string }>(...algs: T[]): ReadonlyMap<string, T> {
  const m = new Map<string, T>();
  for (const a of algs) {
    if (m.has(a.name)) throw new Error(`duplicate algorithm ${a.name}`);
    m.set(a.name, a);
  }
  return m;
}

export const kexAlgorithms: ReadonlyMap<string, KexAlgorithm> = byName<KexAlgorithm>(
  mlkem768x25519Sha256, sntrup761x25519Sha512, sntrup761x25519Sha512Openssh, curve25519Sha256, curve25519Sha256Libssh,
  ecdhSha2Nistp256, ecdhSha2Nistp384, ecdhSha2Nistp521,
  dhGexSha256, dhGroup14Sha256, dhGroup16Sha512, dhGroup18Sha512,
  dhGroup14Sha1, dhGroup1Sha1, dhGexSha1,
);

export const signatureAlgorithms: ReadonlyMap<string, SignatureAlgorithm> = byName<SignatureAlgorithm>(
  sshEd25519, ecdsaSha2Nistp256, ecdsaSha2Nistp384, ecdsaSha2Nistp521, rsaSha2512, rsaSha2256, sshRsa,
  // OpenSSH certificates: registered for host keys and publickey, never in the default offer (a side that holds a
  // certificate, or trusts a CA for the peer, names them; impl/keys/cert.ts).
  ...certSignatureAlgorithms,
);

export const cipherAlgorithms: ReadonlyMap<string, CipherAlgorithm> = byName<CipherAlgorithm>(
  chacha20Poly1305, aes128Gcm, aes256Gcm, aes128Ctr, aes192Ctr, aes256Ctr,
  aes128Cbc, aes192Cbc, aes256Cbc, tripleDesCbc,
);

export const macAlgorithms: ReadonlyMap<string, MacAlgorithm> = byName<MacAlgorithm>(
  hmacSha2256Etm, hmacSha2512Etm, hmacSha1Etm, hmacSha2256, hmacSha2512, hmacSha1,
  hmacSha196, hmacMd5, hmacMd596, hmacSha196Etm, hmacMd5Etm, hmacMd596Etm,
  umac64Etm, umac128Etm, umac64, umac128,
);

export const compressionAlgorithms: ReadonlyMap<string, CompressionAlgorithm> = byName<CompressionAlgorithm>(noCompression, zlibOpenssh, zlibCompression);

/**
 * Preference orders after OpenSSH 9.9+ (ssh_config(5) defaults), with two deliberate changes: sntrup761x25519 comes
 * after curve25519 (our JS sntrup761 costs ~20 ms per key generation, ~10× curve25519; ML-KEM still gives post-quantum
 * kex with OpenSSH ≥ 9.9), and the HMAC-EtM MACs precede UMAC (they have a native fast path).
 */
const preferred = {
  kex: [
    'mlkem768x25519-sha256', 'curve25519-sha256', 'curve25519-sha256@libssh.org',
    'sntrup761x25519-sha512', 'sntrup761x25519-sha512@openssh.com',
    'ecdh-sha2-nistp256', 'ecdh-sha2-nistp384', 'ecdh-sha2-nistp521',
    'diffie-hellman-group-exchange-sha256',
    'diffie-hellman-group16-sha512', 'diffie-hellman-group18-sha512', 'diffie-hellman-group14-sha256',
  ],
  hostKey: ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256'],
  cipher: [
    'chacha20-poly1305@openssh.com', 'aes128-gcm@openssh.com', 'aes256-gcm@openssh.com',
    'aes128-ctr', 'aes192-ctr', 'aes256-ctr',
  ],
  mac: [
    'hmac-sha2-256-etm@openssh.com', 'hmac-sha2-512-etm@openssh.com', 'umac-64-etm@openssh.com', 'umac-128-etm@openssh.com',
    'hmac-sha1-etm@openssh.com', 'umac-64@openssh.com', 'umac-128@openssh.com',
    'hmac-sha2-256', 'hmac-sha2-512', 'hmac-sha1',
  ],
  compression: ['none', 'zlib@openssh.com'],
} as const;

function available(names: readonly string[], registry: ReadonlyMap<string, { readonly legacy: boolean }>): readonly string[] {
  return Object.freeze(names.filter((n) => registry.get(n)?.legacy === false));
}

export interface DefaultAlgorithms {
  readonly kex: readonly string[];
  readonly hostKey: readonly string[];
  readonly cipher: readonly string[];
  readonly mac: readonly string[];
  readonly compression: readonly string[];
}

/** Non-legacy, registered algorithms in preference order; legacy ones are offered only when named. */
export const defaultAlgorithms: DefaultAlgorithms = Object.freeze({
  kex: available(preferred.kex, kexAlgorithms),
  hostKey: available(preferred.hostKey, signatureAlgorithms),
  cipher: available(preferred.cipher, cipherAlgorithms),
  mac: available(preferred.mac, macAlgorithms),
  compression: available(preferred.compression, compressionAlgorithms),
});
