/**
 * The built-in suite (scenarios/ data files + TypeScript checks) and selection by suite name, path and
 * --grep. Suite names: smoke, transport, auth, connection, robustness, security, client, all.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../targets/state.js';
import { checks as tsChecks } from './checks/index.js';
import { dedupe, loadChecks, loadDataFile, scenarioFiles } from './loader.js';
import { ScenarioFileError } from './schema.js';
import { SUITES, type Check, type SuiteName } from './types.js';

export function scenariosDir(): string {
  return join(packageRoot(), 'scenarios');
}

/** Every built-in check, data and TypeScript, in a stable order. */
export async function builtinChecks(): Promise<Check[]> {
  return builtinChecksSync();
}

/** The same, synchronously (mocha builds its describe/it tree synchronously). */
export function builtinChecksSync(): Check[] {
  const data = scenarioFiles(scenariosDir()).flatMap((f) => loadDataFile(f, packageRoot()));
  return dedupe([...data, ...tsChecks]);
}

export function isSuiteName(s: string): s is SuiteName {
  return (SUITES as readonly string[]).includes(s);
}

export interface Selection {
  /** Suite names and/or paths of scenario files, directories or check modules. Default ['all']. */
  readonly suites?: readonly string[];
  readonly grep?: RegExp;
  /** Only checks of this role (server-direction runs leave client checks out unless a client peer is given). */
  readonly roles?: readonly ('server' | 'client')[];
}

/** Resolves suite names and paths into checks. An unknown name that is not a path is a ScenarioFileError (exit 2). */
/** Suite names / grep / roles over a list of checks (no paths). */
export function filterChecks(all: readonly Check[], sel: Omit<Selection, 'suites'> & { suites?: readonly SuiteName[] }): Check[] {
  const names = sel.suites?.length ? sel.suites : ['all'];
  const bySuite = names.includes('all') ? [...all] : all.filter((c) => c.suites.some((s) => names.includes(s)) || (names.includes('client') && c.role === 'client'));
  return bySuite.filter((c) => (!sel.grep || sel.grep.test(c.id) || sel.grep.test(c.title)) && (!sel.roles || sel.roles.includes(c.role)));
}

export async function selectChecks(sel: Selection): Promise<Check[]> {
  const wanted = sel.suites?.length ? sel.suites : ['all'];
  const names = wanted.filter(isSuiteName);
  const paths = wanted.filter((s) => !isSuiteName(s));
  for (const p of paths) if (!existsSync(p)) throw new ScenarioFileError(p, 0, 0, `not a suite name (${SUITES.join(', ')}) nor an existing scenario path`);
  let picked: Check[] = [];
  if (names.length) {
    const all = await builtinChecks();
    picked = names.includes('all') ? all : all.filter((c) => c.suites.some((s) => names.includes(s)) || (names.includes('client') && c.role === 'client'));
  }
  if (paths.length) picked = dedupe([...picked, ...(await loadChecks(paths))]);
  return picked.filter((c) => (!sel.grep || sel.grep.test(c.id) || sel.grep.test(c.title)) && (!sel.roles || sel.roles.includes(c.role)));
}
