/**
 * "Our client → server peers". Each peer starts once with its defaults; its KEXINIT (harness/targets/banner.ts
 * probe) says what it offers. Peers that take algorithm lists are then restarted offering their defaults plus
 * every algorithm of ours they left out (legacy ones included: naming them is how OpenSSH re-enables them),
 * narrowing down per kind and per name when the peer refuses a list. Each cell then restricts OUR side to one
 * algorithm (RFC 4253 §7.1: the client's only offer is what gets negotiated), so one peer instance serves every
 * cell; peers with compiled-in algorithms (dropbear, tinyssh) are tested over exactly what they offer.
 */
import { readFileSync } from 'node:fs';
import { parsePrivateKey } from '../../../impl/keys/index.js';
import type { PrivateKey } from '../../../impl/crypto/types.js';
import { getTarget } from '../../targets/registry.js';
import type { AlgorithmLists, Target } from '../../targets/types.js';
import { withPeerOnly } from '../../scenario/offer-fallback.js';
import { capabilitiesOf } from './capabilities.js';
import { isAead, macCarrier, restrictTo, splitOffer } from './catalogue.js';
import { knownLimitation } from './known-limitations.js';
import { firstLine, printable } from './offer.js';
import { describeError, runOurClientCell } from './our-client-cell.js';
import { mapLimit, type Limiter } from './pool.js';
import type { MatrixRows } from './rows.js';
import { cellKey, discover, tryInstance } from './server-discovery.js';
import { KINDS, type Cell, type Kind, type Lists, type PeerReport } from './types.js';

export interface PeerRunContext {
  readonly limiter: Limiter;
  readonly timeoutMs: number;
  readonly rows: MatrixRows;
  readonly progress: (line: string) => void;
}

export interface PeerRun {
  readonly peer: PeerReport;
  readonly cells: readonly Cell[];
}

/** Error-like lines the peer logged while a failing cell ran (other cells run at the same time: a hint, labelled so). */
function peerLogHint(log: string): string {
  const lines = log.split('\n').map((l) => l.trim()).filter((l) => /error|fatal|fail|refus|invalid|unsupported|exception|incompatible|no matching|disconnect/i.test(l));
  return lines.length ? `; peer log (concurrent cells may interleave): ${lines.slice(-2).map((l) => printable(firstLine(l, 200))).join(' | ')}` : '';
}

function unsupportedCell(name: string, kind: Kind, algorithm: string, legacy: boolean, reason: string): Cell {
  return { direction: 'client', peer: name, kind, algorithm, legacy, status: 'unsupported', reason, durationMs: 0 };
}

/**
 * Our client's lists for a cell: the cell's restriction, and for the other kinds our defaults extended by what the
 * peer offers when they share nothing (lsh 2.1 has only legacy algorithms; scenario/offer-fallback.ts).
 */
function forPeer(offer: Lists, restricted: AlgorithmLists): AlgorithmLists {
  return { ...withPeerOnly({}, offer, restricted), ...restricted };
}

/** All cells for one server peer; never throws (setup problems land in PeerReport.setupError). */
export async function runServerPeer(name: string, ctx: PeerRunContext): Promise<PeerRun> {
  const t0 = Date.now();
  const fail = (setupError: string, extra: Partial<PeerReport> = {}): PeerRun => ({
    peer: { name, direction: 'client', available: false, setupError, notes: [], durationMs: Date.now() - t0, ...extra }, cells: [],
  });
  let target: Target;
  try {
    target = await getTarget(name);
  } catch (e) {
    return fail(describeError(e));
  }
  const avail = await target.availability().catch((e: unknown) => ({ available: false, reason: describeError(e), version: undefined }));
  if (!avail.available) return fail(avail.reason ?? 'unavailable', { description: target.description });

  const [base, caps] = await ctx.limiter.run(() => Promise.all([tryInstance(target, undefined, ctx.timeoutMs), capabilitiesOf(name)]));
  if (!base.ok) return fail(`did not start with its default configuration: ${base.error}`, { description: target.description, available: true });
  let inst = base.inst;
  try {
    const defaultOffer = base.inst.offer;
    const d = await ctx.limiter.run(() => discover(target, base.inst, ctx.rows, caps));
    inst = d.inst;
    const { running, offer } = d.inst;
    const creds = running.credentials;
    if (!creds.privateKeyPath) return fail('the target gave no client key to authenticate with', { available: true });
    const privateKey: PrivateKey = parsePrivateKey(readFileSync(creds.privateKeyPath)).toPrivateKey();
    // a server that knows RSA only as ssh-rsa and sends no server-sig-algs (lsh 2.1) verifies nothing else (RFC 8332 §3)
    const userKeyAlgorithm = privateKey.algorithms.includes('ssh-rsa') && offer.hostKey.includes('ssh-rsa') && !offer.hostKey.some((a) => a.startsWith('rsa-sha2-')) ? 'ssh-rsa' : undefined;
    const carrier = macCarrier(offer.cipher);
    const todo = KINDS.flatMap((kind) => ctx.rows[kind].map((e) => ({ kind, ...e })));
    const cells = await mapLimit(todo, ctx.limiter.limit, async ({ kind, name: algorithm, legacy }): Promise<Cell> => {
      if (!offer[kind].includes(algorithm)) {
        return unsupportedCell(name, kind, algorithm, legacy, d.refused.get(cellKey(kind, algorithm)) ?? 'not offered by the peer');
      }
      if (kind === 'mac' && !carrier) {
        return unsupportedCell(name, kind, algorithm, legacy, `offered, but unusable: the peer's only ciphers are AEAD (${offer.cipher.filter(isAead).join(', ')}), which negotiate no MAC`);
      }
      const started = Date.now();
      let logFrom = 0;
      const out = await ctx.limiter.run(() => {
        logFrom = running.logs().length;
        return runOurClientCell({
          host: running.host, port: running.port, user: creds.user, privateKey, ...(userKeyAlgorithm ? { userKeyAlgorithm } : {}),
          algorithms: forPeer(offer, restrictTo(kind, algorithm, carrier)), kind, algorithm, timeoutMs: ctx.timeoutMs,
        });
      });
      const reason = out.reason && `${out.reason}${peerLogHint(running.logs().slice(logFrom))}`;
      const base: Cell = {
        direction: 'client', peer: name, kind, algorithm, legacy, status: out.ok ? 'pass' : 'fail',
        ...(reason ? { reason } : {}), ...(out.negotiated ? { negotiated: out.negotiated } : {}), durationMs: Date.now() - started,
      };
      return knownLimitation(base);
    });
    const split = splitOffer(offer);
    ctx.progress(`our client → ${name}: ${cells.filter((c) => c.status === 'pass').length} pass, ${cells.filter((c) => c.status === 'fail').length} fail, ${cells.filter((c) => c.status === 'unsupported').length} unsupported (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    return {
      peer: {
        name, direction: 'client', description: target.description, version: running.version ?? avail.version, available: true,
        defaultOffer, testedOffer: offer, peerOnly: split.peerOnly, notes: d.notes, durationMs: Date.now() - t0,
      },
      cells,
    };
  } catch (e) {
    return fail(`matrix run aborted: ${describeError(e)}`, { available: true, description: target.description });
  } finally {
    await inst.running.stop().catch(() => undefined);
  }
}
