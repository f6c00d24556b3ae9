/**
 * Value-space edges: the lengths and integers where parsers break (length fields that overflow a 16-bit or
 * signed 32-bit counter, buffers sized to a power of two, the packet-size limits), offered by every string,
 * name-list and integer generator at a low weight so that ordinary cases stay small and fast.
 */
import fc from 'fast-check';

/** String and name-list lengths (bytes on the wire) that break parsers. */
export const EDGE_LENGTHS = [0, 1, 255, 256, 1024, 4096, 32768, 65535] as const;

/**
 * Packet limits a field can push a packet over: RFC 4253 §6.1 makes 35000 bytes the size every peer MUST
 * accept, and OpenSSH refuses packets over PACKET_MAX_SIZE (256 KiB). A field one byte longer puts its packet
 * just over each limit. Our packet writer frames any length (impl/transport/packet-writer.ts), so these are
 * sendable; the peer's reader must refuse the second with a disconnect, never with a crash or a hang.
 */
export const PACKET_LIMITS = [35000, 256 * 1024] as const;
export const OVER_LIMIT_LENGTHS: readonly number[] = PACKET_LIMITS.map((n) => n + 1);

/** Every length the string generators must reach. */
export const EDGE_STRING_LENGTHS: readonly number[] = [...EDGE_LENGTHS, ...OVER_LIMIT_LENGTHS];

/** uint32 values that break parsers: 0, 1, the signed maximum, the sign bit, the unsigned maximum. */
export const EDGE_U32 = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff] as const;

const lengthArb = fc.constantFrom(...EDGE_STRING_LENGTHS);

/** Bytes of exactly an edge length (one repeated byte: cheap to build, any value). */
export const edgeBytesArb: fc.Arbitrary<Uint8Array> = fc.tuple(lengthArb, fc.integer({ min: 0, max: 255 }))
  .map(([n, b]) => new Uint8Array(n).fill(b));

/** Printable US-ASCII text of exactly an edge length (RFC 4251 §6 names; empty at length 0). */
export const edgeAsciiArb: fc.Arbitrary<string> = fc.tuple(lengthArb, fc.constantFrom('a', 'Z', '0', '-', '@'))
  .map(([n, c]) => c.repeat(n));

/**
 * UTF-8 text of exactly an edge length in bytes (RFC 4251 §5 strings are counted in bytes): ASCII, or two-byte
 * characters with one ASCII byte to make up an odd length (a reader that counts characters gets it wrong).
 */
export const edgeUtf8Arb: fc.Arbitrary<string> = fc.tuple(lengthArb, fc.boolean())
  .map(([n, wide]) => (wide ? 'é'.repeat(n >> 1) + (n & 1 ? 'a' : '') : 'a'.repeat(n)));

/**
 * Name-lists whose comma-joined form is exactly an edge length (RFC 4251 §5), each name within the 64
 * characters RFC 4251 §6 allows: 64-character names, the last one shortened to fit.
 */
export function nameListOfLength(total: number): string[] {
  if (total === 0) return [];
  if (total <= 64) return ['n'.repeat(total)];
  const names: string[] = [];
  let left = total;
  while (left > 64) {
    // a name of 64 and its comma; never leave exactly one byte (that would be a trailing empty name)
    const take = left - 65 === 0 ? 63 : 64;
    names.push('n'.repeat(take));
    left -= take + 1;
  }
  names.push('n'.repeat(left));
  return names;
}

export const edgeNameListArb: fc.Arbitrary<string[]> = lengthArb.map(nameListOfLength);

export const edgeU32Arb: fc.Arbitrary<number> = fc.constantFrom(...EDGE_U32);

/**
 * Identification lines (RFC 4253 §4.2: at most 255 characters including CR LF) at the edge lengths, and the
 * lines a server may send before it (here sent by the client, which must not): the line's total length is the
 * edge, CR LF included.
 */
export const edgeVersionLineArb: fc.Arbitrary<Uint8Array> = fc.tuple(
  fc.constantFrom(...EDGE_LENGTHS.filter((n) => n >= 2), 254, 257),
  fc.constantFrom('SSH-2.0-', 'SSH-2.0-v ', '', 'SSH-1.99-'),
  fc.constantFrom('\r\n', '\n'),
).map(([n, prefix, eol]) => {
  const body = Math.max(0, n - prefix.length - eol.length);
  return Uint8Array.from(Buffer.from(prefix + 'v'.repeat(body) + eol, 'latin1'));
});

/** Identification lines that are empty or lack the protocol: what a version parser must refuse. */
export const oddVersionLineArb: fc.Arbitrary<Uint8Array> = fc.constantFrom(
  '\r\n', '\n', 'SSH-\r\n', 'SSH-2.0\r\n', 'SSH-2.0-\r\n', 'SSH-2.0- \r\n', 'SSH-2.0-a\0b\r\n', 'SSH-4294967296.0-x\r\n', 'SSH-2.0-x',
).map((s) => Uint8Array.from(Buffer.from(s, 'latin1')));
