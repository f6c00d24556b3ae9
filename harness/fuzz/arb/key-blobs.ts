/**
 * Public key blobs and signature blobs of every type servers parse (RFC 4253 §6.6, RFC 5656 §3.1, RFC 8709 §4,
 * RFC 8332 §3, OpenSSH PROTOCOL.u2f and PROTOCOL.certkeys): the dictionary's real keys only cover one or two
 * types, and a server's key parser (OpenSSH's sshkey.c: every type, and certificates with their principals,
 * options, nested signature key and signature) is one of its largest pre-authentication surfaces.
 *
 * Values are real where validity decides how far parsing gets: points on the curves, an RSA modulus of a
 * legal size, certificates signed by a fixed CA key so the signature check passes. The key material is
 * derived from fixed seeds, so a campaign seed generates the same bytes in every process. Near-valid variants
 * (wrong curve for the type, a point off the curve, a short modulus, an even exponent, trailing bytes, a
 * truncated blob) come next to them.
 */
import fc from 'fast-check';
import { createHash, createPrivateKey } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { parsePrivateKey } from '../../../impl/keys/private-key.js';
import { signCertificate, type CertificateOptionValue } from '../../../impl/keys/cert.js';
import type { PrivateKey } from '../../../impl/crypto/types.js';

const seed = (label: string, n = 32): Uint8Array => {
  const out = new Uint8Array(n);
  for (let i = 0, k = 0; i < n; k++) {
    const h = createHash('sha512').update(`ssh-harness fuzz key material ${label} ${k}`).digest();
    out.set(h.subarray(0, Math.min(64, n - i)), i);
    i += 64;
  }
  return out;
};

const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; };
const u64 = (n: bigint): Buffer => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt.asUintN(64, n)); return b; };
const str = (x: string | Uint8Array): Buffer => { const b = typeof x === 'string' ? Buffer.from(x) : Buffer.from(x); return Buffer.concat([u32(b.length), b]); };
/** RFC 4251 §5 mpint of a positive magnitude (a leading zero when the top bit is set). */
const mpint = (mag: Uint8Array): Buffer => {
  let i = 0;
  while (i < mag.length - 1 && mag[i] === 0) i++;
  const m = Buffer.from(mag.subarray(i));
  return str(m[0]! & 0x80 ? Buffer.concat([Buffer.of(0), m]) : m);
};

interface Material {
  readonly ed25519: Uint8Array;
  readonly ecdsa: Readonly<Record<'nistp256' | 'nistp384' | 'nistp521', Uint8Array>>;
  readonly rsaN: Uint8Array;
  readonly rsaSmallN: Uint8Array;
  readonly dsa: readonly Uint8Array[];
  readonly ca: PrivateKey;
}

let material: Material | undefined;

/** Built on first use (a few milliseconds): points on each curve, moduli, and the CA that signs certificates. */
function keyMaterial(): Material {
  if (material) return material;
  const odd = (b: Uint8Array): Uint8Array => { b[0]! |= 0x80; b[b.length - 1]! |= 1; return b; };
  // a fixed ed25519 seed as PKCS#8 (RFC 8410 §7), parsed the way a user's CA key file is
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed('ca')]);
  const caPem = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' }).toString();
  material = {
    ed25519: ed25519.getPublicKey(seed('ed25519')),
    ecdsa: {
      nistp256: p256.getPublicKey(seed('p256'), false),
      nistp384: p384.getPublicKey(seed('p384', 48), false),
      nistp521: p521.getPublicKey(Uint8Array.of(0, ...seed('p521', 65)), false),
    },
    rsaN: odd(seed('rsa', 256)),
    rsaSmallN: odd(seed('rsa-small', 64)),
    dsa: [odd(seed('dsa-p', 128)), odd(seed('dsa-q', 20)), seed('dsa-g', 128), seed('dsa-y', 128)],
    ca: parsePrivateKey(caPem).toPrivateKey(),
  };
  return material;
}

type Curve = 'nistp256' | 'nistp384' | 'nistp521';
const CURVES: readonly Curve[] = ['nistp256', 'nistp384', 'nistp521'];

