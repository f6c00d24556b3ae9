/**
 * Small arbitraries for the RFC 4251 §5 data types, valid and near-valid (boundary lengths, NUL and
 * non-ASCII in names, lying length prefixes, non-minimal mpints). Everything else is built from these.
 * Values are constructed valid-by-construction (no filter), per the fast-check docs' advice.
 */
import fc from 'fast-check';
import type { RawField } from '../value.js';
import { edgeAsciiArb, edgeBytesArb, edgeNameListArb, edgeUtf8Arb } from './edges.js';

/** uint32 values where parsers break: 0, 1, sign bit, max, and round buffer sizes. */
export const BOUNDARY_U32 = [0, 1, 2, 4, 5, 8, 16, 255, 256, 32767, 32768, 35000, 65535, 65536, 262144, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff] as const;

export const uint32Arb: fc.Arbitrary<number> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...BOUNDARY_U32) },
  { weight: 2, arbitrary: fc.nat({ max: 1 << 20 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffffffff }) },
);

export const uint64Arb: fc.Arbitrary<bigint> = fc.oneof(
  fc.constantFrom(0n, 1n, 0xffffffffn, 0x100000000n, 0x7fffffffffffffffn, 0xffffffffffffffffn),
  fc.bigInt({ min: 0n, max: 0xffffffffffffffffn }),
);

/** Bytes of a given size range; occasionally a large block (built by fill, cheap to generate and shrink). */
export function bytesArb(maxLength = 64): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.uint8Array({ maxLength }) },
    { weight: 1, arbitrary: edgeBytesArb },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(0, 1, 31, 32, 33, 255, 256, 4096, 32768, 32769, 65536), fc.integer({ min: 0, max: 255 }))
      .map(([n, b]) => new Uint8Array(n).fill(b)) },
  );
}

const NAME_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789-@.';
/** Well-formed algorithm-ish names (RFC 4251 §6: printable US-ASCII, no comma, ≤ 64 chars). */
export const algNameArb: fc.Arbitrary<string> = fc.string({ unit: fc.constantFrom(...NAME_CHARS), minLength: 1, maxLength: 64 });

/** Names that break the RFC 4251 §6 rules: empty, too long, NUL, comma, space, bytes > 0x7f, control chars. */
export const badNameArb: fc.Arbitrary<string> = fc.oneof(
  fc.constant(''),
  fc.constant('a'.repeat(65)),
  fc.constant('x'.repeat(4096)),
  fc.constantFrom('\0', 'ssh-rsa\0', ' ssh-rsa', 'ssh-rsa,', '\xff\xfe', '\r\n', '%s%s%n', '../../etc/passwd', 'ssh-ed25519 ', '\x1b[2J'),
  fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 24 }),
);

export function asciiArb(known: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: known.length > 0 ? 6 : 0, arbitrary: known.length > 0 ? fc.constantFrom(...known) : fc.constant('') },
    { weight: 2, arbitrary: algNameArb },
    { weight: 1, arbitrary: badNameArb },
    { weight: 1, arbitrary: edgeAsciiArb },
  );
}

/** UTF-8 text, including what terminals and loggers choke on (RFC 4251 §5: ISO-10646 UTF-8). */
export const utf8Arb: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 32 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 16 }) },
  { weight: 1, arbitrary: edgeUtf8Arb },
  { weight: 1, arbitrary: fc.constantFrom('', '\0', 'a\0b', '\u202e', '\ufeff', '\u{1F600}', '\x1b]0;pwned\x07', '%n%n%n', 'é'.repeat(1000), 'A'.repeat(70000)) },
);

/** Names for the huge-count lists: made once, sliced per case (building up to 3000 strings each time was 4 % of a campaign's CPU). */
const MANY_NAMES: readonly string[] = Array.from({ length: 3000 }, (_, i) => `n${i}`);

/** A name-list from `known` (any order, any subset) or names nobody supports. */
export function nameListArb(known: readonly string[]): fc.Arbitrary<string[]> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.shuffledSubarray([...known], { minLength: 1 }) },
    { weight: 1, arbitrary: fc.array(algNameArb, { maxLength: 8 }) },
    { weight: 1, arbitrary: fc.tuple(fc.shuffledSubarray([...known], { minLength: 1 }), fc.array(algNameArb, { minLength: 1, maxLength: 4 })).map(([a, b]) => [...b, ...a]) },
    { weight: 1, arbitrary: fc.constant<string[]>([]) },
    { weight: 1, arbitrary: fc.nat({ max: MANY_NAMES.length }).map((n) => MANY_NAMES.slice(0, n)) },
    { weight: 1, arbitrary: edgeNameListArb },
  );
}

export const mpintArb: fc.Arbitrary<bigint> = fc.oneof(
  fc.constantFrom(0n, 1n, -1n, 2n, 127n, 128n, 255n, 256n, -128n, -129n),
  fc.bigInt({ min: -(1n << 64n), max: 1n << 64n }),
  fc.bigInt({ min: 1n << 2040n, max: 1n << 2048n }),
  fc.constant((1n << 8192n) + 1n),
);

// ───────────────────────────── near-valid raw encodings ─────────────────────────────

const u32be = (n: number): Uint8Array => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n >>> 0); return b; };
const cat = (...p: Uint8Array[]): Uint8Array => { const o = new Uint8Array(p.reduce((n, x) => n + x.length, 0)); let i = 0; for (const x of p) { o.set(x, i); i += x.length; } return o; };

/** A string field whose length prefix lies, or that is cut short: what bounded readers must survive. */
export const lyingStringArb: fc.Arbitrary<RawField> = fc.oneof(
  fc.tuple(fc.constantFrom(...BOUNDARY_U32), fc.uint8Array({ maxLength: 16 })).map(([n, b]) => ({ $raw: cat(u32be(n), b) })),
  fc.uint8Array({ maxLength: 3 }).map((b) => ({ $raw: b })),
  fc.constant({ $raw: u32be(0xffffffff) }),
);

/** mpints that are not minimal (RFC 4251 §5: "unnecessary leading bytes MUST NOT be included") or negative. */
export const badMpintArb: fc.Arbitrary<RawField> = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 8 }).map((b) => ({ $raw: cat(u32be(b.length + 1), Uint8Array.of(0), b) })),
  fc.constant({ $raw: cat(u32be(1), Uint8Array.of(0)) }),
  fc.uint8Array({ minLength: 1, maxLength: 33 }).map((b) => ({ $raw: cat(u32be(b.length), Uint8Array.of(0x80 | (b[0] ?? 0)), b.subarray(1)) })),
  fc.constant({ $raw: cat(u32be(2), Uint8Array.of(0xff, 0xff)) }),
);

/** Any field replaced by bytes of the wrong shape. */
export const wrongTypeArb: fc.Arbitrary<RawField> = fc.oneof(
  { weight: 2, arbitrary: lyingStringArb },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 9 }).map((b) => ({ $raw: b })) },
  { weight: 1, arbitrary: fc.constant({ $raw: new Uint8Array(0) }) },
);
