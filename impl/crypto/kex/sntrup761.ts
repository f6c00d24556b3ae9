/**
 * Streamlined NTRU Prime sntrup761 (the NTRU Prime NIST round 3 specification, "Streamlined NTRU Prime";
 * draft-josefsson-ntruprime-streamlined): the KEM that OpenSSH's sntrup761x25519-sha512 uses. No maintained
 * npm package serves it on node 20 (the liboqs WebAssembly builds need node ≥ 22), so it is written here from the
 * specification and checked against the NIST KAT (count 0) and against OpenSSH 9.2.
 *
 * Parameters: p = 761, q = 4591, w = 286; ring R = Z[x]/(x^p - x - 1). Sizes: public key 1158 bytes, secret key
 * 1763, ciphertext 1039 (1007 rounded + 32 confirmation), session key 32.
 *
 * Randomness is drawn as the SUPERCOP/PQClean packaging draws it, so the NIST KAT reproduces (count 0 of the KAT
 * file hashes to PQClean's published nistkat-sha256): Small_random and Short_random each read 4p bytes in one call
 * as p little-endian 32-bit words, then rho (the implicit-rejection value) reads 191 bytes.
 * Timing: loops have fixed trip counts, but JS gives no constant-time guarantee (a test harness, not an HSM).
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export const P = 761;
export const Q = 4591;
export const W = 286;
const Q12 = (Q - 1) / 2;
const SMALL_BYTES = 191; // ceil(p / 4)
export const PUBLIC_KEY_BYTES = 1158;
export const SECRET_KEY_BYTES = 2 * SMALL_BYTES + PUBLIC_KEY_BYTES + SMALL_BYTES + 32; // 1763
const ROUNDED_BYTES = 1007;
export const CIPHERTEXT_BYTES = ROUNDED_BYTES + 32; // 1039
export const SHARED_SECRET_BYTES = 32;

/** randombytes(n): injected, so runs and KATs are reproducible. */
export type KemRng = (n: number) => Uint8Array;

/** n random 32-bit words from one randombytes(4n) call, little-endian as urandom32 assembles them. */
function randomWords(rng: KemRng, n: number): Uint32Array {
  const b = rng(4 * n);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = v.getUint32(4 * i, true);
  return out;
}

// ───────────────────────────── arithmetic ─────────────────────────────

/** x mod m, centred: the representative in [-(m-1)/2, (m-1)/2] (m odd). */
function freeze(x: number, m: number, half: number): number {
  let r = x % m;
  if (r > half) r -= m;
  else if (r < -half) r += m;
  return r;
}
const fq = (x: number): number => freeze(x, Q, Q12);
const f3 = (x: number): number => freeze(x, 3, 1);

/**
 * Branch-free centred reductions in int32 arithmetic (the reference's Fq_freeze / F3_freeze): freezeQSmall for
 * |x| < 2^24 (products of two reduced values, doubled), freeze3Small for |x| < 2^14.
 */
function freezeQSmall(x: number): number {
  x -= Math.imul(Q, Math.imul(57, x) >> 18); // 57 ≈ 2^18/q
  return x - Math.imul(Q, (Math.imul(29235, x) + 67108864) >> 27); // 29235 ≈ 2^27/q
}
function freeze3Small(x: number): number {
  return x - Math.imul(3, (Math.imul(10923, x) + 16384) >> 15);
}

/** a^(m-2) mod m: the inverse in F_m (m prime). */
function recipMod(a: number, m: number): number {
  let result = 1, base = ((a % m) + m) % m, e = m - 2;
  while (e > 0) {
    if (e & 1) result = (result * base) % m;
    base = (base * base) % m;
    e >>>= 1;
  }
  return result;
}

/**
 * a·b in (Z/m)[x]/(x^p - x - 1), where b is small (coefficients in {-1, 0, 1}). Products accumulate exactly
 * (|sum| ≤ p · q/2 < 2^21) and are reduced once.
 */