/** The fields after the type name, per plain key type (what a certificate carries after its nonce too); the first is well-formed. */
type Body = (m: Material) => Buffer;
const withApp = (bodies: readonly Body[], apps: readonly string[]): Body[] => bodies.flatMap((b) => apps.map((app): Body => (m) => Buffer.concat([b(m), str(app)])));
const BODY_LISTS: Readonly<Record<string, readonly Body[]>> = {
  'ssh-ed25519': [(m) => str(m.ed25519), (m) => str(m.ed25519.subarray(0, 31)), () => str(new Uint8Array(32))],
  'ssh-rsa': [
    (m) => Buffer.concat([mpint(Uint8Array.of(1, 0, 1)), mpint(m.rsaN)]),
    (m) => Buffer.concat([mpint(Uint8Array.of(1, 0, 1)), mpint(m.rsaSmallN)]),
    (m) => Buffer.concat([mpint(Uint8Array.of(2)), mpint(m.rsaN)]),
    (m) => Buffer.concat([mpint(Uint8Array.of(1)), mpint(m.rsaN)]),
    (m) => Buffer.concat([str(Uint8Array.of(0x81, 0, 1)), mpint(m.rsaN)]), // a negative exponent
  ],
  'ssh-dss': [(m) => Buffer.concat(m.dsa.map(mpint)), (m) => Buffer.concat(m.dsa.slice(0, 3).map(mpint))],
  ...Object.fromEntries(CURVES.map((c) => [`ecdsa-sha2-${c}`, ecdsaBodies(c)])),
  'sk-ecdsa-sha2-nistp256@openssh.com': withApp(ecdsaBodies('nistp256'), ['ssh:', 'ssh:fuzz', '', 'https://x']),
  'sk-ssh-ed25519@openssh.com': withApp([(m) => str(m.ed25519)], ['ssh:', '', 'ssh:fuzz']),
};
const BODIES: Readonly<Record<string, fc.Arbitrary<Body>>> = Object.fromEntries(Object.entries(BODY_LISTS).map(([t, list]) => [t, fc.constantFrom(...list)]));

function ecdsaBodies(curve: Curve): Body[] {
  const other = CURVES.find((c) => c !== curve)!;
  return [
    (m) => Buffer.concat([str(curve), str(m.ecdsa[curve])]),
    (m) => Buffer.concat([str(other), str(m.ecdsa[curve])]), // curve name and type disagree
    (m) => { const q = Buffer.from(m.ecdsa[curve]); q[q.length - 1]! ^= 1; return Buffer.concat([str(curve), str(q)]); }, // off the curve
    (m) => { const q = Buffer.from(m.ecdsa[curve].subarray(0, 1 + (m.ecdsa[curve].length - 1) / 2)); q[0] = 2; return Buffer.concat([str(curve), str(q)]); }, // compressed
    () => Buffer.concat([str(curve), str(Uint8Array.of(0))]), // the point at infinity
  ];
}

const PLAIN_TYPES = Object.keys(BODIES);

const plainBlobArb: fc.Arbitrary<Uint8Array> = fc.constantFrom(...PLAIN_TYPES).chain((t) => BODIES[t]!.map((body) => Buffer.concat([str(t), body(keyMaterial())])));

/** source-address values (PROTOCOL.certkeys: comma-separated CIDR lists) that sshd matches against 127.0.0.1, valid and not. */
const SOURCE_ADDRESSES = ['127.0.0.1/32', '127.0.0.0/8,::1/128', '10.0.0.0/8', '0.0.0.0/0', '::/0', '127.0.0.1', '10.0.0.0/33',
  '127.0.0.1/32,', ',', '', '127.0.0.1/-1', '::1/129', 'fe80::1%eth0/64', '1.2.3.4.5/32', '*', 'not an address', `${'1.1.1.1/32,'.repeat(40)}127.0.0.1/32`];

