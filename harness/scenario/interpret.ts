/**
 * Runs the steps of a data scenario through the same API TypeScript checks use (CheckContext, ClientConn,
 * RawConn). One connection is current at a time (the last `connect`/`connect-raw`); values a step saves with
 * `as:` and a few built-ins ($sent, $user, $password) can be used in later steps' fields.
 */
import { encodeMessage, type MessageInput } from '../../impl/messages/index.js';
import { ClientConn, stringBytes } from './client-conn.js';
import type { CheckContext } from './context.js';
import type { Json, StepValue } from './data-format.js';
import { reasonCode, valueMatches, type FieldMatch, type Where } from './expect.js';
import { RawConn, type PacketFraming } from './raw-conn.js';
import type { Corruption } from '../../impl/transport/testing.js';
import type { Verdict } from './types.js';
import type { ServerKexInit } from '../targets/banner.js';
import { cipherAlgorithms, kexAlgorithms, macAlgorithms, signatureAlgorithms } from '../../impl/crypto/registry.js';

/** A step's position in its file, for errors that show up only when it runs. */
export interface StepSite {
  readonly file: string;
  readonly line: number;
}

export class StepError extends Error {}

interface State {
  readonly ctx: CheckContext;
  conn: ClientConn | RawConn | undefined;
  readonly vars: Map<string, Json>;
}

/** Replaces `$name` strings by variables; converts {hex}, {utf8}, {string}, {zeros}, {bigint} to bytes / bigint. */
export function materialize(v: Json, vars: ReadonlyMap<string, Json>): unknown {
  if (typeof v === 'string' && v.startsWith('$')) {
    const name = v.slice(1);
    if (!vars.has(name)) throw new StepError(`unknown variable ${v} (known: ${[...vars.keys()].map((k) => `$${k}`).join(', ')})`);
    return vars.get(name);
  }
  if (Array.isArray(v)) return v.map((x) => materialize(x, vars));
  if ((v as unknown) instanceof Uint8Array) return v;
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v);
    if (keys.length === 1) {
      const [k] = keys as [string];
      const x = materialize(v[k]!, vars);
      if (k === 'hex' && typeof x === 'string') return new Uint8Array(Buffer.from(x, 'hex'));
      if (k === 'utf8' && typeof x === 'string') return new Uint8Array(Buffer.from(x, 'utf8'));
      if (k === 'string' && typeof x === 'string') return stringBytes(x);
      if (k === 'zeros' && typeof x === 'number') return new Uint8Array(x);
      if (k === 'bigint' && (typeof x === 'string' || typeof x === 'number')) return BigInt(x);
    }
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, materialize(x, vars)]));
  }
  return v;
}

export function toMessage(v: Json, vars: ReadonlyMap<string, Json>): MessageInput {
  const m = materialize(v, vars) as Record<string, unknown>;
  if (m['type'] === 'unknown') {
    return { type: 'unknown', id: Number(m['id']), body: m['body'] instanceof Uint8Array ? m['body'] : new Uint8Array(0) };
  }
  return m as unknown as MessageInput;
}

/** Placeholder values that let a file's messages be encoded once at load time (errors with file:line). */
export function loadTimeVars(): Map<string, Json> {
  return new Map<string, Json>([['sent', 0], ['user', 'user'], ['password', 'password']]);
}

function str(v: Json | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
function num(v: Json | undefined): number | undefined {
  return typeof v === 'number' ? v : undefined;
}
function verdictOf(v: Json | undefined, dflt: Verdict): Verdict {
  return (typeof v === 'string' ? v : dflt) as Verdict;
}
export function obj(v: Json | undefined): Readonly<Record<string, Json>> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {};
}
function list(v: Json | undefined): string[] | undefined {
  return Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : undefined;
}

function engineConn(s: State, step: string): ClientConn {
  if (s.conn instanceof ClientConn) return s.conn;
  throw new StepError(`${step} needs an engine connection: start with a "connect" step`);
}
function rawConn(s: State, step: string): RawConn {
  if (s.conn instanceof RawConn) return s.conn;
  throw new StepError(`${step} needs a raw connection: start with a "connect-raw" step`);
}
function anyConn(s: State, step: string): ClientConn | RawConn {
  if (s.conn) return s.conn;
  throw new StepError(`${step} needs a connection: start with "connect" or "connect-raw"`);
}