function multSmall(a: Int32Array, b: Int8Array, reduce: (x: number) => number): Int32Array {
  const prod = new Int32Array(2 * P - 1);
  for (let j = 0; j < P; j++) {
    const bj = b[j]!;
    if (bj === 0) continue;
    if (bj === 1) for (let i = 0; i < P; i++) prod[i + j]! += a[i]!;
    else for (let i = 0; i < P; i++) prod[i + j]! -= a[i]!;
  }
  // x^p = x + 1: fold the top coefficients down, highest first
  for (let i = 2 * P - 2; i >= P; i--) {
    prod[i - P + 1]! += prod[i]!;
    prod[i - P]! += prod[i]!;
  }
  const out = new Int32Array(P);
  for (let i = 0; i < P; i++) out[i] = reduce(prod[i]!);
  return out;
}

/**
 * The inverse of `a` in (Z/m)[x]/(x^p - x - 1), m = 3 or q, times `scale`; null when `a` is not invertible. This is
 * the Bernstein–Yang constant-trip-count gcd ("divsteps", 2p - 1 of them) that the NTRU Prime reference uses: f, g
 * hold reversed polynomials (f = x^p - x - 1, g = a), v and r the Bezout coefficients, delta the degree balance.
 * One copy of the loop per modulus (divstepsMod3, divstepsModQ) keeps each monomorphic: this loop is nearly all of
 * key generation's cost.
 */
function recip(a: ArrayLike<number>, m: 3 | typeof Q, scale: number): Int32Array | null {
  const f = new Int32Array(P + 1), g = new Int32Array(P + 1), v = new Int32Array(P + 1), r = new Int32Array(P + 1);
  f[0] = 1; f[P - 1] = -1; f[P] = -1;
  for (let i = 0; i < P; i++) g[P - 1 - i] = m === 3 ? f3(a[i]!) : fq(a[i]!);
  r[0] = m === 3 ? f3(scale) : fq(scale);
  const res = m === 3 ? divstepsMod3(f, g, v, r) : divstepsModQ(f, g, v, r);
  if (res.delta !== 0) return null;
  const s = recipMod(res.f0, m);
  const out = new Int32Array(P);
  for (let i = 0; i < P; i++) out[i] = m === 3 ? f3(s * res.v[P - 1 - i]!) : fq(s * res.v[P - 1 - i]!);
  return out;
}

interface DivstepResult { readonly delta: number; readonly f0: number; readonly v: Int32Array }

function divstepsMod3(f: Int32Array, g: Int32Array, v: Int32Array, r: Int32Array): DivstepResult {
  let delta = 1;
  for (let loop = 0; loop < 2 * P - 1; loop++) {
    v.copyWithin(1, 0, P); // v = x·v
    v[0] = 0;
    if (delta > 0 && g[0] !== 0) {
      const t = f; f = g; g = t;
      const u = v; v = r; r = u;
      delta = -delta;
    }
    delta += 1;
    const f0 = f[0]!, g0 = g[0]!;
    // g = (f0·g - g0·f)/x and r = f0·r - g0·v; v and r are zero above index loop + 1
    for (let i = 0; i < P; i++) g[i] = freeze3Small(Math.imul(f0, g[i + 1]!) - Math.imul(g0, f[i + 1]!));
    g[P] = 0;
    const top = loop + 1 < P ? loop + 1 : P;
    for (let i = 0; i <= top; i++) r[i] = freeze3Small(Math.imul(f0, r[i]!) - Math.imul(g0, v[i]!));
  }
  return { delta, f0: f[0]!, v };
}

