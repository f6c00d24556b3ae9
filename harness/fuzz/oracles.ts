/**
 * Oracles: what counts as a finding after a step or at the end of a case. Each check names the rule it
 * enforces. Severity 'must' findings fail a campaign; 'should' ones are reported for triage (e.g. a
 * DISCONNECT reason other than the natural one — RFC 4253 §11.1 lists reasons but does not bind them).
 */
import { signatureAlgorithms } from '../../impl/crypto/registry.js';
import { publicKeySignedData } from '../../impl/auth/signed-data.js';
import { decodeMessage, type DecodeContext } from '../../impl/messages/index.js';
import type { FuzzClient } from './client.js';
import type { FuzzTarget, Link } from './link.js';
import { SelfLink } from './self/self-target.js';

export const ORACLES = [
  'crash', 'exception', 'hang', 'auth-bypass', 'integrity', 'no-disconnect', 'invariant', 'disconnect-reason', 'unimplemented-seq', 'liveness', 'resource',
  // an ASan/UBSan report in an instrumented server's log (harness/fuzz/greybox/sanitizer.ts)
  'sanitizer',
] as const;
export type OracleName = (typeof ORACLES)[number];

export interface Finding {
  readonly oracle: OracleName;
  readonly severity: 'must' | 'should';
  readonly message: string;
  readonly rfc?: string;
  readonly detail?: string;
}

export class FindingError extends Error {
  constructor(readonly finding: Finding) {
    super(`[${finding.oracle}] ${finding.message}`);
    this.name = 'FindingError';
  }
}

/** Bounds on our own server's buffers (self target): anything past them is an unbounded-buffer bug. */
const MAX_BUFFERED_INBOUND = 256 * 1024 + 64 + 4096;
const MAX_HELD_PAYLOADS = 4096;
const MAX_ECHO = 256 * 1024;

/** Checks that run after every step (cheap; in-process targets only see inside the server). */
export function afterStep(link: Link): Finding | undefined {
  const s = link.server;
  if (link instanceof SelfLink && link.livelock) {
    return { oracle: 'hang', severity: 'must', message: 'the in-process pair never went idle (livelock)' };
  }
  if (!s) return undefined;
  if (s.crashed) return { oracle: 'crash', severity: 'must', message: 'server process died (simulated crash)' };
  if (s.escaped.length > 0) {
    const e = s.escaped[0]!;
    return { oracle: 'exception', severity: 'must', message: `non-SSHError escaped from ${e.where}: ${e.error.split('\n')[0]}`, detail: e.error };
  }
  for (const [who, err] of [['server', s.engine.closeError], ['client', link.client.engine.closeError]] as const) {
    // the engine turns anything that is not an SSHError into "internal error: …" (impl/transport/engine.ts fail())
    if (err && /internal error/.test(err.message)) return { oracle: 'exception', severity: 'must', message: `${who} engine: ${err.message}`, detail: err.stack };
  }
  const st = s.engine.testing.inspect();
  // a closed engine reads nothing more: the chunk it was handed when a packet_length over the limit ended it
  // (RFC 4253 §6.1) goes with the connection; only an open one that keeps buffering is unbounded
  if (st.bufferedInbound > MAX_BUFFERED_INBOUND && !s.engine.isClosed) return { oracle: 'invariant', severity: 'must', message: `server holds ${st.bufferedInbound} undecoded inbound bytes (bound ${MAX_BUFFERED_INBOUND})` };
  if (st.heldPayloads > MAX_HELD_PAYLOADS) return { oracle: 'invariant', severity: 'must', message: `server holds ${st.heldPayloads} payloads during kex` };
  if (s.bufferedEcho > MAX_ECHO * Math.max(1, s.channelCount)) return { oracle: 'invariant', severity: 'must', message: `server buffers ${s.bufferedEcho} echo bytes` };
  return undefined;
}

