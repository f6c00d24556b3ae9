/**
 * "Client peers → our server". A one-shot listener (client-probe.ts) first records the client's default KEXINIT.
 * Each cell then starts our server (harness/cli/serve.ts startServe, in-process, cheap) offering only the cell's
 * algorithm for its kind, so whatever completes negotiated it (RFC 4253 §7.1). A client that does not offer the
 * algorithm by default is configured for it when it takes algorithm lists; a client that cannot be configured
 * (plink; dbclient for kex/host key/compression) or does not implement it makes the cell 'unsupported', with why.
 */
import { generateHostKey } from '../../../impl/crypto/hostkey/index.js';
import { defaultAlgorithms } from '../../../impl/crypto/registry.js';
import type { PrivateKey } from '../../../impl/crypto/types.js';
import { fingerprintSHA256, parseAuthorizedKeys } from '../../../impl/keys/index.js';
import { startServe } from '../../cli/serve.js';
import { isPeerError } from '../../targets/errors.js';
import { getClientPeer } from '../../targets/registry.js';
import { testCredentials } from '../../targets/test-user.js';
import type { AlgorithmLists, ClientPeer, ClientResult, Credentials } from '../../targets/types.js';
import { capabilitiesOf, implemented, type Capabilities } from './capabilities.js';
import { macCarrier, restrictTo, splitOffer } from './catalogue.js';
import { listenForClientKexInit } from './client-probe.js';
import { knownLimitation } from './known-limitations.js';
import { firstLine, listsOfKexInit, printable } from './offer.js';
import { describeError, ECHO_TOKEN } from './our-client-cell.js';
import { mapLimit } from './pool.js';
import type { PeerRun, PeerRunContext } from './server-peers.js';
import { KINDS, type Cell, type Kind, type Lists } from './types.js';

/** One host key per type we sign with, made once per process (RSA generation would dominate short runs). */
let hostKeysMemo: PrivateKey[] | undefined;
export function ourHostKeys(): PrivateKey[] {
  return (hostKeysMemo ??= [
    generateHostKey('ssh-ed25519'), generateHostKey('ecdsa-sha2-nistp256'), generateHostKey('ecdsa-sha2-nistp384'),
    generateHostKey('ecdsa-sha2-nistp521'), generateHostKey('ssh-rsa', { rsaBits: 2048 }),
  ]);
}

interface Setup {
  readonly peer: ClientPeer;
  readonly creds: Credentials;
  readonly fingerprints: readonly string[];
  readonly timeoutMs: number;
}

/** The telling lines of a client's stderr: error-like ones first, else the last ones. */
function tail(text: string, lines = 2): string {
  const all = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const telling = all.filter((l) => /error|fatal|fail|refus|denied|abandon|unable|cannot|exception|disconnect|no matching/i.test(l));
  return (telling.length ? telling : all).slice(-lines).map((l) => printable(firstLine(l, 200))).join(' | ');
}

/** The client's KEXINIT when run with `algorithms` (our listener hangs up right after it). */
async function clientOffer(s: Setup, algorithms: AlgorithmLists | undefined): Promise<{ offer?: Lists; error?: string }> {
  const probe = await listenForClientKexInit(s.timeoutMs);
  try {
    const run = s.peer.run({
      host: '127.0.0.1', port: probe.port, user: s.creds.user, ...credentialsFor(s),
      command: 'true', hostKeyFingerprints: s.fingerprints, timeoutMs: s.timeoutMs, ...(algorithms ? { algorithms } : {}),
    });
    // whichever comes first: the KEXINIT, or the client giving up (it rejected its options, or could not connect)
    const ended = run.then((r) => ({ ended: r }), (e: unknown) => ({ thrown: e }));
    const first = await Promise.race([probe.result.then((k) => ({ kex: k })), ended]);
    if ('kex' in first) {
      await ended;
      return { offer: listsOfKexInit(first.kex.kexInit) };
    }
    if ('thrown' in first) return { error: describeError(first.thrown) };
    const got = await probe.result.catch(() => undefined); // it may have sent KEXINIT just before exiting
    if (got) return { offer: listsOfKexInit(got.kexInit) };
    return { error: `exited ${first.ended.exitCode ?? 'by timeout'} without sending a KEXINIT: ${tail(first.ended.stderr) || '(no output)'}` };
  } finally {
    probe.close();
  }
}