/** PROTOCOL.certkeys critical options and extensions, with the values sshd interprets (and ones it refuses). */
const criticalOptionsArb = fc.dictionary(
  fc.constantFrom('force-command', 'source-address', 'source-address', 'verify-required', 'no-such-option@example.com'),
  fc.oneof(fc.constantFrom<CertificateOptionValue>(true, 'true', 'echo forced', ''), fc.constantFrom<CertificateOptionValue>(...SOURCE_ADDRESSES)),
  { maxKeys: 3 },
);
const extensionsArb = fc.dictionary(
  fc.constantFrom('permit-pty', 'permit-X11-forwarding', 'permit-agent-forwarding', 'permit-port-forwarding', 'permit-user-rc', 'no-touch-required', 'unknown@example.com'),
  fc.constantFrom<CertificateOptionValue>(true, 'x'),
  { maxKeys: 5 },
);

/** A user or host certificate over one of our keys, signed by the fixed CA (so its signature verifies). */
const signedCertArb: fc.Arbitrary<Uint8Array> = fc.record({
  key: fc.constantFrom<Body>((m) => Buffer.concat([str('ssh-ed25519'), str(m.ed25519)]), (m) => Buffer.concat([str('ecdsa-sha2-nistp256'), str('nistp256'), str(m.ecdsa.nistp256)]),
    (m) => Buffer.concat([str('ssh-rsa'), mpint(Uint8Array.of(1, 0, 1)), mpint(m.rsaN)])),
  kind: fc.constantFrom<'user' | 'host'>('user', 'user', 'host'),
  keyId: fc.constantFrom('', 'fuzz', 'x'.repeat(300)),
  principals: fc.array(fc.constantFrom('sshharness', 'root', '', '*', 'a,b'), { maxLength: 3 }),
  validAfter: fc.constantFrom(0n, 1n, 1n << 62n),
  validBefore: fc.constantFrom(0xffffffffffffffffn, 0n, 2000000000n),
  serial: fc.constantFrom(0n, 1n, 0xffffffffffffffffn),
  criticalOptions: criticalOptionsArb,
  extensions: extensionsArb,
}).map((o) => {
  const m = keyMaterial();
  return signCertificate(m.ca, { ...o, publicKey: o.key(m), nonce: seed(`nonce ${o.keyId.length}`) });
});

/**
 * A user certificate the fixed CA signed for the test account (principal `sshharness`, valid now) with fuzzed
 * critical options and extensions: a server that trusts the CA (`openssh:instrumented`) accepts the certificate
 * itself and goes on to parse and apply its options (source-address CIDR lists, force-command, verify-required),
 * which the other certificates rarely get to (a wrong principal, kind or validity stops them first).
 */
export const trustedUserCertArb: fc.Arbitrary<Uint8Array> = fc.record({
  key: fc.constantFrom<Body>((m) => Buffer.concat([str('ssh-ed25519'), str(m.ed25519)]), (m) => Buffer.concat([str('ecdsa-sha2-nistp256'), str('nistp256'), str(m.ecdsa.nistp256)])),
  principals: fc.constantFrom(['sshharness'], ['sshharness', 'root'], ['other', 'sshharness']),
  criticalOptions: criticalOptionsArb,
  extensions: extensionsArb,
  serial: fc.constantFrom(0n, 1n, 0xffffffffffffffffn),
}).map((o) => {
  const m = keyMaterial();
  return signCertificate(m.ca, { ...o, kind: 'user', keyId: 'fuzz-user', publicKey: o.key(m), validAfter: 0n, validBefore: 0xffffffffffffffffn, nonce: seed(`nonce user ${o.principals.length}`) });
});

/** A certificate of any plain type built field by field, with a signature that does not verify, or a broken layout. */
const rawCertArb: fc.Arbitrary<Uint8Array> = fc.tuple(
  fc.constantFrom(...PLAIN_TYPES).chain((t) => BODIES[t]!.map((b) => [t, b] as const)),
  fc.constantFrom(1, 2, 0, 3),
  fc.constantFrom<'signature-key-is-cert' | 'plain' | 'no-signature' | 'trailing'>('plain', 'plain', 'signature-key-is-cert', 'no-signature', 'trailing'),
).map(([[type, body], kind, shape]) => {
  const m = keyMaterial();
  const caBlob = m.ca.publicKey.blob;
  const sigKey = shape === 'signature-key-is-cert' ? Buffer.concat([str('ssh-ed25519-cert-v01@openssh.com'), str(seed('n')), str(m.ed25519)]) : Buffer.from(caBlob);
  const parts = [str(`${type.replace(/@openssh\.com$/, '')}-cert-v01@openssh.com`), str(seed('nonce')), body(m), u64(1n), u32(kind), str('fuzz'),
    str(str('sshharness')), u64(0n), u64(0xffffffffffffffffn), str(''), str(''), str(''), str(sigKey)];
  if (shape !== 'no-signature') parts.push(str(Buffer.concat([str('ssh-ed25519'), str(new Uint8Array(64))])));
  if (shape === 'trailing') parts.push(Buffer.of(0));
  return Uint8Array.from(Buffer.concat(parts));
});