/** Records whether an outgoing fuzzed USERAUTH payload carried credentials the peer should accept. */
export function noteCredentials(c: FuzzClient, payload: Uint8Array, target: FuzzTarget): void {
  if (payload[0] !== 50 && payload[0] !== 61) return;
  const m = decodeLeniently(payload, payload[0] === 61 ? { auth: 'keyboard-interactive' } : undefined);
  if (!m) return;
  const cred = target.credentials;
  if (m.type === 'SSH_MSG_USERAUTH_INFO_RESPONSE') {
    if (cred.password !== undefined && m.responses.includes(cred.password)) c.validCredentialsSent = true;
    return;
  }
  if (m.type !== 'SSH_MSG_USERAUTH_REQUEST' || m.user !== cred.user) return;
  if (m.method === 'none' && target.allowsNone) c.validCredentialsSent = true;
  if (m.method === 'password' && 'password' in m && (m.password === cred.password || (m.changePassword && m.newPassword !== undefined))) c.validCredentialsSent = true;
  if (m.method === 'keyboard-interactive') return; // the answer (61) carries the secret
  if (m.method === 'publickey' && 'hasSignature' in m && m.hasSignature && m.signature) {
    const sid = c.engine.sessionId;
    const alg = signatureAlgorithms.get(m.algorithm);
    if (sid && alg && alg.verify(m.key, publicKeySignedData(sid, m.user, m.service, m.algorithm, m.key), m.signature)) c.validCredentialsSent = true;
  }
}

/** Bytes a byte mutation may append after a complete message (arb/steps.ts appends at most 16). */
const MAX_TRAILING = 64;

/**
 * The message a payload carries as a lenient server reads it: the longest prefix that is a complete message.
 * RFC 4251 does not say what to do with bytes after a message's last field; OpenSSH refuses them, Dropbear
 * ignores them, so a valid password with a byte appended logs in to Dropbear, and those credentials were valid.
 */
function decodeLeniently(payload: Uint8Array, ctx: DecodeContext | undefined): ReturnType<typeof decodeMessage> | undefined {
  for (let cut = 0; cut <= Math.min(MAX_TRAILING, payload.length - 1); cut++) {
    try { return decodeMessage(cut ? payload.subarray(0, payload.length - cut) : payload, ctx); } catch { /* shorter */ }
  }
  return undefined;
}

