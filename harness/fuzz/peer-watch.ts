/**
 * Process-level oracles for network targets, run beside a campaign: the daemon died or logged a crash
 * (sanitizer reports, signals), a fresh normal login no longer works (liveness), and its memory or file
 * descriptors grew over the campaign (local daemons, sampled with no fuzz connection open). These findings
 * belong to the peer, not to one case, so they are reported with the campaign rather than shrunk.
 */
import { classifyText, type ConnectionGovernor, type Refusal } from './backoff.js';
import type { FuzzTarget, PeerResources } from './link.js';
import type { Finding } from './oracles.js';

const HEALTH_EVERY_MS = 2000;
const LIVENESS_EVERY_MS = 30_000;
/** While logins are refused, liveness is asked this often (the grace period decides, not one answer). */
const SUSPECT_EVERY_MS = 3000;
const DEFAULT_GRACE_MS = 60_000;

export interface PeerWatchOptions {
  /** The campaign's governor: its record of served connections tells a refusing peer from a gone one. */
  readonly governor?: ConnectionGovernor;
  /** How long logins may be refused (connection limits, penalties) before liveness is a finding; default 60 s. */
  readonly graceMs?: number;
  /** How often a fresh login is tried while all is well (default 30 s; tests use less). */
  readonly livenessEveryMs?: number;
}
/** Growth that counts as a leak between the first and the last quiet sample. */
const RSS_GROWTH_KIB = 64 * 1024;
const FD_GROWTH = 64;

export interface PeerWatch {
  /** Campaign hook: returns a reason to stop when the peer is down. */
  afterCase(): Promise<string | undefined>;
  stop(): Promise<void>;
  findings(): Finding[];
  notes(): string[];
}

/**
 * In-process, the peer is this process: its heap after GC-settled samples must not grow with the number of
 * cases (every connection is dropped after its case; anything kept is a leak in our implementation or harness).
 */
function watchSelf(found: Finding[], notes: string[]): PeerWatch {
  const sample = (): { heap: number; rss: number } => { const m = process.memoryUsage(); return { heap: m.heapUsed, rss: m.rss }; };
  const samples: { heap: number; rss: number }[] = [];
  let last = performance.now();
  const start = sample();
  const mib = (n: number): string => (n / 2 ** 20).toFixed(0);
  return {
    async afterCase() {
      if (performance.now() - last >= 30_000) { last = performance.now(); samples.push(sample()); }
      return undefined;
    },
    async stop() {
      const end = sample();
      // the minimum of the later half of the samples: a leak raises the floor, garbage only the peaks; RSS
      // counts what the heap does not see (native contexts, WebAssembly memories)
      const late = [...samples.slice(Math.floor(samples.length / 2)), end];
      const heapFloor = Math.min(...late.map((s) => s.heap));
      const rssFloor = Math.min(...late.map((s) => s.rss));
      notes.push(`harness process: heap ${mib(start.heap)} MiB at start, ${mib(heapFloor)} MiB floor over the last half; RSS ${mib(start.rss)} → floor ${mib(rssFloor)} MiB (${samples.length} samples)`);
      if (samples.length >= 4 && heapFloor - start.heap > SELF_HEAP_GROWTH) {
        found.push({ oracle: 'resource', severity: 'must', message: `in-process heap floor grew from ${mib(start.heap)} to ${mib(heapFloor)} MiB over the campaign` });
      }
      if (samples.length >= 4 && rssFloor - start.rss > SELF_RSS_GROWTH) {
        found.push({ oracle: 'resource', severity: 'must', message: `in-process RSS floor grew from ${mib(start.rss)} to ${mib(rssFloor)} MiB over the campaign (native memory)` });
      }
    },
    findings: () => found,
    notes: () => notes,
  };
}

/** Heap and RSS growth (floor of the later samples over the start) that counts as a leak for the self target. */
const SELF_HEAP_GROWTH = 256 * 2 ** 20;
const SELF_RSS_GROWTH = 512 * 2 ** 20;