/**
 * The test account's key, and its password for a client that cannot use that key type (lsh 2.1 has no Ed25519):
 * the matrix is about algorithms, so such a client logs in by password rather than not at all.
 */
function credentialsFor(s: Setup): { identity?: string; password?: string } {
  const keyType = s.creds.publicKeyLine?.split(/\s+/)[0];
  const usable = !s.peer.userKeyTypes || (keyType !== undefined && s.peer.userKeyTypes.includes(keyType));
  if (s.creds.privateKeyPath && usable) return { identity: s.creds.privateKeyPath };
  return s.creds.password !== undefined ? { password: s.creds.password } : {};
}

/** Our defaults plus what the client needs to connect at all (ClientPeer.serverAlgorithms), for kinds the cell leaves open. */
function withNeeds(needs: AlgorithmLists | undefined, restricted: AlgorithmLists): AlgorithmLists {
  if (!needs) return {};
  const out: Record<string, readonly string[]> = {};
  for (const k of KINDS) {
    const extra = needs[k];
    if (!extra?.length || restricted[k]) continue;
    out[k] = [...defaultAlgorithms[k], ...extra.filter((n) => !defaultAlgorithms[k].includes(n))];
  }
  return out;
}

interface CellPlan {
  readonly kind: Kind;
  readonly algorithm: string;
  readonly legacy: boolean;
}

