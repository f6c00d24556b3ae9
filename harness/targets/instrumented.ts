/**
 * `dropbear:instrumented` and `openssh:instrumented`: Dropbear 2022.83 and OpenSSH 9.2p1 built from Debian's
 * source packages with ASan + UBSan + SanitizerCoverage (setup/instrumented.ts), started like `dropbear` and
 * `sshd` but with a coverage map file (SSH_HARNESS_COV_MAP, on /dev/shm) every server process sets its edge
 * flags in, and sanitizer options that put reports with stacks into the peer log.
 *
 * OpenSSH keeps re-exec (the default): the environment survives sshd's execv of itself, the re-executed child
 * maps the file again in its constructor, and the privsep pre-auth child forked from it inherits the mapping
 * (it survives the chroot and the setuid), so the pre-auth parsing is counted. harness/targets/instrumented.test.ts
 * checks that a connection that only sends a version line adds edges.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Availability, RunningTarget, StartOptions, Target } from './types.js';
import { PeerError } from './errors.js';
import { startDropbear } from './dropbear.js';
import { startSshd } from './sshd.js';
import { instrumentedBinary, readBuild, RECIPES } from './setup/instrumented.js';
import { COV_ENV, createCoverageFile, removeCoverageFile } from '../fuzz/greybox/coverage-map.js';
import { sanitizerEnv } from '../fuzz/greybox/sanitizer.js';
import { fuzzCaPublicLine } from '../fuzz/arb/key-blobs.js';

/** A running instrumented server: where its coverage flags and its log (sanitizer reports) are. */
export interface InstrumentedRunning extends RunningTarget {
  readonly coverageMapPath: string;
  readonly logPath: string;
  /** The server binary (its code maps edges to source files). */
  readonly binaryPath: string;
}

export function isInstrumented(t: RunningTarget): t is InstrumentedRunning {
  return typeof (t as Partial<InstrumentedRunning>).coverageMapPath === 'string';
}

const FIX = 'build it with `ssh-harness peers setup --instrumented` (root; ~10 min)';

interface Flavour {
  readonly name: string;
  readonly recipe: 'dropbear' | 'openssh';
  readonly binary: string;
  readonly start: typeof startDropbear;
  /** Server options the flavour adds (files it needs go into `dir`, removed with the target). */
  readonly options?: (dir: string, opts: StartOptions) => StartOptions;
}

/**
 * OpenSSH trusts the fuzzer's fixed user CA (TrustedUserCAKeys), so generated certificates reach sshd's
 * certificate checks (principals, critical options, source-address) rather than stopping at an unknown CA.
 */
function trustFuzzCa(dir: string, opts: StartOptions): StartOptions {
  const file = join(dir, 'fuzz-user-ca.pub');
  writeFileSync(file, `${fuzzCaPublicLine()}\n`, { mode: 0o644 });
  return { ...opts, extraConfig: [...(opts.extraConfig ?? []), `TrustedUserCAKeys ${file}`] };
}

function instrumentedTarget(f: Flavour): Target {
  const availability = async (): Promise<Availability> => {
    const b = readBuild(RECIPES[f.recipe]);
    if (!b || !instrumentedBinary(f.recipe, f.binary)) return { available: false, reason: `instrumented ${f.recipe} not built; ${FIX}` };
    return { available: true, version: `${b.debianVersion} (clang ASan+UBSan+sancov)` };
  };
  const start = async (opts: StartOptions = {}): Promise<RunningTarget> => {
    const bin = instrumentedBinary(f.recipe, f.binary);
    if (!bin) throw new PeerError('missing-binary', `${f.name}: instrumented ${f.recipe} not built; ${FIX}`);
    const dir = mkdtempSync(join(tmpdir(), `ssh-harness-${f.recipe}-instr-`));
    const map = createCoverageFile(f.name);
    const logPath = join(dir, 'server.log');
    const cleanup = (): void => { removeCoverageFile(map); rmSync(dir, { recursive: true, force: true }); };
    let t: RunningTarget;
    try {
      t = await f.start(f.options?.(dir, opts) ?? opts, { label: f.name, bin, logPath, env: { ...process.env, ...sanitizerEnv(), [COV_ENV]: map } });
    } catch (e) {
      cleanup();
      throw e;
    }
    let stopped: Promise<void> | undefined;
    const running: InstrumentedRunning = {
      ...t, name: f.name, coverageMapPath: map, logPath, binaryPath: bin, logs: () => t.logs(),
      stop: () => (stopped ??= t.stop().finally(cleanup)),
    };
    return running;
  };
  return { name: f.name, kind: 'server', description: `${f.recipe} from Debian's source, built with ASan+UBSan and edge coverage (grey-box fuzzing)`, availability, start };
}

export const instrumentedDropbearTarget = instrumentedTarget({ name: 'dropbear:instrumented', recipe: 'dropbear', binary: 'dropbear', start: startDropbear });
export const instrumentedOpensshTarget = instrumentedTarget({ name: 'openssh:instrumented', recipe: 'openssh', binary: 'sshd', start: startSshd, options: trustFuzzCa });
