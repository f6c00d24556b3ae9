/**
 * ML-KEM-768 (FIPS 203), written from the standard, with every hash from node:crypto (OpenSSL's SHA-3/SHAKE).
 * @noble/post-quantum serves the same scheme but hashes with a JavaScript Keccak (45 % of its time in a profile,
 * NTT 24 %): ~1 ms per operation here, which made mlkem768x25519-sha256 3-4× slower than curve25519-sha256
 * (issue 4 asks for at most 2×). What is left here is ~45 node hash calls per key exchange and small integer
 * arithmetic: q = 3329, Montgomery/Barrett reduction in int32 (no `%`, no division in the NTT), polynomials as
 * 256-coefficient slices of flat Int32Arrays, and module-level scratch (every call is synchronous, so nothing
 * interleaves) instead of a fresh off-heap buffer per polynomial.
 *
 * The API is the "internal" one of FIPS 203 §6 with the caller's randomness (what the kex passes from its Rng):
 * keygen(d || z), encapsulate(ek, m), decapsulate(c, dk); the input checks of §7.2 (encapsulation key modulus
 * check) and §7.3 (lengths, hash check of the decapsulation key) throw MlKemError.
 *
 * The SHAKE-bound sampling (Â and the noise polynomials) runs in the optional native addon when it is built
 * (impl/native/src/mlkem.c: one call for all of Â, one per noise vector, instead of a node:crypto Hash per
 * polynomial); the TypeScript samplers below are the fallback, and tests hold both paths equal.
 */
import { createHash } from 'node:crypto';
import { nativeBinding } from '../../native/binding.js';

const N = 256;
const Q = 3329;
const K = 3;
const ETA = 2; // η₁ = η₂ = 2 for ML-KEM-768 (FIPS 203 Table 2)
const DU = 10;
const DV = 4;
const POLY12 = 384; // bytes of ByteEncode_12 of one polynomial

export const ML_KEM_768 = {
  /** FIPS 203 Table 3 */
  encapsulationKeyLength: POLY12 * K + 32, // 1184
  decapsulationKeyLength: 2 * POLY12 * K + 96, // 2400
  cipherTextLength: 32 * (DU * K + DV), // 1088
  sharedSecretLength: 32,
  keygenSeedLength: 64,
  encapsRandomLength: 32,
} as const;

export class MlKemError extends Error {
  override readonly name = 'MlKemError';
}

// ───────────────────────────── hashes (FIPS 203 §4.1) ─────────────────────────────

function digest(alg: string, parts: readonly Uint8Array[], outputLength?: number): Buffer {
  const h = outputLength === undefined ? createHash(alg) : createHash(alg, { outputLength });
  for (const p of parts) h.update(p);
  return h.digest();
}

const H = (...parts: Uint8Array[]): Buffer => digest('sha3-256', parts);
const G = (...parts: Uint8Array[]): Buffer => digest('sha3-512', parts);
const J = (...parts: Uint8Array[]): Buffer => digest('shake256', parts, 32);

const prfIn = new Uint8Array(33);
/** PRF_η(s, b) = SHAKE256(s ‖ b), 64·η bytes. */
function PRF(eta: number, s: Uint8Array, b: number): Buffer {
  prfIn.set(s);
  prfIn[32] = b;
  return digest('shake256', [prfIn], 64 * eta);
}

// ───────────────────────────── arithmetic mod q ─────────────────────────────

const QINV = 62209; // q⁻¹ mod 2^16
const MONT = 2285; // 2^16 mod q: x·MONT mod q is x in Montgomery form

/** a·2⁻¹⁶ mod q, in (−q, q), for |a| < q·2^15 (Montgomery reduction, R = 2^16). */
function montReduce(a: number): number {
  const t = (Math.imul(a, QINV) << 16) >> 16; // a·q⁻¹ mod 2^16, signed: a − t·q is a multiple of 2^16
  return (a - t * Q) >> 16;
}

