import { expect } from 'chai';
import fc from 'fast-check';
import { allCodecs, channelOpenData, channelRequestData, globalRequestData, type AnyMessageCodec, type Field, type Fields, type ItemSchema } from '../../../impl/messages/index.js';
import { field as F } from '../../../impl/messages/index.js';
import { runCase } from '../executor.js';
import { selfTarget } from '../self/self-target.js';
import type { Phase, Step } from '../steps.js';
import { isChannelRef, isRaw } from '../value.js';
import type { FuzzMessage } from '../wire-encode.js';
import { EDGE_LENGTHS, EDGE_STRING_LENGTHS, EDGE_U32, nameListOfLength } from './edges.js';
import { fieldsArb, type ArbContext } from './fields.js';
import { messageArbFor } from './messages.js';
import { stepArb } from './steps.js';
import { deepStepArb } from './deep.js';

const dict = { users: ['fuzz'], passwords: ['pw'], keyBlobs: [Uint8Array.of(0, 0, 0, 3, 0x61, 0x62, 0x63)] };
/** The campaign's own odds of a wrong-shaped field: edges must come up with them in place. */
const ctx: ArbContext = { dict, brokenOdds: 12 };
/** Samples per message type before an edge counts as unreachable (bounded; most types need a few hundred). */
const MAX_SAMPLES = 6000;

const STRINGISH = new Set(['string', 'utf8', 'ascii', 'nameList', 'rest']);

/** Field kinds a message's schema holds, variants and list items included. */
function kindsOf(fields: Fields, out = new Set<string>()): Set<string> {
  const item = (s: ItemSchema): void => { if (F.isField(s)) one(s); else kindsOf(s, out); };
  const one = (f: Field): void => { out.add(f.kind); if (f.kind === 'list' || f.kind === 'repeat') item(f.items); };
  for (const f of Object.values(fields)) one(f);
  return out;
}

function codecKinds(c: AnyMessageCodec): Set<string> {
  const k = kindsOf(c.fields);
  if (c.variants) {
    for (const f of Object.values(c.variants.cases)) kindsOf(f, k);
    if (c.variants.otherwise) kindsOf(c.variants.otherwise, k);
  }
  return k;
}

/** Wire lengths of every string-like value and every integer in a generated value (raw fields skipped). */
function collect(v: unknown, lens: Set<number>, ints: Set<number>, names?: Map<string, Set<number>>, key = ''): void {
  if (isRaw(v) || isChannelRef(v) || v === undefined || v === null) return;
  if (v instanceof Uint8Array) { lens.add(v.length); return; }
  if (typeof v === 'string') { const n = Buffer.byteLength(v, 'utf8'); lens.add(n); lens.add(v.length); names?.get(key)?.add(n); return; }
  if (typeof v === 'number') { ints.add(v); return; }
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === 'string')) { lens.add(v.join(',').length); return; }
    for (const x of v) collect(x, lens, ints, names);
    return;
  }
  if (typeof v === 'object') for (const [k, x] of Object.entries(v)) if (k !== 'type') collect(x, lens, ints, names, k);
}

/** Samples `arb` in chunks until `done()` or MAX_SAMPLES; returns how many it took. */
function sampleUntil<T>(arb: fc.Arbitrary<T>, seed: number, each: (v: T) => void, done: () => boolean): number {
  let n = 0;
  for (let chunk = 0; n < MAX_SAMPLES && !done(); chunk++) {
    for (const v of fc.sample(arb, { numRuns: 250, seed: seed + chunk })) each(v);
    n += 250;
  }
  return n;
}

const missing = (want: readonly number[], got: Set<number>): number[] => want.filter((x) => !got.has(x));

