/** Small helpers shared by the TypeScript checks. */
import { decodeMessage } from '../../../impl/messages/index.js';
import type { ClientConn } from '../client-conn.js';
import type { CheckContext } from '../context.js';
import type { InboundMessage } from '../evidence.js';
import { TIME_SCALE } from '../expect.js';

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

// ───────────── wire pieces (RFC 4251 §5) for request-specific data the message codecs leave as bytes ─────────────

export function u32(n: number): Uint8Array {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

export function sshString(s: string | Uint8Array): Uint8Array {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : Buffer.from(s);
  return Buffer.concat([u32(b.length), b]);
}

export function sshBool(v: boolean): Uint8Array {
  return Uint8Array.of(v ? 1 : 0);
}

export function wire(...parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts.map((p) => Buffer.from(p)));
}

/** RFC 4254 §8: opcode-argument pairs (opcodes 1–159 take a uint32), then TTY_OP_END unless `end` is false. */
export function terminalModes(pairs: readonly (readonly [number, number])[], o: { end?: boolean; tail?: Uint8Array } = {}): Uint8Array {
  return wire(...pairs.map(([op, v]) => wire(Uint8Array.of(op), u32(v))), ...(o.tail ? [o.tail] : []), ...(o.end === false ? [] : [Uint8Array.of(0)]));
}

/** RFC 4254 §6.2 pty-req data: TERM, columns, rows, width and height in pixels, encoded terminal modes. */
export function ptyReqData(modes: Uint8Array, size: readonly [number, number, number, number] = [80, 24, 640, 480], term = 'xterm'): Uint8Array {
  return wire(sshString(term), u32(size[0]), u32(size[1]), u32(size[2]), u32(size[3]), sshString(modes));
}

// ───────────── algorithm and method names (RFC 4251 §6, RFC 4250 §4.6.1) ─────────────

/** A DNS name of at least two labels (RFC 1034 preferred syntax), as the part after '@' must be. */
const FQDN = /^(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/**
 * Why `name` breaks RFC 4251 §6 (undefined when it is well formed): printable US-ASCII without comma or whitespace,
 * at most 64 characters, either a standard name without '@' or `name@domain` with exactly one '@' and a domain.
 */
export function nameProblem(name: string): string | undefined {
  if (name.length === 0) return 'an empty name';
  if (name.length > 64) return `${JSON.stringify(name.slice(0, 40))}… is ${name.length} characters long (more than 64)`;
  // eslint-disable-next-line no-control-regex
  const bad = /[\x00-\x20\x7f-\uffff,]/.exec(name);
  if (bad) return `${JSON.stringify(name)} contains ${JSON.stringify(bad[0])} (not printable US-ASCII, or a comma/whitespace)`;
  const at = name.split('@');
  if (at.length > 2) return `${JSON.stringify(name)} has more than one '@'`;
  if (at.length === 2) {
    if (!at[0]) return `${JSON.stringify(name)} has nothing before the '@'`;
    if (!FQDN.test(at[1]!)) return `${JSON.stringify(name)}: the part after '@' is not a fully qualified domain name`;
  }
  return undefined;
}

/** The problems of every name in a list, labelled. */
export function nameListProblems(label: string, names: readonly string[]): string[] {
  return names.flatMap((n) => { const p = nameProblem(n); return p ? [`${label}: ${p}`] : []; });
}

/**
 * Liveness after authentication: an unknown global request with want reply must be answered, success or failure
 * (RFC 4254 §4). Unlike an unknown message number (the `ping`), every connection-protocol peer answers it, so a
 * check that only wants to know "is the connection still up" does not inherit a peer's SSH_MSG_UNIMPLEMENTED bugs.
 */
export async function alive(c: ClientConn, within = 5000): Promise<boolean> {
  if (c.closed) return false;
  within = Math.round(within * TIME_SCALE);
  c.send({ type: 'SSH_MSG_GLOBAL_REQUEST', name: 'alive-probe@ssh-harness.invalid', wantReply: true, data: new Uint8Array(0) });
  const r = await c.rec.inbox.wait(c.cursor, (m) => m.name === 'SSH_MSG_REQUEST_SUCCESS' || m.name === 'SSH_MSG_REQUEST_FAILURE' || m.name === 'SSH_MSG_UNIMPLEMENTED', within);
  if (r.kind !== 'message') return false;
  c.cursor = r.m.index + 1;
  return true;
}

/**
 * Starts a key re-exchange from our side and waits up to `within` ms for the peer's NEWKEYS of it (RFC 4253 §9);
 * fails the check with why when it does not come. Round `round` names it in the failure.
 */
export async function rekeyAndWait(ctx: CheckContext, c: ClientConn, round: number, within: number): Promise<void> {
  const before = c.rec.inbox.messages.filter((m) => m.name === 'SSH_MSG_NEWKEYS').length;
  c.act((e) => e.rekey());
  const r = await c.rec.inbox.wait(c.cursor, (m) => m.name === 'SSH_MSG_NEWKEYS' && c.rec.inbox.messages.filter((x) => x.name === 'SSH_MSG_NEWKEYS').length > before, within);
  if (r.kind !== 'message') return ctx.fail(`re-exchange ${round} did not complete (${c.closed ? c.describeClosed() : r.kind})`);
  c.cursor = r.m.index + 1;
}
