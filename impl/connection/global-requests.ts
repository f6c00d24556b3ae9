/**
 * The server's answer to the client's global requests (RFC 4254 §4, §7.1), from its policy: tcpip-forward and
 * cancel-tcpip-forward through the port-forward checks, anything else through checkGlobalRequest. Missing
 * checks deny; malformed request data is denied, not a disconnect.
 */
import { decodeGlobalRequestData, TcpipForwardReply } from '../messages/index.js';
import type { ServerPolicy } from './policy.js';

export interface GlobalReply {
  readonly ok: boolean;
  /** SSH_MSG_REQUEST_SUCCESS data (e.g. the bound port). */
  readonly data?: Uint8Array;
}

const denied: GlobalReply = { ok: false };

export async function answerGlobalRequest(policy: ServerPolicy, name: string, data: Uint8Array): Promise<GlobalReply> {
  if (name === 'tcpip-forward' || name === 'cancel-tcpip-forward') {
    let req;
    try {
      req = decodeGlobalRequestData(name, data);
    } catch {
      return denied;
    }
    if (req.kind === 'cancel-tcpip-forward') {
      if (!policy.cancelPortForwardRequest) return denied;
      return { ok: policy.cancelPortForwardRequest(req.address, req.port) !== false };
    }
    if (req.kind !== 'tcpip-forward' || !policy.checkPortForwardRequest) return denied;
    const bound = await policy.checkPortForwardRequest(req.address, req.port);
    if (bound === false) return denied;
    // RFC 4254 §7.1: the bound port is returned only when the client asked for port 0
    return { ok: true, data: req.port === 0 ? TcpipForwardReply.encode({ port: bound }) : undefined };
  }
  const r = policy.checkGlobalRequest ? await policy.checkGlobalRequest(name, data) : false;
  return r instanceof Uint8Array ? { ok: true, data: r } : { ok: r === true };
}
