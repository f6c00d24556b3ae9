/**
 * Properties checked on every learned model, each a small function over the product of the model with a
 * phase tracker (where the path stands in the protocol: inside the initial kex, after it, inside a re-exchange
 * we started, authenticated or not). A violation comes with its witness: the shortest input word found
 * breadth-first, replayable against the peer (`ssh-harness learn replay`).
 */
import { type Mealy, run } from './mealy.js';
import { isSinkOutput, LOCAL_ERROR } from './ssh/outputs.js';
import type { Start } from './alphabet.js';

export interface PropertyResult {
  readonly id: string;
  readonly title: string;
  readonly spec: string;
  readonly status: 'pass' | 'fail' | 'n/a';
  readonly why?: string;
  readonly witness?: { readonly inputs: readonly string[]; readonly outputs: readonly string[] };
}

/** 'off': a path on which we broke the protocol ourselves (a second KEXINIT inside a re-exchange): no rule applies after it. */
type Phase = 'pre' | 'pre-nk' | 'post' | 'rekey' | 'rekey-nk' | 'off';
interface Node { readonly state: number; readonly phase: Phase; readonly auth: boolean; readonly path: readonly string[] }

const KEX_INPUTS = new Set(['KEXINIT', 'KEX_ECDH_INIT', 'NEWKEYS']);
const has = (o: string, token: string): boolean => o.split('+').some((t) => t === token || t.startsWith(`${token}(`));
const closes = (o: string): boolean => isSinkOutput(o) && !o.includes(LOCAL_ERROR);

function step(n: Node, x: string, o: string, t: number): Node {
  const nk = has(o, 'NEWKEYS');
  let phase: Phase = n.phase;
  if (n.phase === 'pre' && nk) phase = 'pre-nk';
  else if (n.phase === 'pre-nk' && x === 'NEWKEYS') phase = 'post';
  else if (n.phase === 'post' && x === 'KEXINIT') phase = nk ? 'rekey-nk' : 'rekey';
  else if ((n.phase === 'rekey' || n.phase === 'rekey-nk') && x === 'KEXINIT') phase = 'off';
  else if (n.phase === 'rekey' && nk) phase = 'rekey-nk';
  else if (n.phase === 'rekey-nk' && x === 'NEWKEYS') phase = 'post';
  return { state: t, phase, auth: n.auth || has(o, 'USERAUTH_SUCCESS'), path: [...n.path, x] };
}

/** Every (state, phase, auth) the model reaches from `first` without closing, with a shortest path to it. */
function explore(m: Mealy, start: Start, from?: Node): Node[] {
  const first: Node = from ?? { state: 0, phase: start === 'connected' ? 'pre' : 'post', auth: start === 'authenticated', path: [] };
  const seen = new Map<string, Node>([[`0|${first.phase}|${first.auth}`, first]]);
  const queue = [first];
  while (queue.length) {
    const n = queue.shift()!;
    m.inputs.forEach((x, i) => {
      const o = m.out[n.state]![i]!;
      if (isSinkOutput(o)) return;
      const v = step(n, x, o, m.next[n.state]![i]!);
      const key = `${v.state}|${v.phase}|${v.auth}`;
      if (!seen.has(key)) { seen.set(key, v); queue.push(v); }
    });
  }
  return [...seen.values()];
}

interface Check {
  readonly id: string;
  readonly title: string;
  readonly spec: string;
  /** Why it does not apply to this alphabet, or undefined. */
  applies(inputs: readonly string[], start: Start): string | undefined;
  /** The first violating input at node n, or undefined. */
  violation(n: Node, x: string, o: string, m: Mealy): { why: string; more?: readonly string[] } | undefined;
}

const CONNECTION_ACCEPTED = ['CHANNEL_OPEN_CONFIRMATION', 'CHANNEL_SUCCESS', 'REQUEST_SUCCESS', 'CHANNEL_DATA', 'CHANNEL_EXTENDED_DATA', 'CHANNEL_WINDOW_ADJUST'];
const GRANTS = ['USERAUTH_SUCCESS', ...CONNECTION_ACCEPTED];

