/*
 * chacha20-poly1305@openssh.com (OpenSSH PROTOCOL.chacha20poly1305), one context set per direction:
 * - the 64-byte key is K_2 (bytes 0..31: payload and Poly1305 key) || K_1 (bytes 32..63: packet_length);
 * - the nonce is the sequence number as a 64-bit big-endian integer for both keys;
 * - packet_length is encrypted alone with K_1 at block counter 0;
 * - the Poly1305 key is the first 32 bytes of K_2's keystream block 0, the payload is encrypted from block 1;
 * - tag = Poly1305(encrypted length || encrypted payload), checked (constant-time) before decrypting.
 * OpenSSL's raw ChaCha20 takes a 16-byte IV: 32-bit little-endian block counter || 96-bit nonce. With the
 * counter's high word as the nonce's first 4 (zero) bytes this is the original 64/64 layout above.
 */
#include "common.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define TAG_LEN 16

typedef struct {
  EVP_CIPHER_CTX *payload; /* K_2 */
  EVP_CIPHER_CTX *length;  /* K_1 */
  EVP_MAC_CTX *poly;
  uint8_t iv[16];
} chacha_t;

static const napi_type_tag CHACHA_TAG = {0x7373686368616368ULL, 0x61cc20a1b2c3d4e5ULL};
static const uint8_t ZEROS[64];

static void chacha_free(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  chacha_t *c = data;
  EVP_CIPHER_CTX_free(c->payload);
  EVP_CIPHER_CTX_free(c->length);
  EVP_MAC_CTX_free(c->poly);
  OPENSSL_cleanse(c, sizeof *c);
  free(c);
}

/* Sequence numbers are uint32 (RFC 4253 §6.4): the nonce's high half stays zero. */
static const uint8_t *nonce_for(chacha_t *c, uint32_t seq) {
  store_be32(c->iv + 12, seq);
  return c->iv;
}

static bool crypt_length(chacha_t *c, uint32_t seq, const uint8_t in[4], uint8_t out[4]) {
  uint8_t tmp[4];
  int len = 0;
  memcpy(tmp, in, 4);
  return EVP_CipherInit_ex(c->length, NULL, NULL, NULL, nonce_for(c, seq), 1) == 1 &&
         EVP_CipherUpdate(c->length, out, &len, tmp, 4) == 1;
}

/*
 * Positions K_2's keystream after block 0 and computes the Poly1305 tag of wire[0, end) with block 0's first
 * 32 bytes.
 */
static bool start_payload(chacha_t *c, uint32_t seq, const wire_t *w, size_t end, uint8_t tag[TAG_LEN]) {
  uint8_t block0[64];
  int len = 0;
  size_t outl = 0;
  bytes_t runs[2];
  wire_runs(w, 0, end, runs);
  bool ok = EVP_CipherInit_ex(c->payload, NULL, NULL, NULL, nonce_for(c, seq), 1) == 1 &&
            EVP_CipherUpdate(c->payload, block0, &len, ZEROS, 64) == 1 &&
            EVP_MAC_init(c->poly, block0, 32, NULL) == 1;
  OPENSSL_cleanse(block0, sizeof block0);
  return ok && (runs[0].n == 0 || EVP_MAC_update(c->poly, runs[0].p, runs[0].n) == 1) &&
         (runs[1].n == 0 || EVP_MAC_update(c->poly, runs[1].p, runs[1].n) == 1) &&
         EVP_MAC_final(c->poly, tag, &outl, TAG_LEN) == 1 && outl == TAG_LEN;
}

/* chachaNew(key: 64 bytes) */
static napi_value chacha_new(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  bytes_t key;
  if (!get_args(env, info, 1, argv) || !arg_bytes(env, argv[0], &key, "key")) return NULL;
  if (key.n != 64) return throw_range(env, "chacha20-poly1305 key must be 64 bytes");
  chacha_t *c = calloc(1, sizeof *c);
  if (c == NULL) return throw_error(env, "out of memory");
  EVP_MAC *mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_POLY1305, NULL);
  c->payload = EVP_CIPHER_CTX_new();
  c->length = EVP_CIPHER_CTX_new();
  c->poly = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
  EVP_MAC_free(mac); /* the context keeps its own reference */
  if (c->payload == NULL || c->length == NULL || c->poly == NULL ||
      EVP_CipherInit_ex(c->payload, EVP_chacha20(), NULL, key.p, c->iv, 1) != 1 ||
      EVP_CipherInit_ex(c->length, EVP_chacha20(), NULL, key.p + 32, c->iv, 1) != 1) {
    chacha_free(env, c, NULL);
    return throw_error(env, "chacha20-poly1305: OpenSSL context setup failed (no ChaCha20 or Poly1305?)");
  }
  return make_ctx(env, c, chacha_free, &CHACHA_TAG);
}

