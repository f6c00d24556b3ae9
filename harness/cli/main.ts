/**
 * The `ssh-harness` command. Each subcommand lives in its own module exporting `register(program)`, loaded only when
 * that command runs: `--help` and a command's start must not pay for loading every other command (the whole harness
 * with testcontainers, fast-check and the report writers is ~0.4 s of module loading).
 * Exit codes: 0 = passed / nothing found, 1 = failures or findings, 2 = usage or setup error.
 */
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';

interface CommandModule { register(program: Command): void }

/** Every subcommand: its one-line summary for the top-level help, and the module that defines it. */
const COMMANDS: Readonly<Record<string, { readonly summary: string; readonly load: () => Promise<CommandModule> }>> = {
  run: { summary: 'run conformance checks against a server target (and client peers); reports into reports/<run-id>/', load: () => import('./run.js') },
  fuzz: { summary: 'state-aware property-based fuzzing of an SSH server: findings are shrunk into a replayable corpus', load: () => import('./fuzz.js') },
  replay: { summary: 'replay one fuzz corpus entry (or an imported trace) against a target and write its trace', load: () => import('./replay.js') },
  interop: { summary: 'interop matrix: our client against every server peer and every client peer against our server, per algorithm', load: () => import('./interop.js') },
  peers: { summary: 'install, list and stop the real SSH peers (OpenSSH containers, local daemons, clients)', load: () => import('./peers.js') },
  bench: { summary: 'throughput and handshake benchmarks against real peers, printed as ratios measured in the same run', load: () => import('./bench.js') },
  serve: { summary: 'run the reference SSH server (built-in deterministic commands unless --allow-exec)', load: () => import('./serve.js') },
  exec: { summary: 'run COMMAND on an SSH server with the reference client; exits with the remote status', load: () => import('./exec.js') },
  trace: { summary: 'packet traces: import captured SSH traffic', load: () => import('./trace.js') },
  learn: { summary: 'learn a peer\'s protocol state machine (Mealy machine) by active automata learning and check properties on it; diff, replay, table', load: () => import('./learn.js') },
  survey: { summary: 'the SSH ecosystem, measured: the full suite against every server peer, the client checks against every client peer, and the interop matrix, as one table', load: () => import('./survey.js') },
  campaign: { summary: 'sharded fuzzing and fanned-out surveys on an orchestrator (Docker Swarm, Kubernetes): image, swarm, task', load: () => import('./campaign.js') },
};

/** The harness's version from the repository's package.json (two levels up from the sources, three from dist/). */
function harnessVersion(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'ssh-harness-suite' && pkg.version) return pkg.version;
    } catch { /* not this level */ }
  }
  return 'unknown';
}

const program = new Command('ssh-harness')
  .description('SSH protocol conformance and fuzzing harness with a reference SSH-2 implementation')
  .version(harnessVersion())
  .exitOverride()
  .showHelpAfterError()
  // options belong to the command they follow: `fuzz merge DIR --out X` is merge's --out, not fuzz's
  .enablePositionalOptions();

/** The subcommand asked for, if any: the first word that is not an option (`help NAME` asks for NAME). */
const words = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const asked = words[0] === 'help' ? words[1] : words[0];

try {
  const one = asked !== undefined ? COMMANDS[asked] : undefined;
  if (one) {
    (await one.load()).register(program);
  } else {
    // top-level help, --version or an unknown command: list the commands without loading any
    for (const [name, c] of Object.entries(COMMANDS)) program.command(name).description(c.summary).allowUnknownOption().helpOption(false);
  }
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version are "errors" to commander; usage errors map to exit 2
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    process.stderr.write(`ssh-harness: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  }
}
