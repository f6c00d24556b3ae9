// Bad key files and lines: every failure is a typed KeyFormatError (never a crash, a hang or another error).
import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { Reader, Writer } from '../wire/index.js';
import { armor, findArmor } from './armor.js';
import {
  KeyFormatError, WrongPassphraseError, generateKey, parseAuthorizedKeys, parseKnownHosts, parsePrivateKey, parsePublicKeyLine,
  writeOpenSSHPrivateKey, writePemPrivateKey, type KeyFormatErrorKind,
} from './index.js';

const MAGIC = 'openssh-key-v1\0';

interface Parts {
  cipher: string; kdf: string; kdfOptions: Uint8Array; nKeys: number; pub: Uint8Array; section: Uint8Array; tail?: Uint8Array;
}

/** Splits an openssh-key-v1 file into its outer fields (PROTOCOL.key) so a test can change one. */
function split(text: string): Parts {
  const r = new Reader(findArmor(text)!.body.subarray(MAGIC.length));
  return { cipher: r.ascii(), kdf: r.ascii(), kdfOptions: r.string(), nKeys: r.uint32(), pub: r.string(), section: r.string(), tail: r.rest() };
}

function join(p: Parts): string {
  const w = new Writer().raw(new TextEncoder().encode(MAGIC)).string(p.cipher).string(p.kdf).string(p.kdfOptions).uint32(p.nKeys).string(p.pub).string(p.section);
  if (p.tail) w.raw(p.tail);
  return armor('OPENSSH PRIVATE KEY', w.finish(), 70);
}

/** Runs `f`; passes when it returns or throws a KeyFormatError (of `kind`, when given). */
function typedOrOk(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof KeyFormatError)) throw new Error(`expected KeyFormatError, got ${String(e)}`);
  }
}

function expectKind(f: () => unknown, kind: KeyFormatErrorKind, message?: RegExp): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err, 'should throw').to.be.instanceOf(KeyFormatError);
  expect((err as KeyFormatError).kind, (err as Error).message).to.equal(kind);
  expect((err as KeyFormatError).code).to.equal('DECODE');
  if (message) expect((err as Error).message).to.match(message);
}

