/*
 * aes128/192/256-ctr (RFC 4344 §4) with an HMAC (RFC 2104; RFC 6668 §2 for SHA-2), one context set per
 * direction. The CTR keystream continues from packet to packet; the HMAC key is set once and each packet
 * starts from a copy of the precomputed keyed state (hmac.c): nothing is allocated per packet.
 * - MAC-then-encrypt (RFC 4253 §6.4): mac = HMAC(seq || plaintext packet), the whole packet is encrypted, and
 *   the reader decrypts one block first to learn packet_length;
 * - encrypt-then-MAC (OpenSSH PROTOCOL §1.5): packet_length in clear, mac = HMAC(seq || length || ciphertext),
 *   verified before anything is decrypted.
 * MACs are compared with CRYPTO_memcmp.
 */
#include "common.h"
#include "hmac.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 16
#define MAX_MAC HMAC_MAX_OUT

typedef struct {
  EVP_CIPHER_CTX *ctr;
  hmac_t hmac;
  size_t mac_len;
  bool etm;
  /* MtE reader: the first block, decrypted by ctrHmacLength, waiting for ctrHmacOpen */
  bool have_first;
  uint8_t first[BLOCK];
} ctr_hmac_t;

static const napi_type_tag CTR_HMAC_TAG = {0x737368637472686dULL, 0x4d41430102030405ULL};

static void ctr_hmac_free(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  ctr_hmac_t *c = data;
  EVP_CIPHER_CTX_free(c->ctr);
  OPENSSL_cleanse(c, sizeof *c);
  free(c);
}

/* HMAC(seq || a || b) into `mac` (full digest length; the caller uses mac_len bytes, RFC 4253 §6.4 truncation). */
static bool hmac3(ctr_hmac_t *c, uint32_t seq, const uint8_t *a, size_t an, const uint8_t *b, size_t bn, uint8_t mac[MAX_MAC]) {
  uint8_t s[4];
  store_be32(s, seq);
  hmac_start(&c->hmac);
  return hmac_update(&c->hmac, s, 4) && hmac_update(&c->hmac, a, an) && hmac_update(&c->hmac, b, bn) && hmac_finish(&c->hmac, mac);
}

static bool ctr(ctr_hmac_t *c, uint8_t *out, const uint8_t *in, size_t n) {
  int len = 0;
  return n == 0 || EVP_CipherUpdate(c->ctr, out, &len, in, (int)n) == 1;
}

/* ctrHmacNew(key: 16|24|32 bytes, iv: 16 bytes, digest: 'SHA1'|'SHA256'|'SHA512', macKey, macLen, etm) */
static napi_value ctr_hmac_new(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  bytes_t key, iv, mac_key;
  uint32_t mac_len;
  bool etm;
  char digest[16] = {0};
  size_t digest_len = 0;
  if (!get_args(env, info, 6, argv) || !arg_bytes(env, argv[0], &key, "key") || !arg_bytes(env, argv[1], &iv, "iv"))
    return NULL;
  if (napi_get_value_string_utf8(env, argv[2], digest, sizeof digest, &digest_len) != napi_ok) {
    napi_throw_type_error(env, NULL, "digest: expected a string");
    return NULL;
  }
  if (!arg_bytes(env, argv[3], &mac_key, "macKey") || !arg_u32(env, argv[4], &mac_len, "macLen") || !arg_bool(env, argv[5], &etm, "etm"))
    return NULL;
  const EVP_CIPHER *cipher = key.n == 16 ? EVP_aes_128_ctr() : key.n == 24 ? EVP_aes_192_ctr() : key.n == 32 ? EVP_aes_256_ctr() : NULL;
  size_t digest_size = strcmp(digest, "SHA1") == 0 ? 20 : strcmp(digest, "SHA256") == 0 ? 32 : strcmp(digest, "SHA512") == 0 ? 64 : 0;
  if (cipher == NULL) return throw_range(env, "AES-CTR key must be 16, 24 or 32 bytes");
  if (iv.n != BLOCK) return throw_range(env, "AES-CTR iv must be 16 bytes");
  if (digest_size == 0) return throw_range(env, "digest must be SHA1, SHA256 or SHA512");
  if (mac_len == 0 || mac_len > digest_size || mac_key.n == 0) return throw_range(env, "bad macLen or empty macKey");
  ctr_hmac_t *c = calloc(1, sizeof *c);
  if (c == NULL) return throw_error(env, "out of memory");
  c->mac_len = mac_len;
  c->etm = etm;
  c->ctr = EVP_CIPHER_CTX_new();
  if (c->ctr == NULL || EVP_CipherInit_ex(c->ctr, cipher, NULL, key.p, iv.p, 1) != 1 ||
      !hmac_init(&c->hmac, digest, mac_key.p, mac_key.n) || c->hmac.out_len != digest_size) {
    ctr_hmac_free(env, c, NULL);
    return throw_error(env, "aes-ctr/hmac: OpenSSL context setup failed");
  }
  return make_ctx(env, c, ctr_hmac_free, &CTR_HMAC_TAG);
}

