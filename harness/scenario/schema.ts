/**
 * A small schema checker over `yaml` document nodes, so every error names the file, line and column of the
 * offending node and says what was expected. Written here rather than taken from a JSON-schema library
 * because those validate plain values and lose the source positions, which is the point of the exercise.
 * JSON scenario files go through the same path (JSON is YAML 1.2).
 */
import { Document, isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';

export class ScenarioFileError extends Error {
  constructor(readonly file: string, readonly line: number, readonly col: number, readonly detail: string) {
    super(`${file}:${line}:${col}: ${detail}`);
    this.name = 'ScenarioFileError';
  }
}

/** Where a value came from, for errors raised after validation (e.g. a message that does not encode). */
export interface Located<T> {
  readonly value: T;
  readonly line: number;
  readonly col: number;
}

export interface Cursor {
  readonly file: string;
  readonly lc: LineCounter;
  readonly path: string;
  /** Accept a whole-string `${name}` for any schema (matrix placeholders are checked again after substitution). */
  readonly placeholders?: boolean;
  /** Fixed position for every error (values made by substitution have no source position of their own). */
  readonly at?: { readonly line: number; readonly col: number };
}

const PLACEHOLDER = /^\$\{[A-Za-z0-9_-]+\}$/;

export type Schema =
  | { readonly kind: 'string'; readonly pattern?: RegExp; readonly patternHint?: string }
  | { readonly kind: 'number'; readonly integer?: boolean; readonly min?: number; readonly max?: number }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'enum'; readonly values: readonly (string | number)[] }
  | { readonly kind: 'array'; readonly items: Schema; readonly minItems?: number }
  | { readonly kind: 'object'; readonly props: Readonly<Record<string, Prop>>; readonly additional?: Schema }
  /** Several accepted shapes, told apart by the node's type (scalar / sequence / mapping). */
  | { readonly kind: 'union'; readonly options: readonly Schema[]; readonly hint: string }
  /** A mapping with exactly one key, chosen from `cases` (steps, outcomes). */
  | { readonly kind: 'tagged'; readonly cases: Readonly<Record<string, Schema>>; readonly what: string }
  | { readonly kind: 'any' }
  /** For recursive shapes (an `if` step holds steps). */
  | { readonly kind: 'lazy'; readonly get: () => Schema };

export interface Prop {
  readonly schema: Schema;
  readonly required?: boolean;
}

export const S = {
  string: (pattern?: RegExp, patternHint?: string): Schema => ({ kind: 'string', ...(pattern ? { pattern } : {}), ...(patternHint ? { patternHint } : {}) }),
  int: (min?: number, max?: number): Schema => ({ kind: 'number', integer: true, ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) }),
  number: (): Schema => ({ kind: 'number' }),
  bool: (): Schema => ({ kind: 'boolean' }),
  enum: (...values: (string | number)[]): Schema => ({ kind: 'enum', values }),
  array: (items: Schema, minItems?: number): Schema => ({ kind: 'array', items, ...(minItems !== undefined ? { minItems } : {}) }),
  object: (props: Record<string, Schema | Prop>, additional?: Schema): Schema => ({
    kind: 'object',
    props: Object.fromEntries(Object.entries(props).map(([k, v]) => [k, 'schema' in v ? v : { schema: v }])),
    ...(additional ? { additional } : {}),
  }),
  req: (schema: Schema): Prop => ({ schema, required: true }),
  union: (hint: string, ...options: Schema[]): Schema => ({ kind: 'union', options, hint }),
  tagged: (what: string, cases: Record<string, Schema>): Schema => ({ kind: 'tagged', cases, what }),
  any: (): Schema => ({ kind: 'any' }),
  lazy: (get: () => Schema): Schema => ({ kind: 'lazy', get }),
};

function posOf(c: Cursor, node: YamlNode | null | undefined): { line: number; col: number } {
  if (c.at) return c.at;
  const off = node?.range?.[0] ?? 0;
  return c.lc.linePos(off);
}

export function errorAt(c: Cursor, node: YamlNode | null | undefined, msg: string): ScenarioFileError {
  const p = posOf(c, node);
  return new ScenarioFileError(c.file, p.line, p.col, c.path ? `${c.path}: ${msg}` : msg);
}

function typeName(node: YamlNode | null | undefined): string {
  if (node == null) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) return node.value === null ? 'null' : `${typeof node.value} ${JSON.stringify(node.value)}`;
  return 'an alias';
}

