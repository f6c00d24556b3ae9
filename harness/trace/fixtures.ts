/**
 * Hand-built SSH byte streams for trace tests and the import benchmark: no engine needed. The KEXINIT layout is
 * RFC 4253 §7.1; the binary packet framing RFC 4253 §6 (unencrypted: block size 8, random-free zero padding).
 */
import { Writer } from '../../impl/wire/index.js';

export interface KexInitLists {
  readonly kex: readonly string[];
  readonly hostKey: readonly string[];
  readonly cipher: readonly string[];
  readonly mac: readonly string[];
  readonly compression: readonly string[];
}

export const sampleKexLists: KexInitLists = {
  kex: ['curve25519-sha256', 'curve25519-sha256@libssh.org', 'ext-info-c', 'kex-strict-c-v00@openssh.com'],
  hostKey: ['ssh-ed25519', 'rsa-sha2-512'],
  cipher: ['chacha20-poly1305@openssh.com', 'aes128-gcm@openssh.com'],
  mac: ['hmac-sha2-256-etm@openssh.com', 'hmac-sha2-256'],
  compression: ['none'],
};

/** An SSH_MSG_KEXINIT payload (message number first). */
export function kexInitPayload(cookie: Uint8Array, l: KexInitLists = sampleKexLists, firstKexFollows = false): Uint8Array {
  const w = new Writer(512).byte(20).raw(cookie);
  w.nameList(l.kex).nameList(l.hostKey).nameList(l.cipher).nameList(l.cipher).nameList(l.mac).nameList(l.mac);
  w.nameList(l.compression).nameList(l.compression).nameList([]).nameList([]);
  return w.boolean(firstKexFollows).uint32(0).finish().slice();
}

/** RFC 4253 §6 unencrypted framing: packet_length, padding_length, payload, ≥ 4 padding bytes to a multiple of 8. */
export function framePacket(payload: Uint8Array, block = 8): Uint8Array {
  let pad = block - ((5 + payload.length) % block);
  if (pad < 4) pad += block;
  const w = new Writer(5 + payload.length + pad).uint32(1 + payload.length + pad).byte(pad).raw(payload).raw(new Uint8Array(pad));
  return w.finish().slice();
}

export const bannerBytes = (line: string): Uint8Array => new TextEncoder().encode(`${line}\r\n`);