describe('fuzz arbitraries: value-space edges are reachable in every message type', function () {
  this.timeout(120_000);

  it(`every message type with strings or name-lists reaches lengths ${EDGE_STRING_LENGTHS.join(', ')}, and every one with uint32 fields reaches ${EDGE_U32.join(', ')}, within ${MAX_SAMPLES} samples`, () => {
    const report: string[] = [];
    let checked = 0;
    for (const c of allCodecs) {
      const kinds = codecKinds(c);
      const wantLens = [...kinds].some((k) => STRINGISH.has(k)) ? EDGE_STRING_LENGTHS : [];
      const wantInts = kinds.has('uint32') ? EDGE_U32 : [];
      if (wantLens.length + wantInts.length === 0) continue;
      checked++;
      const lens = new Set<number>();
      const ints = new Set<number>();
      sampleUntil(messageArbFor(c.name, ctx), c.id * 7919, (m: FuzzMessage) => collect(m, lens, ints),
        () => missing(wantLens, lens).length === 0 && missing(wantInts, ints).length === 0);
      const ml = missing(wantLens, lens);
      const mi = missing(wantInts, ints);
      if (ml.length || mi.length) report.push(`${c.name}: lengths ${ml.join(',') || '-'} ints ${mi.join(',') || '-'}`);
    }
    expect(checked).to.be.greaterThan(30);
    expect(report, 'edges never generated').to.deep.equal([]);
  });

  it('SSH_MSG_DEBUG, SSH_MSG_IGNORE and SSH_MSG_DISCONNECT texts reach every edge length', () => {
    for (const [type, key] of [['SSH_MSG_DEBUG', 'message'], ['SSH_MSG_IGNORE', 'data'], ['SSH_MSG_DISCONNECT', 'description']] as const) {
      const got = new Set<number>();
      sampleUntil(messageArbFor(type, ctx), 11, (m: FuzzMessage) => {
        const v = m[key];
        if (typeof v === 'string') got.add(Buffer.byteLength(v, 'utf8'));
        else if (v instanceof Uint8Array) got.add(v.length);
      }, () => missing(EDGE_STRING_LENGTHS, got).length === 0);
      expect(missing(EDGE_STRING_LENGTHS, got), `${type}.${key}`).to.deep.equal([]);
    }
  });

  it('request-specific data (env, exec, subsystem, pty-req, tcpip-forward, direct-tcpip, …) reaches every edge length', () => {
    const report: string[] = [];
    for (const [what, cases] of [['channel request', channelRequestData.cases], ['global request', globalRequestData.cases], ['channel open', channelOpenData.cases]] as const) {
      for (const [name, c] of Object.entries(cases as Readonly<Record<string, { readonly fields: Fields }>>)) {
        const kinds = kindsOf(c.fields);
        const wantLens = [...kinds].some((k) => STRINGISH.has(k)) ? EDGE_STRING_LENGTHS : [];
        const wantInts = kinds.has('uint32') ? EDGE_U32 : [];
        const lens = new Set<number>();
        const ints = new Set<number>();
        sampleUntil(fieldsArb(c.fields, ctx), name.length * 31, (v) => collect(v, lens, ints),
          () => missing(wantLens, lens).length === 0 && missing(wantInts, ints).length === 0);
        const ml = missing(wantLens, lens);
        const mi = missing(wantInts, ints);
        if (ml.length || mi.length) report.push(`${what} ${name}: lengths ${ml.join(',') || '-'} ints ${mi.join(',') || '-'}`);
      }
    }
    expect(report).to.deep.equal([]);
  });

  it('empty names wherever a name is taken: service, method, channel type, request names, env, exec, subsystem', () => {
    const empty = (arb: fc.Arbitrary<Record<string, unknown>>, key: string, seed: number): boolean => {
      let seen = false;
      sampleUntil(arb, seed, (v) => { if (v[key] === '') seen = true; }, () => seen);
      return seen;
    };
    const msg = (t: string): fc.Arbitrary<Record<string, unknown>> => messageArbFor(t, ctx) as fc.Arbitrary<Record<string, unknown>>;
    const reqFields = (cases: Readonly<Record<string, { readonly fields: Fields }>>, n: string): fc.Arbitrary<Record<string, unknown>> => fieldsArb(cases[n]!.fields, ctx);
    const where: [string, fc.Arbitrary<Record<string, unknown>>, string][] = [
      ['SERVICE_REQUEST service', msg('SSH_MSG_SERVICE_REQUEST'), 'service'],
      ['USERAUTH_REQUEST service', msg('SSH_MSG_USERAUTH_REQUEST'), 'service'],
      ['USERAUTH_REQUEST method', msg('SSH_MSG_USERAUTH_REQUEST'), 'method'],
      ['USERAUTH_REQUEST user', msg('SSH_MSG_USERAUTH_REQUEST'), 'user'],
      ['CHANNEL_OPEN channel type', msg('SSH_MSG_CHANNEL_OPEN'), 'channelType'],
      ['CHANNEL_REQUEST request type', msg('SSH_MSG_CHANNEL_REQUEST'), 'requestType'],
      ['GLOBAL_REQUEST request name', msg('SSH_MSG_GLOBAL_REQUEST'), 'name'],
      ['env name', reqFields(channelRequestData.cases, 'env'), 'name'],
      ['exec command', reqFields(channelRequestData.cases, 'exec'), 'command'],
      ['subsystem name', reqFields(channelRequestData.cases, 'subsystem'), 'name'],
      ['signal name', reqFields(channelRequestData.cases, 'signal'), 'signal'],
    ];
    const steps = stepArb({ dict }) as fc.Arbitrary<Step>;
    const stepName = (op: string, key: string): fc.Arbitrary<Record<string, unknown>> =>
      steps.map((s) => (s.op === op ? (s as unknown as Record<string, unknown>) : { [key]: 'x' }));
    where.push(['step service', stepName('service', 'name'), 'name'], ['step open', stepName('open', 'channelType'), 'channelType'],
      ['step global', stepName('global', 'name'), 'name'], ['step exec', stepName('exec', 'command'), 'command']);
    const never = where.filter(([, arb, key], i) => !empty(arb, key, 100 + i)).map(([w]) => w);
    expect(never, 'never an empty name').to.deep.equal([]);
  });

  it(`version lines (pre-kex bytes) reach total lengths ${EDGE_LENGTHS.filter((n) => n >= 2).join(', ')} and the 255-character limit ± 1`, () => {
    const got = new Set<number>();
    const want = [...EDGE_LENGTHS.filter((n) => n >= 2), 254, 257];
    const steps = stepArb({ dict });
    sampleUntil(steps, 5, (s) => {
      if (s.op !== 'bytes') return;
      const text = Buffer.from(s.data).toString('latin1');
      if (/^SSH-/.test(text) && /\n$/.test(text)) got.add(s.data.length);
    }, () => missing(want, got).length === 0);
    expect(missing(want, got)).to.deep.equal([]);
  });

  it('deep mode reaches the uint32 edges in window sizes, packet sizes and data type codes', () => {
    const ints = new Set<number>();
    sampleUntil(deepStepArb(dict), 9, (s) => { if (s.op === 'send') collect(s.msg, new Set(), ints); }, () => missing(EDGE_U32, ints).length === 0);
    expect(missing(EDGE_U32, ints)).to.deep.equal([]);
  });

  it('name-lists of an exact joined length keep every name within 1..64 characters (RFC 4251 §6)', () => {
    for (const n of [...EDGE_STRING_LENGTHS, 63, 64, 65, 66, 129, 130]) {
      const l = nameListOfLength(n);
      expect(l.join(',').length, String(n)).to.equal(n);
      for (const x of l) expect(x.length).to.be.within(1, 64);
    }
  });
});

