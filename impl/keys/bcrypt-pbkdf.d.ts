// Types for the CommonJS package 'bcrypt-pbkdf' (a port of OpenBSD bcrypt_pbkdf(3)); it ships none.
declare module 'bcrypt-pbkdf' {
  const bcryptPbkdf: {
    /** Fills `key[0..keylen)`; returns 0, or -1 for invalid arguments (empty pass/salt, keylen > 1024, salt > 1 MiB). */
    pbkdf(pass: Uint8Array, passlen: number, salt: Uint8Array, saltlen: number, key: Uint8Array, keylen: number, rounds: number): number;
  };
  export = bcryptPbkdf;
}