/** Levenshtein distance, for "did you mean" hints on misspelt keys. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return d[a.length]![b.length]!;
}

function suggest(key: string, known: readonly string[]): string {
  const best = known.map((k) => [k, distance(key, k)] as const).sort((x, y) => x[1] - y[1])[0];
  return best && best[1] <= Math.max(2, Math.floor(key.length / 3)) ? ` (did you mean "${best[0]}"?)` : ` (expected one of: ${known.join(', ')})`;
}

const at = (c: Cursor, seg: string | number): Cursor => ({ ...c, path: typeof seg === 'number' ? `${c.path}[${seg}]` : c.path ? `${c.path}.${seg}` : seg });

/** Validates `node` against `schema`; returns the plain value. Throws ScenarioFileError at the first problem. */
export function check(c: Cursor, node: YamlNode | null | undefined, schema: Schema): unknown {
  if (c.placeholders && isScalar(node) && typeof node.value === 'string' && PLACEHOLDER.test(node.value) && schema.kind !== 'string') return node.value;
  switch (schema.kind) {
    case 'lazy':
      return check(c, node, schema.get());
    case 'any':
      return node == null ? null : (node as YamlNode).toJSON();
    case 'string': {
      if (!isScalar(node) || typeof node.value !== 'string') throw errorAt(c, node, `expected a string, got ${typeName(node)}`);
      const deferred = c.placeholders && /\$\{[A-Za-z0-9_-]+\}/.test(node.value);
      if (schema.pattern && !deferred && !schema.pattern.test(node.value)) throw errorAt(c, node, `${JSON.stringify(node.value)} is not ${schema.patternHint ?? `of the form ${schema.pattern}`}`);
      return node.value;
    }
    case 'number': {
      if (!isScalar(node) || typeof node.value !== 'number') throw errorAt(c, node, `expected a number, got ${typeName(node)}`);
      const v = node.value;
      if (schema.integer && !Number.isInteger(v)) throw errorAt(c, node, `expected an integer, got ${v}`);
      if (schema.min !== undefined && v < schema.min) throw errorAt(c, node, `${v} is below the minimum ${schema.min}`);
      if (schema.max !== undefined && v > schema.max) throw errorAt(c, node, `${v} is above the maximum ${schema.max}`);
      return v;
    }
    case 'boolean':
      if (!isScalar(node) || typeof node.value !== 'boolean') throw errorAt(c, node, `expected true or false, got ${typeName(node)}`);
      return node.value;
    case 'enum': {
      const v = isScalar(node) ? node.value : undefined;
      if (!schema.values.includes(v as string | number)) throw errorAt(c, node, `expected one of ${schema.values.map((x) => JSON.stringify(x)).join(', ')}, got ${typeName(node)}`);
      return v;
    }
    case 'array': {
      if (!isSeq(node)) throw errorAt(c, node, `expected a list, got ${typeName(node)}`);
      if (schema.minItems !== undefined && node.items.length < schema.minItems) throw errorAt(c, node, `expected at least ${schema.minItems} item(s)`);
      return node.items.map((item, i) => check(at(c, i), item as YamlNode, schema.items));
    }
    case 'object': {
      if (!isMap(node)) throw errorAt(c, node, `expected a mapping, got ${typeName(node)}`);
      const out: Record<string, unknown> = {};
      const known = Object.keys(schema.props);
      for (const pair of node.items) {
        const keyNode = pair.key as YamlNode;
        const key = isScalar(keyNode) ? String(keyNode.value) : '';
        const prop = schema.props[key];
        if (!prop && c.placeholders && PLACEHOLDER.test(key)) { out[key] = (pair.value as YamlNode | null)?.toJSON?.() ?? null; continue; }
        if (!prop && !schema.additional) throw errorAt(c, keyNode, `unknown key "${key}"${suggest(key, known)}`);
        if (key in out) throw errorAt(c, keyNode, `duplicate key "${key}"`);
        out[key] = check(at(c, key), pair.value as YamlNode, prop ? prop.schema : schema.additional!);
      }
      for (const [k, p] of Object.entries(schema.props)) if (p.required && !(k in out)) throw errorAt(c, node, `missing required key "${k}"`);
      return out;
    }
    case 'union': {
      const kind = isMap(node) ? 'object' : isSeq(node) ? 'array' : 'scalar';
      const scalarKinds = ['string', 'number', 'boolean', 'enum'];
      const accepts = (o: Schema): boolean => {
        if (o.kind === 'lazy') return accepts(o.get());
        if (o.kind === 'union') return o.options.some(accepts);
        if (o.kind === 'any') return true;
        if (o.kind === 'tagged' || o.kind === 'object') return kind === 'object';
        if (o.kind === 'array') return kind === 'array';
        return kind === 'scalar' && scalarKinds.includes(o.kind);
      };
      const candidates = schema.options.filter(accepts);
      if (candidates.length === 0) throw errorAt(c, node, `expected ${schema.hint}, got ${typeName(node)}`);
      let first: unknown;
      for (const o of candidates) {
        try { return check(c, node, o); } catch (e) { first ??= e; }
      }
      throw first;
    }
    case 'tagged': {
      if (!isMap(node) || node.items.length !== 1) {
        throw errorAt(c, node, `expected a ${schema.what}: a mapping with one key, one of ${Object.keys(schema.cases).join(', ')}; got ${isMap(node) ? `${node.items.length} keys` : typeName(node)}`);
      }
      const pair = node.items[0]!;
      const keyNode = pair.key as YamlNode;
      const key = isScalar(keyNode) ? String(keyNode.value) : '';
      const sub = schema.cases[key];
      if (!sub) throw errorAt(c, keyNode, `unknown ${schema.what} "${key}"${suggest(key, Object.keys(schema.cases))}`);
      return { [key]: check(at(c, key), pair.value as YamlNode, sub) };
    }
  }
}

/** Parses YAML or JSON text; syntax errors become ScenarioFileError with the parser's position. */
export function parseYaml(file: string, text: string): { root: YamlNode | null; lc: LineCounter } {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const err = doc.errors[0];
  if (err) {
    const p = err.linePos?.[0] ?? lc.linePos(err.pos[0]);
    throw new ScenarioFileError(file, p.line, p.col, `YAML syntax: ${err.message.split('\n')[0]}`);
  }
  return { root: doc.contents as YamlNode | null, lc };
}

/** Validates a plain value (e.g. after matrix substitution) against a schema; errors point at `at`. */
export function checkPlain(file: string, at: { line: number; col: number }, path: string, value: unknown, schema: Schema): unknown {
  const doc = new Document(value);
  return check({ file, lc: new LineCounter(), path, at }, doc.contents as YamlNode | null, schema);
}

/** Line and column of a node (for compile-time errors found after validation). */
export function lineOf(c: Cursor, node: YamlNode | null | undefined): { line: number; col: number } {
  return posOf(c, node);
}