/** Where a message type is parsed with the most logic: its own layer's phase. */
function phaseFor(id: number): Phase {
  if (id >= 80) return 'channel';
  if (id >= 50) return 'userauth';
  if (id >= 20) return 'kex';
  return 'authenticated';
}

/** Sets every string-like top-level field to `len` bytes and every uint32 field to `u32`. */
function atEdge(c: AnyMessageCodec, base: FuzzMessage, len: number, u32: number): FuzzMessage {
  const out: Record<string, unknown> = { ...base };
  const fields: Fields = { ...c.fields, ...(c.variants ? c.variants.cases[String(base[c.variants.on])] ?? {} : {}) };
  for (const [k, f] of Object.entries(fields)) {
    if (!(k in out) || (c.variants && k === c.variants.on)) continue;
    if (f.kind === 'string' || f.kind === 'rest') out[k] = new Uint8Array(len).fill(0x41);
    else if (f.kind === 'utf8' || f.kind === 'ascii') out[k] = 'a'.repeat(len);
    else if (f.kind === 'nameList') out[k] = nameListOfLength(len);
    else if (f.kind === 'uint32' && k !== 'recipientChannel') out[k] = u32;
  }
  return out as FuzzMessage;
}

describe('fuzz: edge values against our own engine (self target, in-process)', function () {
  this.timeout(120_000);

  it('every message type with every string field at each edge length (and uint32 fields at the edges) in its own phase: no crash, escaped exception, invariant violation or hang', async () => {
    const target = selfTarget();
    const bad: string[] = [];
    let cases = 0;
    let sent = 0;
    for (const c of allCodecs) {
      const [base] = fc.sample(messageArbFor(c.name, { dict: target.dictionary, brokenOdds: 0 }), { numRuns: 1, seed: c.id });
      const kinds = codecKinds(c);
      if (![...kinds].some((k) => STRINGISH.has(k) || k === 'uint32')) continue;
      for (const [i, len] of EDGE_STRING_LENGTHS.entries()) {
        const msg = atEdge(c, base!, len, EDGE_U32[i % EDGE_U32.length]!);
        const steps: Step[] = [{ op: 'send', msg }];
        const r = await runCase(target, phaseFor(c.id), steps);
        cases++;
        if (r.record.executed.length === 1) sent++;
        const f = r.finding;
        if (f && f.severity === 'must') bad.push(`${c.name} at ${len} bytes: [${f.oracle}] ${f.message}`);
      }
    }
    expect(cases).to.be.greaterThan(300);
    // the phase was reached and the edge message went out (not cut short by an unreachable start)
    expect(sent).to.equal(cases);
    expect(bad).to.deep.equal([]);
  });
});
