/**
 * The JSON Web Key members we read and write (RFC 7517 §4, RFC 7518 §6, RFC 8037 §2). Our own type rather than
 * node:crypto's `JsonWebKey`, which newer @types/node no longer exports from that module; this alias is assignable to
 * and from what every @types/node release (20 onwards) uses for `KeyObject.export({ format: 'jwk' })` and `createPublicKey`.
 */
export type Jwk = {
  kty?: string; crv?: string;
  x?: string; y?: string; d?: string;
  n?: string; e?: string; p?: string; q?: string; dp?: string; dq?: string; qi?: string;
};