/** a mod q, in [−1664, 1664], for |a| ≤ 8q (Barrett reduction; 20159 = round(2^26 / q)). */
function barrett(a: number): number {
  return a - ((a * 20159 + (1 << 25)) >> 26) * Q;
}

const Q_INV = 1 / Q;
/** x mod q for an integer |x| < 2^45 held in a double: a multiply and floor instead of fmod. */
function modQ(x: number): number {
  const r = x - Math.floor(x * Q_INV) * Q; // the quotient may be off by one from rounding: correct it
  return r < 0 ? r + Q : r >= Q ? r - Q : r;
}

// ───────────────────────────── NTT (FIPS 203 §4.3) ─────────────────────────────

function bitRev7(i: number): number {
  let r = 0;
  for (let b = 0; b < 7; b++) r |= ((i >> b) & 1) << (6 - b);
  return r;
}

/** ζ^e mod q for e in 0..255, ζ = 17: one multiplication per entry (module load time counts for every importer). */
const ZETA_POW = new Int32Array(256);
ZETA_POW[0] = 1;
for (let e = 1; e < 256; e++) ZETA_POW[e] = (ZETA_POW[e - 1]! * 17) % Q;

/** ζ^BitRev7(i) in Montgomery form for NTT/NTT⁻¹ (Algorithms 9, 10); ζ^(2·BitRev7(i)+1) for MultiplyNTTs (Algorithm 11). */
const ZETAS_M = Int32Array.from({ length: 128 }, (_, i) => (ZETA_POW[bitRev7(i)]! * MONT) % Q);
const GAMMAS = Int32Array.from({ length: 128 }, (_, i) => ZETA_POW[2 * bitRev7(i) + 1]!);
const N_INV_M = (3303 * MONT) % Q; // 128⁻¹ mod q (Algorithm 10 line 14), in Montgomery form

/**
 * Algorithm 9 NTT of the polynomial at f[o, o + 256), in place, [0, q) → [0, q). Lazily reduced: each layer adds
 * |ζ·x mod± q| < q, so a value is below 7q when it enters the last layer's product (7q² < q·2^15, montReduce's
 * range) and below 8q at the end (Barrett's range).
 */
function ntt(f: Int32Array, o: number): void {
  let k = 1;
  for (let len = 128; len >= 2; len >>= 1) {
    for (let start = o; start < o + N; start += 2 * len) {
      const zeta = ZETAS_M[k++]!;
      for (let j = start; j < start + len; j++) {
        const t = montReduce(zeta * f[j + len]!);
        const a = f[j]!;
        f[j + len] = a - t;
        f[j] = a + t;
      }
    }
  }
  for (let j = o; j < o + N; j++) {
    const r = barrett(f[j]!);
    f[j] = r < 0 ? r + Q : r;
  }
}

/** Algorithm 10 NTT⁻¹ in place, |x| < q → [0, q); every value stays below q between layers. */
function nttInverse(f: Int32Array, o: number): void {
  let k = 127;
  for (let len = 2; len <= 128; len <<= 1) {
    for (let start = o; start < o + N; start += 2 * len) {
      const zeta = ZETAS_M[k--]!;
      for (let j = start; j < start + len; j++) {
        const t = f[j]!, u = f[j + len]!;
        f[j] = barrett(t + u);
        f[j + len] = montReduce(zeta * (u - t)); // |ζ·(u − t)| < 2q² < q·2^15
      }
    }
  }
  for (let j = o; j < o + N; j++) {
    const r = montReduce(N_INV_M * f[j]!);
    f[j] = r < 0 ? r + Q : r;
  }
}

/**
 * out[oo..] = Σ_{j<K} f_j ∘ g_j (+ add[ao..]) in T_q (Algorithms 11 and 12, summed over a vector), with f_j at
 * f[fo + j·fs] (so a row or a column of Â) and g_j at g[j·N]. Reduced once per coefficient: with inputs below q
 * each term is below q² + q³ < 2^36, so the sum stays exact in a double.
 */
