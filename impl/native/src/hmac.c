#include "hmac.h"

#include <openssl/crypto.h>
#include <string.h>

static int sha1_init(md_state *s) { return SHA1_Init(&s->sha1); }
static int sha1_update(md_state *s, const void *p, size_t n) { return SHA1_Update(&s->sha1, p, n); }
static int sha1_final(uint8_t *out, md_state *s) { return SHA1_Final(out, &s->sha1); }
static int sha256_init(md_state *s) { return SHA256_Init(&s->sha256); }
static int sha256_update(md_state *s, const void *p, size_t n) { return SHA256_Update(&s->sha256, p, n); }
static int sha256_final(uint8_t *out, md_state *s) { return SHA256_Final(out, &s->sha256); }
static int sha512_init(md_state *s) { return SHA512_Init(&s->sha512); }
static int sha512_update(md_state *s, const void *p, size_t n) { return SHA512_Update(&s->sha512, p, n); }
static int sha512_final(uint8_t *out, md_state *s) { return SHA512_Final(out, &s->sha512); }

bool hmac_init(hmac_t *h, const char *digest, const uint8_t *key, size_t key_len) {
  int (*init)(md_state *);
  size_t block;
  if (strcmp(digest, "SHA1") == 0) {
    init = sha1_init, h->update = sha1_update, h->final = sha1_final, h->out_len = 20, block = 64;
  } else if (strcmp(digest, "SHA256") == 0) {
    init = sha256_init, h->update = sha256_update, h->final = sha256_final, h->out_len = 32, block = 64;
  } else if (strcmp(digest, "SHA512") == 0) {
    init = sha512_init, h->update = sha512_update, h->final = sha512_final, h->out_len = 64, block = 128;
  } else {
    return false;
  }
  /* RFC 2104 §2: a key longer than the block is hashed first; then zero-padded to the block */
  uint8_t k0[128] = {0}, pad[128];
  bool ok = true;
  if (key_len > block) {
    ok = init(&h->work) == 1 && h->update(&h->work, key, key_len) == 1 && h->final(k0, &h->work) == 1;
  } else {
    memcpy(k0, key, key_len);
  }
  for (size_t i = 0; i < block; i++) pad[i] = k0[i] ^ 0x36;
  ok = ok && init(&h->inner) == 1 && h->update(&h->inner, pad, block) == 1;
  for (size_t i = 0; i < block; i++) pad[i] = k0[i] ^ 0x5c;
  ok = ok && init(&h->outer) == 1 && h->update(&h->outer, pad, block) == 1;
  OPENSSL_cleanse(k0, sizeof k0);
  OPENSSL_cleanse(pad, sizeof pad);
  OPENSSL_cleanse(&h->work, sizeof h->work);
  return ok;
}

bool hmac_finish(hmac_t *h, uint8_t out[HMAC_MAX_OUT]) {
  uint8_t inner[HMAC_MAX_OUT];
  bool ok = h->final(inner, &h->work) == 1;
  h->work = h->outer;
  ok = ok && h->update(&h->work, inner, h->out_len) == 1 && h->final(out, &h->work) == 1;
  OPENSSL_cleanse(inner, sizeof inner);
  return ok;
}
