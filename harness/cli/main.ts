/**
 * The `ssh-harness` command (DESIGN §9). Each subcommand lives in its own module exporting `register(program)`.
 * Exit codes: 0 = passed / nothing found, 1 = failures or findings, 2 = usage or setup error.
 */
import { Command, CommanderError } from 'commander';
import { register as registerBench } from './bench.js';
import { register as registerExec } from './exec.js';
import { register as registerFuzz } from './fuzz.js';
import { register as registerInterop } from './interop.js';
import { register as registerPeers } from './peers.js';
import { register as registerReplay } from './replay.js';
import { register as registerRun } from './run.js';
import { register as registerServe } from './serve.js';
import { register as registerSurvey } from './survey.js';
import { register as registerTrace } from './trace.js';

const program = new Command('ssh-harness')
  .description('SSH protocol conformance and fuzzing harness with a reference SSH-2 implementation')
  .version('0.1.0')
  .exitOverride()
  .showHelpAfterError();

registerRun(program);
registerFuzz(program);
registerReplay(program);
registerInterop(program);
registerSurvey(program);
registerPeers(program);
registerBench(program);
registerServe(program);
registerExec(program);
registerTrace(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version are "errors" to commander; usage errors map to exit 2 (DESIGN §9)
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    process.stderr.write(`ssh-harness: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  }
}
