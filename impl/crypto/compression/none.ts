import type { CompressionAlgorithm } from '../types.js';

/** RFC 4253 §6.2: no compression. */
export const noCompression: CompressionAlgorithm = {
  name: 'none', legacy: false, spec: 'RFC 4253 §6.2', delayed: false,
  compressor: () => null,
  decompressor: () => null,
};
