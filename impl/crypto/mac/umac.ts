/**
 * UMAC MACs (RFC 4418) as OpenSSH defines them (PROTOCOL, "umac-64@openssh.com"; draft-miller-secsh-umac-01):
 * a 16-byte key, 8- or 16-byte tags, and the 8-byte nonce = the packet sequence number as a big-endian uint64.
 * The MAC covers the same bytes as HMAC does, but the sequence number is the nonce instead of a prefix of the data.
 * The -etm@openssh.com forms MAC `packet_length || ciphertext` (OpenSSH PROTOCOL §1.5).
 */
import type { MacAlgorithm } from '../types.js';
import { Umac } from './umac-hash.js';

function umacMac(name: string, tagLen: 8 | 16, etm: boolean, spec: string): MacAlgorithm {
  return {
    name, legacy: false, spec, keyLen: 16, macLen: tagLen, etm,
    create(key) {
      if (key.length !== 16) throw new RangeError(`${name}: key must be 16 bytes, got ${key.length}`);
      const umac = new Umac(key, tagLen);
      const nonce = new Uint8Array(8);
      const view = new DataView(nonce.buffer);
      return (seq, ...data) => {
        // OpenSSH mac.c: POKE_U64(nonce, seqno); our sequence numbers are uint32, so the top half stays zero
        view.setUint32(4, seq >>> 0);
        return umac.tag(nonce, data);
      };
    },
  };
}

const ETM_SPEC = 'OpenSSH PROTOCOL §1.5 + RFC 4418';

export const umac64 = umacMac('umac-64@openssh.com', 8, false, 'RFC 4418; OpenSSH PROTOCOL "umac-64@openssh.com"');
export const umac128 = umacMac('umac-128@openssh.com', 16, false, 'RFC 4418; OpenSSH PROTOCOL "umac-128@openssh.com"');
export const umac64Etm = umacMac('umac-64-etm@openssh.com', 8, true, ETM_SPEC);
export const umac128Etm = umacMac('umac-128-etm@openssh.com', 16, true, ETM_SPEC);