/** Key blobs of every type: well-formed, near-valid and certificates (signed or not). */
export const keyBlobArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 4, arbitrary: plainBlobArb },
  { weight: 2, arbitrary: signedCertArb },
  { weight: 2, arbitrary: trustedUserCertArb },
  { weight: 1, arbitrary: rawCertArb },
  { weight: 1, arbitrary: fc.tuple(plainBlobArb, fc.nat()).map(([b, n]) => b.subarray(0, n % b.length)) },
);

/** Signature blobs (`string algorithm || string signature`) laid out per algorithm, with contents that do not verify. */
export const signatureLayoutArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.constantFrom('ssh-ed25519', 'sk-ssh-ed25519@openssh.com').chain((a) => fc.constantFrom(64, 63, 0).map((n) => Uint8Array.from(Buffer.concat([str(a), str(new Uint8Array(n).fill(7))])))),
  fc.constantFrom('rsa-sha2-256', 'rsa-sha2-512', 'ssh-rsa').chain((a) => fc.constantFrom(256, 255, 257, 64).map((n) => Uint8Array.from(Buffer.concat([str(a), str(new Uint8Array(n).fill(0x5a))])))),
  fc.constantFrom(...CURVES).chain((c) => fc.constantFrom<[number, number]>([32, 32], [0, 32], [33, 1], [70, 70]).map(([r, s]) =>
    Uint8Array.from(Buffer.concat([str(`ecdsa-sha2-${c}`), str(Buffer.concat([mpint(new Uint8Array(r).fill(0x42)), mpint(new Uint8Array(s).fill(0x24))]))])))),
  fc.constant(Uint8Array.from(Buffer.concat([str('ssh-dss'), str(new Uint8Array(40).fill(1))]))),
);

/** The type name a blob starts with (to pair a publickey request's algorithm with its key), or undefined. */
export function blobTypeName(blob: Uint8Array): string | undefined {
  if (blob.length < 4) return undefined;
  const n = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength).readUInt32BE(0);
  return n <= 64 && 4 + n <= blob.length ? Buffer.from(blob.subarray(4, 4 + n)).toString('latin1') : undefined;
}

/** The first (well-formed) variant of each plain type, and a signed certificate: for tests against real parsers. */
export function wellFormedKeyBlobs(): Uint8Array[] {
  const m = keyMaterial();
  const plain = PLAIN_TYPES.map((t) => Uint8Array.from(Buffer.concat([str(t), BODY_LISTS[t]![0]!(m)])));
  const cert = signCertificate(m.ca, { publicKey: plain[0]!, kind: 'user', keyId: 'fuzz', principals: ['sshharness'], criticalOptions: { 'source-address': '127.0.0.1/32' }, nonce: seed('nonce') });
  return [...plain, cert];
}

/**
 * The fixed CA's public key as an authorized_keys / TrustedUserCAKeys line. A fuzzed server that trusts it parses
 * the generated user certificates to the end (principals, critical options, source-address) instead of stopping
 * at "unknown CA". Its private key is derived from a seed in this file: trust it only on loopback test servers.
 */
export function fuzzCaPublicLine(): string {
  return `ssh-ed25519 ${Buffer.from(keyMaterial().ca.publicKey.blob).toString('base64')} ssh-harness-fuzz-ca`;
}

/** The fixed CA (tests sign real certificates with it). */
export function fuzzCa(): PrivateKey {
  return keyMaterial().ca;
}