describe('impl/keys bad input', () => {
  const ed = generateKey('ed25519').privateKey;
  const ec = generateKey('ecdsa-p256').privateKey;
  const rsa = generateKey('rsa', 2048).privateKey;
  const plain = writeOpenSSHPrivateKey(ed, { comment: 'c' });
  const enc = writeOpenSSHPrivateKey(ed, { comment: 'c', passphrase: 'pw', rounds: 1 });

  describe('openssh-key-v1 structure', () => {
    it('every truncation of the binary body is a typed error', () => {
      const body = findArmor(plain)!.body;
      for (let n = 0; n < body.length; n++) {
        expectKind(() => parsePrivateKey(armor('OPENSSH PRIVATE KEY', body.subarray(0, n), 70)), n < MAGIC.length ? 'malformed' : 'truncated');
      }
      const encBody = findArmor(enc)!.body;
      for (let n = MAGIC.length; n < encBody.length; n++) expectKind(() => parsePrivateKey(armor('OPENSSH PRIVATE KEY', encBody.subarray(0, n), 70), 'pw'), 'truncated');
    });

    it('every single-bit flip parses or fails typed; check-int and padding flips are caught', () => {
      const body = findArmor(plain)!.body;
      for (let i = 0; i < body.length; i++) {
        const b = body.slice();
        b[i]! ^= 1 << (i % 8);
        typedOrOk(() => parsePrivateKey(b));
      }
      // the check-ints of an unencrypted key sit at the start of the private section
      const p = split(plain);
      p.section = p.section.slice();
      p.section[0]! ^= 0xff;
      expectKind(() => parsePrivateKey(join(p)), 'malformed', /check-ints/);
      const q = split(plain);
      q.section = q.section.slice();
      q.section[q.section.length - 1]! ^= 0xff;
      expectKind(() => parsePrivateKey(join(q)), 'malformed', /padding/);
    });

    it('a flipped ciphertext bit in an encrypted key reads as a wrong passphrase or a typed error', () => {
      const p = split(enc);
      for (const i of [0, 3, 7, 20, p.section.length - 1]) {
        const q = { ...p, section: p.section.slice() };
        q.section[i]! ^= 0x10;
        typedOrOk(() => parsePrivateKey(join(q), 'pw'));
      }
      const q = { ...p, section: p.section.slice() };
      q.section[1]! ^= 0x10; // inside check-int 1: the two differ after decryption
      expect(() => parsePrivateKey(join(q), 'pw')).to.throw(WrongPassphraseError);
    });

    it('bounds the bcrypt rounds before running the KDF, and refuses zero', () => {
      const p = split(enc);
      const salt = new Reader(p.kdfOptions).string();
      for (const rounds of [0, 1025, 5000, 0xffffffff]) {
        expectKind(() => parsePrivateKey(join({ ...p, kdfOptions: new Writer().string(salt).uint32(rounds).finish() }), 'pw'), 'limit', /bcrypt rounds/);
      }
      // the bound is a parameter: 3 rounds pass the default bound, then the KDF runs and the check-ints differ
      const three = join({ ...p, kdfOptions: new Writer().string(salt).uint32(3).finish() });
      expectKind(() => parsePrivateKey(three, 'pw', { maxKdfRounds: 2 }), 'limit', /outside \[1, 2\]/);
      expectKind(() => parsePrivateKey(three, 'pw'), 'wrong-passphrase');
    });

    it('names unsupported ciphers and KDFs, and inconsistent cipher/kdf pairs', () => {
      const p = split(enc);
      expectKind(() => parsePrivateKey(join({ ...p, cipher: 'twofish256-cbc' }), 'pw'), 'unsupported', /cipher/);
      expectKind(() => parsePrivateKey(join({ ...p, cipher: '3des-cbc' }), 'pw'), 'unsupported', /cipher/);
      expectKind(() => parsePrivateKey(join({ ...p, kdf: 'scrypt' }), 'pw'), 'unsupported', /kdf/);
      expectKind(() => parsePrivateKey(join({ ...p, cipher: 'none' }), 'pw'), 'malformed', /cipher none with kdf/);
      expectKind(() => parsePrivateKey(join({ ...p, kdf: 'none', kdfOptions: new Uint8Array(0) }), 'pw'), 'unsupported', /kdf/);
      expectKind(() => parsePrivateKey(join({ ...p, kdfOptions: new Writer().string(new Uint8Array(0)).uint32(2).finish() }), 'pw'), 'malformed', /salt/);
      expectKind(() => parsePrivateKey(join({ ...p, kdfOptions: new Writer().string(new Uint8Array(16)).uint32(2).uint32(1).finish() }), 'pw'), 'malformed', /trailing/);
      expectKind(() => parsePrivateKey(join({ ...split(plain), nKeys: 2 })), 'unsupported', /2 keys/);
      expectKind(() => parsePrivateKey(join({ ...split(plain), nKeys: 0 })), 'unsupported', /0 keys/);
      expectKind(() => parsePrivateKey(join({ ...split(plain), tail: new Uint8Array([0]) })), 'malformed', /trailing/);
      expectKind(() => parsePrivateKey(join({ ...split(plain), section: split(plain).section.subarray(0, 9) })), 'malformed', /multiple of 8/);
    });

    it('refuses huge announced lengths without allocating them', () => {
      const body = findArmor(plain)!.body.slice();
      new DataView(body.buffer).setUint32(MAGIC.length, 0xfffffff0); // ciphername length
      expectKind(() => parsePrivateKey(body), 'limit', /exceeds limit/);
      const big = new Writer().raw(new TextEncoder().encode(MAGIC)).string('none').string('none').string('').uint32(1).uint32(60000).finish();
      expectKind(() => parsePrivateKey(big), 'truncated');
    });

    it('needs a passphrase for an encrypted key; an empty one does not count', () => {
      expectKind(() => parsePrivateKey(enc), 'passphrase-required');
      expectKind(() => parsePrivateKey(enc, ''), 'passphrase-required');
      expect(() => parsePrivateKey(enc, 'nope')).to.throw(WrongPassphraseError);
      expect(parsePrivateKey(plain, 'ignored for unencrypted keys').type).to.equal('ssh-ed25519');
    });

    it('refuses a header public key that is not the private key’s', () => {
      const other = split(writeOpenSSHPrivateKey(generateKey('ed25519').privateKey));
      expectKind(() => parsePrivateKey(join({ ...split(plain), pub: other.pub })), 'malformed', /does not match/);
    });

    it('refuses inconsistent private fields (ed25519, ECDSA, RSA)', () => {
      // Rebuild a private section with one field changed; the check-ints and padding stay valid.
      const rebuild = (text: string, edit: (r: Reader, w: Writer) => void): string => {
        const p = split(text);
        const r = new Reader(p.section);
        const w = new Writer().uint32(r.uint32()).uint32(r.uint32());
        edit(r, w);
        w.string(r.string()); // comment
        for (let i = 1; w.length % 8 !== 0; i++) w.byte(i);
        return join({ ...p, section: w.finish() });
      };
      const edPlain = writeOpenSSHPrivateKey(ed);
      expectKind(() => parsePrivateKey(rebuild(edPlain, (r, w) => {
        w.string(r.string()).string(r.string());
        const sk = r.string().slice();
        sk[0]! ^= 1; // a different seed: its public half differs from the stored one
        w.string(sk);
      })), 'malformed', /seed does not match/);
      expectKind(() => parsePrivateKey(rebuild(edPlain, (r, w) => {
        w.string(r.string()).string(r.string());
        const sk = r.string().slice();
        sk[40]! ^= 1;
        w.string(sk);
      })), 'malformed', /inconsistent ed25519/);

      const ecPlain = writeOpenSSHPrivateKey(ec);
      expectKind(() => parsePrivateKey(rebuild(ecPlain, (r, w) => {
        w.string(r.string()).string(r.string()).string(r.string());
        const d = r.string().slice();
        d[d.length - 1]! ^= 1;
        w.string(d);
      })), 'malformed', /does not match its public point/);
      expectKind(() => parsePrivateKey(rebuild(ecPlain, (r, w) => {
        w.string(r.string()).string(r.string()).string(r.string());
        r.string();
        w.string(new Uint8Array(0)); // d = 0
      })), 'malformed', /out of range/);
      expectKind(() => parsePrivateKey(rebuild(ecPlain, (r, w) => {
        w.string(r.string()).string('nistp384').string(r.string()).string(r.string());
        r.string();
      })), 'malformed', /curve/);

      const rsaPlain = writeOpenSSHPrivateKey(rsa);
      expectKind(() => parsePrivateKey(rebuild(rsaPlain, (r, w) => {
        w.string(r.string());
        const [n, e, d, iqmp, p, q] = [r.mpint(), r.mpint(), r.mpint(), r.mpint(), r.mpint(), r.mpint()];
        w.mpint(n).mpint(e).mpint(d + 2n).mpint(iqmp).mpint(p).mpint(q);
      })), 'malformed', /inconsistent RSA/);
      expectKind(() => parsePrivateKey(rebuild(rsaPlain, (r, w) => {
        w.string(r.string());
        const [n, e, d, iqmp, p, q] = [r.mpint(), r.mpint(), r.mpint(), r.mpint(), r.mpint(), r.mpint()];
        w.mpint(n).mpint(e).mpint(d).mpint(iqmp).mpint(q).mpint(p); // iqmp no longer matches
      })), 'malformed', /inconsistent RSA/);
      expectKind(() => parsePrivateKey(rebuild(edPlain, (r, w) => {
        r.string();
        w.string('ssh-dss').string(r.string()).string(r.string());
      })), 'unsupported', /ssh-dss/);
    });

    it('structure-aware fuzz: random outer fields never escape as untyped errors', () => {
      const p = split(enc);
      const name = fc.oneof(fc.constantFrom('none', 'bcrypt', 'aes256-ctr', 'aes256-gcm@openssh.com', 'aes128-cbc', ''), fc.string({ maxLength: 20 }));
      fc.assert(fc.property(name, name, fc.uint8Array({ maxLength: 40 }), fc.nat(3), fc.oneof(fc.constant(p.pub), fc.uint8Array({ maxLength: 80 })), fc.uint8Array({ maxLength: 96 }), (cipher, kdf, kdfOptions, nKeys, pub, section) => {
        typedOrOk(() => parsePrivateKey(join({ cipher, kdf, kdfOptions, nKeys, pub, section }), 'pw', { maxKdfRounds: 2 }));
      }), { numRuns: 300, seed: 42 });
    });
  });

  describe('PEM, DER and armor', () => {
    it('refuses garbage, missing END lines, bad base64 and other labels with typed errors', () => {
      expectKind(() => parsePrivateKey('hello'), 'malformed', /no "-----BEGIN/);
      expectKind(() => parsePrivateKey(''), 'malformed');
      expectKind(() => parsePrivateKey('-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n'), 'truncated', /END/);
      expectKind(() => parsePrivateKey('-----BEGIN OPENSSH PRIVATE KEY-----\nb3B!bn==\n-----END OPENSSH PRIVATE KEY-----'), 'malformed', /base64/);
      expectKind(() => parsePrivateKey('-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----'), 'malformed');
      expectKind(() => parsePrivateKey('-----BEGIN DSA PRIVATE KEY-----\nAAAA\n-----END DSA PRIVATE KEY-----'), 'unsupported');
      expectKind(() => parsePrivateKey('PuTTY-User-Key-File-3: ssh-ed25519\n'), 'unsupported', /PuTTY/);
      expectKind(() => parsePrivateKey(new Uint8Array([0x30, 0x82, 0xff, 0xff, 1, 2, 3])), 'malformed', /DER/);
      expectKind(() => parsePrivateKey('x'.repeat((1 << 20) + 1)), 'limit');
    });

    it('reads its own PEM output in every format, and DER', () => {
      expect(parsePrivateKey(writePemPrivateKey(rsa, { format: 'pkcs1' })).format).to.equal('pkcs1');
      expect(parsePrivateKey(writePemPrivateKey(ec, { format: 'sec1' })).format).to.equal('sec1');
      expect(parsePrivateKey(writePemPrivateKey(ed)).format).to.equal('pkcs8');
      expect(parsePrivateKey(writePemPrivateKey(rsa, { format: 'pkcs1', passphrase: 'pw' }), 'pw')).to.include({ format: 'pkcs1', encrypted: true });
      expect(parsePrivateKey(new Uint8Array(ec.export({ format: 'der', type: 'pkcs8' })))).to.include({ format: 'pkcs8', type: 'ecdsa-sha2-nistp256' });
      expect(parsePrivateKey(new Uint8Array(rsa.export({ format: 'der', type: 'pkcs1' })))).to.include({ format: 'pkcs1', type: 'ssh-rsa' });
      expect(parsePrivateKey(new Uint8Array(ec.export({ format: 'der', type: 'sec1' })))).to.include({ format: 'sec1' });
      const encDer = new Uint8Array(ed.export({ format: 'der', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'pw' }));
      expect(parsePrivateKey(encDer, 'pw').type).to.equal('ssh-ed25519');
      expectKind(() => parsePrivateKey(encDer), 'passphrase-required');
      expectKind(() => parsePrivateKey(encDer, 'wrong'), 'wrong-passphrase');
      expect(() => writePemPrivateKey(ed, { format: 'pkcs1' })).to.throw(KeyFormatError);
      expect(() => writePemPrivateKey(rsa, { format: 'sec1' })).to.throw(KeyFormatError);
    });

    it('refuses key types SSH does not use here (X25519, P-224, small RSA)', () => {
      const x25519 = generateKeyPairSync('x25519').privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
      expectKind(() => parsePrivateKey(x25519), 'unsupported');
      const p224 = generateKeyPairSync('ec', { namedCurve: 'secp224r1' }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
      expectKind(() => parsePrivateKey(p224), 'unsupported', /curve/);
      const small = generateKeyPairSync('rsa', { modulusLength: 768 }).privateKey.export({ format: 'pem', type: 'pkcs1' }) as string;
      expectKind(() => parsePrivateKey(small), 'malformed', /768 bits/);
    });

    it('random text and bytes never escape as untyped errors', () => {
      fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }),
        fc.string({ maxLength: 200 }).map((s) => `-----BEGIN PRIVATE KEY-----\n${Buffer.from(s).toString('base64')}\n-----END PRIVATE KEY-----\n`),
        fc.uint8Array({ maxLength: 200 }).map((b) => armor('OPENSSH PRIVATE KEY', new Uint8Array([...new TextEncoder().encode(MAGIC), ...b]), 70))),
      (input) => typedOrOk(() => parsePrivateKey(input, 'pw', { maxKdfRounds: 2 }))), { numRuns: 400, seed: 7 });
    });
  });

  describe('line formats', () => {
    it('public key lines, authorized_keys and known_hosts never throw untyped on random input', () => {
      const b64 = fc.uint8Array({ maxLength: 120 }).map((b) => Buffer.from(b).toString('base64'));
      const piece = fc.oneof(fc.constantFrom('ssh-ed25519', 'ssh-rsa', 'command="x\\"y"', 'from="10.0.0.0/8"', '@revoked', '|1|', '[h]:22', '*', '!', ',', ' ', '\t', '\n', '"', '#'), b64, fc.string({ maxLength: 12 }));
      fc.assert(fc.property(fc.array(piece, { maxLength: 12 }).map((a) => a.join('')), (text) => {
        typedOrOk(() => parsePublicKeyLine(text));
        const ak = parseAuthorizedKeys(text);
        const kh = parseKnownHosts(text);
        expect(ak.entries.length + ak.problems.length).to.be.at.most(text.split('\n').length);
        expect(kh.entries.length + kh.problems.length).to.be.at.most(text.split('\n').length);
      }), { numRuns: 500, seed: 11 });
    });
  });
});
