/**
 * `ssh-harness interop [--target all|none|NAME...] [--client-target all|none|NAME...] [--kind K,...] [--grep RE]
 *  [--no-legacy] [--report DIR] [--concurrency N] [--timeout MS] [--allow-unavailable] [--json] [--quiet]`
 * (issue 6; the equivalent of `run --target all --suite interop`): our client against every server peer and every
 * client peer against our server, one cell per algorithm; writes reports/<run-id>/interop/matrix.{json,md,html}.
 * Exit 0 = no cell failed, 1 = some cell failed, 2 = usage error or a peer could not be set up (the command-line contract in README.md).
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { matrixRows } from '../interop/matrix/rows.js';
import { defaultClientPeers, defaultServerPeers, exitCodeOf, runMatrix, SERVER_ALIASES } from '../interop/matrix/run-matrix.js';
import { KINDS, type Kind } from '../interop/matrix/types.js';
import { summaryTable, writeMatrixReport } from '../interop/matrix/write-report.js';
import { clientPeerNames, targetNames } from '../targets/registry.js';

interface InteropFlags {
  target?: string[];
  clientTarget?: string[];
  kind?: string;
  grep?: string;
  legacy?: boolean;
  report?: string;
  concurrency?: string;
  timeout?: string;
  allowUnavailable?: boolean;
  json?: boolean;
  quiet?: boolean;
}

class UsageError extends Error {}

/** `--kind` takes the CLI's kind names (README.md: `hostkey`), mapped to the matrix's. */
const KIND_FLAG: Readonly<Record<string, Kind>> = { kex: 'kex', hostkey: 'hostKey', cipher: 'cipher', mac: 'mac', compression: 'compression' };

function int(v: string | undefined, name: string, min: number, max: number, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name}: expected an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return n;
}

function peerList(given: string[] | undefined, all: string[], known: readonly string[], flag: string): string[] {
  const names = (given ?? ['all']).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  if (names.includes('none')) return [];
  if (names.includes('all')) return all;
  const out: string[] = [];
  for (const n of names) {
    const name = SERVER_ALIASES[n] ?? n;
    if (!known.includes(name)) throw new UsageError(`${flag}: unknown peer ${JSON.stringify(n)}; known: all, none, ${known.join(', ')}`);
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

async function interop(f: InteropFlags): Promise<number> {
  const servers = peerList(f.target, defaultServerPeers(), targetNames(), '--target');
  const clients = peerList(f.clientTarget, defaultClientPeers(), clientPeerNames(), '--client-target');
  if (!servers.length && !clients.length) throw new UsageError('nothing to run: both --target and --client-target are none');
  let kinds: Kind[] | undefined;
  if (f.kind !== undefined) {
    kinds = f.kind.split(',').map((s) => s.trim()).filter(Boolean).map((k) => {
      const m = KIND_FLAG[k];
      if (!m) throw new UsageError(`--kind: unknown kind ${JSON.stringify(k)} (kinds: ${Object.keys(KIND_FLAG).join(', ')})`);
      return m;
    });
  }
  let grep: RegExp | undefined;
  try {
    grep = f.grep ? new RegExp(f.grep) : undefined;
  } catch (e) {
    throw new UsageError(`--grep: ${(e as Error).message}`);
  }
  const rows = matrixRows({ ...(kinds ? { kinds } : {}), ...(grep ? { grep } : {}), legacy: f.legacy !== false });
  if (KINDS.every((k) => rows[k].length === 0)) throw new UsageError('no algorithm selected (check --kind and --grep)');
  const concurrency = int(f.concurrency, 'concurrency', 1, 32, 3);
  const timeoutMs = int(f.timeout, 'timeout', 1000, 600_000, 20_000);
  const say = (line: string): void => { if (!f.quiet) process.stderr.write(`${line}\n`); };
  say(`ssh-harness interop: ${servers.length} server peers (${servers.join(', ') || 'none'}), ${clients.length} client peers (${clients.join(', ') || 'none'}); ${KINDS.reduce((n, k) => n + rows[k].length, 0)} algorithms each`);
  const report = await runMatrix({ servers, clients, rows, concurrency, timeoutMs, progress: say });
  const files = writeMatrixReport(report, resolve(f.report ?? 'reports'));
  const code = exitCodeOf(report, { ...(f.allowUnavailable ? { allowUnavailable: true } : {}) });
  if (f.json) {
    process.stdout.write(`${JSON.stringify({ runId: report.runId, summary: report.summary, durationMs: report.durationMs, exitCode: code, reports: files })}\n`);
  } else {
    process.stdout.write(`${summaryTable(report)}\nreports: ${files.markdown}\n         ${files.html}\n         ${files.json}\n`);
  }
  return code;
}

export function register(program: Command): void {
  program
    .command('interop')
    .description('interop matrix: our client against every server peer and every client peer against our server, per algorithm; reports into reports/<run-id>/interop/')
    .option('--target <name...>', `server peers: all (default: ${defaultServerPeers().join(', ')}), none, or names`)
    .option('--client-target <name...>', `client peers: all (default: ${defaultClientPeers().join(', ')}), none, or names`)
    .option('--kind <kinds>', 'only these kinds, comma-separated: kex, hostkey, cipher, mac, compression')
    .option('--grep <regexp>', 'only algorithms whose name matches')
    .option('--no-legacy', 'leave out legacy algorithms (by default they are named, so offered)')
    .option('--report <dir>', 'report base directory (default reports); files go to <dir>/<run-id>/interop/')
    .option('--concurrency <n>', 'handshakes in flight at once (default 3)')
    .option('--timeout <ms>', 'time limit per cell and per peer start (default 20000)')
    .option('--allow-unavailable', 'a peer missing on this machine is reported but does not make the exit code 2')
    .option('--json', 'print the summary as JSON on stdout (progress stays on stderr)')
    .option('--quiet', 'no progress lines')
    .action(async (flags: InteropFlags) => {
      try {
        process.exitCode = await interop(flags);
      } catch (e) {
        process.stderr.write(`ssh-harness interop: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exitCode = 2;
      }
    });
}