/* ctrHmacSeal(ctx, seq, packet, out): out.length = packet.length + macLen; out may be packet's memory. */
static napi_value ctr_hmac_seal(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  bytes_t in, out;
  uint32_t seq;
  if (!get_args(env, info, 4, argv)) return NULL;
  ctr_hmac_t *c = arg_ctx(env, argv[0], &CTR_HMAC_TAG, "ctx");
  if (c == NULL || !arg_u32(env, argv[1], &seq, "seq") || !arg_bytes(env, argv[2], &in, "packet") || !arg_bytes(env, argv[3], &out, "out"))
    return NULL;
  if (in.n < 4 || out.n != in.n + c->mac_len) return throw_range(env, "ctrHmacSeal: need packet.length >= 4 and out.length = packet.length + macLen");
  if (!check_alias(env, &in, 0, &out)) return NULL;
  size_t n = in.n;
  uint8_t mac[MAX_MAC];
  bool ok;
  if (c->etm) {
    uint8_t len4[4];
    memcpy(len4, in.p, 4);
    memcpy(out.p, len4, 4);
    ok = ctr(c, out.p + 4, in.p + 4, n - 4) && hmac3(c, seq, out.p, n, NULL, 0, mac);
  } else {
    ok = hmac3(c, seq, in.p, n, NULL, 0, mac) && ctr(c, out.p, in.p, n);
  }
  memcpy(out.p + n, mac, c->mac_len);
  OPENSSL_cleanse(mac, sizeof mac);
  return js_int(env, ok ? SEAL_OK : CRYPTO_FAILED);
}

/* ctrHmacLength(ctx, seq, header): MtE decrypts (and keeps) the first block; EtM reads the clear length. */
static napi_value ctr_hmac_length(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  bytes_t in;
  uint32_t seq;
  if (!get_args(env, info, 3, argv)) return NULL;
  ctr_hmac_t *c = arg_ctx(env, argv[0], &CTR_HMAC_TAG, "ctx");
  if (c == NULL || !arg_u32(env, argv[1], &seq, "seq") || !arg_bytes(env, argv[2], &in, "header")) return NULL;
  if (c->etm) {
    if (in.n < 4) return throw_range(env, "ctrHmacLength: header needs 4 bytes");
    return js_u32(env, load_be32(in.p));
  }
  if (in.n < BLOCK) return throw_range(env, "ctrHmacLength: header needs one block");
  uint8_t block[BLOCK];
  memcpy(block, in.p, BLOCK);
  if (!ctr(c, c->first, block, BLOCK)) return throw_error(env, "aes-ctr: OpenSSL failed");
  c->have_first = true;
  return js_u32(env, load_be32(c->first));
}

/* CTR over wire[off, off + n) into out, in as many pieces as the wire has there. */
static bool ctr_wire(ctr_hmac_t *c, uint8_t *out, const wire_t *w, size_t off, size_t n) {
  bytes_t runs[2];
  wire_runs(w, off, n, runs);
  return ctr(c, out, runs[0].p, runs[0].n) && ctr(c, out + runs[0].n, runs[1].p, runs[1].n);
}