/** Checks at the end of a case, after the final probe settled. */
export function atEnd(link: Link, target: FuzzTarget): Finding | undefined {
  const step = afterStep(link);
  if (step) return step;
  const c = link.client;
  // RFC 4252 §5.1 / RFC 4254 §1: no USERAUTH_SUCCESS without valid credentials, no connection service before it
  if (c.authenticated && !c.validCredentialsSent) {
    return { oracle: 'auth-bypass', severity: 'must', rfc: 'RFC 4252 §5.1', message: 'peer sent SSH_MSG_USERAUTH_SUCCESS although no valid credentials were presented' };
  }
  // RFC 4252 §6 / RFC 4253 §10: ssh-connection is reached through ssh-userauth only; any other service the
  // server does not offer MUST end the connection
  if (!c.authenticated && c.log.acceptedServices.includes('ssh-connection')) {
    return { oracle: 'auth-bypass', severity: 'must', rfc: 'RFC 4252 §6', message: 'peer accepted a SERVICE_REQUEST for ssh-connection before authentication' };
  }
  const refused = c.log.foreignServiceRequests.find((r) => !c.log.acceptedServices.includes(r.name));
  if (refused && c.alive && !c.log.streamDesync && c.log.probes.some((p) => p.ordinal > refused.ordinal && p.answered)) {
    return { oracle: 'no-disconnect', severity: 'must', rfc: 'RFC 4253 §10', message: `peer neither accepted SERVICE_REQUEST ${JSON.stringify(refused.name)} nor disconnected` };
  }
  // only when the request was the last thing we sent (a later malformed packet may rightly be what closed it)
  const lastOut = c.log.outOrdinal - c.log.probes.filter((p) => p.ordinal > (refused?.ordinal ?? 0)).length;
  if (refused && refused.ordinal === lastOut && !c.log.streamDesync && !c.log.deviated && c.closed?.byPeer && c.closed.reason !== undefined && c.closed.reason !== 7 && c.log.foreignServiceRequests.length === 1 && !c.log.sentCorrupt) {
    return { oracle: 'disconnect-reason', severity: 'should', rfc: 'RFC 4253 §10', message: `peer refused service ${JSON.stringify(refused.name)} with DISCONNECT reason ${c.closed.reason}, not SERVICE_NOT_AVAILABLE (7)` };
  }
  const pre = c.log.preAuthConnectionReplies.filter((id) => id === 91 || id === 99 || id === 81 || id === 94 || id === 95);
  if (pre.length > 0 && !c.authenticated) {
    return { oracle: 'auth-bypass', severity: 'must', rfc: 'RFC 4252 §6', message: `peer answered connection-protocol messages before authentication (ids ${[...new Set(pre)].join(',')})` };
  }
  // after our DISCONNECT the peer must not process anything more (RFC 4253 §11.1): silence is right then
  if (c.alive && !c.log.streamDesync && !c.log.sentDisconnect) {
    const owed = c.owed();
    const probe = c.log.pendingProbe;
    // the peer sent nothing at all after our probe: a hang (requests we skipped or delayed void their replies)
    if (probe && probe.otherSeq === undefined && c.log.inboundCount === probe.inboundAt) {
      return { oracle: 'hang', severity: 'must', rfc: 'RFC 4253 §11.4', message: `peer is connected but silent: no answer to the probe (owed: ${JSON.stringify(owed)})` };
    }
    if (!c.log.lostRequest && (owed.channel > 0 || owed.global > 0 || owed.auth > 0)) {
      // RFC 4254 §4/§5.4: an unsupported request is answered with *_FAILURE, not with UNIMPLEMENTED or silence
      // UNIMPLEMENTED beyond the probes' own answers (each probe earns one: RFC 4253 §11.4)
      const unimpl = c.log.inbound.filter((id) => id === 3).length > c.log.probes.filter((p) => p.answered || p.otherSeq !== undefined).length;
      const what = owed.global > 0 ? 'GLOBAL_REQUEST' : owed.channel > 0 ? 'CHANNEL_REQUEST/OPEN' : 'USERAUTH_REQUEST';
      return {
        oracle: 'hang', severity: 'must', rfc: owed.global > 0 ? 'RFC 4254 §4' : owed.channel > 0 ? 'RFC 4254 §5.4' : 'RFC 4252 §5.1',
        message: unimpl
          ? `peer answered a want-reply ${what} with SSH_MSG_UNIMPLEMENTED, not a success/failure reply (owed: ${JSON.stringify(owed)})`
          : `peer never answered a want-reply ${what} (owed: ${JSON.stringify(owed)})`,
      };
    }
  }
  // RFC 4253 §6.4: a packet whose MAC does not verify must not be processed; answering a later probe means it was
  if (c.alive && c.log.corruptOrdinal !== undefined && c.log.probes.some((p) => p.ordinal > c.log.corruptOrdinal! && (p.answered || p.otherSeq !== undefined))) {
    return { oracle: 'integrity', severity: 'must', rfc: 'RFC 4253 §6.4', message: 'peer kept the connection after a packet with a corrupted MAC/sequence number' };
  }
  const odd = c.log.probes.find((p) => !p.answered && p.otherSeq !== undefined);
  if (odd && !c.log.streamDesync) {
    return { oracle: 'unimplemented-seq', severity: 'should', rfc: 'RFC 4253 §11.4', message: `SSH_MSG_UNIMPLEMENTED carried sequence number ${odd.otherSeq}, our unrecognised packet was ${odd.seq}` };
  }
  const s = link.server;
  if (s && !c.log.streamDesync && !c.log.sentCorrupt && c.kexDone) {
    // both directions delivered completely in-process: sequence numbers must agree (RFC 4253 §6.4)
    const cs = c.engine.testing.inspect();
    const ss = s.engine.testing.inspect();
    if (!s.engine.isClosed && !c.engine.isClosed && (cs.seqOut !== ss.seqIn || cs.seqIn !== ss.seqOut)) {
      return { oracle: 'invariant', severity: 'must', message: `sequence numbers disagree: client out ${cs.seqOut}/in ${cs.seqIn}, server in ${ss.seqIn}/out ${ss.seqOut}` };
    }
  }
  if (c.closed?.byPeer && c.closed.reason !== undefined && (c.closed.reason < 1 || c.closed.reason > 15)) {
    return { oracle: 'disconnect-reason', severity: 'should', rfc: 'RFC 4250 §4.2.2', message: `peer disconnected with unassigned reason code ${c.closed.reason}` };
  }
  return undefined;
}