function divstepsModQ(f: Int32Array, g: Int32Array, v: Int32Array, r: Int32Array): DivstepResult {
  let delta = 1;
  for (let loop = 0; loop < 2 * P - 1; loop++) {
    v.copyWithin(1, 0, P);
    v[0] = 0;
    if (delta > 0 && g[0] !== 0) {
      const t = f; f = g; g = t;
      const u = v; v = r; r = u;
      delta = -delta;
    }
    delta += 1;
    const f0 = f[0]!, g0 = g[0]!;
    for (let i = 0; i < P; i++) g[i] = freezeQSmall(Math.imul(f0, g[i + 1]!) - Math.imul(g0, f[i + 1]!));
    g[P] = 0;
    const top = loop + 1 < P ? loop + 1 : P;
    for (let i = 0; i <= top; i++) r[i] = freezeQSmall(Math.imul(f0, r[i]!) - Math.imul(g0, v[i]!));
  }
  return { delta, f0: f[0]!, v };
}

const R3 = (x: number): number => f3(x);

// ───────────────────────────── encodings ─────────────────────────────

/** The specification's Encode: R[i] in [0, M[i]), mixed-radix, little-endian bytes, pairs merged until ≤ 2^14. */
function encode(R: number[], M: number[], out: number[]): void {
  if (M.length === 0) return;
  if (M.length === 1) {
    let r = R[0]!, m = M[0]!;
    while (m > 1) {
      out.push(r & 0xff);
      r = Math.floor(r / 256);
      m = Math.floor((m + 255) / 256);
    }
    return;
  }
  const R2: number[] = [], M2: number[] = [];
  for (let i = 0; i + 1 < M.length; i += 2) {
    let m = M[i]! * M[i + 1]!, r = R[i]! + M[i]! * R[i + 1]!;
    while (m >= 16384) {
      out.push(r & 0xff);
      r = Math.floor(r / 256);
      m = Math.floor((m + 255) / 256);
    }
    R2.push(r);
    M2.push(m);
  }
  if (M.length & 1) {
    R2.push(R[M.length - 1]!);
    M2.push(M[M.length - 1]!);
  }
  encode(R2, M2, out);
}

/** The specification's Decode: the inverse of Encode for valid strings; any string decodes to values in range. */
function decode(S: Uint8Array, at: number, M: number[]): number[] {
  if (M.length === 0) return [];
  if (M.length === 1) {
    let x = 0;
    for (let i = S.length - 1; i >= at; i--) x = (x * 256 + S[i]!) % M[0]!;
    return [x];
  }
  const bottom: [number, number][] = [], M2: number[] = [];
  let k = at;
  for (let i = 0; i + 1 < M.length; i += 2) {
    let m = M[i]! * M[i + 1]!, r = 0, t = 1;
    while (m >= 16384) {
      r += (S[k++] ?? 0) * t;
      t *= 256;
      m = Math.floor((m + 255) / 256);
    }
    bottom.push([r, t]);
    M2.push(m);
  }
  if (M.length & 1) M2.push(M[M.length - 1]!);
  const R2 = decode(S, k, M2);
  const R: number[] = [];
  for (let i = 0; i + 1 < M.length; i += 2) {
    const [rb, t] = bottom[i / 2]!;
    const r = rb + t * R2[i / 2]!;
    R.push(r % M[i]!);
    R.push(Math.floor(r / M[i]!) % M[i + 1]!);
  }
  if (M.length & 1) R.push(R2[R2.length - 1]!);
  return R;
}

const MQ = new Array<number>(P).fill(Q);
const MROUNDED = new Array<number>(P).fill((Q + 2) / 3); // 1531

function rqEncode(h: Int32Array): Uint8Array {
  const out: number[] = [];
  encode(Array.from(h, (x) => x + Q12), MQ, out);
  return Uint8Array.from(out);
}

function rqDecode(s: Uint8Array): Int32Array {
  return Int32Array.from(decode(s.subarray(0, PUBLIC_KEY_BYTES), 0, MQ), (x) => x - Q12);
}

/** Round each coefficient to the nearest multiple of 3, then encode (x + q12)/3 in [0, 1531). */
function roundedEncode(h: Int32Array): Uint8Array {
  const out: number[] = [];
  encode(Array.from(h, (x) => (x - f3(x) + Q12) / 3), MROUNDED, out);
  return Uint8Array.from(out);
}

