/*
 * aes128-gcm@openssh.com / aes256-gcm@openssh.com (RFC 5647 §7 as profiled by OpenSSH PROTOCOL §1.6), one
 * EVP context per direction, keyed once; each packet only sets the nonce.
 * - nonce = 4-byte fixed field || 8-byte invocation counter (from the KDF IV), counter += 1 per packet (§7.1);
 * - AAD = the 4-byte packet_length, sent in clear (§7.3); 16-byte tag after the ciphertext.
 */
#include "common.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define TAG_LEN 16

typedef struct {
  EVP_CIPHER_CTX *ctx;
  uint8_t nonce[12];
} gcm_t;

static const napi_type_tag GCM_TAG = {0x73736867636d0001ULL, 0x9b1f2c3d4e5f6071ULL};

/* RFC 5647 §7.1: the invocation counter is a 64-bit big-endian integer that wraps modulo 2^64. */
static void next_nonce(uint8_t nonce[12]) {
  for (int i = 11; i >= 4; i--)
    if (++nonce[i] != 0) return;
}

static void gcm_free(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  gcm_t *g = data;
  EVP_CIPHER_CTX_free(g->ctx);
  OPENSSL_cleanse(g, sizeof *g);
  free(g);
}

/* gcmNew(key: 16|32 bytes, iv: 12 bytes, encrypt: boolean) */
static napi_value gcm_new(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  bytes_t key, iv;
  bool enc;
  if (!get_args(env, info, 3, argv) || !arg_bytes(env, argv[0], &key, "key") || !arg_bytes(env, argv[1], &iv, "iv") ||
      !arg_bool(env, argv[2], &enc, "encrypt"))
    return NULL;
  const EVP_CIPHER *cipher = key.n == 16 ? EVP_aes_128_gcm() : key.n == 32 ? EVP_aes_256_gcm() : NULL;
  if (cipher == NULL) return throw_range(env, "AES-GCM key must be 16 or 32 bytes");
  if (iv.n != 12) return throw_range(env, "AES-GCM iv must be 12 bytes");
  gcm_t *g = calloc(1, sizeof *g);
  if (g == NULL) return throw_error(env, "out of memory");
  g->ctx = EVP_CIPHER_CTX_new();
  if (g->ctx == NULL || EVP_CipherInit_ex(g->ctx, cipher, NULL, key.p, NULL, enc ? 1 : 0) != 1) {
    gcm_free(env, g, NULL);
    return throw_error(env, "AES-GCM: OpenSSL context setup failed");
  }
  memcpy(g->nonce, iv.p, 12);
  return make_ctx(env, g, gcm_free, &GCM_TAG);
}

/* gcmSeal(ctx, packet, out): out = length || ciphertext || tag, out.length = packet.length + 16; out may be packet's memory. */
static napi_value gcm_seal(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  bytes_t in, out;
  if (!get_args(env, info, 3, argv)) return NULL;
  gcm_t *g = arg_ctx(env, argv[0], &GCM_TAG, "ctx");
  if (g == NULL || !arg_bytes(env, argv[1], &in, "packet") || !arg_bytes(env, argv[2], &out, "out")) return NULL;
  if (in.n < 4 || out.n != in.n + TAG_LEN) return throw_range(env, "gcmSeal: need packet.length >= 4 and out.length = packet.length + 16");
  if (!check_alias(env, &in, 0, &out)) return NULL;
  int len = 0, n = (int)in.n - 4;
  uint8_t aad[4];
  memcpy(aad, in.p, 4);
  int ok = EVP_CipherInit_ex(g->ctx, NULL, NULL, NULL, g->nonce, 1) == 1 &&
           EVP_CipherUpdate(g->ctx, NULL, &len, aad, 4) == 1 &&
           EVP_CipherUpdate(g->ctx, out.p + 4, &len, in.p + 4, n) == 1 &&
           EVP_CipherFinal_ex(g->ctx, out.p + 4 + n, &len) == 1 &&
           EVP_CIPHER_CTX_ctrl(g->ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, out.p + 4 + n) == 1;
  memcpy(out.p, aad, 4);
  next_nonce(g->nonce);
  return js_int(env, ok ? SEAL_OK : CRYPTO_FAILED);
}

/*
 * Opens `w` (length || ciphertext || tag) into `out` (wire length - 20 bytes: in place at wire + 4, or a separate
 * buffer). Unauthenticated plaintext never reaches the caller.
 */
static int gcm_open_wire(gcm_t *g, const wire_t *w, uint8_t *out) {
  size_t n = wire_len(w) - 4 - TAG_LEN;
  int len = 0;
  uint8_t aad[4], tag[TAG_LEN];
  bytes_t runs[2];
  wire_copy(w, 0, 4, aad);
  wire_copy(w, 4 + n, TAG_LEN, tag);
  wire_runs(w, 4, n, runs);
  int ok = EVP_CipherInit_ex(g->ctx, NULL, NULL, NULL, g->nonce, 0) == 1 &&
           EVP_CIPHER_CTX_ctrl(g->ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) == 1 &&
           EVP_CipherUpdate(g->ctx, NULL, &len, aad, 4) == 1 &&
           (runs[0].n == 0 || EVP_CipherUpdate(g->ctx, out, &len, runs[0].p, (int)runs[0].n) == 1) &&
           (runs[1].n == 0 || EVP_CipherUpdate(g->ctx, out + runs[0].n, &len, runs[1].p, (int)runs[1].n) == 1);
  next_nonce(g->nonce);
  if (!ok) return CRYPTO_FAILED;
  /* the tag comparison inside EVP_DecryptFinal_ex is constant-time (CRYPTO_memcmp) */
  if (EVP_CipherFinal_ex(g->ctx, out + n, &len) != 1) {
    OPENSSL_cleanse(out, n);
    return OPEN_BAD_MAC;
  }
  return SEAL_OK;
}

/* gcmOpen(ctx, wire, out): out = plaintext after packet_length, out.length = wire.length - 20 (may be wire + 4);
 * gcmOpenSplit(ctx, a, b, out): the same for wire = a || b, out overlapping neither. A wire too short for a tag is a
 * MAC failure like any other, and the nonce does not advance. */
static napi_value gcm_open_args(napi_env env, napi_callback_info info, bool split) {
  napi_value argv[4];
  wire_t w;
  bytes_t out;
  if (!get_args(env, info, split ? 4 : 3, argv)) return NULL;
  gcm_t *g = arg_ctx(env, argv[0], &GCM_TAG, "ctx");
  if (g == NULL) return NULL;
  int r = open_args(env, argv + 1, split, TAG_LEN, &w, &out);
  if (r != SEAL_OK) return r < 0 ? NULL : js_int(env, r);
  return js_int(env, gcm_open_wire(g, &w, out.p));
}

static napi_value gcm_open(napi_env env, napi_callback_info info) { return gcm_open_args(env, info, false); }
static napi_value gcm_open_split(napi_env env, napi_callback_info info) { return gcm_open_args(env, info, true); }

bool register_gcm(napi_env env, napi_value exports) {
  return export_fn(env, exports, "gcmNew", gcm_new) && export_fn(env, exports, "gcmSeal", gcm_seal) &&
         export_fn(env, exports, "gcmOpen", gcm_open) && export_fn(env, exports, "gcmOpenSplit", gcm_open_split);
}
