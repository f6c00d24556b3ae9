/**
 * `ssh-harness peers setup`: takes a Debian machine from nothing to every peer available. Each step checks
 * before it acts, so a second run only verifies (well under 30 s) and changes nothing. Steps stop at the
 * first failure; the error names the fix and the CLI exits 2.
 */
import { isPeerError } from '../errors.js';
import { ensureTestUser } from '../test-user.js';
import { clientKeys } from '../test-user.js';
import { openSshHostKeys, dropbearHostKey } from '../host-keys.js';
import { findBinary } from '../local-tools.js';
import { probe } from '../banner.js';
import { opensshContainerTarget } from '../openssh-container.js';
import { listPeers, formatTable, type PeerRow } from '../peer-list.js';
import { BUILTIN_PEERS } from '../registry.js';
import { installPackages, listeningPorts, missingPackages } from './packages.js';
import { ensureDockerd } from './dockerd.js';
import { ensureImage, SUITES } from './images.js';
import { ensureTsharkImage, TSHARK_IMAGE } from './tshark-image.js';
import { ensureHarnessImage } from '../../campaign/image.js';
import type { Suite } from '../openssh-container.js';
import { buildCompiledPeers, prepareLsh, verifyMoreServers } from './more-peers.js';
import { ensureInstrumentedServers } from './instrumented.js';

export type StepStatus = 'ok' | 'changed' | 'FAILED' | 'skipped';

export interface StepResult { readonly step: string; readonly status: StepStatus; readonly ms: number; readonly detail: string }

export interface SetupReport {
  readonly ok: boolean;
  readonly steps: readonly StepResult[];
  readonly peers: readonly PeerRow[];
  readonly totalMs: number;
  readonly error?: string;
}

export interface SetupOptions {
  readonly suites?: readonly Suite[];
  /** Only what the instrumented servers need (packages, account, keys, the sanitizer builds): `--instrumented`. */
  readonly instrumentedOnly?: boolean;
  /** Progress lines go here (the CLI writes them to stderr when --json is given, else stdout). */
  readonly progress: (line: string) => void;
}

type StepFn = () => Promise<{ changed: boolean; detail: string }>;