function dotNtt(out: Int32Array, oo: number, f: Int32Array, fo: number, fs: number, g: Int32Array, add?: Int32Array, ao = 0): void {
  for (let i = 0; i < N; i += 2) {
    const gamma = GAMMAS[i >> 1]!;
    let c0 = add ? add[ao + i]! : 0, c1 = add ? add[ao + i + 1]! : 0;
    for (let j = 0; j < K; j++) {
      const fi = fo + j * fs + i, gi = j * N + i;
      const a0 = f[fi]!, a1 = f[fi + 1]!, b0 = g[gi]!, b1 = g[gi + 1]!;
      c0 += a0 * b0 + a1 * b1 * gamma;
      c1 += a0 * b1 + a1 * b0;
    }
    out[oo + i] = modQ(c0);
    out[oo + i + 1] = modQ(c1);
  }
}

// ───────────────────────────── sampling (FIPS 203 §4.2.2) ─────────────────────────────

/** Three SHAKE128 blocks give 336 candidates; 256 of them pass in ~99 % of cases (else: ask for more). */
const XOF_FIRST = 3 * 168;
const xofIn = new Uint8Array(34);

/** Algorithm 7 SampleNTT(ρ ‖ j ‖ i) into a[o..]. SHAKE's output is a prefix-stable stream, so a longer request extends it. */
function sampleNtt(rho: Uint8Array, j: number, i: number, a: Int32Array, o: number): void {
  xofIn.set(rho);
  xofIn[32] = j;
  xofIn[33] = i;
  for (let want = XOF_FIRST; ; want += 2 * 168) {
    const b = digest('shake128', [xofIn], want);
    let n = 0;
    for (let p = 0; n < N && p + 3 <= b.length; p += 3) {
      const d1 = b[p]! | ((b[p + 1]! & 0x0f) << 8);
      const d2 = (b[p + 1]! >> 4) | (b[p + 2]! << 4);
      if (d1 < Q) a[o + n++] = d1;
      if (d2 < Q && n < N) a[o + n++] = d2;
    }
    if (n === N) return;
  }
}

/** SamplePolyCBD_2 of one 4-bit group: (b₀ + b₁) − (b₂ + b₃) mod q. */
const CBD2 = Int32Array.from({ length: 16 }, (_, x) => {
  const v = (x & 1) + ((x >> 1) & 1) - ((x >> 2) & 1) - ((x >> 3) & 1);
  return v < 0 ? v + Q : v;
});

/** Algorithm 8 SamplePolyCBD_η for η = 2 (64·η = 128 bytes) into f[o..]: coefficient 2i from byte i's low nibble, 2i+1 from its high one. */
function sampleCbd2(b: Uint8Array, f: Int32Array, o: number): void {
  for (let i = 0; i < N / 2; i++) {
    const x = b[i]!;
    f[o + 2 * i] = CBD2[x & 15]!;
    f[o + 2 * i + 1] = CBD2[x >> 4]!;
  }
}

// ───────────────────────────── encoding (FIPS 203 §4.2.1) ─────────────────────────────

/** Algorithm 5 ByteEncode_12 of `count` polynomials of v (coefficients in [0, q)) into out at `at`. */
function encode12(v: Int32Array, count: number, out: Uint8Array, at: number): void {
  for (let i = 0, p = at; i < count * N; i += 2, p += 3) {
    const a = v[i]!, b = v[i + 1]!;
    out[p] = a & 0xff;
    out[p + 1] = (a >> 8) | ((b & 0x0f) << 4);
    out[p + 2] = b >> 4;
  }
}

/**
 * Algorithm 6 ByteDecode_12 of `count` polynomials from b at `at` into v, taken mod q as the algorithm says;
 * returns false when some coefficient was ≥ q (what the §7.2 modulus check refuses).
 */
function decode12(b: Uint8Array, at: number, count: number, v: Int32Array): boolean {
  let ok = true;
  for (let i = 0, p = at; i < count * N; i += 2, p += 3) {
    const b1 = b[p + 1]!;
    const c0 = b[p]! | ((b1 & 0x0f) << 8);
    const c1 = (b1 >> 4) | (b[p + 2]! << 4);
    if (c0 >= Q || c1 >= Q) ok = false;
    v[i] = c0 >= Q ? c0 - Q : c0; // 2^12 < 2q: one subtraction
    v[i + 1] = c1 >= Q ? c1 - Q : c1;
  }
  return ok;
}

