/**
 * Captured frame → TCP segment: the link layers pcap files of SSH sessions come with (Ethernet with VLAN tags,
 * raw IP, Linux cooked v1/v2, BSD/OpenBSD loopback), IPv4 (RFC 791 §3.1) and IPv6 (RFC 8200 §3–4), TCP
 * (RFC 9293 §3.1). Every offset is checked against the captured length; nothing here throws on bad input.
 */
import { LinkType } from './pcap-format.js';

export interface TcpSegment {
  readonly ipVersion: 4 | 6;
  readonly src: string;
  readonly dst: string;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack: number;
  readonly flags: number;
  /** The captured part of the TCP payload. */
  readonly payload: Uint8Array;
  /** Payload bytes the IP header announced but the capture does not hold (snaplen cut). */
  readonly missing: number;
}

export type FrameResult =
  | { readonly kind: 'tcp'; readonly segment: TcpSegment }
  /** Not TCP over IP (ARP, UDP, …) or an IP fragment: not an error, nothing to reassemble. */
  | { readonly kind: 'skip'; readonly reason: string }
  /** Headers that contradict themselves or are cut inside a header: reported with the frame. */
  | { readonly kind: 'malformed'; readonly reason: string };

export const TcpFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

const ETHERTYPE_IPV4 = 0x0800, ETHERTYPE_IPV6 = 0x86dd;
const VLAN_TAGS = new Set([0x8100, 0x88a8, 0x9100]);
/** BSD AF_INET6 differs per OS: 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS). AF_INET is 2 everywhere. */
const AF_INET = 2, AF_INET6 = new Set([24, 28, 30]);

export function decodeFrame(linkType: number, frame: Uint8Array, originalLength: number): FrameResult {
  const link = ipStart(linkType, frame);
  if (typeof link === 'string') return link.startsWith('skip:') ? { kind: 'skip', reason: link.slice(5) } : { kind: 'malformed', reason: link };
  // bytes the capture cut off the end of the frame
  const cut = Math.max(0, originalLength - frame.length);
  return decodeIp(frame.subarray(link), cut);
}

/** Offset of the IP header, or a reason ('skip:…' for non-IP). */
function ipStart(linkType: number, f: Uint8Array): number | string {
  switch (linkType) {
    case LinkType.ETHERNET: {
      let o = 12;
      // at most two stacked VLAN tags (802.1Q / 802.1ad)
      for (let tags = 0; ; tags++) {
        if (f.length < o + 2) return 'frame shorter than its Ethernet header';
        const type = (f[o]! << 8) | f[o + 1]!;
        if (VLAN_TAGS.has(type) && tags < 2) { o += 4; continue; }
        if (type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6) return o + 2;
        return `skip:EtherType 0x${type.toString(16).padStart(4, '0')}`;
      }
    }
    case LinkType.RAW: case LinkType.IPV4: case LinkType.IPV6:
      return 0;
    case LinkType.NULL: case LinkType.LOOP: {
      if (f.length < 4) return 'frame shorter than its loopback header';
      // NULL stores the family in the capturing host's byte order; accept either (LOOP is big-endian).
      const be = ((f[0]! << 24) | (f[1]! << 16) | (f[2]! << 8) | f[3]!) >>> 0;
      const le = ((f[3]! << 24) | (f[2]! << 16) | (f[1]! << 8) | f[0]!) >>> 0;
      const af = be < 256 ? be : le;
      if (af === AF_INET || AF_INET6.has(af)) return 4;
      return `skip:address family ${af}`;
    }
    case LinkType.LINUX_SLL: {
      if (f.length < 16) return 'frame shorter than its Linux cooked header';
      const proto = (f[14]! << 8) | f[15]!;
      return proto === ETHERTYPE_IPV4 || proto === ETHERTYPE_IPV6 ? 16 : `skip:protocol 0x${proto.toString(16)}`;
    }
    case LinkType.LINUX_SLL2: {
      if (f.length < 20) return 'frame shorter than its Linux cooked v2 header';
      const proto = (f[0]! << 8) | f[1]!;
      return proto === ETHERTYPE_IPV4 || proto === ETHERTYPE_IPV6 ? 20 : `skip:protocol 0x${proto.toString(16)}`;
    }
    default:
      return `unsupported link type ${linkType}`;
  }
}