const CHECKS: readonly Check[] = [
  {
    id: 'strict-kex',
    title: 'under strict kex, any message other than the key exchange ones before the first NEWKEYS ends the connection',
    spec: 'OpenSSH PROTOCOL, "strict key exchange" (kex-strict-s-v00@openssh.com)',
    applies: (inputs, start) => (start !== 'connected' ? 'queries start after the initial kex'
      : !inputs.some((x) => !KEX_INPUTS.has(x)) ? 'no non-kex input in the alphabet' : undefined),
    // a peer may notice only at the client's KEXINIT (it must be the first packet); what matters is that a
    // connection that saw such a message never completes the handshake
    violation: (n, x, o, m) => {
      if ((n.phase !== 'pre' && n.phase !== 'pre-nk') || KEX_INPUTS.has(x) || closes(o)) return undefined;
      const after = step({ ...n, path: [] }, x, o, m.next[n.state]![m.inputs.indexOf(x)]!);
      const done = explore(m, 'connected', after).find((v) => v.phase === 'post');
      return done ? { why: `${x} before the first NEWKEYS answered ${o} and the key exchange still completed`, more: done.path.slice(1) } : undefined;
    },
  },
  {
    id: 'no-connection-before-auth',
    title: 'no channel or global request is acted on before USERAUTH_SUCCESS',
    spec: 'RFC 4252 §5.1, RFC 4254 §1',
    applies: (inputs, start) => (start === 'authenticated' ? 'queries start authenticated'
      : !inputs.some((x) => x.startsWith('CHANNEL_') || x === 'GLOBAL_REQUEST') ? 'no channel or global request input' : undefined),
    violation: (n, x, o) => (!n.auth && (x.startsWith('CHANNEL_') || x === 'GLOBAL_REQUEST') && CONNECTION_ACCEPTED.some((t) => has(o, t)) ? { why: `${x} before authentication answered ${o}` } : undefined),
  },
  {
    id: 'unimplemented',
    title: 'an unrecognised message gets SSH_MSG_UNIMPLEMENTED',
    spec: 'RFC 4253 §11.4',
    applies: (inputs) => (inputs.includes('UNKNOWN') ? undefined : 'no UNKNOWN input in the alphabet'),
    violation: (n, x, o) => (x === 'UNKNOWN' && n.phase === 'post' && !has(o, 'UNIMPLEMENTED') ? { why: `UNKNOWN answered ${o}` } : undefined),
  },
  {
    id: 'failed-auth-no-advance',
    title: 'after a failed authentication the state does not advance (nothing it refused before is granted after)',
    spec: 'RFC 4252 §5.1',
    applies: (inputs) => (inputs.some((x) => /^USERAUTH_(PW|PK)_BAD$|^USERAUTH_NONE$/.test(x)) ? undefined : 'no failing authentication input'),
    violation: (n, x, o, m) => {
      if (n.auth || !has(o, 'USERAUTH_FAILURE')) return undefined;
      // one more input after the failure: does it grant what the same input did not grant before it?
      const i = m.inputs.indexOf(x);
      const after = m.next[n.state]![i]!;
      for (const [j, y] of m.inputs.entries()) {
        if (/_OK$/.test(y)) continue; // valid credentials may still succeed
        const before = m.out[n.state]![j]!, now = m.out[after]![j]!;
        const granted = GRANTS.find((t) => has(now, t) && !has(before, t));
        if (granted) return { why: `after ${x} failed, ${y} answered ${now} (before the failure: ${before})`, more: [y] };
      }
      return undefined;
    },
  },
  {
    id: 'rekey-anytime',
    title: 'a key re-exchange can start at any point after the first one',
    spec: 'RFC 4253 §9',
    applies: (inputs) => (inputs.includes('REKEY') || inputs.includes('KEXINIT') ? undefined : 'no KEXINIT or REKEY input'),
    violation: (n, x, o) => {
      if (n.phase !== 'post') return undefined;
      if (x === 'KEXINIT' && (!has(o, 'KEXINIT') || isSinkOutput(o))) return { why: `KEXINIT after the key exchange answered ${o}` };
      if (x === 'REKEY' && (!has(o, 'NEWKEYS') || isSinkOutput(o))) return { why: `REKEY answered ${o}` };
      return undefined;
    },
  },
];

/**
 * `strictKex: false` (the peer never negotiated kex-strict-s-v00@openssh.com) makes `strict-kex` n/a: such a
 * peer has no such rule to keep; what it accepts inside the kex is still shown, with its witness.
 */
export function checkProperties(m: Mealy, start: Start, o: { strictKex?: boolean } = {}): PropertyResult[] {
  const nodes = explore(m, start);
  return CHECKS.map((c): PropertyResult => {
    const na = c.applies(m.inputs, start);
    if (na) return { id: c.id, title: c.title, spec: c.spec, status: 'n/a', why: na };
    if (c.id === 'strict-kex' && o.strictKex === false) {
      const r = firstViolation(c, nodes, m);
      const why = 'the peer does not offer strict kex (no kex-strict-s-v00@openssh.com)';
      return { id: c.id, title: c.title, spec: c.spec, status: 'n/a', why: r ? `${why}; without it: ${r.why}` : why, ...(r ? { witness: r.witness } : {}) };
    }
    const r = firstViolation(c, nodes, m);
    return r ? { id: c.id, title: c.title, spec: c.spec, status: 'fail', why: r.why, witness: r.witness } : { id: c.id, title: c.title, spec: c.spec, status: 'pass' };
  });
}

function firstViolation(c: Check, nodes: readonly Node[], m: Mealy): { why: string; witness: { inputs: string[]; outputs: string[] } } | undefined {
  // nodes are in breadth-first order: the first violation has a shortest witness
  for (const n of nodes) {
    for (const [i, x] of m.inputs.entries()) {
      const v = c.violation(n, x, m.out[n.state]![i]!, m);
      if (!v) continue;
      const inputs = [...n.path, x, ...(v.more ?? [])];
      return { why: v.why, witness: { inputs, outputs: run(m, inputs) } };
    }
  }
  return undefined;
}
