/**
 * A fuzz case as data: the phase to start from and the steps to run. Steps are what a corpus entry stores
 * and what `replay` executes, so they are plain JSON-able values (see value.ts), independent of how
 * fast-check generated them. `applyStep` queues a step on the FuzzClient; the Link then settles.
 */
import type { KexInit } from '../../impl/messages/index.js';
import type { FuzzClient } from './client.js';
import { codecOf, encodeFuzzMessage, type FuzzMessage } from './wire-encode.js';
import { describeSftp, encodeSftpStream, type SftpPacket } from './sftp.js';
import type { ForwardKind } from './forward.js';

/**
 * Protocol phases a case can start from (issue 8): pre-kex (TCP open, nothing sent), kex (our version and
 * KEXINIT sent, the peer's not yet processed), newkeys (first kex done, no service), userauth (ssh-userauth
 * accepted), authenticated, channel (a session channel open), rekey (a re-exchange we started is in flight).
 */
export const PHASES = ['pre-kex', 'kex', 'newkeys', 'userauth', 'authenticated', 'channel', 'rekey'] as const;
export type Phase = (typeof PHASES)[number];

/** Packet-level deviation for the next outbound packet (impl/transport/testing.ts), after encryption. */
export type PacketDeviation =
  | { readonly kind: 'skip' }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'delay'; readonly after: number }
  | { readonly kind: 'corrupt'; readonly mac?: boolean; readonly padding?: number; readonly packetLength?: number; readonly seqOffset?: number; readonly truncate?: number };

/** Byte-level change of an encoded payload; offsets are taken modulo the payload length. */
export type Mutation =
  | { readonly kind: 'truncate'; readonly keep: number }
  | { readonly kind: 'flip'; readonly at: number; readonly mask: number }
  | { readonly kind: 'setU32'; readonly at: number; readonly value: number }
  | { readonly kind: 'append'; readonly data: Uint8Array }
  | { readonly kind: 'id'; readonly id: number };

type KexLists = Partial<Pick<KexInit, 'kexAlgorithms' | 'serverHostKeyAlgorithms' | 'encryptionC2S' | 'encryptionS2C' | 'macC2S' | 'macS2C'
  | 'compressionC2S' | 'compressionS2C' | 'languagesC2S' | 'languagesS2C' | 'firstKexPacketFollows' | 'reserved'>>;

export type Step =
  /** pre-kex: our version line and KEXINIT, as the reference sends them. */
  | { readonly op: 'start' }
  /** pre-kex: start with our KEXINIT rewritten (custom lists, first_kex_packet_follows...). */
  | { readonly op: 'kexinit'; readonly lists: KexLists }
  /** Bytes straight onto the wire (no framing, no encryption). */
  | { readonly op: 'bytes'; readonly data: Uint8Array }
  /** A generated message framed with the current keys now, whatever the state; optionally mutated first. */
  | { readonly op: 'send'; readonly msg: FuzzMessage; readonly mutate?: readonly Mutation[] }
  /** Deviate on the next outbound packet (with message number `id`, or any). */
  | { readonly op: 'deviate'; readonly id?: number; readonly deviation: PacketDeviation }
  | { readonly op: 'service'; readonly name: string }
  | { readonly op: 'auth'; readonly method: 'password' | 'publickey' | 'keyboard-interactive' | 'none'; readonly valid: boolean }
  | { readonly op: 'open'; readonly channelType: string }
  | { readonly op: 'exec'; readonly chan: number; readonly command: string }
  | { readonly op: 'global'; readonly name: string }
  /**
   * SFTP packets as data on a session channel (draft-ietf-secsh-filexfer-02). On the channel's first sftp step
   * the client asks for the `sftp` subsystem (RFC 4254 §6.5) and, when `init` is set, sends SSH_FXP_INIT with
   * that version before the packets.
   */
  | { readonly op: 'sftp'; readonly chan: number; readonly init?: number; readonly packets: readonly SftpPacket[] }
  /**
   * Ask the peer to listen for us (tcpip-forward on a port it picks, or streamlocal-forward on a scratch socket),
   * then connect to that listener from outside, write `data` and maybe half-close (forward.ts). The channel the
   * peer opens back to us is accepted and addressed like ours by later steps.
   */
  | { readonly op: 'forward'; readonly kind: ForwardKind; readonly data: Uint8Array; readonly halfClose: boolean }
  | { readonly op: 'rekey' };

export interface FuzzCase {
  readonly start: Phase;
  readonly steps: readonly Step[];
}

/** The message a step puts on the wire, for coverage (message types × phases) and reports. */
export function stepMessageId(s: Step): number | undefined {
  switch (s.op) {
    case 'send': {
      const id = s.mutate?.find((m) => m.kind === 'id');
      if (id && id.kind === 'id') return id.id & 0xff;
      // the number the encoder writes first (encodeFuzzMessage), without encoding the whole message
      return s.msg.type === 'unknown' ? Number(s.msg.id) & 0xff : codecOf(s.msg.type).id;
    }
    case 'kexinit': case 'start': return 20;
    case 'service': return 5;
    case 'auth': return 50;
    case 'open': return 90;
    case 'exec': return 98;
    case 'sftp': return 94;
    case 'global': case 'forward': return 80;
    case 'rekey': return 20;
    default: return undefined;
  }
}