export async function runSetup(o: SetupOptions): Promise<SetupReport> {
  const t0 = Date.now();
  const suites = o.suites ?? SUITES;
  const steps: Array<[string, StepFn]> = [
    ['packages', async () => {
      const missing = await missingPackages();
      if (missing.length === 0) return { changed: false, detail: 'all installed' };
      o.progress(`        installing ${missing.join(' ')} (apt-get; no service is started)`);
      await installPackages(missing);
      return { changed: true, detail: `installed ${missing.join(' ')}` };
    }],
    ['port 22', async () => {
      if (listeningPorts().has(22)) {
        // not started by us (packages step stops what it started): report, never kill someone else's sshd
        return { changed: false, detail: 'WARNING: something else listens on :22 (not started by setup)' };
      }
      return { changed: false, detail: 'nothing listens on :22' };
    }],
    ['test account', async () => {
      const r = await ensureTestUser();
      return { changed: r.changed, detail: r.created ? `created sshharness (${r.home})` : r.changed ? 'repaired sshharness' : 'sshharness ready' };
    }],
    ['keys', async () => {
      await clientKeys();
      await openSshHostKeys();
      const dropbear = findBinary('dropbearkey') ? await Promise.all((['ed25519', 'ecdsa', 'rsa'] as const).map(dropbearHostKey)) : [];
      return { changed: false, detail: `client ed25519+rsa, host ed25519/ecdsa-256/384/521/rsa${dropbear.length ? ', dropbear host keys' : ''}` };
    }],
    ['compiled peers', buildCompiledPeers],
    // Dropbear and OpenSSH from Debian's source with ASan/UBSan/edge coverage, for grey-box fuzzing (~10 min once)
    ['instrumented servers', () => ensureInstrumentedServers(o.progress)],
    ['lsh', prepareLsh],
    ['verify more servers', verifyMoreServers],
    ['dockerd', async () => {
      const r = await ensureDockerd();
      return { changed: r.started, detail: `docker ${r.version}, ${r.note}` };
    }],
    [`images ${suites.join('+')}`, async () => {
      o.progress(`        building missing images in parallel (debootstrap ~30 s each)`);
      const results = await Promise.all(suites.map((s) => ensureImage(s)));
      return {
        changed: results.some((r) => r.built),
        detail: results.map((r) => `${r.suite} ${r.built ? 'built' : 'present'} (openssh-server ${r.version})`).join('; '),
      };
    }],
    [`${TSHARK_IMAGE} (second trace judge)`, async () => {
      if (!suites.includes('trixie')) return { changed: false, detail: 'skipped: built from the trixie image, which was not asked for' };
      o.progress('        installing Debian 13\'s tshark into a trixie container if missing (~30 s)');
      const r = await ensureTsharkImage();
      return { changed: r.built, detail: `${r.built ? 'built' : 'present'} (tshark ${r.version})` };
    }],
    ['harness image', async () => {
      // the harness's own image, for the Swarm campaign test and `ssh-harness campaign swarm` (harness/campaign/image.ts)
      const r = await ensureHarnessImage({ progress: (l) => o.progress(`        ${l}`) });
      return { changed: r.built, detail: `${r.image} ${r.built ? `built in ${(r.buildMs / 1000).toFixed(0)} s${r.baseBuilt ? ' (with its base)' : ''}` : 'present'}, ${(r.sizeBytes / (1 << 20)).toFixed(0)} MiB` };
    }],
    ['verify containers', async () => {
      const seen: string[] = [];
      for (const s of suites) {
        const t = await opensshContainerTarget(`openssh:${s}`, s).start({ startupTimeoutMs: 30_000 });
        try {
          const p = await probe(t.host, t.port, { readKexInit: true });
          seen.push(`${s}: ${p.version}, kex ${p.kexInit!.kex[0]}`);
        } finally {
          await t.stop();
        }
      }
      return { changed: false, detail: seen.join('; ') };
    }],
  ];

  const INSTRUMENTED_STEPS = new Set(['packages', 'test account', 'keys', 'instrumented servers']);
  if (o.instrumentedOnly) steps.splice(0, steps.length, ...steps.filter(([n]) => INSTRUMENTED_STEPS.has(n)));
  const results: StepResult[] = [];
  let error: string | undefined;
  for (const [i, [name, fn]] of steps.entries()) {
    if (error) {
      results.push({ step: name, status: 'skipped', ms: 0, detail: 'after an earlier failure' });
      continue;
    }
    const s0 = Date.now();
    o.progress(`[${i + 1}/${steps.length}] ${name} ...`);
    try {
      const r = await fn();
      const res: StepResult = { step: name, status: r.changed ? 'changed' : 'ok', ms: Date.now() - s0, detail: r.detail };
      results.push(res);
      o.progress(`[${i + 1}/${steps.length}] ${name}: ${res.status} (${(res.ms / 1000).toFixed(1)} s) ${r.detail}`);
    } catch (e) {
      error = isPeerError(e) ? e.message : `${name}: ${(e as Error).message}`;
      results.push({ step: name, status: 'FAILED', ms: Date.now() - s0, detail: error.split('\n')[0]! });
      o.progress(`[${i + 1}/${steps.length}] ${name}: FAILED (${((Date.now() - s0) / 1000).toFixed(1)} s)`);
    }
  }
  // only the peers setup provides: targets registered by others (the lead's `self`) are not its business
  const peers = error ? [] : await listPeers(o.instrumentedOnly ? BUILTIN_PEERS.filter((p) => p.endsWith(':instrumented')) : BUILTIN_PEERS);
  const missingPeers = peers.filter((p) => !p.available);
  if (!error && missingPeers.length) error = `peers unavailable after setup: ${missingPeers.map((p) => `${p.name} (${p.reason})`).join('; ')}`;
  return { ok: !error, steps: results, peers, totalMs: Date.now() - t0, ...(error ? { error } : {}) };
}

export function stepTable(steps: readonly StepResult[]): string {
  return formatTable(['step', 'status', 'time', 'detail'], steps.map((s) => [s.step, s.status, `${(s.ms / 1000).toFixed(1)} s`, s.detail]));
}
