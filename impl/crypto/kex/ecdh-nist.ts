/**
 * ecdh-sha2-nistp256/384/521 (RFC 5656 §4): ephemeral ECDH through node:crypto. Q_C/Q_S are uncompressed
 * points; K is the x-coordinate of the shared point as mpint (RFC 5656 §4, SEC1 §3.3.1).
 */
import { createECDH, type ECDH } from 'node:crypto';
import { KexError } from '../../errors.js';
import { mpintWithLength, scalarFromRng } from '../bytes.js';
import { isUncompressedPoint, nistp256, nistp384, nistp521, type NistCurve } from '../nist-curves.js';
import type { KexAlgorithm, KexClientSide, KexServerSide, Rng } from '../types.js';

function ephemeral(curve: NistCurve, rng: Rng): { ecdh: ECDH; privateKey: Uint8Array; publicValue: Uint8Array } {
  const privateKey = scalarFromRng(rng, curve.order, curve.fieldLen);
  const ecdh = createECDH(curve.nodeCurve);
  ecdh.setPrivateKey(privateKey);
  return { ecdh, privateKey, publicValue: ecdh.getPublicKey() };
}

/**
 * RFC 5656 §4: "the recipient MUST verify that the public key is a valid point" (SEC1 §3.2.2.1). The form is
 * checked here; OpenSSL's point decoding checks that the point is on the curve (and not at infinity).
 */
function shared(curve: NistCurve, ecdh: ECDH, peer: Uint8Array): Uint8Array {
  if (!isUncompressedPoint(curve, peer)) throw new KexError(`ecdh-sha2-${curve.id}: public value is not an uncompressed point of ${1 + 2 * curve.fieldLen} bytes (got ${peer.length})`);
  try {
    return mpintWithLength(ecdh.computeSecret(peer));
  } catch {
    throw new KexError(`ecdh-sha2-${curve.id}: public value is not a point on the curve`);
  }
}

function ecdhNist(curve: NistCurve): KexAlgorithm {
  return {
    name: `ecdh-sha2-${curve.id}`, legacy: false, spec: 'RFC 5656 §4', hash: curve.hash, shape: 'ecdh',
    clientStart(rng: Rng): KexClientSide {
      const e = ephemeral(curve, rng);
      return { publicValue: e.publicValue, privateKey: e.privateKey, finish: (serverPublic) => shared(curve, e.ecdh, serverPublic) };
    },
    serverRespond(rng: Rng, clientPublic: Uint8Array): KexServerSide {
      const e = ephemeral(curve, rng);
      return { publicValue: e.publicValue, privateKey: e.privateKey, sharedSecret: shared(curve, e.ecdh, clientPublic) };
    },
  };
}

export const ecdhSha2Nistp256 = ecdhNist(nistp256);
export const ecdhSha2Nistp384 = ecdhNist(nistp384);
export const ecdhSha2Nistp521 = ecdhNist(nistp521);