export function watchPeer(target: FuzzTarget, opts: PeerWatchOptions = {}): PeerWatch {
  const found: Finding[] = [];
  const governor = opts.governor;
  const graceMs = opts.graceMs ?? governor?.graceMs ?? DEFAULT_GRACE_MS;
  const livenessEvery = opts.livenessEveryMs ?? LIVENESS_EVERY_MS;
  const notes: string[] = [];
  if (target.kind === 'in-process') return watchSelf(found, notes);
  const baseline: PeerResources | undefined = target.resources?.();
  if (baseline) notes.push(`peer at start: ${baseline.processes} processes, ${baseline.rssKiB} KiB RSS, ${baseline.fds} fds`);
  let lastHealth = performance.now();
  let lastLive = performance.now();
  let busy = false;
  let livenessChecks = 0;
  /** Since when logins have been refused (undefined: the last one worked). */
  let refusedSince: number | undefined;
  let refusedLogins = 0;
  /**
   * One login, retried once 1 s later (a single slow login on a loaded machine is not a dead peer). A login the
   * peer refuses (connection limits: backoff.ts) is not judged at once: it fails liveness only once the peer has
   * served no connection at all — neither a login nor a campaign connection — for the grace period.
   */
  const live = async (): Promise<{ fail?: string; refused?: Refusal }> => {
    const first = await target.liveness!();
    if (!first) { refusedSince = undefined; governor?.served(); return {}; }
    let why = first;
    let refusal = classifyText(first);
    if (!refusal) {
      await new Promise((r) => setTimeout(r, 1000));
      const second = await target.liveness!();
      if (!second) { refusedSince = undefined; governor?.served(); return {}; }
      why = `${first}; again 1 s later: ${second}`;
      refusal = classifyText(second);
      if (!refusal) return { fail: why };
    }
    refusedLogins++;
    governor?.refused(refusal);
    const now = performance.now();
    refusedSince ??= now;
    const outage = governor ? Math.min(governor.outageMs(), now - refusedSince) : now - refusedSince;
    if (outage >= graceMs) return { fail: `the peer served no connection for ${(outage / 1000).toFixed(0)} s (grace ${(graceMs / 1000).toFixed(0)} s): ${why}` };
    return { refused: refusal };
  };
  const check = async (): Promise<string | undefined> => {
    const h = await target.health?.();
    if (h?.crashLines.length) found.push({ oracle: 'crash', severity: 'must', message: `peer log shows a crash: ${JSON.stringify(h.crashLines[0])}`, detail: h.crashLines.join('\n') });
    if (h?.dead) { found.push({ oracle: 'crash', severity: 'must', message: h.dead }); return h.dead; }
    return undefined;
  };
  return {
    async afterCase() {
      if (busy) return undefined;
      const now = performance.now();
      const liveEvery = refusedSince !== undefined ? Math.min(SUSPECT_EVERY_MS, livenessEvery) : livenessEvery;
      if (now - lastHealth < HEALTH_EVERY_MS && now - lastLive < liveEvery) return undefined;
      busy = true;
      try {
        if (now - lastHealth >= HEALTH_EVERY_MS) { lastHealth = now; const dead = await check(); if (dead) return dead; }
        if (now - lastLive >= liveEvery && target.liveness) {
          livenessChecks++;
          const why = (await live()).fail;
          lastLive = performance.now();
          if (why) {
            found.push({ oracle: 'liveness', severity: 'must', message: `a fresh connection with valid credentials no longer reaches the authenticated state: ${why}`, detail: target.logTail?.() });
            return `liveness check failed: ${why}`;
          }
        }
        return undefined;
      } finally {
        busy = false;
      }
    },
    async stop() {
      await check();
      if (target.liveness) {
        // the campaign's connections are closed now; a peer still refusing (penalties) gets the grace period
        const until = performance.now() + graceMs + SUSPECT_EVERY_MS;
        for (;;) {
          livenessChecks++;
          const r = await live();
          if (r.fail) { found.push({ oracle: 'liveness', severity: 'must', message: `after the campaign, a fresh connection with valid credentials no longer authenticates: ${r.fail}`, detail: target.logTail?.() }); break; }
          if (!r.refused || performance.now() >= until) break;
          await new Promise((res) => setTimeout(res, Math.min(SUSPECT_EVERY_MS, Math.max(0, until - performance.now()))));
        }
      }
      notes.push(`${livenessChecks} liveness checks${refusedLogins ? ` (${refusedLogins} logins refused by the peer's connection limits, grace ${(graceMs / 1000).toFixed(0)} s)` : ''}`);
      if (!baseline || !target.resources) return;
      // let the per-connection processes of the campaign exit before the quiet sample
      let end = target.resources();
      for (let i = 0; i < 20 && end && end.processes > baseline.processes; i++) {
        await new Promise((r) => setTimeout(r, 250));
        end = target.resources();
      }
      if (!end) return;
      notes.push(`peer at end: ${end.processes} processes, ${end.rssKiB} KiB RSS, ${end.fds} fds`);
      if (end.rssKiB - baseline.rssKiB > RSS_GROWTH_KIB) found.push({ oracle: 'resource', severity: 'must', message: `peer RSS grew from ${baseline.rssKiB} to ${end.rssKiB} KiB over the campaign` });
      if (end.fds - baseline.fds > FD_GROWTH) found.push({ oracle: 'resource', severity: 'must', message: `peer file descriptors grew from ${baseline.fds} to ${end.fds} over the campaign` });
      if (end.processes > baseline.processes) found.push({ oracle: 'resource', severity: 'should', message: `${end.processes - baseline.processes} peer processes still running after every connection closed` });
    },
    findings: () => found,
    notes: () => notes,
  };
}
