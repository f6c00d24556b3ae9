/**
 * The widest configuration a server peer accepts: its defaults plus every algorithm of ours it implements but
 * leaves out (legacy ones included: naming them is how sshd_config(5) re-enables them). When the peer refuses
 * the whole list, the search narrows per kind and then per name; every attempt is one peer start plus one
 * KEXINIT probe (harness/targets/banner.ts), and the probe of the final instance is the truth about what it offers.
 */
import { probe } from '../../targets/banner.js';
import { isPeerError } from '../../targets/errors.js';
import type { AlgorithmLists, RunningTarget, Target } from '../../targets/types.js';
import { implemented, type Capabilities } from './capabilities.js';
import { extend, firstLine, hasAny, listsOfKexInit } from './offer.js';
import { describeError } from './our-client-cell.js';
import type { MatrixRows } from './rows.js';
import { KINDS, type Kind, type Lists } from './types.js';

export interface Instance { readonly running: RunningTarget; readonly offer: Lists }

type Attempt = { readonly ok: true; readonly inst: Instance } | { readonly ok: false; readonly error: string; readonly fixed: boolean };

/** A refusing peer may accept the connection and then say nothing (paramiko): do not wait the cell timeout for that. */
const DISCOVERY_PROBE_MS = 5000;

/** Starts the peer with `algorithms` and reads its KEXINIT; a peer that starts but cannot answer a probe refused the list too. */
export async function tryInstance(target: Target, algorithms: AlgorithmLists | undefined, probeMs = DISCOVERY_PROBE_MS): Promise<Attempt> {
  let running: RunningTarget;
  try {
    running = await target.start(algorithms ? { algorithms } : {});
  } catch (e) {
    return { ok: false, error: firstLine(describeError(e)), fixed: isPeerError(e, 'unsupported-option') };
  }
  try {
    const p = await probe(running.host, running.port, { readKexInit: true, timeoutMs: probeMs });
    return { ok: true, inst: { running, offer: listsOfKexInit(p.kexInit!) } };
  } catch (e) {
    const log = running.logs().split('\n').filter((l) => /error|fatal|bad |unsupported|invalid|unknown/i.test(l)).slice(-2).map((l) => firstLine(l, 160)).join(' | ');
    await running.stop().catch(() => undefined);
    return { ok: false, error: `started, but answered no KEXINIT (${describeError(e)})${log ? `; peer log: ${log}` : ''}`, fixed: false };
  }
}

export interface Discovery {
  readonly inst: Instance;
  /** `kind:name` → why the peer does not offer it. */
  readonly refused: ReadonlyMap<string, string>;
  readonly notes: readonly string[];
}

/** The key type (RFC 4253 §6.6 blob name) a signature algorithm needs (RFC 8332 §3: rsa-sha2-* use ssh-rsa keys). */
export function hostKeyType(alg: string): string {
  return alg === 'ssh-rsa' || alg.startsWith('rsa-sha2-') ? 'ssh-rsa' : alg;
}

export const cellKey = (kind: Kind, name: string): string => `${kind}:${name}`;

type Names = Partial<Record<Kind, string[]>>;

/**
 * From the running default instance `base`, returns the instance to test against (base itself, or a restarted
 * wider one, base then stopped) and a reason for every row name it does not offer.
 */
export async function discover(target: Target, base: Instance, rows: MatrixRows, caps: Capabilities | undefined): Promise<Discovery> {
  const refused = new Map<string, string>();
  const notes: string[] = [];
  if (caps) notes.push(`implemented algorithms from ${caps.source}`);
  const extras: Names = {};
  const keyTypes = base.running.hostKeys.map((h) => h.type);
  for (const k of KINDS) {
    for (const { name } of rows[k]) {
      if (base.offer[k].includes(name)) continue;
      if (!implemented(caps, k, name)) refused.set(cellKey(k, name), `not implemented by this peer (per ${caps!.source})`);
      // RFC 4253 §7.1: a server lists only host key algorithms it holds a key for; some peers refuse to start otherwise
      else if (k === 'hostKey' && !keyTypes.includes(hostKeyType(name))) refused.set(cellKey(k, name), `the target has no ${hostKeyType(name)} host key (it is given: ${keyTypes.join(', ')})`);
      else (extras[k] ??= []).push(name);
    }
  }
  if (!hasAny(extras)) return { inst: base, refused, notes: [...notes, 'tested in its default configuration (it offers everything it implements of ours)'] };

  let accepted: Names = {};
  let widest: Instance | undefined;
  const all = await tryInstance(target, extend(base.offer, extras));
  if (all.ok) {
    widest = all.inst;
    accepted = extras;
  } else {
    const fixedKinds: string[] = [];
    for (const k of KINDS) {
      const names = extras[k];
      if (!names?.length) continue;
      const perKind = await tryInstance(target, extend(base.offer, { [k]: names }));
      if (perKind.ok) {
        accepted[k] = names;
        await perKind.inst.running.stop();
        continue;
      }
      if (perKind.fixed) {
        // PeerError 'unsupported-option' comes before any process starts, and speaks for the whole list
        for (const n of names) refused.set(cellKey(k, n), `not offered by default, and the peer cannot be configured to: ${perKind.error}`);
        fixedKinds.push(k);
        continue;
      }
      for (const n of names) {
        const one = await tryInstance(target, extend(base.offer, { [k]: [n] }));
        if (one.ok) {
          (accepted[k] ??= []).push(n);
          await one.inst.running.stop();
        } else refused.set(cellKey(k, n), `not offered by default; configured with it, the peer refused: ${one.error}`);
      }
    }
    if (fixedKinds.length) notes.push(`its ${fixedKinds.join(', ')} lists cannot be configured; our client alone is restricted there`);
    if (hasAny(accepted)) {
      const w = await tryInstance(target, extend(base.offer, accepted));
      if (w.ok) widest = w.inst;
      else {
        for (const k of KINDS) for (const n of accepted[k] ?? []) refused.set(cellKey(k, n), `accepted alone, but not together with the other re-enabled algorithms: ${w.error}`);
        accepted = {};
      }
    }
  }
  if (!widest) return { inst: base, refused, notes: [...notes, 'tested in its default configuration'] };
  await base.running.stop();
  const enabled: string[] = [];
  for (const k of KINDS) {
    for (const n of accepted[k] ?? []) {
      if (widest.offer[k].includes(n)) { enabled.push(n); continue; }
      const hint = k === 'hostKey' ? ` (its host keys: ${widest.running.hostKeys.map((h) => h.type).join(', ')})` : '';
      refused.set(cellKey(k, n), `not offered even when configured${hint}`);
    }
  }
  notes.push(enabled.length ? `restarted offering its defaults plus ${enabled.join(', ')}` : 'restarted, but it offered nothing more');
  return { inst: widest, refused, notes };
}