function roundedDecode(s: Uint8Array): Int32Array {
  return Int32Array.from(decode(s.subarray(0, ROUNDED_BYTES), 0, MROUNDED), (x) => 3 * x - Q12);
}

/** Four coefficients (+1, 2 bits each) per byte, the last byte holding the 761st. */
function smallEncode(f: Int8Array): Uint8Array {
  const out = new Uint8Array(SMALL_BYTES);
  for (let i = 0; i < P >> 2; i++) {
    out[i] = (f[4 * i]! + 1) | ((f[4 * i + 1]! + 1) << 2) | ((f[4 * i + 2]! + 1) << 4) | ((f[4 * i + 3]! + 1) << 6);
  }
  out[P >> 2] = f[P - 1]! + 1;
  return out;
}

function smallDecode(s: Uint8Array): Int8Array {
  const f = new Int8Array(P);
  for (let i = 0; i < P >> 2; i++) {
    const x = s[i]!;
    f[4 * i] = (x & 3) - 1;
    f[4 * i + 1] = ((x >> 2) & 3) - 1;
    f[4 * i + 2] = ((x >> 4) & 3) - 1;
    f[4 * i + 3] = ((x >> 6) & 3) - 1;
  }
  f[P - 1] = (s[P >> 2]! & 3) - 1;
  return f;
}

// ───────────────────────────── randomness ─────────────────────────────

/** Short_fromlist: w coefficients ±1 and p - w zeros, in an order fixed by sorting the random words. */
function shortRandom(rng: KemRng): Int8Array {
  const L = randomWords(rng, P);
  for (let i = 0; i < W; i++) L[i] = L[i]! & ~1;
  for (let i = W; i < P; i++) L[i] = (L[i]! & ~3) | 1;
  L.sort();
  return Int8Array.from(L, (x) => (x & 3) - 1);
}

/** Small_random: each coefficient ((L & 0x3fffffff)·3 >> 30) - 1, uniform-ish over {-1, 0, 1}. */
function smallRandom(rng: KemRng): Int8Array {
  const L = randomWords(rng, P);
  return Int8Array.from(L, (x) => (((x & 0x3fffffff) * 3) >>> 30) - 1);
}

// ───────────────────────────── the KEM ─────────────────────────────

/** Hash_b(s): the first 32 bytes of SHA-512(b || s). */
function hashPrefix(b: number, ...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha512').update(Uint8Array.of(b));
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest().subarray(0, 32));
}

