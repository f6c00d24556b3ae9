/**
 * `ssh-harness campaign …`: campaigns beyond one process, on an existing orchestrator (harness/campaign, deploy/).
 *
 * - `campaign image` builds (or finds) the harness's own container image, keyed by a hash of what goes in;
 * - `campaign swarm` runs N fuzz shards as a Docker Swarm replicated job, each against its own target container,
 *   on a shared volume, then merges them;
 * - `campaign task` runs one item of a fanned-out list (a survey: one peer per task) in an orchestrated task.
 *
 * Exit codes: 0 done and nothing found, 1 findings, 2 usage or setup error.
 */
import type { Command } from 'commander';
import { ensureHarnessImage } from '../campaign/image.js';
import { isPeerError } from '../targets/errors.js';

interface Io { say: (s: string) => void; warn: (s: string) => void }

function io(cmd: Command): Io {
  const out = cmd.configureOutput();
  return {
    say: (s) => (out.writeOut ?? ((x: string) => process.stdout.write(x)))(s),
    warn: (s) => (out.writeErr ?? ((x: string) => process.stderr.write(x)))(s),
  };
}

const mib = (b: number): string => `${(b / (1 << 20)).toFixed(0)} MiB`;

export function register(program: Command): void {
  const campaign = program
    .command('campaign')
    .description('sharded fuzzing and fanned-out surveys on an orchestrator (Docker Swarm, Kubernetes): image, swarm, task')
    .enablePositionalOptions();

  campaign
    .command('image')
    .description('build (or find) the harness container image local/ssh-harness:<hash> (debootstrap + docker import, project compiled inside)')
    .option('--packages <list>', 'extra Debian packages in the image, comma-separated (e.g. peers for survey tasks)')
    .option('--force', 'rebuild even when the image for these inputs exists')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { packages?: string; force?: boolean; json?: boolean }, cmd: Command) => {
      const { say, warn } = io(cmd);
      const packages = opts.packages?.split(',').map((p) => p.trim()).filter(Boolean) ?? [];
      const bad = packages.filter((p) => !/^[a-z0-9][a-z0-9+.-]*$/.test(p));
      if (bad.length) { warn(`ssh-harness campaign image: not Debian package names: ${bad.map((b) => JSON.stringify(b)).join(', ')}\n`); process.exitCode = 2; return; }
      try {
        const r = await ensureHarnessImage({ packages, force: opts.force === true, progress: (l) => (opts.json ? warn : say)(`${l}\n`) });
        if (opts.json) say(JSON.stringify(r, null, 2) + '\n');
        else say(`${r.image} ${r.built ? `built in ${(r.buildMs / 1000).toFixed(1)} s${r.baseBuilt ? ' (base too)' : ''}` : 'present'}, ${mib(r.sizeBytes)}, node ${r.nodeVersion}\n`);
        process.exitCode = 0;
      } catch (e) {
        warn(`ssh-harness campaign image: ${isPeerError(e) ? e.message : (e as Error).message}\n`);
        process.exitCode = 2;
      }
    });
}
