{
  # Optional native fast path for SSH packet protection (native/). Built at install by native/build.mjs;
  # when it cannot be built, impl/native falls back to node:crypto. OpenSSL symbols come from the node binary.
  "targets": [
    {
      "target_name": "ssh_harness_native",
      "sources": [
        "native/src/addon.c",
        "native/src/gcm.c",
        "native/src/chacha.c",
        "native/src/ctr-hmac.c",
        "native/src/hmac.c",
        "native/src/checksum.c",
        "native/src/mlkem.c"
      ],
      "cflags": ["-O2", "-Wall", "-Wextra", "-std=c11"],
      "defines": ["OPENSSL_API_COMPAT=30000"],
      # resolve every OpenSSL/N-API symbol at load: a node without them fails to load the addon (and the
      # loader falls back) instead of aborting on the first call
      "ldflags": ["-Wl,-z,now"]
    }
  ]
}
