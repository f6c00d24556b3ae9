/*
 * The SHAKE-bound sampling of ML-KEM (FIPS 203 §4.2.2) in one native call each, for impl/crypto/kex/ml-kem-768.ts:
 * a key generation or an encapsulation runs SHAKE128 nine times for Â and SHAKE256 six or seven times for the
 * noise, and through node:crypto every one of those is a Hash object, a Buffer and two crossings into C++ —
 * about half of ML-KEM's time. Here they run back to back on one digest context.
 * Coefficients are written as int32 in [0, q) into the caller's Int32Array (host byte order, as a typed array
 * holds them). The arithmetic (NTT, products, encoding) stays in TypeScript.
 */
#include "common.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#define N 256
#define Q 3329
#define SHAKE128_RATE 168
/* Algorithm 7 needs 256 accepted 12-bit candidates; 3 blocks give 336 and almost always suffice. Past
 * MAX_BLOCKS (1344 candidates, each accepted with probability q/4096) the caller samples in TypeScript instead. */
#define FIRST_BLOCKS 3
#define MAX_BLOCKS 12

static bool xof(EVP_MD_CTX *ctx, const EVP_MD *md, const uint8_t *in, size_t inlen, uint8_t *out, size_t outlen) {
  return EVP_DigestInit_ex(ctx, md, NULL) == 1 && EVP_DigestUpdate(ctx, in, inlen) == 1 && EVP_DigestFinalXOF(ctx, out, outlen) == 1;
}

/* Algorithm 7 SampleNTT(seed) into a[0..N): false when MAX_BLOCKS were not enough (or OpenSSL failed). */
static bool sample_ntt(EVP_MD_CTX *ctx, const uint8_t seed[34], int32_t *a) {
  uint8_t b[MAX_BLOCKS * SHAKE128_RATE];
  /* SHAKE's output is a prefix-stable stream: a longer request repeats the shorter one and extends it */
  for (size_t blocks = FIRST_BLOCKS; blocks <= MAX_BLOCKS; blocks += 3) {
    size_t len = blocks * SHAKE128_RATE, n = 0;
    if (!xof(ctx, EVP_shake128(), seed, 34, b, len)) return false;
    for (size_t p = 0; n < N && p + 3 <= len; p += 3) {
      int32_t d1 = b[p] | ((b[p + 1] & 0x0f) << 8);
      int32_t d2 = (b[p + 1] >> 4) | (b[p + 2] << 4);
      if (d1 < Q) a[n++] = d1;
      if (d2 < Q && n < N) a[n++] = d2;
    }
    if (n == N) return true;
  }
  return false;
}

/* A typed array's int32 storage from its bytes (the caller passes a Uint8Array view of an Int32Array). */
static int32_t *as_i32(const bytes_t *b) { return (int32_t *)(void *)b->p; }

/* mlkemSampleMatrix(rho: 32 bytes, k, out: bytes of k·k·256 int32): Â[i][j] = SampleNTT(ρ ‖ j ‖ i) at (i·k + j)·256.
 * Returns false when a rare long rejection run needs the caller's own sampler. */
static napi_value mlkem_sample_matrix(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  bytes_t rho, out;
  uint32_t k;
  if (!get_args(env, info, 3, argv) || !arg_bytes(env, argv[0], &rho, "rho") || !arg_u32(env, argv[1], &k, "k") ||
      !arg_bytes(env, argv[2], &out, "out"))
    return NULL;
  if (rho.n != 32) return throw_range(env, "mlkemSampleMatrix: rho must be 32 bytes");
  if (k < 1 || k > 4 || out.n != (size_t)k * k * N * 4 || ((uintptr_t)out.p & 3) != 0)
    return throw_range(env, "mlkemSampleMatrix: k in 1..4 and out = an aligned k·k·256 int32 array");
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (ctx == NULL) return throw_error(env, "out of memory");
  uint8_t seed[34];
  memcpy(seed, rho.p, 32);
  bool ok = true;
  for (uint32_t i = 0; ok && i < k; i++)
    for (uint32_t j = 0; ok && j < k; j++) {
      seed[32] = (uint8_t)j;
      seed[33] = (uint8_t)i;
      ok = sample_ntt(ctx, seed, as_i32(&out) + (size_t)(i * k + j) * N);
    }
  EVP_MD_CTX_free(ctx);
  napi_value r;
  return napi_get_boolean(env, ok, &r) == napi_ok ? r : NULL;
}

/* mlkemSampleCbd2(s: 32 bytes, firstNonce, count, out: bytes of count·256 int32): polynomial c is
 * SamplePolyCBD_2(PRF_2(s, firstNonce + c)) (Algorithm 8, η = 2: PRF = SHAKE256(s ‖ b), 128 bytes). */
static napi_value mlkem_sample_cbd2(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  bytes_t s, out;
  uint32_t first, count;
  if (!get_args(env, info, 4, argv) || !arg_bytes(env, argv[0], &s, "s") || !arg_u32(env, argv[1], &first, "firstNonce") ||
      !arg_u32(env, argv[2], &count, "count") || !arg_bytes(env, argv[3], &out, "out"))
    return NULL;
  if (s.n != 32) return throw_range(env, "mlkemSampleCbd2: s must be 32 bytes");
  if (count > 8 || first + count > 256 || out.n != (size_t)count * N * 4 || ((uintptr_t)out.p & 3) != 0)
    return throw_range(env, "mlkemSampleCbd2: count ≤ 8 nonces below 256 and out = an aligned count·256 int32 array");
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (ctx == NULL) return throw_error(env, "out of memory");
  uint8_t in[33], b[128];
  memcpy(in, s.p, 32);
  bool ok = true;
  for (uint32_t c = 0; ok && c < count; c++) {
    in[32] = (uint8_t)(first + c);
    ok = xof(ctx, EVP_shake256(), in, 33, b, sizeof b);
    int32_t *f = as_i32(&out) + (size_t)c * N;
    /* coefficient 2i from byte i's low nibble, 2i+1 from its high one: (b0 + b1) - (b2 + b3) mod q */
    for (size_t i = 0; ok && i < N / 2; i++) {
      for (int h = 0; h < 2; h++) {
        unsigned x = (b[i] >> (4 * h)) & 15;
        int32_t v = (int32_t)((x & 1) + ((x >> 1) & 1)) - (int32_t)(((x >> 2) & 1) + ((x >> 3) & 1));
        f[2 * i + h] = v < 0 ? v + Q : v;
      }
    }
  }
  OPENSSL_cleanse(b, sizeof b); /* noise is secret (it hides the key and the message) */
  OPENSSL_cleanse(in, sizeof in);
  EVP_MD_CTX_free(ctx);
  if (!ok) return throw_error(env, "mlkemSampleCbd2: OpenSSL SHAKE256 failed");
  napi_value r;
  return napi_get_undefined(env, &r) == napi_ok ? r : NULL;
}

bool register_mlkem(napi_env env, napi_value exports) {
  return export_fn(env, exports, "mlkemSampleMatrix", mlkem_sample_matrix) &&
         export_fn(env, exports, "mlkemSampleCbd2", mlkem_sample_cbd2);
}
