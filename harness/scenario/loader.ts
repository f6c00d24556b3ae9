/**
 * Scenario files → checks. Validates each file against the schema (data-format.ts) with file:line:col errors,
 * merges `defaults`, expands `matrix` tables (one check per row, `${name}` substituted everywhere), encodes
 * every message once with placeholder variables so a bad field is reported at load time, and refuses
 * duplicate ids. TypeScript checks come from modules that export `checks` (see define.ts).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMap, isSeq, type Node as YamlNode, type YAMLMap, type YAMLSeq } from 'yaml';
import { encodeMessage } from '../../impl/messages/index.js';
import { fileSchema, stepSchema, type CheckValue, type FileValue, type Json, type StepValue } from './data-format.js';
import { defaultKexInit, materialize, runSteps, StepError, toMessage, type StepSite } from './interpret.js';
import { check as validate, checkPlain, errorAt, lineOf, parseYaml, ScenarioFileError, type Cursor } from './schema.js';
import type { Area, Check, Level, Requirements, Role, SpecRef, SuiteName } from './types.js';

const DATA_EXT = /\.(ya?ml|json)$/i;
const TS_EXT = /\.(ts|js|mjs)$/i;

/** Every scenario file under `dir` (sorted, so the suite order is stable). */
export function scenarioFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, depth: number) => {
    if (depth > 8) return;
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p, depth + 1);
      else if (DATA_EXT.test(e.name)) out.push(p);
    }
  };
  walk(dir, 0);
  return out;
}

/** "RFC 4253 §11.4: text" → { rfc, section, text }. */
export function parseSpec(v: Json): SpecRef[] {
  const one = (x: Json): SpecRef => {
    if (typeof x === 'string') {
      const m = /^(.+?) §(\S+?)(?::\s*([\s\S]*))?$/.exec(x.trim());
      return { rfc: m?.[1] ?? x, section: m?.[2] ?? '', ...(m?.[3] ? { text: m[3].trim() } : {}) };
    }
    const o = x as Record<string, string>;
    return { rfc: o['rfc']!, section: String(o['section']).replace(/^§/, ''), ...(o['text'] ? { text: o['text'] } : {}) };
  };
  return Array.isArray(v) ? v.map(one) : [one(v)];
}

/** Rows of a matrix: `{a: [1,2], b: [x]}` → cartesian product; a list of rows as is. */
export function matrixRows(m: Json | undefined): Record<string, Json>[] {
  if (m === undefined || m === null) return [{}];
  if (Array.isArray(m)) return m as Record<string, Json>[];
  let rows: Record<string, Json>[] = [{}];
  // a value that is a mapping contributes its keys to the row too: { message: [{ msg: a, m: {...} }] } → ${msg}, ${m}
  const flat = (v: Json): Record<string, Json> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {});
  for (const [k, values] of Object.entries(m as Record<string, Json[]>)) rows = rows.flatMap((r) => values.map((v) => ({ ...r, ...flat(v), [k]: v })));
  return rows.map((r) => r);
}

/** `${name}` → the row's value (typed when it is the whole string). */
export function substitute(v: Json, row: Readonly<Record<string, Json>>): Json {
  if (typeof v === 'string') {
    const whole = /^\$\{([A-Za-z0-9_-]+)\}$/.exec(v);
    if (whole && whole[1]! in row) return row[whole[1]!]!;
    return v.replace(/\$\{([A-Za-z0-9_-]+)\}/g, (s, k: string) => (k in row ? String(row[k]) : s));
  }
  if (Array.isArray(v)) return v.map((x) => substitute(x, row));
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [substitute(k, row) as string, substitute(x, row)]));
  return v;
}

/** Any `$name` resolves at load time: channel ids, saved fields and the like are numbers then. */
class PlaceholderVars extends Map<string, Json> {
  override has(): boolean { return true; }
  override get(k: string): Json { return k === 'user' || k === 'password' ? k : 0; }
}

const MESSAGE_STEPS = new Set(['send', 'send-raw']);

/** Encodes each message of a step (and of nested `if` branches) with placeholders; an error names the step's line. */
function checkMessages(steps: readonly StepValue[], sites: readonly StepSite[], nodes: readonly (YamlNode | undefined)[], c: Cursor): void {
  const vars = new PlaceholderVars();
  steps.forEach((step, i) => {
    const [kind, arg] = Object.entries(step)[0] as [string, Json];
    const at = (msg: string) => errorAt({ ...c, path: `step ${i + 1} (${kind})` }, nodes[i], msg);
    const tryEncode = (m: Json, what: string) => {
      try {
        encodeMessage(toMessage(m, vars));
      } catch (e) {
        throw at(`${what} does not encode: ${e instanceof Error ? e.message : String(e)}`);
      }
    };
    if (MESSAGE_STEPS.has(kind)) tryEncode(arg, 'message');
    if (kind === 'send-packet' && (arg as Record<string, Json>)['message'] !== undefined) tryEncode((arg as Record<string, Json>)['message']!, 'message');
    if (kind === 'send-kexinit') tryEncode({ ...(defaultKexInit() as Record<string, Json>), ...(arg as Record<string, Json>) }, 'KEXINIT');
    if (kind === 'expect-line') {
      try { new RegExp(String((arg as Record<string, Json>)['match'])); } catch (e) { throw at(`bad regular expression: ${(e as Error).message}`); }
    }
    if (kind === 'if') {
      const a = arg as Record<string, Json>;
      for (const branch of ['then', 'otherwise'] as const) {
        const sub = a[branch];
        if (!Array.isArray(sub)) continue;
        const node = isMap(nodes[i]) ? ((nodes[i] as YAMLMap).items[0]?.value as YAMLMap | undefined)?.get(branch, true) as YAMLSeq | undefined : undefined;
        const subNodes = sub.map((_, j) => (isSeq(node) ? (node.items[j] as YamlNode) : nodes[i]));
        checkMessages(sub as StepValue[], sites, subNodes, c);
      }
    }
    void materialize;
  });
}

