/**
 * `ssh-harness survey [--target all|NAME...] [--client-target all|none|NAME...] [--suite S...] [--grep RE]
 *  [--jobs N] [--no-interop] [--report DIR] [--snapshot DIR] [--readme FILE] [--json] [--quiet]`:
 * the conformance suite against every server peer, the client checks against every client peer, and the interop
 * matrix, as one table of the SSH ecosystem (implementation × check area, MUST/SHOULD failures linked to their
 * evidence) in reports/<run-id>/survey.{html,md,json}. `--snapshot` also writes the committed copy (docs/survey).
 * Exit 0 = every failure is explained in scenarios/KNOWN.md, 1 = untriaged failures, 2 = usage error or a peer
 * that could not be run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { MatrixReport } from '../interop/matrix/types.js';
import type { SurveyReport } from '../survey/types.js';
import { setTimeScale } from '../scenario/expect.js';
import type { Command } from 'commander';
import { clientPeerNames, targetNames } from '../targets/registry.js';
import { defaultSurveyClients, defaultSurveyServers } from '../survey/peers.js';
import { runSurvey, surveyExitCode } from '../survey/run-survey.js';
import { retriage } from '../survey/retriage.js';
import { writeSnapshot, writeSurvey } from '../survey/write.js';
import '../targets/self.js';

interface SurveyFlags {
  target?: string[];
  clientTarget?: string[];
  suite?: string[];
  grep?: string;
  jobs?: string;
  interop?: boolean;
  report?: string;
  snapshot?: string;
  readme?: string;
  json?: boolean;
  quiet?: boolean;
  timeScale?: string;
  from?: string;
}

class UsageError extends Error {}

function names(given: string[] | undefined, all: string[], known: readonly string[], flag: string): string[] {
  const list = (given ?? ['all']).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  if (list.includes('none')) return [];
  if (list.includes('all')) return all;
  for (const n of list) if (!known.includes(n)) throw new UsageError(`${flag}: unknown peer ${JSON.stringify(n)}; known: all, none, ${known.join(', ')}`);
  return [...new Set(list)];
}

/**
 * Default waits stretched by how busy the machine is before we start (load per core, 1 to 4): on a shared 2-core
 * machine under load 20 peers answer in seconds what takes milliseconds, and a check must not fail for that.
 */
export function autoTimeScale(): number {
  const perCore = loadavg()[0]! / Math.max(1, cpus().length);
  return Math.min(4, Math.max(1, Math.round(perCore * 10) / 10));
}

export function surveyRunId(at = new Date()): string {
  return `${at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-survey`;
}

/** `--from`: a snapshot of an earlier run (its survey.json, and interop/matrix.json beside it), nothing re-run; triage from today's KNOWN.md. */
function fromEarlier(f: SurveyFlags): number {
  if (!f.snapshot) throw new UsageError('--from needs --snapshot');
  let report: SurveyReport;
  try {
    report = JSON.parse(readFileSync(f.from!, 'utf8')) as SurveyReport;
  } catch (e) {
    throw new UsageError(`--from ${f.from}: ${(e as Error).message}`);
  }
  if (!Array.isArray(report.rows) || typeof report.runId !== 'string') throw new UsageError(`--from ${f.from}: not a survey.json`);
  const matrixFile = join(dirname(f.from!), 'interop', 'matrix.json');
  const matrix = existsSync(matrixFile) ? (JSON.parse(readFileSync(matrixFile, 'utf8')) as MatrixReport) : undefined;
  report = retriage(report); // explanations written into KNOWN.md since the run count
  const snap = writeSnapshot(report, matrix, resolve(f.snapshot), f.readme ? resolve(f.readme) : undefined);
  process.stdout.write(`snapshot of ${report.runId}: ${snap.length} files in ${resolve(f.snapshot)}\n`);
  return surveyExitCode(report);
}

