/*
 * Module entry and argument helpers. Every per-packet function validates its arguments here, so a wrong call
 * from JavaScript becomes an exception rather than undefined behaviour; none of these allocate.
 */
#include "common.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

bool get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return false;
  if (argc < want) {
    char msg[96];
    snprintf(msg, sizeof msg, "expected %zu arguments, got %zu", want, argc);
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  return true;
}

static bool type_error(napi_env env, const char *what, const char *expected) {
  char msg[128];
  snprintf(msg, sizeof msg, "%s: expected %s", what, expected);
  napi_throw_type_error(env, NULL, msg);
  return false;
}

bool arg_bytes(napi_env env, napi_value v, bytes_t *out, const char *what) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return type_error(env, what, "a Uint8Array");
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, NULL, NULL) != napi_ok || type != napi_uint8_array)
    return type_error(env, what, "a Uint8Array");
  if (length > MAX_BYTES) {
    throw_range(env, "buffer too large");
    return false;
  }
  /* a zero-length view may have no backing store; give it a harmless non-NULL pointer */
  static uint8_t empty[1];
  out->p = data != NULL ? (uint8_t *)data : empty;
  out->n = length;
  return true;
}

bool arg_u32(napi_env env, napi_value v, uint32_t *out, const char *what) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) return type_error(env, what, "a number");
  return napi_get_value_uint32(env, v, out) == napi_ok;
}

bool arg_bool(napi_env env, napi_value v, bool *out, const char *what) {
  if (napi_get_value_bool(env, v, out) != napi_ok) return type_error(env, what, "a boolean");
  return true;
}

void *arg_ctx(napi_env env, napi_value v, const napi_type_tag *tag, const char *what) {
  napi_valuetype t;
  bool tagged = false;
  void *ctx = NULL;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external ||
      napi_check_object_type_tag(env, v, tag, &tagged) != napi_ok || !tagged ||
      napi_get_value_external(env, v, &ctx) != napi_ok || ctx == NULL) {
    type_error(env, what, "a context made by this addon for this algorithm");
    return NULL;
  }
  return ctx;
}

bool check_alias(napi_env env, const bytes_t *in, size_t offset, const bytes_t *out) {
  const uint8_t *a = in->p, *b = out->p;
  bool disjoint = b + out->n <= a || a + in->n <= b;
  if (disjoint || b == a + offset) return true;
  throw_range(env, "output overlaps input other than in place");
  return false;
}

void wire_copy(const wire_t *w, size_t off, size_t n, uint8_t *dst) {
  bytes_t r[2];
  wire_runs(w, off, n, r);
  if (r[0].n) memcpy(dst, r[0].p, r[0].n);
  if (r[1].n) memcpy(dst + r[0].n, r[1].p, r[1].n);
}

void wire_runs(const wire_t *w, size_t off, size_t n, bytes_t runs[2]) {
  size_t in_a = off < w->an ? w->an - off : 0;
  if (in_a > n) in_a = n;
  runs[0].p = (uint8_t *)w->a + (off < w->an ? off : w->an);
  runs[0].n = in_a;
  size_t boff = off + in_a - w->an; /* where the rest starts in b */
  runs[1].p = (uint8_t *)w->b + (in_a < n ? boff : 0);
  runs[1].n = n - in_a;
}

int open_args(napi_env env, const napi_value *argv, bool split, size_t trailer, wire_t *w, bytes_t *out) {
  bytes_t a, b = {NULL, 0};
  if (!arg_bytes(env, argv[0], &a, split ? "a" : "wire") || (split && !arg_bytes(env, argv[1], &b, "b")) ||
      !arg_bytes(env, argv[split ? 2 : 1], out, "out"))
    return -1;
  if (split) {
    const uint8_t *o = out->p;
    bool clear_a = o + out->n <= a.p || a.p + a.n <= o, clear_b = o + out->n <= b.p || b.p + b.n <= o;
    if (out->n > 0 && !(clear_a && clear_b)) return throw_range(env, "out overlaps a piece of the packet"), -1;
  } else {
    b.p = a.p + a.n;
  }
  *w = (wire_t){a.p, a.n, b.p, b.n};
  size_t n = wire_len(w);
  if (n > MAX_BYTES) return throw_range(env, "packet too large"), -1;
  if (n < 4 + trailer) return OPEN_MISALIGNED;
  if (out->n != n - 4 - trailer) return throw_range(env, "open: need out.length = wire length - 4 - MAC length"), -1;
  if (!split && !check_alias(env, &a, 4, out)) return -1;
  return SEAL_OK;
}

napi_value make_ctx(napi_env env, void *ctx, napi_finalize fin, const napi_type_tag *tag) {
  napi_value v;
  if (napi_create_external(env, ctx, fin, NULL, &v) != napi_ok) {
    fin(env, ctx, NULL);
    return NULL;
  }
  if (napi_type_tag_object(env, v, tag) != napi_ok) return NULL;
  return v;
}

napi_value js_int(napi_env env, int32_t v) {
  napi_value r;
  return napi_create_int32(env, v, &r) == napi_ok ? r : NULL;
}

napi_value js_u32(napi_env env, uint32_t v) {
  napi_value r;
  return napi_create_uint32(env, v, &r) == napi_ok ? r : NULL;
}

napi_value throw_range(napi_env env, const char *msg) {
  napi_throw_range_error(env, NULL, msg);
  return NULL;
}

napi_value throw_error(napi_env env, const char *msg) {
  napi_throw_error(env, NULL, msg);
  return NULL;
}

bool export_fn(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  return napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn) == napi_ok &&
         napi_set_named_property(env, exports, name, fn) == napi_ok;
}

/* The OpenSSL this addon resolved at load time: the node binary's own, or the loader refuses it. */
static napi_value openssl_version(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value s;
  return napi_create_string_utf8(env, OpenSSL_version(OPENSSL_VERSION), NAPI_AUTO_LENGTH, &s) == napi_ok ? s : NULL;
}

/* alignOffset(buf, alignment): the offset of buf's first byte whose address is a multiple of alignment (a power of
 * two ≤ 1 MiB), for buffers handed to O_DIRECT writes (harness/trace/byte-sink.ts). */
static napi_value align_offset(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  bytes_t b;
  uint32_t a;
  if (!get_args(env, info, 2, argv) || !arg_bytes(env, argv[0], &b, "buf") || !arg_u32(env, argv[1], &a, "alignment")) return NULL;
  if (a == 0 || a > (1u << 20) || (a & (a - 1)) != 0) return throw_range(env, "alignment must be a power of two ≤ 1 MiB");
  return js_u32(env, (uint32_t)((a - ((uintptr_t)b.p & (a - 1))) & (a - 1)));
}

NAPI_MODULE_INIT() {
  if (!export_fn(env, exports, "opensslVersion", openssl_version) || !export_fn(env, exports, "alignOffset", align_offset) || !register_gcm(env, exports) ||
      !register_chacha(env, exports) || !register_ctr_hmac(env, exports) || !register_checksum(env, exports) ||
      !register_mlkem(env, exports))
    return NULL;
  return exports;
}
