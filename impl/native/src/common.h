/*
 * Shared helpers for the ssh-harness packet-protection addon: argument checks that turn every misuse into a
 * JavaScript TypeError/RangeError (never a crash), and context objects as type-tagged externals.
 * OpenSSL comes from the node binary itself (its exported EVP_* symbols), as ssh2's binding does.
 */
#ifndef SSH_NATIVE_COMMON_H
#define SSH_NATIVE_COMMON_H

#define NAPI_VERSION 8
#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest buffer we accept: EVP lengths are ints, and SSH packets are far smaller (RFC 4253 §6.1). */
#define MAX_BYTES ((size_t)1 << 30)

typedef struct {
  uint8_t *p;
  size_t n;
} bytes_t;

/* Each returns false with a pending JavaScript exception when the argument is unusable. */
bool get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv);
bool arg_bytes(napi_env env, napi_value v, bytes_t *out, const char *what);
bool arg_u32(napi_env env, napi_value v, uint32_t *out, const char *what);
bool arg_bool(napi_env env, napi_value v, bool *out, const char *what);
void *arg_ctx(napi_env env, napi_value v, const napi_type_tag *tag, const char *what);

/* `out` must be exactly `in + offset` (in place) or not overlap `in` at all: EVP allows nothing in between. */
bool check_alias(napi_env env, const bytes_t *in, size_t offset, const bytes_t *out);

/*
 * A received packet as it lies in memory: one piece, or two when it spans two socket reads (wire = a || b).
 * Opening a split packet reads both pieces and writes the plaintext to a separate buffer, which saves the
 * copy that would otherwise join them first.
 */
typedef struct {
  const uint8_t *a;
  size_t an;
  const uint8_t *b;
  size_t bn;
} wire_t;

static inline size_t wire_len(const wire_t *w) { return w->an + w->bn; }
/* Copies wire[off, off + n) to dst (off + n <= wire_len). */
void wire_copy(const wire_t *w, size_t off, size_t n, uint8_t *dst);
/* The contiguous runs (at most two, some maybe empty) that make up wire[off, off + n). */
void wire_runs(const wire_t *w, size_t off, size_t n, bytes_t runs[2]);
/*
 * The packet arguments of an open from argv[0]: (wire, out), where out may be wire + 4 (in place) or separate, or
 * when `split`, (a, b, out) with out overlapping neither piece; out must hold the wire's length - 4 - `trailer`
 * (MAC or tag) bytes. Returns SEAL_OK, OPEN_MISALIGNED for a wire too short to hold the trailer (a MAC failure like
 * any other), or -1 with a JavaScript exception pending.
 */
int open_args(napi_env env, const napi_value *argv, bool split, size_t trailer, wire_t *w, bytes_t *out);

napi_value make_ctx(napi_env env, void *ctx, napi_finalize fin, const napi_type_tag *tag);
napi_value js_int(napi_env env, int32_t v);
napi_value js_u32(napi_env env, uint32_t v);
napi_value throw_range(napi_env env, const char *msg);
napi_value throw_error(napi_env env, const char *msg);
bool export_fn(napi_env env, napi_value exports, const char *name, napi_callback cb);

static inline uint32_t load_be32(const uint8_t *b) {
  return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | (uint32_t)b[3];
}

static inline void store_be32(uint8_t *b, uint32_t v) {
  b[0] = (uint8_t)(v >> 24);
  b[1] = (uint8_t)(v >> 16);
  b[2] = (uint8_t)(v >> 8);
  b[3] = (uint8_t)v;
}

/* Results of the per-packet calls, mapped to errors by the TypeScript wrapper. */
enum { SEAL_OK = 0, OPEN_BAD_MAC = 1, OPEN_MISALIGNED = 2, CRYPTO_FAILED = 3 };

bool register_gcm(napi_env env, napi_value exports);
bool register_chacha(napi_env env, napi_value exports);
bool register_ctr_hmac(napi_env env, napi_value exports);
bool register_checksum(napi_env env, napi_value exports);
bool register_mlkem(napi_env env, napi_value exports);

#endif
