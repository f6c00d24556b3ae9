export { Reader } from './reader.js';
export { Writer, mpintBytes, mpintFromUnsigned, concatBytes } from './writer.js';
export { defaultWireLimits, type WireLimits } from './limits.js';
