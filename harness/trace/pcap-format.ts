/**
 * Classic libpcap file format constants (https://wiki.wireshark.org/Development/LibpcapFileFormat,
 * draft-ietf-opsawg-pcap §4–§5) and link-layer header type numbers (https://www.tcpdump.org/linktypes.html).
 */

/** Microsecond-resolution magic; written in the writer's native order, so its byte order tells readers ours. */
export const PCAP_MAGIC_US = 0xa1b2c3d4;
/** Nanosecond-resolution magic (same layout, fraction field in ns). */
export const PCAP_MAGIC_NS = 0xa1b23c4d;
/** pcapng Section Header Block type: not classic pcap, recognised only to say so. */
export const PCAPNG_MAGIC = 0x0a0d0d0a;

export const GLOBAL_HEADER_LEN = 24;
export const RECORD_HEADER_LEN = 16;

export const LinkType = {
  NULL: 0, // BSD loopback: 4-byte address family in the capturing host's byte order
  ETHERNET: 1,
  RAW: 101, // no link header: the packet starts with an IPv4 or IPv6 header
  LOOP: 108, // OpenBSD loopback: 4-byte address family, big-endian
  LINUX_SLL: 113, // Linux "cooked" capture v1 (16-byte header), e.g. `tcpdump -i any`
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276, // Linux cooked v2 (20-byte header)
} as const;
export type LinkType = (typeof LinkType)[keyof typeof LinkType];

export function linkTypeName(n: number): string {
  for (const [k, v] of Object.entries(LinkType)) if (v === n) return k;
  return `unknown(${n})`;
}

export interface GlobalHeaderFields {
  readonly linkType: number;
  readonly snaplen: number;
}

/** The 24-byte global header, little-endian, version 2.4, microsecond timestamps. */
export function encodeGlobalHeader(h: GlobalHeaderFields): Uint8Array {
  const b = new Uint8Array(GLOBAL_HEADER_LEN);
  const v = new DataView(b.buffer);
  v.setUint32(0, PCAP_MAGIC_US, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setInt32(8, 0, true); // thiszone: always 0 (timestamps are UTC)
  v.setUint32(12, 0, true); // sigfigs: always 0
  v.setUint32(16, h.snaplen, true);
  v.setUint32(20, h.linkType, true);
  return b;
}

/** Writes a 16-byte record header at `at` (little-endian, microseconds). */
export function writeRecordHeader(v: DataView, at: number, timeMs: number, capLen: number, origLen: number): void {
  const us = Math.max(0, Math.round(timeMs * 1000));
  v.setUint32(at, Math.floor(us / 1e6), true);
  v.setUint32(at + 4, us % 1e6, true);
  v.setUint32(at + 8, capLen, true);
  v.setUint32(at + 12, origLen, true);
}