/* chachaLength(ctx, seq, header): packet_length decrypted from the first 4 bytes. */
static napi_value chacha_length(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  bytes_t in;
  uint32_t seq;
  if (!get_args(env, info, 3, argv)) return NULL;
  chacha_t *c = arg_ctx(env, argv[0], &CHACHA_TAG, "ctx");
  if (c == NULL || !arg_u32(env, argv[1], &seq, "seq") || !arg_bytes(env, argv[2], &in, "header")) return NULL;
  if (in.n < 4) return throw_range(env, "chachaLength: header needs 4 bytes");
  uint8_t plain[4];
  if (!crypt_length(c, seq, in.p, plain)) return throw_error(env, "chacha20: OpenSSL failed");
  return js_u32(env, load_be32(plain));
}

/* chachaSeal(ctx, seq, packet, out): out.length = packet.length + 16; out may be packet's memory. */
static napi_value chacha_seal(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  bytes_t in, out;
  uint32_t seq;
  if (!get_args(env, info, 4, argv)) return NULL;
  chacha_t *c = arg_ctx(env, argv[0], &CHACHA_TAG, "ctx");
  if (c == NULL || !arg_u32(env, argv[1], &seq, "seq") || !arg_bytes(env, argv[2], &in, "packet") ||
      !arg_bytes(env, argv[3], &out, "out"))
    return NULL;
  if (in.n < 4 || out.n != in.n + TAG_LEN) return throw_range(env, "chachaSeal: need packet.length >= 4 and out.length = packet.length + 16");
  if (!check_alias(env, &in, 0, &out)) return NULL;
  size_t n = in.n;
  uint8_t block0[64], tag[TAG_LEN];
  int len = 0;
  size_t outl = 0;
  /* the tag covers the ciphertext, so encrypt first, then MAC the output (PROTOCOL.chacha20poly1305) */
  bool ok = crypt_length(c, seq, in.p, out.p) &&
            EVP_CipherInit_ex(c->payload, NULL, NULL, NULL, nonce_for(c, seq), 1) == 1 &&
            EVP_CipherUpdate(c->payload, block0, &len, ZEROS, 64) == 1 &&
            EVP_CipherUpdate(c->payload, out.p + 4, &len, in.p + 4, (int)(n - 4)) == 1 &&
            EVP_MAC_init(c->poly, block0, 32, NULL) == 1 && EVP_MAC_update(c->poly, out.p, n) == 1 &&
            EVP_MAC_final(c->poly, tag, &outl, TAG_LEN) == 1 && outl == TAG_LEN;
  OPENSSL_cleanse(block0, sizeof block0);
  memcpy(out.p + n, tag, TAG_LEN);
  return js_int(env, ok ? SEAL_OK : CRYPTO_FAILED);
}

/* Opens `w` (encrypted length || ciphertext || tag) into `out` (wire length - 20 bytes: wire + 4 or separate). */
static int chacha_open_wire(chacha_t *c, uint32_t seq, const wire_t *w, uint8_t *out) {
  size_t end = wire_len(w) - TAG_LEN;
  uint8_t tag[TAG_LEN], expected[TAG_LEN];
  int len = 0;
  bytes_t runs[2];
  if (!start_payload(c, seq, w, end, tag)) return CRYPTO_FAILED;
  wire_copy(w, end, TAG_LEN, expected);
  if (CRYPTO_memcmp(tag, expected, TAG_LEN) != 0) return OPEN_BAD_MAC;
  wire_runs(w, 4, end - 4, runs);
  bool ok = (runs[0].n == 0 || EVP_CipherUpdate(c->payload, out, &len, runs[0].p, (int)runs[0].n) == 1) &&
            (runs[1].n == 0 || EVP_CipherUpdate(c->payload, out + runs[0].n, &len, runs[1].p, (int)runs[1].n) == 1);
  return ok ? SEAL_OK : CRYPTO_FAILED;
}

/* chachaOpen(ctx, seq, wire, out): out = plaintext after packet_length, out.length = wire.length - 20 (may be
 * wire + 4); chachaOpenSplit(ctx, seq, a, b, out): the same for wire = a || b, out overlapping neither. */
static napi_value chacha_open_args(napi_env env, napi_callback_info info, bool split) {
  napi_value argv[5];
  wire_t w;
  bytes_t out;
  uint32_t seq;
  if (!get_args(env, info, split ? 5 : 4, argv)) return NULL;
  chacha_t *c = arg_ctx(env, argv[0], &CHACHA_TAG, "ctx");
  if (c == NULL || !arg_u32(env, argv[1], &seq, "seq")) return NULL;
  int r = open_args(env, argv + 2, split, TAG_LEN, &w, &out);
  if (r != SEAL_OK) return r < 0 ? NULL : js_int(env, r);
  return js_int(env, chacha_open_wire(c, seq, &w, out.p));
}

static napi_value chacha_open(napi_env env, napi_callback_info info) { return chacha_open_args(env, info, false); }
static napi_value chacha_open_split(napi_env env, napi_callback_info info) { return chacha_open_args(env, info, true); }

bool register_chacha(napi_env env, napi_value exports) {
  return export_fn(env, exports, "chachaNew", chacha_new) && export_fn(env, exports, "chachaLength", chacha_length) &&
         export_fn(env, exports, "chachaSeal", chacha_seal) && export_fn(env, exports, "chachaOpen", chacha_open) &&
         export_fn(env, exports, "chachaOpenSplit", chacha_open_split);
}