/**
 * ByteEncode_d(Compress_d(x)) of `count` polynomials at v[vo..] (x in [0, q)) into out at `at`. Compress_d
 * (§4.2.1) is ⌈(2^d / q)·x⌋ mod 2^d, computed exactly as ⌊(x·2^(d+1) + q) / 2q⌋.
 */
function compressEncode(d: number, v: Int32Array, vo: number, count: number, out: Uint8Array, at: number): void {
  const mask = (1 << d) - 1, scale = 1 << (d + 1);
  let acc = 0, bits = 0, p = at;
  for (let i = vo; i < vo + count * N; i++) {
    acc |= (Math.floor((v[i]! * scale + Q) / (2 * Q)) & mask) << bits;
    bits += d;
    while (bits >= 8) { out[p++] = acc & 0xff; acc >>>= 8; bits -= 8; }
  }
}

/** Decompress_d(ByteDecode_d(b at `at`)) of `count` polynomials into v: ⌈(q / 2^d)·y⌋ = ⌊(y·2q + 2^d) / 2^(d+1)⌋. */
function decodeDecompress(d: number, b: Uint8Array, at: number, count: number, v: Int32Array): void {
  const mask = (1 << d) - 1;
  let acc = 0, bits = 0, p = at;
  for (let i = 0; i < count * N; i++) {
    while (bits < d) { acc |= b[p++]! << bits; bits += 8; }
    v[i] = ((acc & mask) * 2 * Q + (1 << d)) >> (d + 1);
    acc >>>= d;
    bits -= d;
  }
}

// ───────────────────────────── K-PKE (FIPS 203 §5) ─────────────────────────────

// Scratch vectors (K polynomials each) and polynomials, reused by every call: nothing here is asynchronous.
const S = new Int32Array(K * N);
const E = new Int32Array(K * N);
const T = new Int32Array(K * N);
const Y = new Int32Array(K * N);
const E1 = new Int32Array(K * N);
const U = new Int32Array(K * N);
const E2 = new Int32Array(N);
const V = new Int32Array(N);
const W = new Int32Array(N);
/** Â of a key this process did not make (or no longer recognizes). */
const A_PEER = new Int32Array(K * K * N);

/** Â with Â[i][j] = SampleNTT(ρ ‖ j ‖ i) at (i·K + j)·N (Algorithm 13 lines 3–7, Algorithm 14 lines 4–8). */
function expandA(rho: Uint8Array, a: Int32Array): Int32Array {
  // the native sampler declines only a rejection run too long for its buffer (never seen; probability ≈ 0)
  if (nativeBinding()?.mlkemSampleMatrix(rho, K, int32Bytes(a, K * K))) return a;
  for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) sampleNtt(rho, j, i, a, (i * K + j) * N);
  return a;
}

/** The bytes of the first `polys` polynomials of `f`, for the native samplers. */
const int32Bytes = (f: Int32Array, polys: number): Uint8Array => new Uint8Array(f.buffer, f.byteOffset, polys * N * 4);

/**
 * `count` noise polynomials f[c] = SamplePolyCBD_η(PRF_η(s, first + c)) (Algorithm 13 lines 9–16, Algorithm 14
 * lines 9–17).
 */
function sampleNoise(s: Uint8Array, first: number, count: number, f: Int32Array): void {
  const native = nativeBinding();
  if (native) return native.mlkemSampleCbd2(s, first, count, int32Bytes(f, count));
  for (let c = 0; c < count; c++) sampleCbd2(PRF(ETA, s, first + c), f, c * N);
}

/**
 * Â of keys made by keygen() in this process, for their decapsulation (which re-encrypts, Algorithm 18): Â is
 * public (it expands ρ from the encapsulation key) and only the same key object finds it, so a peer's
 * encapsulation never reuses anything; ρ is compared again at use, so a key changed in place is expanded anew.
 */
