/** impl/crypto public surface: the registry, packet protection and host keys. */
export * from './types.js';
export {
  kexAlgorithms, signatureAlgorithms, cipherAlgorithms, macAlgorithms, compressionAlgorithms, defaultAlgorithms, hashFor,
  type DefaultAlgorithms,
} from './registry.js';
export { makeSealer, makeOpener } from './protect.js';
export {
  privateKeyFromNode, generateHostKey, publicKeyBlob, publicKeyFromBlob, keyTypeOf,
  type HostKeyType, type NodePrivateKey, type ParsedPublicKey,
} from './hostkey/index.js';
