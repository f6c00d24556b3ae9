/*
 * HMAC (RFC 2104) over OpenSSL's SHA-1/SHA-2 block functions with the keyed inner and outer states computed
 * once: a packet's MAC starts from a struct copy of the inner state, so nothing is allocated per packet
 * (EVP_MAC's HMAC re-init duplicates its digest contexts on the heap every time in OpenSSL 3.0).
 */
#ifndef SSH_NATIVE_HMAC_H
#define SSH_NATIVE_HMAC_H

#define OPENSSL_SUPPRESS_DEPRECATED /* the SHA*_Init/Update/Final block API: deprecated in 3.0, still exported */
#include <openssl/sha.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HMAC_MAX_OUT 64

typedef union {
  SHA_CTX sha1;
  SHA256_CTX sha256;
  SHA512_CTX sha512;
} md_state;

typedef struct {
  int (*update)(md_state *s, const void *p, size_t n);
  int (*final)(uint8_t *out, md_state *s);
  md_state inner, outer, work;
  size_t out_len;
} hmac_t;

/* digest: "SHA1", "SHA256" or "SHA512". False for an unknown digest. */
bool hmac_init(hmac_t *h, const char *digest, const uint8_t *key, size_t key_len);

static inline void hmac_start(hmac_t *h) { h->work = h->inner; }
static inline bool hmac_update(hmac_t *h, const uint8_t *p, size_t n) { return n == 0 || h->update(&h->work, p, n) == 1; }
/* Writes out_len bytes (the caller truncates, RFC 4253 §6.4 *-96 MACs). */
bool hmac_finish(hmac_t *h, uint8_t out[HMAC_MAX_OUT]);

#endif