function compileCheck(file: string, display: string, v: CheckValue, defaults: FileValue['defaults'], checkNode: YamlNode, c: Cursor): Check[] {
  const level = v.level ?? defaults?.level;
  const area = v.area ?? defaults?.area;
  const role = v.role ?? defaults?.role ?? 'server';
  if (!level) throw errorAt(c, checkNode, 'missing "level" (MUST, SHOULD or MAY), here or in the file\'s defaults');
  if (!area) throw errorAt(c, checkNode, 'missing "area", here or in the file\'s defaults');
  const stepsNode = isMap(checkNode) ? (checkNode.get('steps', true) as YamlNode | undefined) : undefined;
  const stepNodes = v.steps.map((_, i) => (isSeq(stepsNode) ? (stepsNode.items[i] as YamlNode) : undefined));
  const sites: StepSite[] = stepNodes.map((n) => ({ file: display, line: lineOf(c, n ?? checkNode).line }));
  const { line } = lineOf(c, checkNode);
  const rows = matrixRows(v.matrix);
  return rows.map((row) => {
    const id = String(substitute(v.id, row));
    const steps = substitute(v.steps as unknown as Json, row) as unknown as StepValue[];
    if (rows.length > 1 || Object.keys(row).length) {
      // placeholders were let through at first; the substituted steps must fit the schema too
      steps.forEach((st, i) => checkPlain(display, lineOf(c, stepNodes[i] ?? checkNode), `check ${id}: step ${i + 1} (after matrix substitution)`, st, stepSchema));
    }
    checkMessages(steps, sites, stepNodes, { ...c, path: `check ${id}` });
    const requires = substitute((v.requires ?? defaults?.requires ?? null) as Json, row) as Requirements | null;
    const timeout = v.timeout ?? defaults?.timeout;
    const rowVars = new Map<string, Json>(Object.entries(row).map(([k, x]) => [`row.${k}`, x]));
    const rowLevel = String(substitute(level, row));
    if (!['MUST', 'SHOULD', 'MAY'].includes(rowLevel)) throw errorAt(c, checkNode, `level ${JSON.stringify(rowLevel)} (after matrix substitution) is not MUST, SHOULD or MAY`);
    return {
      id,
      title: String(substitute(v.title, row)),
      spec: parseSpec(substitute(v.spec, row)),
      level: rowLevel as Level,
      role: role as Role,
      area: area as Area,
      suites: [...new Set([...(defaults?.suites ?? []), ...(v.suites ?? [])])] as SuiteName[],
      ...(requires ? { requires } : {}),
      ...(timeout ? { timeoutMs: timeout } : {}),
      source: { file: display, line },
      steps,
      run: (ctx) => runSteps(ctx, steps, sites, rowVars),
    } satisfies Check;
  });
  void file;
}

/** Loads one YAML/JSON scenario file. */
export function loadDataFile(path: string, root = process.cwd()): Check[] {
  const display = relative(root, resolve(path)) || path;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ScenarioFileError(display, 0, 0, `cannot read: ${(e as Error).message}`);
  }
  const { root: node, lc } = parseYaml(display, text);
  const c: Cursor = { file: display, lc, path: '', placeholders: true };
  const value = validate(c, node, fileSchema) as unknown as FileValue;
  const checksNode = isMap(node) ? (node.get('checks', true) as YamlNode) : undefined;
  return value.checks.flatMap((cv, i) => {
    const checkNode = isSeq(checksNode) ? (checksNode.items[i] as YamlNode) : (node as YamlNode);
    return compileCheck(path, display, cv, value.defaults, checkNode, { ...c, path: `checks[${i}]` });
  });
}

/** Loads TypeScript/JS check modules: `export const checks: Check[]` (or a default export). */
export async function loadModule(path: string): Promise<Check[]> {
  const mod = (await import(pathToFileURL(resolve(path)).href)) as { checks?: Check[]; default?: Check[] };
  const list = mod.checks ?? mod.default;
  if (!Array.isArray(list)) throw new ScenarioFileError(path, 1, 1, 'a check module must export `checks` (an array of defineCheck(...))');
  return list;
}

/** Loads files and directories (data and modules); duplicate ids are an error naming both places. */
export async function loadChecks(paths: readonly string[], root = process.cwd()): Promise<Check[]> {
  const all: Check[] = [];
  for (const p of paths) {
    if (!existsSync(p)) throw new ScenarioFileError(p, 0, 0, 'no such file or directory');
    if (statSync(p).isDirectory()) for (const f of scenarioFiles(p)) all.push(...loadDataFile(f, root));
    else if (DATA_EXT.test(p)) all.push(...loadDataFile(p, root));
    else if (TS_EXT.test(p)) all.push(...(await loadModule(p)));
    else throw new ScenarioFileError(p, 0, 0, 'not a scenario file (.yaml, .yml, .json) nor a check module (.ts, .js)');
  }
  return dedupe(all);
}

export function dedupe(all: readonly Check[]): Check[] {
  const seen = new Map<string, Check>();
  for (const c of all) {
    const prev = seen.get(c.id);
    if (prev) throw new ScenarioFileError(c.source.file, c.source.line, 1, `duplicate check id "${c.id}" (first defined at ${prev.source.file}:${prev.source.line})`);
    seen.set(c.id, c);
  }
  return [...all];
}

export { StepError };