const matrixOfKey = new WeakMap<Uint8Array, { readonly rho: Uint8Array; readonly a: Int32Array }>();

/** Algorithm 13 K-PKE.KeyGen(d): ek_PKE and dk_PKE written into `ek` and `dk`; returns ρ and Â. */
function pkeKeyGen(d: Uint8Array, ek: Uint8Array, dk: Uint8Array): { rho: Uint8Array; a: Int32Array } {
  const g = G(d, Uint8Array.of(K));
  const rho = Uint8Array.from(g.subarray(0, 32)), sigma = g.subarray(32, 64);
  const a = expandA(rho, new Int32Array(K * K * N));
  sampleNoise(sigma, 0, K, S);
  sampleNoise(sigma, K, K, E);
  for (let i = 0; i < K; i++) { ntt(S, i * N); ntt(E, i * N); }
  for (let i = 0; i < K; i++) dotNtt(T, i * N, a, i * K * N, N, S, E, i * N); // t̂ = Â ∘ ŝ + ê, row i
  encode12(T, K, ek, 0);
  ek.set(rho, POLY12 * K);
  encode12(S, K, dk, 0);
  return { rho, a };
}

/** Algorithm 14 K-PKE.Encrypt(ek, m, r) into `c`, with t̂ already decoded into T and Â in `a`. */
function pkeEncrypt(a: Int32Array, m: Uint8Array, r: Uint8Array, c: Uint8Array): void {
  sampleNoise(r, 0, K, Y);
  sampleNoise(r, K, K, E1);
  sampleNoise(r, 2 * K, 1, E2);
  for (let i = 0; i < K; i++) ntt(Y, i * N);
  for (let i = 0; i < K; i++) {
    dotNtt(U, i * N, a, i * N, K * N, Y); // Âᵀ ∘ ŷ: column i, Â[j][i] at (j·K + i)·N
    nttInverse(U, i * N);
    for (let x = i * N; x < (i + 1) * N; x++) {
      const s = U[x]! + E1[x]!;
      U[x] = s >= Q ? s - Q : s;
    }
  }
  compressEncode(DU, U, 0, K, c, 0);
  dotNtt(V, 0, T, 0, N, Y);
  nttInverse(V, 0);
  for (let x = 0; x < N; x++) {
    // μ = Decompress_1(ByteDecode_1(m)): bit x of m → 0 or ⌈q/2⌋ = 1665
    let s = V[x]! + E2[x]! + (((m[x >> 3]! >> (x & 7)) & 1) * 1665);
    if (s >= Q) s -= Q;
    V[x] = s >= Q ? s - Q : s;
  }
  compressEncode(DV, V, 0, 1, c, 32 * DU * K);
}

/** Algorithm 15 K-PKE.Decrypt(dk_PKE, c): the 32-byte message (dk_PKE is the first 384·K bytes of `dk`). */
function pkeDecrypt(dk: Uint8Array, c: Uint8Array): Uint8Array {
  decodeDecompress(DU, c, 0, K, U);
  decodeDecompress(DV, c, 32 * DU * K, 1, V);
  decode12(dk, 0, K, S);
  for (let i = 0; i < K; i++) ntt(U, i * N);
  dotNtt(W, 0, S, 0, N, U); // ŝᵀ ∘ NTT(u')
  nttInverse(W, 0);
  for (let x = 0; x < N; x++) {
    const s = V[x]! - W[x]!;
    W[x] = s < 0 ? s + Q : s;
  }
  const m = new Uint8Array(32);
  compressEncode(1, W, 0, 1, m, 0);
  return m;
}

// ───────────────────────────── ML-KEM (FIPS 203 §6, §7) ─────────────────────────────