/* Opens `w` into `out` (wire length - 4 - macLen bytes: wire + 4 or a separate buffer). */
static int ctr_hmac_open_wire(ctr_hmac_t *c, uint32_t seq, const wire_t *w, uint8_t *out, bool had_first) {
  size_t end = wire_len(w) - c->mac_len;
  uint8_t mac[MAX_MAC], expected[MAX_MAC];
  wire_copy(w, end, c->mac_len, expected);
  if (c->etm) {
    /* OpenSSH PROTOCOL §1.5: verify before decrypting */
    bytes_t runs[2];
    wire_runs(w, 0, end, runs);
    if (!hmac3(c, seq, runs[0].p, runs[0].n, runs[1].p, runs[1].n, mac)) return CRYPTO_FAILED;
    if (CRYPTO_memcmp(mac, expected, c->mac_len) != 0) return OPEN_BAD_MAC;
    if ((end - 4) % BLOCK != 0) return OPEN_MISALIGNED;
    return ctr_wire(c, out, w, 4, end - 4) ? SEAL_OK : CRYPTO_FAILED;
  }
  /* the length promised aligned packets of at least one block; anything else cannot be decrypted in step */
  if (!had_first || end < BLOCK || end % BLOCK != 0) return OPEN_MISALIGNED;
  if (!ctr_wire(c, out + BLOCK - 4, w, BLOCK, end - BLOCK)) return CRYPTO_FAILED;
  memcpy(out, c->first + 4, BLOCK - 4);
  /* RFC 4253 §6.4: mac = MAC(key, seq || unencrypted packet), packet_length included */
  if (!hmac3(c, seq, c->first, 4, out, end - 4, mac)) return CRYPTO_FAILED;
  if (CRYPTO_memcmp(mac, expected, c->mac_len) != 0) {
    OPENSSL_cleanse(out, end - 4);
    return OPEN_BAD_MAC;
  }
  return SEAL_OK;
}

/* ctrHmacOpen(ctx, seq, wire, out): out = plaintext after packet_length, out.length = wire.length - 4 - macLen (may
 * be wire + 4); ctrHmacOpenSplit(ctx, seq, a, b, out): the same for wire = a || b, out overlapping neither. */
static napi_value ctr_hmac_open_args(napi_env env, napi_callback_info info, bool split) {
  napi_value argv[5];
  wire_t w;
  bytes_t out;
  uint32_t seq;
  if (!get_args(env, info, split ? 5 : 4, argv)) return NULL;
  ctr_hmac_t *c = arg_ctx(env, argv[0], &CTR_HMAC_TAG, "ctx");
  if (c == NULL || !arg_u32(env, argv[1], &seq, "seq")) return NULL;
  /* the first block ctrHmacLength decrypted belongs to this packet only, whatever happens to it */
  bool had_first = c->have_first;
  c->have_first = false;
  int r = open_args(env, argv + 2, split, c->mac_len, &w, &out);
  if (r != SEAL_OK) return r < 0 ? NULL : js_int(env, r);
  return js_int(env, ctr_hmac_open_wire(c, seq, &w, out.p, had_first));
}

static napi_value ctr_hmac_open(napi_env env, napi_callback_info info) { return ctr_hmac_open_args(env, info, false); }
static napi_value ctr_hmac_open_split(napi_env env, napi_callback_info info) { return ctr_hmac_open_args(env, info, true); }

bool register_ctr_hmac(napi_env env, napi_value exports) {
  return export_fn(env, exports, "ctrHmacNew", ctr_hmac_new) && export_fn(env, exports, "ctrHmacSeal", ctr_hmac_seal) &&
         export_fn(env, exports, "ctrHmacLength", ctr_hmac_length) && export_fn(env, exports, "ctrHmacOpen", ctr_hmac_open) &&
         export_fn(env, exports, "ctrHmacOpenSplit", ctr_hmac_open_split);
}
