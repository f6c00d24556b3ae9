import type { Opener, Sealer } from '../crypto/types.js';

/** The state before the first NEWKEYS: no cipher, no MAC, 8-byte alignment (RFC 4253 §6). */
export const noneSealer: Sealer = {
  blockSize: 8,
  lengthExcluded: false,
  macLen: 0,
  seal: (_seq, packet) => packet,
};

export const noneOpener: Opener = {
  blockSize: 8,
  lengthExcluded: false,
  macLen: 0,
  headerLen: 4,
  packetLength: (_seq, header) => ((header[0]! << 24) | (header[1]! << 16) | (header[2]! << 8) | header[3]!) >>> 0,
  open: (_seq, wire) => wire.subarray(4),
};