/** A step's `algorithms: {kex, hostKey, cipher, mac, compression}` as preference lists. */
export function algorithmLists(v: Json | undefined): Record<string, string[]> {
  const a = obj(v);
  const out: Record<string, string[]> = {};
  for (const k of ['kex', 'hostKey', 'cipher', 'mac', 'compression']) if (a[k]) out[k] = list(a[k])!;
  return out;
}

/** A `corrupt-next` step's argument as the engine's Corruption (impl/transport/testing.ts). */
export function corruptionOf(a: Readonly<Record<string, Json>>): Corruption {
  return {
    ...(num(a['id']) !== undefined ? { id: num(a['id'])! } : {}),
    ...(a['mac'] === true ? { mac: true } : {}),
    ...(num(a['padding']) !== undefined ? { padding: num(a['padding'])! } : {}),
    ...(num(a['packet-length']) !== undefined ? { packetLength: num(a['packet-length'])! } : {}),
    ...(num(a['seq-offset']) !== undefined ? { seqOffset: num(a['seq-offset'])! } : {}),
    ...(num(a['truncate']) !== undefined ? { truncate: num(a['truncate'])! } : {}),
  };
}

/** A `send-packet` step's framing options. */
export function framingOf(a: Readonly<Record<string, Json>>): PacketFraming {
  return {
    ...(num(a['padding']) !== undefined ? { padding: num(a['padding'])! } : {}),
    ...(num(a['packet-length']) !== undefined ? { packetLength: num(a['packet-length'])! } : {}),
    ...(num(a['block']) !== undefined ? { block: num(a['block'])! } : {}),
    ...(num(a['extra-padding']) !== undefined ? { extraPadding: num(a['extra-padding'])! } : {}),
  };
}

/**
 * The bytes of a `send-bytes` step ({ascii} — YAML double-quoted strings already carry escapes such as "\r\n",
 * sent as latin1 — or {hex}) or of a `send-line` step (the text plus CR LF).
 */
export function stepBytes(kind: 'send-bytes' | 'send-line', arg: Json): Uint8Array {
  if (kind === 'send-line') return new Uint8Array(Buffer.from(`${String(arg)}\r\n`, 'latin1'));
  const a = obj(arg);
  return a['ascii'] !== undefined ? new Uint8Array(Buffer.from(String(a['ascii']), 'latin1')) : new Uint8Array(Buffer.from(str(a['hex']) ?? '', 'hex'));
}

function offered(s: State, lists: Record<string, string[]>): boolean {
  const k = s.ctx.target.kexInit;
  if (!k) return true;
  const have: Record<string, readonly string[]> = { kex: k.kex, hostKey: k.hostKey, cipher: k.cipherC2S, mac: k.macC2S, compression: k.compC2S };
  return Object.entries(lists).every(([kind, names]) => names.some((n) => have[kind]?.includes(n)));
}

