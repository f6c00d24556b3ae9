/**
 * Concrete replies → one abstract output per input: the peer's messages by name (SSH_MSG_ dropped), in
 * order, repeats of one name collapsed (how many CHANNEL_DATA packets carry a reply is not state), joined
 * with '+'; DISCONNECT carries its reason code (RFC 4253 §11.1); CHANNEL_REQUEST its request type.
 * A closed connection adds CONN_CLOSED, after which every input answers CONN_CLOSED (the sink);
 * nothing within the wait is NO_RESP.
 */
import { decodeMessage, messageName } from '../../../impl/messages/index.js';
import type { Received } from './session.js';

export const NO_RESP = 'NO_RESP';
export const CONN_CLOSED = 'CONN_CLOSED';
/** Our own engine refused what the peer sent (a fault on our side or a reply it cannot take): the connection ends. */
export const LOCAL_ERROR = 'LOCAL_ERROR';

export function isSinkOutput(o: string): boolean {
  return o === CONN_CLOSED || o.endsWith(`+${CONN_CLOSED}`);
}

export function tokenOf(payload: Uint8Array, kexShape: 'ecdh' | 'dh' | 'dh-gex'): string {
  const id = payload[0]!;
  const name = messageName(id, { kex: kexShape }).replace(/^SSH_MSG_/, '');
  if (name === 'DISCONNECT' || name === 'CHANNEL_REQUEST') {
    try {
      const m = decodeMessage(payload);
      if (m.type === 'SSH_MSG_DISCONNECT') return `DISCONNECT(${m.reason})`;
      // the request type is ASCII chosen by the peer: keep it printable and short
      if (m.type === 'SSH_MSG_CHANNEL_REQUEST') return `CHANNEL_REQUEST(${m.requestType.replace(/[^\w@.-]/g, '?').slice(0, 40)})`;
    } catch {
      return `${name}(malformed)`;
    }
  }
  return name;
}

export function abstractOutput(received: readonly Received[], kexShape: 'ecdh' | 'dh' | 'dh-gex', closed: 'peer' | 'local' | undefined): string {
  const tokens: string[] = [];
  for (const r of received) {
    const t = tokenOf(r.payload, kexShape);
    if (tokens[tokens.length - 1] !== t) tokens.push(t);
  }
  if (closed === 'local') tokens.push(LOCAL_ERROR);
  if (closed) tokens.push(CONN_CLOSED);
  return tokens.length ? tokens.join('+') : NO_RESP;
}
