/*
 * The Internet checksum's partial sum (RFC 1071) for the trace writer's synthetic IPv4/TCP frames: every recorded
 * byte goes through it, and the JavaScript version (harness/trace/checksum.ts, ~2.7 GB/s here) cost a quarter of
 * what recording takes from a bulk transfer. RFC 1071 §2(B): the sum is byte-order independent, so 64-bit native
 * loads are summed as two 32-bit halves and the folded result is swapped once on little-endian machines.
 */
#include "common.h"

#include <string.h>

/* inetSum(bytes): the one's complement sum of `bytes` as big-endian 16-bit words (an odd last byte padded with
 * zero), folded to 16 bits, not complemented: callers add it to other partial sums and fold again. */
static napi_value inet_sum(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  bytes_t b;
  if (!get_args(env, info, 1, argv) || !arg_bytes(env, argv[0], &b, "bytes")) return NULL;
  /* each step adds < 2^33 and MAX_BYTES / 8 = 2^27 steps: no carry is lost in 64 bits */
  uint64_t s = 0;
  size_t i = 0;
  for (; i + 8 <= b.n; i += 8) {
    uint64_t w;
    memcpy(&w, b.p + i, 8);
    s += (w & 0xffffffffu) + (w >> 32);
  }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  for (; i < b.n; i++) s += (i & 1) ? b.p[i] : (uint64_t)b.p[i] << 8;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
#else
  /* native words are little-endian: even offsets are low bytes; swap the folded sum into network order */
  for (; i < b.n; i++) s += (i & 1) ? (uint64_t)b.p[i] << 8 : b.p[i];
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  s = ((s & 0xff) << 8) | (s >> 8);
#endif
  return js_u32(env, (uint32_t)s);
}

bool register_checksum(napi_env env, napi_value exports) {
  return export_fn(env, exports, "inetSum", inet_sum);
}