/** Algorithm 16 ML-KEM.KeyGen_internal(d, z) with `seed` = d ‖ z (64 bytes). */
export function keygen(seed: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array } {
  if (seed.length !== ML_KEM_768.keygenSeedLength) throw new MlKemError(`ML-KEM-768 keygen seed must be 64 bytes, got ${seed.length}`);
  const ek = new Uint8Array(ML_KEM_768.encapsulationKeyLength);
  const dk = new Uint8Array(ML_KEM_768.decapsulationKeyLength);
  matrixOfKey.set(dk, pkeKeyGen(seed.subarray(0, 32), ek, dk));
  dk.set(ek, POLY12 * K);
  dk.set(H(ek), 2 * POLY12 * K + 32);
  dk.set(seed.subarray(32, 64), 2 * POLY12 * K + 64);
  return { publicKey: ek, secretKey: dk };
}

/** Algorithm 17 ML-KEM.Encaps_internal(ek, m), after the §7.2 input checks. */
export function encapsulate(ek: Uint8Array, m: Uint8Array): { cipherText: Uint8Array; sharedSecret: Uint8Array } {
  if (ek.length !== ML_KEM_768.encapsulationKeyLength) throw new MlKemError(`ML-KEM-768 encapsulation key must be 1184 bytes, got ${ek.length}`);
  if (m.length !== ML_KEM_768.encapsRandomLength) throw new MlKemError(`ML-KEM-768 encapsulation randomness must be 32 bytes, got ${m.length}`);
  // §7.2 modulus check: ByteEncode_12(ByteDecode_12(ek)) = ek, i.e. every 12-bit coefficient of t̂ is < q;
  // the same decoding is Encrypt's t̂ (Algorithm 14 line 2)
  if (!decode12(ek, 0, K, T)) throw new MlKemError('ML-KEM-768 encapsulation key fails the modulus check (FIPS 203 §7.2)');
  const g = G(m, H(ek));
  const c = new Uint8Array(ML_KEM_768.cipherTextLength);
  pkeEncrypt(expandA(ek.subarray(POLY12 * K), A_PEER), m, g.subarray(32, 64), c);
  return { cipherText: c, sharedSecret: Uint8Array.from(g.subarray(0, 32)) };
}

/** Algorithm 18 ML-KEM.Decaps_internal(dk, c) with implicit rejection, after the §7.3 input checks. */
export function decapsulate(c: Uint8Array, dk: Uint8Array): Uint8Array {
  if (c.length !== ML_KEM_768.cipherTextLength) throw new MlKemError(`ML-KEM-768 ciphertext must be 1088 bytes, got ${c.length}`);
  if (dk.length !== ML_KEM_768.decapsulationKeyLength) throw new MlKemError(`ML-KEM-768 decapsulation key must be 2400 bytes, got ${dk.length}`);
  const ek = dk.subarray(POLY12 * K, 2 * POLY12 * K + 32);
  const h = dk.subarray(2 * POLY12 * K + 32, 2 * POLY12 * K + 64);
  const z = dk.subarray(2 * POLY12 * K + 64);
  // §7.3 hash check: H(ek) must be what the key holds
  if (!H(ek).equals(h)) throw new MlKemError('ML-KEM-768 decapsulation key fails the hash check (FIPS 203 §7.3)');
  const m = pkeDecrypt(dk, c);
  const g = G(m, h);
  const kBar = J(z, c);
  const rho = ek.subarray(POLY12 * K);
  const cached = matrixOfKey.get(dk);
  const a = cached && Buffer.from(cached.rho.buffer, cached.rho.byteOffset, 32).equals(rho) ? cached.a : expandA(rho, A_PEER);
  decode12(ek, 0, K, T);
  const c2 = new Uint8Array(ML_KEM_768.cipherTextLength);
  pkeEncrypt(a, m, g.subarray(32, 64), c2);
  // implicit rejection: a ciphertext that does not re-encrypt to itself yields K̄ = J(z ‖ c), not an error
  let diff = 0;
  for (let i = 0; i < c.length; i++) diff |= c[i]! ^ c2[i]!;
  return Uint8Array.from(diff === 0 ? g.subarray(0, 32) : kBar);
}
