/**
 * Failures whose cause is documented and lies outside our implementation. Two sorts, both matched narrowly and
 * both visible in every report:
 * - peer limitations: the peer cannot do this algorithm in the role tested → 'unsupported', with why and what
 *   was observed. An entry that stops matching (the cell passes) is harmless: the cell shows 'pass'.
 * - harness wrapper defects: the SSH exchange completed (exact expected output) but the peer's wrapper process
 *   then misbehaved → 'pass' with a note naming the defect, so an interop result is not hidden behind it.
 * Each entry says how it was verified. Our own bugs never go here: they stay 'fail'.
 */
import { firstLine } from './offer.js';
import { ECHO_TOKEN } from './our-client-cell.js';
import type { Cell, Direction, Kind } from './types.js';

export interface KnownLimitation {
  readonly direction: Direction;
  readonly peer: string;
  readonly kind: Kind;
  readonly algorithms: readonly string[];
  readonly why: string;
  /** Must match the observed failure (our error, the peer's stderr or log excerpt): any other failure stays 'fail'. */
  readonly evidence: RegExp;
}

export const KNOWN_LIMITATIONS: readonly KnownLimitation[] = [
  {
    direction: 'client', peer: 'ssh2', kind: 'kex', algorithms: ['diffie-hellman-group-exchange-sha256', 'diffie-hellman-group-exchange-sha1'],
    why: "the ssh2 server offers group exchange but does not implement it (ssh2/lib/protocol/kex.js: 'Group exchange not implemented for server')",
    evidence: /KEY_EXCHANGE_FAILED|Group exchange not implemented for server/,
  },
  {
    direction: 'client', peer: 'paramiko', kind: 'kex', algorithms: ['diffie-hellman-group-exchange-sha256', 'diffie-hellman-group-exchange-sha1'],
    why: 'paramiko 2.12 servers without a moduli file still list group exchange in KEXINIT, then refuse it (paramiko/transport.py _send_kex_init builds the list before dropping gex); harness/targets/python/paramiko_server.py does not call Transport.load_server_moduli()',
    evidence: /IncompatiblePeer|no acceptable kex algorithm|CONNECTION_LOST/,
  },
  {
    direction: 'server', peer: 'plink', kind: 'kex', algorithms: ['diffie-hellman-group1-sha1'],
    why: "PuTTY ranks it below its 'warn below here' line and -batch refuses to confirm weak crypto; plink takes algorithm preferences only from saved sessions",
    evidence: /weak crypto primitive/,
  },
  // a real peer bug, not a missing feature: shown as unsupported with the evidence so the matrix stays about what
  // interoperates; the reproducer is corpora/go/cbc-etm-mac.yaml and scenarios/KNOWN.md has the triage
  ...(['client', 'server'] as const).flatMap((direction): KnownLimitation[] => [{
    direction, peer: direction === 'client' ? 'go' : 'go-client', kind: 'cipher', algorithms: ['aes128-cbc', '3des-cbc'],
    why: 'known peer bug: golang.org/x/crypto/ssh 0.4.0 frames CBC packets as encrypt-and-MAC even when an EtM MAC (hmac-sha2-256-etm@openssh.com) is negotiated, so they fail ("ssh: packet too large"); with a non-EtM MAC CBC works (corpora/go/cbc-etm-mac.yaml)',
    evidence: /packet too large|packet_length \d+ exceeds the limit/,
  }]),
  {
    direction: 'server', peer: 'erlang-client', kind: 'hostKey', algorithms: ['ssh-rsa', 'rsa-sha2-256', 'rsa-sha2-512', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521'],
    why: "OTP's ssh client takes one public_key list for both the server's host key and its own user key (ssh(3) preferred_algorithms: public_key): configured for an RSA or ECDSA host key only, it will not sign with the test account's Ed25519 key",
    evidence: /Unable to connect using the available authentication methods/,
  },
];

export interface WrapperDefect {
  readonly direction: Direction;
  readonly peer: string;
  /** Matched against the failure reason and the peer's whole stderr. */
  readonly pattern: RegExp;
  readonly note: string;
}

export const WRAPPER_DEFECTS: readonly WrapperDefect[] = [
  {
    direction: 'server', peer: 'paramiko-client', pattern: /Fatal Python error: _enter_buffered_busy/,
    note: 'the session completed with the expected output; then harness/targets/python/paramiko_client.py aborted at interpreter shutdown (its daemon stdin thread held the stdin lock: it should be joined before exit)',
  },
];

export interface PeerOutput { readonly stdout: string; readonly stderr: string }

/** Applies both tables to a finished cell; `output` is the client peer's (for the wrapper check). */
export function knownLimitation(c: Cell, output?: PeerOutput, limits: readonly KnownLimitation[] = KNOWN_LIMITATIONS, defects: readonly WrapperDefect[] = WRAPPER_DEFECTS): Cell {
  if (c.status !== 'fail') return c;
  const d = defects.find((x) => x.direction === c.direction && x.peer === c.peer && x.pattern.test(`${c.reason ?? ''}\n${output?.stderr ?? ''}`));
  if (d && output?.stdout.trim() === ECHO_TOKEN) {
    const { reason: _dropped, ...rest } = c;
    return { ...rest, status: 'pass', note: `${d.note} (observed: ${firstLine(output.stderr.replace(/^\s+/, ''), 200)})` };
  }
  const observed = `${c.reason ?? ''}\n${output?.stderr ?? ''}`;
  const k = limits.find((l) => l.direction === c.direction && l.peer === c.peer && l.kind === c.kind && l.algorithms.includes(c.algorithm) && l.evidence.test(observed));
  return k ? { ...c, status: 'unsupported', reason: `known peer limitation: ${k.why} (observed: ${c.reason ?? 'fail'})` } : c;
}
