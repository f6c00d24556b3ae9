/**
 * The scenario file format (scenarios/*.yaml, *.json), as a schema. A file holds `defaults` and `checks`;
 * a check holds its metadata and `steps`; a step is a mapping with one key naming what it does. See
 * scenarios/README.md for the reference with examples.
 */
import { S, type Schema } from './schema.js';
import { AREAS, LEVELS, SUITES, VERDICTS } from './types.js';

const verdict = S.enum(...VERDICTS);
const within = S.int(1, 60_000);
const name = S.string(/^[A-Za-z][A-Za-z0-9_-]*$/, 'a name (letters, digits, _ and -)');
const names = S.array(S.string(), 1);
const hex = S.string(/^([0-9a-fA-F]{2})*$/, 'hex bytes (an even number of hex digits)');

/** `else`: the verdict when the step's expectation is not met; `because`: text put in front of the reason. */
const outcome = { else: verdict, because: S.string() };

const algorithms = S.object({ kex: names, hostKey: names, cipher: names, mac: names, compression: names });

/** A message: `type` is its RFC name; fields as in impl/messages (bytes: {hex}, {utf8}, {string}, {zeros}). */
const message = S.object({ type: S.req(S.string(/^(SSH_MSG_[A-Z0-9_]+|unknown)$/, 'an RFC message name like SSH_MSG_KEXINIT (or "unknown")')) }, S.any());

const reason = S.union('a disconnect reason name or code', S.string(/^(SSH_DISCONNECT_)?[A-Z_]+$/, 'a reason name like PROTOCOL_ERROR'), S.int(0, 0xffffffff));

export const stepSchema: Schema = S.tagged('step', {
  // ── connections ──
  connect: S.object({ algorithms, 'strict-kex': S.bool(), 'ext-info': S.bool(), version: S.string(), comments: S.string(), kexinit: S.object({}, S.any()) }),
  'connect-raw': S.object({}),
  // ── protocol steps (preconditions: default else = inconclusive) ──
  kex: S.object({ within, 'on-close': verdict, ...outcome }),
  service: S.union('a service name or {name, else}', S.string(), S.object({ name: S.string(), ...outcome })),
  auth: S.union('password, publickey, any, or {method, else}', S.enum('password', 'publickey', 'any'), S.object({ method: S.enum('password', 'publickey', 'any'), ...outcome })),
  'open-session': S.object({ window: S.int(0, 0xffffffff), 'max-packet': S.int(0, 0xffffffff), as: name, local: S.int(0, 0xffffffff), ...outcome }),
  exec: S.union('a command or {command, channel, else}', S.string(), S.object({ command: S.req(S.string()), channel: name, ...outcome })),
  // ── sending ──
  send: message,
  'send-raw': message,
  'send-payload': S.object({ hex: S.req(hex), raw: S.bool() }),
  'send-bytes': S.object({ hex, ascii: S.string() }),
  'send-line': S.string(),
  'send-packet': S.object({ message, payload: hex, padding: S.int(0, 255), 'extra-padding': S.int(0, 248), 'packet-length': S.int(0, 0xffffffff), block: S.int(1, 256) }),
  'send-kexinit': S.object({}, S.any()),
  // ── deviations of our engine's next packet ──
  'corrupt-next': S.object({ id: S.int(0, 255), mac: S.bool(), padding: S.int(0, 255), 'packet-length': S.int(0, 0xffffffff), 'seq-offset': S.int(-1000, 1000), truncate: S.int(0, 1 << 20) }),
  'skip-next': S.int(0, 255),
  'duplicate-next': S.int(0, 255),
  'delay-next': S.object({ id: S.req(S.int(0, 255)), after: S.int(1, 100) }),
  rekey: S.object({}),
  'kexinit-override': S.object({}, S.any()),
  // ── expectations (default else = fail) ──
  ping: S.object({ within, ...outcome }),
  expect: S.object({ message: S.req(S.union('a message name or a list', S.string(), names)), where: S.object({}, S.any()), within, next: S.bool(), anywhere: S.bool(), as: name, ...outcome }),
  'expect-disconnect': S.object({ reasons: S.array(reason), within, 'allow-close': S.bool(), ...outcome }),
  'expect-reject': S.object({ within, 'on-silence': verdict, reasons: S.array(reason), because: S.string() }),
  'expect-silence': S.object({ within, 'allow-close': S.bool(), ...outcome }),
  'expect-graceful': S.object({ within, ...outcome }),
  'expect-absent': S.object({ message: S.req(S.union('a message name or a list', S.string(), names)), within, ...outcome }),
  'expect-closed': S.object({ within, ...outcome }),
  'expect-line': S.object({ match: S.req(S.string()), within, ...outcome }),
  // ── control ──
  check: S.object({ value: S.req(S.any()), is: S.req(S.any()), ...outcome }),
  wait: S.int(0, 10_000),
  note: S.string(),
  verdict: S.object({ is: S.req(verdict), because: S.req(S.string()) }),
  if: S.object({
    offers: algorithms, negotiated: algorithms, received: S.string(), closed: S.bool(),
    then: S.req(S.lazy(() => stepsSchema)), otherwise: S.lazy(() => stepsSchema),
  }),
});

export const stepsSchema: Schema = S.array(stepSchema, 1);

const spec = S.union('a citation "RFC 4253 §11.4: text" or {rfc, section, text}',
  S.string(/^.+ §\S+/, 'a citation like "RFC 4253 §11.4: text"'),
  S.object({ rfc: S.req(S.string()), section: S.req(S.string()), text: S.string() }));

const requires = S.object({ kex: names, hostKey: names, cipher: names, mac: names, auth: S.array(S.enum('password', 'publickey')) });

const common = {
  level: S.enum(...LEVELS),
  role: S.enum('server', 'client'),
  area: S.enum(...AREAS),
  suites: S.array(S.enum(...SUITES.filter((s) => s !== 'all'))),
  requires,
  timeout: S.int(100, 120_000),
};

export const checkSchema: Schema = S.object({
  id: S.req(S.string(/^[a-z0-9${][a-z0-9.${}_-]*$/, 'an id of lower-case letters, digits, ".", "_" and "-"')),
  title: S.req(S.string()),
  spec: S.req(S.union('a citation or a list of them', spec, S.array(spec, 1))),
  matrix: S.union('a mapping of name → list of values, or a list of rows', S.object({}, S.array(S.any(), 1)), S.array(S.object({}, S.any()), 1)),
  steps: S.req(stepsSchema),
  ...common,
});

export const fileSchema: Schema = S.object({
  defaults: S.object(common),
  checks: S.req(S.array(checkSchema, 1)),
});

// ── the validated shapes ──

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type StepValue = Readonly<Record<string, Json>>;

export interface CheckValue {
  readonly id: string;
  readonly title: string;
  readonly spec: Json;
  readonly matrix?: Json;
  readonly steps: StepValue[];
  readonly level?: string;
  readonly role?: string;
  readonly area?: string;
  readonly suites?: string[];
  readonly requires?: Readonly<Record<string, string[]>>;
  readonly timeout?: number;
}

export interface FileValue {
  readonly defaults?: Omit<CheckValue, 'id' | 'title' | 'spec' | 'steps' | 'matrix'>;
  readonly checks: CheckValue[];
}