async function survey(f: SurveyFlags): Promise<number> {
  if (f.from) return fromEarlier(f);
  const servers = names(f.target, defaultSurveyServers(), targetNames(), '--target');
  const clients = names(f.clientTarget, defaultSurveyClients(), clientPeerNames(), '--client-target');
  if (!servers.length && !clients.length) throw new UsageError('nothing to survey: both --target and --client-target are none');
  const jobs = f.jobs === undefined ? 4 : Number(f.jobs);
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 16) throw new UsageError(`--jobs: expected an integer in [1, 16], got ${JSON.stringify(f.jobs)}`);
  let grep: RegExp | undefined;
  try {
    grep = f.grep ? new RegExp(f.grep) : undefined;
  } catch (e) {
    throw new UsageError(`--grep: ${(e as Error).message}`);
  }
  const timeScale = f.timeScale === undefined || f.timeScale === 'auto' ? autoTimeScale() : Number(f.timeScale);
  if (!Number.isFinite(timeScale) || timeScale < 1 || timeScale > 10) throw new UsageError(`--time-scale: expected auto or a number in [1, 10], got ${JSON.stringify(f.timeScale)}`);
  setTimeScale(timeScale);
  const base = resolve(f.report ?? 'reports');
  const say = (line: string): void => { if (!f.quiet) process.stderr.write(`${line}\n`); };
  const { report, matrix } = await runSurvey({
    servers, clients, suites: f.suite ?? ['all'], ...(grep ? { grep } : {}), jobs, interop: f.interop !== false,
    base, runId: surveyRunId(), progress: say, timeScale,
  });
  const files = writeSurvey(report, base);
  const snap = f.snapshot ? writeSnapshot(report, matrix, resolve(f.snapshot), f.readme ? resolve(f.readme) : undefined) : [];
  const code = surveyExitCode(report);
  if (f.json) {
    process.stdout.write(`${JSON.stringify({ runId: report.runId, totals: report.totals, durationMs: report.durationMs, exitCode: code, reports: files, snapshot: snap })}\n`);
  } else {
    const t = report.totals;
    process.stdout.write(`${t.servers} servers, ${t.clients} clients (${t.implementations} implementations), ${t.checks} checks: ${t.must} MUST and ${t.should} SHOULD failures, `
      + `${t.untriaged} untriaged${t.setupErrors ? `, ${t.setupErrors} peers could not run` : ''}, in ${(report.durationMs / 1000).toFixed(1)} s\n`);
    process.stdout.write(`reports: ${files.html}\n         ${files.markdown}\n         ${files.json}\n`);
    if (snap.length) process.stdout.write(`snapshot: ${snap.length} files in ${resolve(f.snapshot!)}\n`);
  }
  return code;
}

export function register(program: Command): void {
  program
    .command('survey')
    .description('the SSH ecosystem, measured: the full suite against every server peer, the client checks against every client peer, and the interop matrix, as one table')
    .option('--target <name...>', `server peers: all (default: ${defaultSurveyServers().join(', ')}), none, or names`)
    .option('--client-target <name...>', `client peers: all (default: ${defaultSurveyClients().join(', ')}), none, or names`)
    .option('--suite <name|path...>', 'suites or scenario paths (default all)')
    .option('--grep <regexp>', 'only checks whose id or title matches')
    .option('--jobs <n>', 'peers worked on at once (default 4)')
    .option('--no-interop', 'leave out the interop matrix')
    .option('--report <dir>', 'report base directory (default reports); files go to <dir>/<run-id>/')
    .option('--snapshot <dir>', 'also write a self-contained copy for the repository (e.g. docs/survey)')
    .option('--readme <file>', 'with --snapshot: replace the table between <!-- survey:begin --> and <!-- survey:end --> in FILE')
    .option('--from <survey.json>', 'with --snapshot: write the snapshot of an earlier run instead of running one')
    .option('--time-scale <k|auto>', 'stretch the checks\' default waits by k (1-10) on a busy machine; auto (default): the load per core, 1 to 4')
    .option('--json', 'print the totals as JSON on stdout (progress stays on stderr)')
    .option('--quiet', 'no progress lines')
    .action(async (flags: SurveyFlags) => {
      try {
        if (flags.readme && !flags.snapshot) throw new UsageError('--readme needs --snapshot');
        process.exitCode = await survey(flags);
      } catch (e) {
        process.stderr.write(`ssh-harness survey: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exitCode = 2;
      }
    });
}
