/**
 * One cell of "our client → a server peer": impl's Transport connects with only the cell's algorithm offered
 * for its kind, authenticates with the peer's test key, runs `echo`, and checks what was negotiated.
 */
import { insecureAcceptAnyHostKey, Transport } from '../../../impl/Transport.js';
import { readableDone } from '../../../impl/connection/channel.js';
import type { PrivateKey } from '../../../impl/crypto/types.js';
import type { NegotiatedAlgorithms } from '../../../impl/transport/types.js';
import type { AlgorithmLists } from '../../targets/types.js';
import { printable } from './offer.js';
import { withDeadline } from './pool.js';
import type { Kind } from './types.js';

export const ECHO_TOKEN = 'interop-ok';

export interface OurClientCellInput {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly privateKey: PrivateKey;
  /** Sign user authentication with this algorithm instead of the library's choice (e.g. ssh-rsa for lsh 2.1). */
  readonly userKeyAlgorithm?: string;
  readonly algorithms: AlgorithmLists;
  readonly kind: Kind;
  readonly algorithm: string;
  readonly timeoutMs: number;
}

export interface CellOutcome {
  readonly ok: boolean;
  readonly reason?: string;
  readonly negotiated?: Readonly<Record<string, string>>;
}

/** The negotiated fields that must equal the cell's algorithm (both directions: we offered only it). */
function fieldsOf(kind: Kind): ReadonlyArray<keyof NegotiatedAlgorithms> {
  switch (kind) {
    case 'kex': return ['kex'];
    case 'hostKey': return ['hostKey'];
    case 'cipher': return ['cipherC2S', 'cipherS2C'];
    case 'mac': return ['macC2S', 'macS2C'];
    case 'compression': return ['compressionC2S', 'compressionS2C'];
  }
}

export function negotiatedRecord(n: NegotiatedAlgorithms): Record<string, string> {
  return {
    kex: n.kex, hostKey: n.hostKey, cipher: n.cipherC2S, mac: n.macC2S, compression: n.compressionC2S,
    ...(n.cipherS2C !== n.cipherC2S ? { cipherS2C: n.cipherS2C } : {}),
    ...(n.macS2C !== n.macC2S ? { macS2C: n.macS2C } : {}),
    ...(n.compressionS2C !== n.compressionC2S ? { compressionS2C: n.compressionS2C } : {}),
    strictKex: String(n.strictKex),
  };
}

export function describeError(e: unknown): string {
  if (e instanceof Error) return `${e.name}${'code' in e && typeof e.code === 'string' ? ` ${e.code}` : ''}: ${e.message}`;
  return String(e);
}

/** Runs `command` on a new session channel (RFC 4254 §6.5) and collects stdout and the exit status. */
async function execOn(t: Transport, command: string): Promise<{ stdout: string; stderr: string; code: number | null }> {
  const ch = await t.openSession();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  ch.on('data', (d: Buffer) => out.push(d));
  ch.stderr.on('data', (d: Buffer) => err.push(d));
  const ended = Promise.all([readableDone(ch), readableDone(ch.stderr)]);
  await ch.exec(command);
  ch.end();
  const code = await ch.exitStatus();
  await ended;
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), code };
}

export async function runOurClientCell(i: OurClientCellInput): Promise<CellOutcome> {
  const t = new Transport([i.host, i.port], { verifyHostKey: insecureAcceptAnyHostKey, algorithms: i.algorithms, connectTimeoutMs: i.timeoutMs });
  let negotiated: NegotiatedAlgorithms | undefined;
  try {
    const r = await withDeadline((async () => {
      if (i.userKeyAlgorithm) {
        await t.startClient();
        await t.authPublicKey(i.user, i.privateKey, { algorithm: i.userKeyAlgorithm });
      } else {
        await t.connect({ username: i.user, privateKey: i.privateKey });
      }
      negotiated = t.negotiatedAlgorithms;
      return execOn(t, `echo ${ECHO_TOKEN}`);
    })(), i.timeoutMs, `handshake+auth+exec with ${i.kind} ${i.algorithm}`, () => { void t.close(100).catch(() => undefined); });
    const neg = negotiated ? negotiatedRecord(negotiated) : undefined;
    const wrong = negotiated ? fieldsOf(i.kind).filter((f) => negotiated![f] !== i.algorithm) : [];
    if (!negotiated) return { ok: false, reason: 'connected, but no negotiated algorithms were recorded' };
    if (wrong.length) return { ok: false, reason: `negotiated ${wrong.map((f) => `${f}=${String(negotiated![f])}`).join(', ')} although only ${i.algorithm} was offered`, ...(neg ? { negotiated: neg } : {}) };
    if (r.code !== 0 || r.stdout.trim() !== ECHO_TOKEN) {
      return { ok: false, reason: `exec "echo ${ECHO_TOKEN}" gave exit ${r.code}, stdout "${printable(r.stdout.slice(0, 200))}", stderr "${printable(r.stderr.slice(0, 200))}"`, ...(neg ? { negotiated: neg } : {}) };
    }
    return { ok: true, ...(neg ? { negotiated: neg } : {}) };
  } catch (e) {
    return { ok: false, reason: describeError(e), ...(negotiated ? { negotiated: negotiatedRecord(negotiated) } : {}) };
  } finally {
    await t.close(200).catch(() => undefined);
  }
}