async function runStep(s: State, step: StepValue, site: StepSite): Promise<void> {
  const [kind, arg] = Object.entries(step)[0] as [string, Json];
  const a = obj(arg);
  switch (kind) {
    case 'connect': {
      const kexinit = obj(a['kexinit']);
      const algs = algorithmLists(a['algorithms']);
      s.conn = await s.ctx.connect({
        ...(Object.keys(algs).length ? { algorithms: algs } : {}),
        ...(typeof a['strict-kex'] === 'boolean' ? { strictKex: a['strict-kex'] } : {}),
        ...(typeof a['ext-info'] === 'boolean' ? { extInfo: a['ext-info'] } : {}),
        ...(str(a['version']) !== undefined ? { softwareVersion: str(a['version'])! } : {}),
        ...(str(a['comments']) !== undefined ? { comments: str(a['comments'])! } : {}),
        ...(Object.keys(kexinit).length ? { deviations: (t) => t.setKexInitOverride((k) => ({ ...k, ...(materialize(kexinit, s.vars) as object) })) } : {}),
      });
      return;
    }
    case 'connect-raw':
      s.conn = await s.ctx.connectRaw();
      return;
    case 'kex':
      await engineConn(s, kind).kex({
        ...(num(a['within']) ? { within: num(a['within'])! } : {}),
        else: verdictOf(a['else'], 'inconclusive'),
        ...(a['on-close'] ? { onClose: verdictOf(a['on-close'], 'pass') } : {}),
      });
      return;
    case 'service': {
      const name = typeof arg === 'string' ? arg : str(a['name']) ?? 'ssh-userauth';
      await engineConn(s, kind).service(name, { else: verdictOf(a['else'], 'inconclusive') });
      return;
    }
    case 'auth': {
      const method = (typeof arg === 'string' ? arg : str(a['method']) ?? 'any') as 'password' | 'publickey' | 'any';
      await engineConn(s, kind).authenticate(method, { else: verdictOf(a['else'], 'inconclusive') });
      return;
    }
    case 'open-session': {
      const ch = await engineConn(s, kind).openSession({
        ...(num(a['window']) !== undefined ? { window: num(a['window'])! } : {}),
        ...(num(a['max-packet']) !== undefined ? { maxPacket: num(a['max-packet'])! } : {}),
        ...(num(a['local']) !== undefined ? { local: num(a['local'])! } : {}),
        else: verdictOf(a['else'], 'inconclusive'),
      });
      const as = str(a['as']) ?? 'ch';
      s.vars.set(`${as}.local`, ch.local);
      s.vars.set(`${as}.remote`, ch.remote);
      s.vars.set(`${as}.window`, ch.remoteWindow);
      s.vars.set(`${as}.max-packet`, ch.remoteMaxPacket);
      return;
    }
    case 'exec': {
      const c = engineConn(s, kind);
      const command = typeof arg === 'string' ? arg : str(a['command'])!;
      const as = typeof arg === 'string' ? 'ch' : str(a['channel']) ?? 'ch';
      const local = s.vars.get(`${as}.local`), remote = s.vars.get(`${as}.remote`);
      if (typeof local !== 'number' || typeof remote !== 'number') throw new StepError(`exec: no channel "${as}" (open one with open-session)`);
      const ok = await c.exec({ local, remote, remoteWindow: 0, remoteMaxPacket: 0 }, command, { else: verdictOf(a['else'], 'inconclusive') });
      if (!ok) c.note(`exec ${JSON.stringify(command)} was refused`);
      if (!ok) s.ctx.verdict(verdictOf(a['else'], 'inconclusive'), `exec ${JSON.stringify(command)} was refused with SSH_MSG_CHANNEL_FAILURE`);
      return;
    }
    case 'send': {
      const c = anyConn(s, kind);
      const m = toMessage(arg, s.vars);
      if (c instanceof ClientConn) c.send(m); else c.sendMessage(m);
      s.vars.set('sent', c instanceof ClientConn ? c.lastSentSeq : -1);
      return;
    }
    case 'send-raw': {
      const c = engineConn(s, kind);
      s.vars.set('sent', c.sendRawMessage(toMessage(arg, s.vars)));
      return;
    }
    case 'send-payload': {
      const c = anyConn(s, kind);
      const payload = new Uint8Array(Buffer.from(str(a['hex']) ?? '', 'hex'));
      if (c instanceof RawConn) { s.vars.set('sent', c.sendPacket(payload, {}, 'raw payload')); return; }
      if (a['raw'] === false) { c.act((e) => e.sendPayload(payload)); s.vars.set('sent', c.lastSentSeq); return; }
      s.vars.set('sent', c.sendRaw(payload));
      return;
    }
    case 'send-bytes':
      anyConn(s, kind).sendBytes(stepBytes(kind, arg));
      return;
    case 'send-line':
      anyConn(s, kind).sendBytes(stepBytes(kind, arg), 'line');
      return;
    case 'send-packet': {
      const c = rawConn(s, kind);
      const payload = a['message'] !== undefined ? encodeMessage(toMessage(a['message']!, s.vars)) : new Uint8Array(Buffer.from(str(a['payload']) ?? '', 'hex'));
      s.vars.set('sent', c.sendPacket(payload, framingOf(a)));
      return;
    }
    case 'send-kexinit': {
      const c = rawConn(s, kind);
      s.vars.set('sent', c.sendMessage({ ...defaultKexInit(s.ctx.target.kexInit), ...(materialize(a, s.vars) as object) } as MessageInput));
      return;
    }
    case 'corrupt-next':
      engineConn(s, kind).testing.corruptNext(corruptionOf(a));
      return;
    case 'skip-next': engineConn(s, kind).testing.skipNext(num(arg)); return;
    case 'duplicate-next': engineConn(s, kind).testing.duplicateNext(num(arg)); return;
    case 'delay-next': engineConn(s, kind).testing.delayNext(num(a['id'])!, num(a['after']) ?? 1); return;
    case 'rekey': engineConn(s, kind).act((e) => e.rekey()); return;
    case 'kexinit-override': {
      const fields = materialize(a, s.vars) as object;
      engineConn(s, kind).testing.setKexInitOverride((k) => ({ ...k, ...fields }));
      return;
    }
    case 'ping': {
      const c = engineConn(s, kind);
      if (!(await c.ping(num(a['within']) ?? undefined))) s.ctx.verdict(verdictOf(a['else'], 'fail'), `${str(a['because']) ? `${str(a['because'])}: ` : ''}an unknown message was not answered with SSH_MSG_UNIMPLEMENTED (the connection ${c.closed ? 'closed' : 'stayed silent'})`);
      return;
    }
    case 'expect': {
      const c = anyConn(s, kind);
      const where = a['where'] ? (materialize(a['where']!, s.vars) as Where) : undefined;
      const o = {
        ...(where ? { where } : {}),
        ...(num(a['within']) !== undefined ? { within: num(a['within'])! } : {}),
        else: verdictOf(a['else'], 'fail'),
        ...(str(a['because']) ? { because: str(a['because'])! } : {}),
        ...(a['anywhere'] === true ? { anywhere: true } : {}),
      };
      const names = list(a['message'])!;
      const m = a['next'] === true ? await c.expectNext(names, o) : await c.expectMessage(names, o);
      const as = str(a['as']);
      if (as) {
        s.vars.set(`${as}.seq`, m.seq);
        s.vars.set(`${as}.name`, m.name);
        for (const [k, v] of Object.entries(m.fields ?? {})) s.vars.set(`${as}.${k}`, v as Json);
      }
      return;
    }
    case 'expect-disconnect': {
      const reasons = Array.isArray(a['reasons']) ? a['reasons'].map((r) => reasonCode(r as string | number)) : undefined;
      await anyConn(s, kind).expectDisconnect({
        ...(reasons ? { reasons } : {}),
        ...(num(a['within']) !== undefined ? { within: num(a['within'])! } : {}),
        allowClose: a['allow-close'] === true,
        else: verdictOf(a['else'], 'fail'),
        ...(str(a['because']) ? { because: str(a['because'])! } : {}),
      });
      return;
    }
    case 'expect-reject': {
      const reasons = Array.isArray(a['reasons']) ? a['reasons'].map((r) => reasonCode(r as string | number)) : undefined;
      await engineConn(s, kind).expectReject({
        ...(reasons ? { reasons } : {}),
        ...(num(a['within']) !== undefined ? { within: num(a['within'])! } : {}),
        onSilence: verdictOf(a['on-silence'], 'pass'),
        ...(str(a['because']) ? { because: str(a['because'])! } : {}),
      });
      return;
    }
    case 'expect-silence':
      await anyConn(s, kind).expectSilence({
        ...(num(a['within']) !== undefined ? { within: num(a['within'])! } : {}),
        allowClose: a['allow-close'] !== false,
        else: verdictOf(a['else'], 'fail'),
        ...(str(a['because']) ? { because: str(a['because'])! } : {}),
      });
      return;
    case 'expect-graceful':
      await engineConn(s, kind).expectGraceful({
        ...(num(a['within']) !== undefined ? { within: num(a['within'])! } : {}),
        else: verdictOf(a['else'], 'fail'),
        ...(str(a['because']) ? { because: str(a['because'])! } : {}),
      });
      return;
    case 'expect-absent':
      await anyConn(s, kind).expectAbsent(list(a['message'])!, {
        ...(num(a['within']) !== undefined ? { within: num(a['within'])! } : {}),
        else: verdictOf(a['else'], 'fail'),
        ...(str(a['because']) ? { because: str(a['because'])! } : {}),
      });
      return;
    case 'expect-closed': {
      const c = anyConn(s, kind);
      const o = { ...(num(a['within']) !== undefined ? { within: num(a['within'])! } : {}), else: verdictOf(a['else'], 'fail'), ...(str(a['because']) ? { because: str(a['because'])! } : {}) };
      if (c instanceof RawConn) await c.expectClosed(o);
      else await c.expectDisconnect({ ...o, allowClose: true });
      return;
    }
    case 'expect-line':
      await rawConn(s, kind).expectLine(new RegExp(str(a['match'])!), {
        ...(num(a['within']) !== undefined ? { within: num(a['within'])! } : {}),
        else: verdictOf(a['else'], 'fail'),
        ...(str(a['because']) ? { because: str(a['because'])! } : {}),
      });
      return;
    case 'check': {
      const got = materialize(a['value']!, s.vars);
      const want = materialize(a['is']!, s.vars) as FieldMatch;
      if (!valueMatches(got, want)) {
        const what = typeof a['value'] === 'string' ? a['value'] : 'the value';
        s.ctx.verdict(verdictOf(a['else'], 'fail'), `${str(a['because']) ? `${str(a['because'])}: ` : ''}${what} is ${JSON.stringify(got)?.slice(0, 200)}, expected ${JSON.stringify(want)}`);
      }
      return;
    }
    case 'wait':
      await new Promise((r) => setTimeout(r, num(arg) ?? 0));
      return;
    case 'note':
      s.ctx.note(String(arg));
      return;
    case 'verdict':
      s.ctx.verdict(verdictOf(a['is'], 'fail'), String(a['because']));
      return;
    case 'if': {
      let cond = true;
      if (a['offers']) cond &&= offered(s, algorithmLists(a['offers']));
      if (a['negotiated']) {
        const n = s.conn instanceof ClientConn ? s.conn.negotiated : undefined;
        const want = algorithmLists(a['negotiated']);
        const have: Record<string, string | undefined> = { kex: n?.kex, hostKey: n?.hostKey, cipher: n?.cipherC2S, mac: n?.macC2S, compression: n?.compressionC2S };
        cond &&= Object.entries(want).every(([k, names]) => names.includes(have[k] ?? ''));
      }
      if (a['received'] !== undefined) cond &&= !!s.conn?.rec.inbox.messages.some((m) => m.name === a['received']);
      if (typeof a['closed'] === 'boolean') cond &&= !!s.conn?.closed === a['closed'];
      const branch = cond ? a['then'] : a['otherwise'];
      if (Array.isArray(branch)) for (const st of branch) await runStep(s, st as StepValue, site);
      return;
    }
    default:
      throw new StepError(`unknown step ${kind}`);
  }
}