export function applyMutations(payload: Uint8Array, muts: readonly Mutation[] | undefined): Uint8Array {
  if (!muts || muts.length === 0) return payload;
  let p = payload.slice();
  for (const m of muts) {
    const n = p.length;
    switch (m.kind) {
      case 'truncate': p = p.subarray(0, Math.max(1, n > 1 ? m.keep % n : 1)); break;
      case 'flip': if (n > 0) p[m.at % n]! ^= m.mask & 0xff || 1; break;
      case 'setU32': {
        if (n < 5) break;
        const at = 1 + (m.at % (n - 4)); // never the message number itself
        new DataView(p.buffer, p.byteOffset, p.byteLength).setUint32(at, m.value >>> 0);
        break;
      }
      case 'append': { const q = new Uint8Array(n + m.data.length); q.set(p); q.set(m.data, n); p = q; break; }
      case 'id': p[0] = m.id & 0xff; break;
    }
  }
  return p;
}

/**
 * Queues one step on the client; `now` is the link's clock. Steps that do not fit the state are no-ops.
 * Returns the payload a 'send' step put on the wire (for the credential bookkeeping of the oracles).
 */
export function applyStep(c: FuzzClient, s: Step, now: number): Uint8Array | undefined {
  switch (s.op) {
    case 'start':
      c.start(now);
      return;
    case 'kexinit':
      c.engine.testing.setKexInitOverride((k) => ({ ...k, ...s.lists }));
      c.start(now);
      return;
    case 'bytes':
      if (!c.alive) return;
      c.log.streamDesync = true;
      c.engine.testing.sendRawBytes(s.data);
      return;
    case 'send': {
      const payload = applyMutations(encodeFuzzMessage(s.msg, (i) => c.remoteChannel(i)), s.mutate);
      c.sendRaw(payload);
      return payload;
    }
    case 'deviate': {
      const t = c.engine.testing;
      const d = s.deviation;
      if (d.kind === 'skip') t.skipNext(s.id);
      else if (d.kind === 'duplicate') t.duplicateNext(s.id);
      else if (d.kind === 'delay') { c.log.lostRequest = true; t.delayNext(s.id ?? 94, d.after); }
      else {
        const { kind: _k, ...corruption } = d;
        if (d.truncate !== undefined || d.packetLength !== undefined) c.log.streamDesync = true;
        t.corruptNext({ ...(s.id !== undefined ? { id: s.id } : {}), ...corruption });
      }
      return;
    }
    case 'service': c.requestService(s.name); return;
    case 'auth': c.auth(s.method, s.valid); return;
    case 'open': c.openChannel(s.channelType); return;
    case 'exec': c.channelRequest(s.chan, 'exec', execData(s.command)); return;
    case 'sftp': c.sftp(s.chan, s.init, encodeSftpStream(s.packets)); return;
    case 'global': c.globalRequest(s.name); return;
    // the outside connection is the link's (executor.ts), once the peer has answered
    case 'forward': c.forward(s.kind); return;
    case 'rekey': if (c.alive && c.kexDone) c.engine.rekey(); return;
  }
  return undefined;
}

/**
 * RFC 4254 §6.5 exec data, built here rather than with the library's payload codec: the codec refuses a lone
 * surrogate (not UTF-8, RFC 3629), and a corpus file may store a command with one; Buffer writes U+FFFD instead.
 */
function execData(command: string): Uint8Array {
  const b = Buffer.from(command, 'utf8');
  const out = new Uint8Array(4 + b.length);
  new DataView(out.buffer).setUint32(0, b.length);
  out.set(b, 4);
  return out;
}

/** One line per step, for progress output and corpus readability (peer strings are JSON-escaped). */
export function describeStep(s: Step): string {
  switch (s.op) {
    case 'send': return `send ${s.msg.type === 'unknown' ? `message ${String(s.msg.id)}` : s.msg.type}${s.mutate?.length ? ` mutated(${s.mutate.map((m) => m.kind).join(',')})` : ''}`;
    case 'deviate': return `deviate next${s.id !== undefined ? ` ${s.id}` : ''}: ${JSON.stringify(s.deviation)}`;
    case 'bytes': return `bytes ×${s.data.length}`;
    case 'kexinit': return `kexinit ${JSON.stringify(s.lists)}`;
    case 'auth': return `auth ${s.method} ${s.valid ? 'valid' : 'invalid'}`;
    case 'service': return `service ${JSON.stringify(s.name)}`;
    case 'open': return `open ${JSON.stringify(s.channelType)}`;
    case 'exec': return `exec #${s.chan} ${JSON.stringify(s.command)}`;
    case 'sftp': return `sftp #${s.chan} ${describeSftp(s.packets)}`;
    case 'global': return `global ${JSON.stringify(s.name)}`;
    case 'forward': return `forward ${s.kind}, connect and write ${s.data.length} bytes${s.halfClose ? ', then EOF' : ''}`;
    default: return s.op;
  }
}
