import { expect } from 'chai';
import { createHash } from 'node:crypto';
import {
  cipherAlgorithms, compressionAlgorithms, defaultAlgorithms, hashFor, kexAlgorithms, macAlgorithms, signatureAlgorithms,
} from './registry.js';
import { toHex } from './test-util.js';

describe('crypto/registry', () => {
  const registries = { kex: kexAlgorithms, hostKey: signatureAlgorithms, cipher: cipherAlgorithms, mac: macAlgorithms, compression: compressionAlgorithms };

  it('keys every entry by its own wire name, with a spec citation', () => {
    for (const reg of Object.values(registries)) {
      for (const [name, alg] of reg) {
        expect(alg.name).to.equal(name);
        expect(alg.spec, name).to.match(/RFC|OpenSSH|draft/);
      }
    }
  });

  it('defaults list only registered, non-legacy algorithms, modern ones first', () => {
    for (const [kind, names] of Object.entries(defaultAlgorithms) as [keyof typeof registries, readonly string[]][]) {
      expect(names.length, kind).to.be.greaterThan(0);
      for (const n of names) expect(registries[kind].get(n)?.legacy, `${kind} ${n}`).to.equal(false);
    }
    expect(defaultAlgorithms.kex[0]).to.match(/mlkem768x25519|curve25519/);
    expect(defaultAlgorithms.hostKey[0]).to.equal('ssh-ed25519');
    expect(defaultAlgorithms.compression[0]).to.equal('none');
    expect(defaultAlgorithms.hostKey).to.not.include('ssh-rsa');
    expect(defaultAlgorithms.kex).to.not.include('diffie-hellman-group1-sha1');
  });

  it('does not register a none cipher or MAC', () => {
    expect(cipherAlgorithms.has('none')).to.equal(false);
    expect(macAlgorithms.has('none')).to.equal(false);
    expect(compressionAlgorithms.get('none')?.compressor()).to.equal(null);
  });

  it('marks legacy algorithms', () => {
    for (const n of ['3des-cbc', 'aes128-cbc']) expect(cipherAlgorithms.get(n)?.legacy, n).to.equal(true);
    for (const n of ['hmac-md5', 'hmac-sha1-96']) expect(macAlgorithms.get(n)?.legacy, n).to.equal(true);
    for (const n of ['diffie-hellman-group1-sha1', 'diffie-hellman-group14-sha1']) expect(kexAlgorithms.get(n)?.legacy, n).to.equal(true);
    expect(signatureAlgorithms.get('ssh-rsa')?.legacy).to.equal(true);
  });

  it('hashFor hashes the concatenation of its parts', () => {
    const a = new TextEncoder().encode('ab');
    const b = new TextEncoder().encode('c');
    for (const h of ['sha1', 'sha256', 'sha384', 'sha512', 'md5'] as const) {
      expect(toHex(hashFor(h)(a, b))).to.equal(createHash(h).update('abc').digest('hex'));
    }
    expect(toHex(hashFor('sha256')())).to.equal('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});
