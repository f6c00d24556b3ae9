/** Small helpers shared by the TypeScript checks. */
import { decodeMessage } from '../../../impl/messages/index.js';
import type { InboundMessage } from '../evidence.js';

/** Bytes of data in a CHANNEL_DATA / CHANNEL_EXTENDED_DATA message (0 for anything else or undecodable). */
export function channelDataLength(m: InboundMessage): number {
  try {
    const d = decodeMessage(m.payload);
    return d.type === 'SSH_MSG_CHANNEL_DATA' || d.type === 'SSH_MSG_CHANNEL_EXTENDED_DATA' ? d.data.length : 0;
  } catch {
    return 0;
  }
}

export function channelData(m: InboundMessage): Uint8Array {
  try {
    const d = decodeMessage(m.payload);
    return d.type === 'SSH_MSG_CHANNEL_DATA' || d.type === 'SSH_MSG_CHANNEL_EXTENDED_DATA' ? d.data : new Uint8Array(0);
  } catch {
    return new Uint8Array(0);
  }
}

/** The extensions of an SSH_MSG_EXT_INFO (RFC 8308 §2.3), values as latin1 text. */
export function extInfoExtensions(m: InboundMessage | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!m) return out;
  try {
    const d = decodeMessage(m.payload);
    if (d.type === 'SSH_MSG_EXT_INFO') for (const e of d.extensions) out.set(e.name, Buffer.from(e.value).toString('latin1'));
  } catch { /* undecodable: no extensions */ }
  return out;
}
