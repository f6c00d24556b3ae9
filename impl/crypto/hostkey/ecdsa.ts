/**
 * ecdsa-sha2-nistp256/384/521 (RFC 5656 §3.1.2): the signature blob is
 * `string algorithm || string (mpint r || mpint s)`; the hash follows the curve size (§6.2.1).
 */
import { sign, verify, type KeyObject } from 'node:crypto';
import { Reader, Writer } from '../../wire/index.js';
import { bigintToBytes } from '../bytes.js';
import { nistp256, nistp384, nistp521, type NistCurve } from '../nist-curves.js';
import type { SignatureAlgorithm } from '../types.js';
import { ecdsaKeyType, keyFromBlobOfType, publicKeyBlob } from './blob.js';
import { readSignatureBlob, signatureBlob, type NodePrivateKey } from './signature-blob.js';

/** mpint r || mpint s → fixed-width r || s (IEEE P1363) for node, or null when malformed or out of [1, n-1]. */
function p1363FromSsh(curve: NistCurve, inner: Uint8Array): Uint8Array | null {
  try {
    const rd = new Reader(inner);
    const r = rd.mpint('ecdsa r');
    const s = rd.mpint('ecdsa s');
    rd.end('ecdsa signature');
    if (r < 1n || r >= curve.order || s < 1n || s >= curve.order) return null;
    const out = new Uint8Array(2 * curve.fieldLen);
    out.set(bigintToBytes(r, curve.fieldLen), 0);
    out.set(bigintToBytes(s, curve.fieldLen), curve.fieldLen);
    return out;
  } catch {
    return null;
  }
}

function sshFromP1363(curve: NistCurve, rs: Uint8Array): Uint8Array {
  const w = new Writer(2 * curve.fieldLen + 10);
  w.string(mpintBody(rs.subarray(0, curve.fieldLen))).string(mpintBody(rs.subarray(curve.fieldLen)));
  return w.finish();
}

function mpintBody(unsigned: Uint8Array): Uint8Array {
  let i = 0;
  while (i < unsigned.length && unsigned[i] === 0) i++;
  const b = unsigned.subarray(i);
  if (b.length > 0 && (b[0]! & 0x80) !== 0) {
    const out = new Uint8Array(b.length + 1);
    out.set(b, 1);
    return out;
  }
  return b;
}

function ecdsaAlgorithm(curve: NistCurve): SignatureAlgorithm {
  const name = ecdsaKeyType(curve);
  return {
    name, legacy: false, spec: 'RFC 5656 §3.1.2', keyType: name,
    verify(publicKey, data, signature) {
      const key = keyFromBlobOfType(publicKey, name);
      const inner = readSignatureBlob(signature, name);
      const rs = inner === null ? null : p1363FromSsh(curve, inner);
      if (key === null || rs === null) return false;
      try {
        return verify(curve.hash, data, { key, dsaEncoding: 'ieee-p1363' }, rs);
      } catch {
        return false;
      }
    },
  };
}

export const ecdsaSha2Nistp256 = ecdsaAlgorithm(nistp256);
export const ecdsaSha2Nistp384 = ecdsaAlgorithm(nistp384);
export const ecdsaSha2Nistp521 = ecdsaAlgorithm(nistp521);

export function ecdsaPrivateKey(keyObject: KeyObject, curve: NistCurve): NodePrivateKey {
  const type = ecdsaKeyType(curve);
  return {
    type, keyObject, publicKey: { type, blob: publicKeyBlob(keyObject) }, algorithms: [type],
    sign(algorithm, data) {
      if (algorithm !== type) throw new TypeError(`an ${type} key cannot sign ${JSON.stringify(algorithm)}`);
      const rs = sign(curve.hash, data, { key: keyObject, dsaEncoding: 'ieee-p1363' });
      return signatureBlob(type, sshFromP1363(curve, rs));
    },
  };
}