async function runCell(name: string, s: Setup, plan: CellPlan, defaultOffer: Lists, caps: Capabilities | undefined): Promise<Cell> {
  const { kind, algorithm, legacy } = plan;
  const started = Date.now();
  const cell = (status: Cell['status'], reason?: string): Cell => ({
    direction: 'server', peer: name, kind, algorithm, legacy, status, ...(reason ? { reason } : {}), durationMs: Date.now() - started,
  });
  if (!implemented(caps, kind, algorithm)) return cell('unsupported', `not implemented by this client (per ${caps!.source})`);
  const carrier = kind === 'mac' ? macCarrier(defaultOffer.cipher) ?? 'aes128-ctr' : undefined;
  const inDefault = defaultOffer[kind].includes(algorithm);
  const clientAlgorithms = inDefault ? undefined : restrictTo(kind, algorithm, carrier);
  const serverLog: string[] = [];
  const restricted = restrictTo(kind, algorithm, carrier);
  const server = await startServe({
    host: '127.0.0.1', port: 0, hostKeys: ourHostKeys(), user: s.creds.user, ...(s.creds.password !== undefined ? { password: s.creds.password } : {}),
    authorizedKeys: parseAuthorizedKeys(`${s.creds.publicKeyLine ?? ''}\n`),
    algorithms: { ...withNeeds(s.peer.serverAlgorithms, restricted), ...restricted }, log: (l) => { if (serverLog.length < 50) serverLog.push(l); },
  });
  let r: ClientResult;
  try {
    r = await s.peer.run({
      host: server.host, port: server.port, user: s.creds.user, ...credentialsFor(s),
      command: `echo ${ECHO_TOKEN}`, hostKeyFingerprints: s.fingerprints, timeoutMs: s.timeoutMs,
      ...(clientAlgorithms ? { algorithms: clientAlgorithms } : {}),
    });
  } catch (e) {
    if (isPeerError(e, 'unsupported-option')) return cell('unsupported', `not offered by default, and the client cannot be configured to: ${firstLine(describeError(e))}`);
    return cell('fail', `client run failed: ${describeError(e)}`);
  } finally {
    await server.close();
  }
  if (r.exitCode === 0 && r.stdout.trim() === ECHO_TOKEN) return cell('pass');
  const ours = serverLog.filter((l) => /failed|closed/.test(l)).map((l) => l.replace(/^#\d+ /, '')).slice(-2).join(' | ');
  const reason = `${r.timedOut ? `timed out after ${s.timeoutMs} ms` : `exit ${r.exitCode}`}${r.stdout.trim() ? `, stdout "${printable(r.stdout.slice(0, 80))}"` : ''}: ${tail(r.stderr) || '(no stderr)'}${ours ? `; our server: ${ours}` : serverLog.length ? '' : '; our server saw no connection'}`;
  const known = knownLimitation(cell('fail', reason), r);
  if (known.status !== 'fail') return known;
  if (clientAlgorithms) {
    // configured for it: was it the client that could not offer it? (then not an interop failure)
    const check = await clientOffer(s, clientAlgorithms);
    if (!check.offer) return cell('unsupported', `configured with it, the client refused to start a connection: ${check.error ?? ''}`);
    if (!check.offer[kind].includes(algorithm)) return cell('unsupported', `configured with it, the client still does not offer it (its ${kind} list: ${check.offer[kind].join(', ')})`);
  }
  return known;
}

/** All cells for one client peer; never throws (setup problems land in PeerReport.setupError). */
export async function runClientPeer(name: string, ctx: PeerRunContext): Promise<PeerRun> {
  const t0 = Date.now();
  const fail = (setupError: string, extra: { description?: string; version?: string; available?: boolean } = {}): PeerRun => ({
    peer: { name, direction: 'server', available: false, setupError, notes: [], durationMs: Date.now() - t0, ...extra }, cells: [],
  });
  let peer: ClientPeer;
  try {
    peer = await getClientPeer(name);
  } catch (e) {
    return fail(describeError(e));
  }
  const avail = await peer.availability().catch((e: unknown) => ({ available: false, reason: describeError(e), version: undefined }));
  if (!avail.available) return fail(avail.reason ?? 'unavailable', { description: peer.description });
  const info = { description: peer.description, ...(avail.version ? { version: avail.version } : {}), available: true };
  try {
    const creds = await testCredentials();
    const fingerprints = ourHostKeys().map((k) => fingerprintSHA256(k.publicKey.blob));
    const s: Setup = { peer, creds, fingerprints, timeoutMs: ctx.timeoutMs };
    const [probed, caps] = await ctx.limiter.run(() => Promise.all([clientOffer(s, undefined), capabilitiesOf(name)]));
    if (!probed.offer) return fail(`could not read its default KEXINIT: ${probed.error ?? 'unknown'}`, info);
    const defaultOffer = probed.offer;
    const plans = KINDS.flatMap((kind) => ctx.rows[kind].map((e) => ({ kind, algorithm: e.name, legacy: e.legacy })));
    const cells = await mapLimit(plans, ctx.limiter.limit, (p) => {
      // not implemented: decided without running anything
      if (!implemented(caps, p.kind, p.algorithm)) return runCell(name, s, p, defaultOffer, caps);
      return ctx.limiter.run(() => runCell(name, s, p, defaultOffer, caps));
    });
    ctx.progress(`${name} → our server: ${cells.filter((c) => c.status === 'pass').length} pass, ${cells.filter((c) => c.status === 'fail').length} fail, ${cells.filter((c) => c.status === 'unsupported').length} unsupported (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    const notes = [
      ...(caps ? [`implemented algorithms from ${caps.source}`] : []),
      'our server offers only the cell\'s algorithm; the client runs with its defaults when it offers that algorithm, else configured for it',
    ];
    return {
      peer: { name, direction: 'server', ...info, defaultOffer, peerOnly: splitOffer(defaultOffer).peerOnly, notes, durationMs: Date.now() - t0 },
      cells,
    };
  } catch (e) {
    return fail(`matrix run aborted: ${describeError(e)}`, info);
  }
}