export interface Sntrup761KeyPair {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

/** Key generation redraws g until it is invertible mod 3 (most draws are); bounded so bad randomness cannot spin. */
const MAX_KEYGEN_TRIES = 64;
const RECIP3_Q = recipMod(3, Q);

export function sntrup761Keypair(rng: KemRng): Sntrup761KeyPair {
  let g: Int8Array | undefined, ginv: Int32Array | null = null;
  for (let i = 0; i < MAX_KEYGEN_TRIES && ginv === null; i++) {
    g = smallRandom(rng);
    ginv = recip(g, 3, 1);
  }
  if (ginv === null || g === undefined) throw new Error('sntrup761: no invertible g after many tries (broken randomness?)');
  const f = shortRandom(rng);
  // h = g / (3f) in R/q
  const finv3 = recip(f, Q, RECIP3_Q)!; // f is invertible mod q for every short f (q prime, x^p - x - 1 irreducible mod q)
  const h = multSmall(finv3, g, fq);
  const publicKey = rqEncode(h);
  const secretKey = new Uint8Array(SECRET_KEY_BYTES);
  secretKey.set(smallEncode(f), 0);
  secretKey.set(smallEncode(Int8Array.from(ginv)), SMALL_BYTES);
  secretKey.set(publicKey, 2 * SMALL_BYTES);
  secretKey.set(rng(SMALL_BYTES), 2 * SMALL_BYTES + PUBLIC_KEY_BYTES); // rho, for implicit rejection
  secretKey.set(hashPrefix(4, publicKey), 2 * SMALL_BYTES + PUBLIC_KEY_BYTES + SMALL_BYTES);
  return { publicKey, secretKey };
}

/** Hide: ciphertext = Round(h·r) || Hash_2(Hash_3(r) || Hash_4(pk)); returns it with Hash_3(r). */
function hide(r: Int8Array, pk: Uint8Array, cache: Uint8Array): { c: Uint8Array; hr: Uint8Array; rEnc: Uint8Array } {
  const rEnc = smallEncode(r);
  const hr = hashPrefix(3, rEnc);
  const c = new Uint8Array(CIPHERTEXT_BYTES);
  c.set(roundedEncode(multSmall(rqDecode(pk), r, fq)), 0);
  c.set(hashPrefix(2, hr, cache), ROUNDED_BYTES);
  return { c, hr, rEnc };
}

export function sntrup761Encapsulate(publicKey: Uint8Array, rng: KemRng): { cipherText: Uint8Array; sharedSecret: Uint8Array } {
  if (publicKey.length !== PUBLIC_KEY_BYTES) throw new RangeError(`sntrup761 public key must be ${PUBLIC_KEY_BYTES} bytes, got ${publicKey.length}`);
  const cache = hashPrefix(4, publicKey);
  const r = shortRandom(rng);
  const { c, hr } = hide(r, publicKey, cache);
  return { cipherText: c, sharedSecret: hashPrefix(1, hr, c) };
}

/** Decapsulation never fails for a well-sized ciphertext: a mismatch yields Hash_0(Hash_3(rho) || c) (implicit rejection). */
export function sntrup761Decapsulate(cipherText: Uint8Array, secretKey: Uint8Array): Uint8Array {
  if (cipherText.length !== CIPHERTEXT_BYTES) throw new RangeError(`sntrup761 ciphertext must be ${CIPHERTEXT_BYTES} bytes, got ${cipherText.length}`);
  if (secretKey.length !== SECRET_KEY_BYTES) throw new RangeError(`sntrup761 secret key must be ${SECRET_KEY_BYTES} bytes, got ${secretKey.length}`);
  const f = smallDecode(secretKey.subarray(0, SMALL_BYTES));
  const v = smallDecode(secretKey.subarray(SMALL_BYTES, 2 * SMALL_BYTES));
  const pk = secretKey.subarray(2 * SMALL_BYTES, 2 * SMALL_BYTES + PUBLIC_KEY_BYTES);
  const rho = secretKey.subarray(2 * SMALL_BYTES + PUBLIC_KEY_BYTES, 2 * SMALL_BYTES + PUBLIC_KEY_BYTES + SMALL_BYTES);
  const cache = secretKey.subarray(2 * SMALL_BYTES + PUBLIC_KEY_BYTES + SMALL_BYTES);
  // e = 3·f·c mod q, then mod 3; r = e / g mod 3
  const d = multSmall(roundedDecode(cipherText), f, fq);
  const e = Int8Array.from(d, (x) => f3(fq(3 * x)));
  const rRaw = multSmall(Int32Array.from(e), v, R3);
  // Weightw_mask: a weight other than w means a bogus ciphertext; substitute (1, ..., 1, 0, ..., 0)
  let weight = 0;
  for (let i = 0; i < P; i++) weight += rRaw[i]! & 1;
  const r = new Int8Array(P);
  if (weight === W) for (let i = 0; i < P; i++) r[i] = rRaw[i]!;
  else r.fill(1, 0, W);
  const { c, hr } = hide(r, pk, cache);
  const ok = timingSafeEqual(c, cipherText);
  return ok ? hashPrefix(1, hr, cipherText) : hashPrefix(0, hashPrefix(3, rho), cipherText);
}

/** Internals for tests (not part of the API). */
export const __tests = Object.freeze({ freezeQSmall, freeze3Small, recip, multSmall, rqEncode, rqDecode, roundedEncode, roundedDecode, smallEncode, smallDecode, fq, f3 });
