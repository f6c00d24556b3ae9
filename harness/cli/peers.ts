/**
 * `ssh-harness peers setup|list|stop`.
 *   setup  installs packages, the test account, keys, dockerd and the OpenSSH images; idempotent
 *   list   every server/client peer, whether it is available here, and its version
 *   stop   ends what harness runs started (recorded PIDs / container ids only); --dockerd also the daemon setup started
 * Exit codes: 0 ok; 1 `list` found unavailable peers; 2 setup/usage error (message names the fix).
 */
import type { Command } from 'commander';
import { runSetup, stepTable } from '../targets/setup/run-setup.js';
import { listPeers, peerTable, formatTable } from '../targets/peer-list.js';
import { stopRecorded } from '../targets/cleanup.js';
import { stopOwnDockerd } from '../targets/setup/dockerd.js';
import { SUITES } from '../targets/setup/images.js';
import type { Suite } from '../targets/openssh-container.js';
import { isPeerError } from '../targets/errors.js';

interface Io { say(s: string): void; warn(s: string): void }

function io(cmd: Command): Io {
  const out = cmd.configureOutput();
  return {
    say: (s) => (out.writeOut ?? ((x: string) => process.stdout.write(x)))(s + '\n'),
    warn: (s) => (out.writeErr ?? ((x: string) => process.stderr.write(x)))(s + '\n'),
  };
}

export function register(program: Command): void {
  const peers = program.command('peers').description('install, list and stop the real SSH peers (OpenSSH containers, local daemons, clients)');

  peers.command('setup')
    .description('install everything the peers need (apt packages, test account, dockerd, local OpenSSH images); idempotent')
    .option('--suite <suite...>', `OpenSSH image suites to build (${SUITES.join(', ')})`)
    .option('--instrumented', 'only the instrumented Dropbear/OpenSSH builds (ASan+UBSan+coverage) and what they need')
    .option('--json', 'print the report as JSON on stdout (progress goes to stderr)')
    .action(async (opts: { suite?: string[]; json?: boolean; instrumented?: boolean }, cmd: Command) => {
      const { say, warn } = io(cmd);
      const bad = (opts.suite ?? []).filter((s) => !(SUITES as readonly string[]).includes(s));
      if (bad.length) {
        warn(`ssh-harness peers setup: unknown suite ${bad.join(', ')}; choose from ${SUITES.join(', ')}`);
        process.exitCode = 2;
        return;
      }
      const report = await runSetup({ suites: opts.suite as Suite[] | undefined, instrumentedOnly: opts.instrumented === true, progress: opts.json ? warn : say });
      if (opts.json) {
        say(JSON.stringify(report, null, 2));
      } else {
        say('');
        say(stepTable(report.steps));
        if (report.peers.length) {
          say('');
          say(peerTable(report.peers));
        }
        say('');
        say(`setup ${report.ok ? 'complete' : 'FAILED'} in ${(report.totalMs / 1000).toFixed(1)} s`);
      }
      if (report.error) warn(`ssh-harness peers setup: ${report.error}`);
      process.exitCode = report.ok ? 0 : 2;
    });

  peers.command('list')
    .description('list every peer with its version and whether it is available here')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { say } = io(cmd);
      const rows = await listPeers();
      say(opts.json ? JSON.stringify(rows, null, 2) : peerTable(rows));
      process.exitCode = rows.every((r) => r.available) ? 0 : 1;
    });

  peers.command('stop')
    .description('stop peers that harness runs started (by recorded PID / container id, never by name)')
    .option('--dockerd', 'also stop the dockerd that `peers setup` started')
    .option('--json', 'print JSON')
    .action(async (opts: { dockerd?: boolean; json?: boolean }, cmd: Command) => {
      const { say, warn } = io(cmd);
      try {
        const stopped = stopRecorded();
        const dockerd = opts.dockerd ? await stopOwnDockerd() : undefined;
        if (opts.json) say(JSON.stringify({ stopped, ...(dockerd ? { dockerd } : {}) }, null, 2));
        else {
          say(stopped.length ? formatTable(['peer', 'what', 'result'], stopped.map((s) => [s.label, s.what, s.result])) : 'nothing recorded as running');
          if (dockerd) say(dockerd);
        }
        process.exitCode = 0;
      } catch (e) {
        warn(`ssh-harness peers stop: ${isPeerError(e) ? e.message : (e as Error).message}`);
        process.exitCode = 2;
      }
    });
}