/** A cleartext KEXINIT with what our engine offers by default, for raw connections. */
/**
 * The KEXINIT a raw connection sends unless a step overrides fields. With the target's KEXINIT at hand, a list
 * that shares no name with it gets the target's first algorithm of that kind that we implement appended (legacy
 * ones included: lsh 2.1 offers only DH with SHA-1, ssh-rsa and CBC), so checks about something else are not
 * cut short by "no common algorithm" (RFC 4253 §7.1); fields a step sets are used as given.
 */
export function defaultKexInit(server?: ServerKexInit): Record<string, unknown> {
  const fit = (ours: string[], theirs: readonly string[] | undefined, registry: ReadonlyMap<string, unknown>): string[] => {
    if (!theirs || ours.some((n) => theirs.includes(n))) return ours;
    const extra = theirs.find((n) => registry.has(n));
    return extra ? [...ours, extra] : ours;
  };
  const cipher = (t?: readonly string[]): string[] => fit(['aes128-ctr', 'aes256-ctr', 'aes128-gcm@openssh.com'], t, cipherAlgorithms);
  const mac = (t?: readonly string[]): string[] => fit(['hmac-sha2-256'], t, macAlgorithms);
  return {
    type: 'SSH_MSG_KEXINIT', cookie: new Uint8Array(16).fill(0x42),
    kexAlgorithms: fit(['curve25519-sha256', 'ecdh-sha2-nistp256', 'diffie-hellman-group14-sha256'], server?.kex, kexAlgorithms),
    serverHostKeyAlgorithms: fit(['ssh-ed25519', 'ecdsa-sha2-nistp256', 'rsa-sha2-512', 'rsa-sha2-256'], server?.hostKey, signatureAlgorithms),
    encryptionC2S: cipher(server?.cipherC2S), encryptionS2C: cipher(server?.cipherS2C),
    macC2S: mac(server?.macC2S), macS2C: mac(server?.macS2C), compressionC2S: ['none'], compressionS2C: ['none'],
    languagesC2S: [], languagesS2C: [], firstKexPacketFollows: false, reserved: 0,
  };
}

/** Runs a data scenario's steps against the context; errors in a step name its file and line. */
export async function runSteps(ctx: CheckContext, steps: readonly StepValue[], sites: readonly StepSite[], vars: ReadonlyMap<string, Json>): Promise<void> {
  const s: State = { ctx, conn: undefined, vars: new Map(vars) };
  s.vars.set('user', ctx.target.credentials.user);
  s.vars.set('password', ctx.target.credentials.password ?? '');
  s.vars.set('sent', -1);
  for (let i = 0; i < steps.length; i++) {
    try {
      await runStep(s, steps[i]!, sites[i]!);
    } catch (e) {
      if (e instanceof StepError) throw new StepError(`${sites[i]!.file}:${sites[i]!.line}: ${e.message}`);
      throw e;
    }
  }
}
