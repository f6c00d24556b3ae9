/*
 * The Internet checksum's partial sum (RFC 1071) for the trace writer's synthetic IPv4/TCP frames: every recorded
 * byte goes through it. RFC 1071 §2(B): the sum is byte-order independent, so native little-endian words are summed
 * and the folded result is swapped once on little-endian machines.
 *
 * inetCopySum also copies the bytes into the frame while summing them, one pass instead of a copy and a re-read.
 * Its stores are non-temporal (AVX2 streaming stores): the frame goes to the disk by O_DIRECT and is not read again
 * by the CPU, and plain stores would first fetch every destination line into the cache (an earlier fused loop with
 * plain stores measured slower than memcpy + sum for that reason). Without AVX2, memcpy and the scalar sum.
 */
#include "common.h"

#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX2_PATH 1
#endif

/* Sums 16-bit little-endian words of p[0, n) (an odd last byte is a low byte) into 64 bits. */
static uint64_t sum_scalar(const uint8_t *p, size_t n) {
  uint64_t s = 0;
  size_t i = 0;
  /* each step adds < 2^33 and MAX_BYTES / 8 = 2^27 steps: no carry is lost in 64 bits */
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    s += (w & 0xffffffffu) + (w >> 32);
  }
  for (; i < n; i++) s += (i & 1) ? (uint64_t)p[i] << 8 : p[i];
  return s;
}

/*
 * A run summed on its own but lying at an odd offset of the stream: its low bytes are the stream's high bytes, so
 * its folded sum is swapped (RFC 1071 §2(B)).
 */
static uint64_t at_odd_offset(uint64_t s) {
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return ((s & 0xff) << 8) | (s >> 8);
}

#ifdef HAVE_AVX2_PATH
/* 32-bit lanes take two 16-bit halves per step (< 2^17): flush to 64 bits well before 2^15 steps. */
#define AVX2_FLUSH_STEPS 8192

__attribute__((target("avx2"))) static inline uint64_t hsum_epi32(__m256i v) {
  uint32_t lanes[8];
  _mm256_storeu_si256((__m256i *)lanes, v);
  uint64_t s = 0;
  for (int k = 0; k < 8; k++) s += lanes[k];
  return s;
}

__attribute__((target("avx2"))) static uint64_t sum_avx2(const uint8_t *p, size_t n) {
  const __m256i low = _mm256_set1_epi32(0xffff);
  uint64_t s = 0;
  size_t i = 0;
  while (i + 32 <= n) {
    __m256i acc = _mm256_setzero_si256();
    for (size_t k = 0; k < AVX2_FLUSH_STEPS && i + 32 <= n; k++, i += 32) {
      __m256i v = _mm256_loadu_si256((const __m256i *)(p + i));
      acc = _mm256_add_epi32(acc, _mm256_add_epi32(_mm256_and_si256(v, low), _mm256_srli_epi32(v, 16)));
    }
    s += hsum_epi32(acc);
  }
  return s + sum_scalar(p + i, n - i);
}

/* Copies src to dst (not overlapping) and sums src; streaming stores at 32-byte aligned destinations. */
__attribute__((target("avx2"))) static uint64_t copy_sum_avx2(uint8_t *dst, const uint8_t *src, size_t n) {
  const __m256i low = _mm256_set1_epi32(0xffff);
  /* the unaligned head of dst: copied and summed as scalar (an even head keeps word pairing, an odd one flips it) */
  size_t head = (32 - ((uintptr_t)dst & 31)) & 31;
  if (head > n) head = n;
  memcpy(dst, src, head);
  uint64_t s = sum_scalar(src, head);
  size_t i = head;
  uint64_t body = 0;
  while (i + 32 <= n) {
    __m256i acc = _mm256_setzero_si256();
    for (size_t k = 0; k < AVX2_FLUSH_STEPS && i + 32 <= n; k++, i += 32) {
      __m256i v = _mm256_loadu_si256((const __m256i *)(src + i));
      _mm256_stream_si256((__m256i *)(dst + i), v);
      acc = _mm256_add_epi32(acc, _mm256_add_epi32(_mm256_and_si256(v, low), _mm256_srli_epi32(v, 16)));
    }
    body += hsum_epi32(acc);
  }
  _mm_sfence(); /* streaming stores are weakly ordered: make them visible before the write syscall reads them */
  memcpy(dst + i, src + i, n - i);
  uint64_t tail = sum_scalar(src + i, n - i);
  /* body and tail start at offset head (mod 2) of src */
  return s + ((head & 1) ? at_odd_offset(body + tail) : body + tail);
}

static bool avx2(void) {
  static int have = -1;
  if (have < 0) {
    __builtin_cpu_init();
    have = __builtin_cpu_supports("avx2") ? 1 : 0;
  }
  return have == 1;
}
#endif

/* Folds a 64-bit sum of little-endian words to 16 bits in network order (RFC 1071 §4.1's end-around carry). */
static uint32_t fold_network(uint64_t s) {
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  return (uint32_t)s;
#else
  return (uint32_t)(((s & 0xff) << 8) | (s >> 8));
#endif
}

static uint64_t sum_any(const uint8_t *p, size_t n) {
#ifdef HAVE_AVX2_PATH
  if (n >= 64 && avx2()) return sum_avx2(p, n);
#endif
  return sum_scalar(p, n);
}

/* inetSum(bytes): the one's complement sum of `bytes` as big-endian 16-bit words (an odd last byte padded with
 * zero), folded to 16 bits, not complemented: callers add it to other partial sums and fold again. */
static napi_value inet_sum(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  bytes_t b;
  if (!get_args(env, info, 1, argv) || !arg_bytes(env, argv[0], &b, "bytes")) return NULL;
  return js_u32(env, fold_network(sum_any(b.p, b.n)));
}

/* inetCopySum(dst, src): copies src into dst (the same length, not overlapping) and returns inetSum(src). */
static napi_value inet_copy_sum(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  bytes_t dst, src;
  if (!get_args(env, info, 2, argv) || !arg_bytes(env, argv[0], &dst, "dst") || !arg_bytes(env, argv[1], &src, "src")) return NULL;
  if (dst.n != src.n) return throw_range(env, "inetCopySum: dst and src must have the same length");
  if (src.n > 0 && dst.p < src.p + src.n && src.p < dst.p + dst.n) return throw_range(env, "inetCopySum: dst and src overlap");
#ifdef HAVE_AVX2_PATH
  if (src.n >= 256 && avx2()) return js_u32(env, fold_network(copy_sum_avx2(dst.p, src.p, src.n)));
#endif
  memcpy(dst.p, src.p, src.n);
  return js_u32(env, fold_network(sum_any(src.p, src.n)));
}

bool register_checksum(napi_env env, napi_value exports) {
  return export_fn(env, exports, "inetSum", inet_sum) && export_fn(env, exports, "inetCopySum", inet_copy_sum);
}
