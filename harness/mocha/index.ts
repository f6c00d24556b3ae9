/**
 * `ssh-harness/mocha`: the conformance suite inside your own mocha run, against your server.
 *
 *   import { conformance } from 'ssh-harness/mocha';
 *   conformance({ target: 'tcp://127.0.0.1:2222', credentials: { user: 'me', password: 'pw' }, suites: ['smoke'] });
 *
 * One `describe` per area, one `it` per check. The checks run together (bounded parallelism) in a `before`
 * hook; each `it` then reports its check: a failure is a chai assertion with the RFC citation, the reason and the
 * message sequence; not-applicable checks and departures documented in scenarios/KNOWN.md are pending.
 */
import { expect } from 'chai';
import { evidenceText, citations } from '../report/format.js';
import { runChecks } from '../scenario/runner.js';
import { defaultConcurrency, expandClientChecks, startTarget } from '../scenario/session.js';
import { knownFor } from '../scenario/known.js';
import { newSeed } from '../scenario/seed.js';
import { builtinChecksSync, filterChecks } from '../scenario/suite.js';
import type { Check, CheckResult, Level, SuiteName } from '../scenario/types.js';
import type { Credentials, RunningTarget } from '../targets/types.js';

export interface MochaConformanceOptions {
  /** A registered target (`self`, `sshd`, `openssh:bookworm`, ...) or `tcp://host:port`. */
  readonly target: string;
  /** For tcp:// targets: the credentials the server accepts (publickey via privateKeyPath). */
  readonly credentials?: Credentials;
  readonly suites?: readonly SuiteName[];
  readonly grep?: RegExp;
  /** Client peers for client-direction checks (e.g. ['openssh-client']). */
  readonly clientTargets?: readonly string[];
  /** Your own checks (defineCheck) to run with the built-in ones, or instead of them with `builtin: false`. */
  readonly checks?: readonly Check[];
  readonly builtin?: boolean;
  /** Levels whose failures fail the test; others are reported as pending. Default: MUST and SHOULD. */
  readonly failOn?: readonly Level[];
  readonly seed?: string;
  readonly concurrency?: number;
  /** Whole-suite limit for the before hook (ms). Default 300 000. */
  readonly timeoutMs?: number;
  /** Title of the top-level describe. */
  readonly title?: string;
}

export function conformance(o: MochaConformanceOptions): void {
  const selected = filterChecks([...(o.builtin === false ? [] : builtinChecksSync()), ...(o.checks ?? [])], {
    ...(o.suites ? { suites: o.suites } : {}), ...(o.grep ? { grep: o.grep } : {}),
    roles: o.clientTargets?.length ? ['server', 'client'] : ['server'],
  });
  const checks = expandClientChecks(selected, o.clientTargets ?? []);
  const failOn = new Set<Level>(o.failOn ?? ['MUST', 'SHOULD']);
  const results = new Map<string, CheckResult>();
  let setupError: Error | undefined;
  let running: RunningTarget | undefined;

  describe(o.title ?? `SSH conformance: ${o.target}`, function () {
    this.timeout(o.timeoutMs ?? 300_000);

    before(async function () {
      try {
        const started = await startTarget(o.target, o.credentials);
        running = started.running;
        const known = knownFor(o.target, started.info.version);
        const list = await runChecks(checks, { target: started.info, seed: o.seed ?? newSeed(), known, concurrency: o.concurrency ?? defaultConcurrency(started.info) });
        for (const r of list) results.set(r.id, r);
      } catch (e) {
        setupError = e instanceof Error ? e : new Error(String(e));
      }
    });

    after(async () => { await running?.stop(); });

    const areas = [...new Set(checks.map((c) => c.area))];
    for (const area of areas) {
      describe(area, () => {
        for (const c of checks.filter((x) => x.area === area)) {
          it(`[${c.level}] ${c.id}: ${c.title}`, function () {
            if (setupError) throw setupError;
            const r = results.get(c.id);
            if (!r) throw new Error(`no result for ${c.id}`);
            if (r.verdict === 'pass') return;
            if (r.verdict === 'not-applicable' || r.known || !failOn.has(r.level)) { this.skip(); return; }
            const why = `${citations(r)} (${r.level})${r.spec.find((s) => s.text) ? `: "${r.spec.find((s) => s.text)!.text}"` : ''}\n${r.reason}\n${evidenceText(r.evidence, 60)}`;
            expect({ verdict: r.verdict, reason: r.reason }, why).to.deep.equal({ verdict: 'pass', reason: 'every expectation was met' });
          });
        }
      });
    }
  });
}

export { defineCheck } from '../scenario/define.js';
export type { Check, CheckResult } from '../scenario/types.js';