function decodeIp(p: Uint8Array, cut: number): FrameResult {
  if (p.length < 1) return { kind: 'malformed', reason: 'no IP header' };
  const version = p[0]! >> 4;
  if (version === 4) return decodeIPv4(p, cut);
  if (version === 6) return decodeIPv6(p, cut);
  return { kind: 'malformed', reason: `IP version ${version}` };
}

function decodeIPv4(p: Uint8Array, cut: number): FrameResult {
  if (p.length < 20) return { kind: 'malformed', reason: 'IPv4 header cut short' };
  const ihl = (p[0]! & 0x0f) * 4;
  const total = (p[2]! << 8) | p[3]!;
  if (ihl < 20 || total < ihl) return { kind: 'malformed', reason: `IPv4 header length ${ihl}, total length ${total}` };
  if (p.length < ihl) return { kind: 'malformed', reason: 'IPv4 options cut short' };
  const fragment = ((p[6]! << 8) | p[7]!) & 0x3fff; // MF flag and fragment offset
  if (fragment !== 0) return { kind: 'skip', reason: 'IPv4 fragment' };
  if (p[9] !== 6) return { kind: 'skip', reason: `IP protocol ${p[9]}` };
  // total length 0 happens with TSO captures: trust the captured length then
  const end = total === 0 ? p.length + cut : total;
  return decodeTcp(p, ihl, end, ipv4(p, 12), ipv4(p, 16), 4);
}

function decodeIPv6(p: Uint8Array, cut: number): FrameResult {
  if (p.length < 40) return { kind: 'malformed', reason: 'IPv6 header cut short' };
  const payloadLen = (p[4]! << 8) | p[5]!;
  let next = p[6]!;
  let o = 40;
  // RFC 8200 §4: skip hop-by-hop (0), routing (43) and destination options (60); a fragment (44) is not reassembled.
  for (let i = 0; i < 8 && (next === 0 || next === 43 || next === 60); i++) {
    if (p.length < o + 2) return { kind: 'malformed', reason: 'IPv6 extension header cut short' };
    next = p[o]!;
    o += 8 + p[o + 1]! * 8;
  }
  if (next === 44) return { kind: 'skip', reason: 'IPv6 fragment' };
  if (next !== 6) return { kind: 'skip', reason: `IPv6 next header ${next}` };
  const end = payloadLen === 0 ? p.length + cut : 40 + payloadLen; // 0: jumbogram or TSO
  return decodeTcp(p, o, end, ipv6(p, 8), ipv6(p, 24), 6);
}

function decodeTcp(p: Uint8Array, o: number, ipEnd: number, src: string, dst: string, ipVersion: 4 | 6): FrameResult {
  if (p.length < o + 20) return { kind: 'malformed', reason: 'TCP header cut short' };
  const dataOff = (p[o + 12]! >> 4) * 4;
  if (dataOff < 20 || o + dataOff > ipEnd) return { kind: 'malformed', reason: `TCP data offset ${dataOff}` };
  if (p.length < o + dataOff) return { kind: 'malformed', reason: 'TCP options cut short' };
  const start = o + dataOff;
  // Ethernet pads short frames: the IP length, not the frame length, says where the payload ends.
  const capturedEnd = Math.min(ipEnd, p.length);
  return {
    kind: 'tcp',
    segment: {
      ipVersion, src, dst,
      srcPort: (p[o]! << 8) | p[o + 1]!,
      dstPort: (p[o + 2]! << 8) | p[o + 3]!,
      seq: u32(p, o + 4),
      ack: u32(p, o + 8),
      flags: p[o + 13]!,
      payload: p.subarray(start, capturedEnd),
      missing: ipEnd - capturedEnd,
    },
  };
}

function u32(p: Uint8Array, o: number): number {
  return ((p[o]! << 24) | (p[o + 1]! << 16) | (p[o + 2]! << 8) | p[o + 3]!) >>> 0;
}

function ipv4(p: Uint8Array, o: number): string {
  return `${p[o]}.${p[o + 1]}.${p[o + 2]}.${p[o + 3]}`;
}

/** RFC 5952 §4 text form (lower case, longest zero run compressed). */
function ipv6(p: Uint8Array, o: number): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((p[o + 2 * i]! << 8) | p[o + 2 * i + 1]!);
  let bestAt = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) { bestAt = i; bestLen = j - i; }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestAt < 0) return hex.join(':');
  return `${hex.slice(0, bestAt).join(':')}::${hex.slice(bestAt + bestLen).join(':')}`;
}
