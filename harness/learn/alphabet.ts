/**
 * Alphabets are data files (harness/learn/alphabets/*.json, or any file given to `--alphabet`): a name, the
 * state each query starts from, the kex methods to offer, and the abstract inputs (names from ssh/inputs.ts).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kexAlgorithms } from '../../impl/crypto/registry.js';
import { INPUTS } from './ssh/inputs.js';

/** Where a query starts: right after the version exchange, after a reference kex, with ssh-userauth accepted, or logged in. */
export const STARTS = ['connected', 'kex-done', 'userauth', 'authenticated'] as const;
export type Start = (typeof STARTS)[number];

export interface Alphabet {
  readonly name: string;
  readonly description: string;
  readonly start: Start;
  /** Kex methods our client offers, in order (the first the peer also has is used). */
  readonly kex: readonly string[];
  readonly inputs: readonly string[];
  /** The reference run over these inputs, which the equivalence oracle tests with insertions first. */
  readonly happyFlow: readonly string[];
  /** Inputs inserted into the reference run at most (default 1). */
  readonly insertions: number;
  /** The file it came from. */
  readonly file: string;
}

export class AlphabetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AlphabetError';
  }
}

const BUILTIN_DIR = join(dirname(fileURLToPath(import.meta.url)), 'alphabets');
/** tsc does not copy JSON: the compiled CLI reads the source files. */
const SOURCE_DIR = BUILTIN_DIR.replace(/([/\\])dist([/\\])harness/, '$1harness');
export const BUILTIN_ALPHABETS = ['handshake', 'auth', 'connection'] as const;

export function loadAlphabet(nameOrFile: string): Alphabet {
  const file = (BUILTIN_ALPHABETS as readonly string[]).includes(nameOrFile) ? join(SOURCE_DIR, `${nameOrFile}.json`) : nameOrFile;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new AlphabetError(`cannot read alphabet ${JSON.stringify(nameOrFile)}: ${(e as Error).message} (built-in: ${BUILTIN_ALPHABETS.join(', ')})`);
  }
  return parseAlphabet(raw, file);
}

export function parseAlphabet(raw: unknown, file = '(inline)'): Alphabet {
  const bad = (why: string): never => { throw new AlphabetError(`alphabet ${file}: ${why}`); };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad('not a JSON object');
  const o = raw as Record<string, unknown>;
  const str = (k: string): string => (typeof o[k] === 'string' && (o[k] as string).length > 0 && (o[k] as string).length <= 4000 ? o[k] as string : bad(`"${k}" must be a non-empty string`));
  const list = (k: string): string[] => {
    const v = o[k];
    if (!Array.isArray(v) || v.length === 0 || v.length > 64 || !v.every((x) => typeof x === 'string')) bad(`"${k}" must be a list of 1–64 names`);
    return v as string[];
  };
  const name = str('name');
  if (!/^[\w.-]{1,64}$/.test(name)) bad('"name" may hold letters, digits, "_", "." and "-" only');
  const start = str('start');
  if (!(STARTS as readonly string[]).includes(start)) bad(`"start" must be one of ${STARTS.join(', ')}`);
  const inputs = list('inputs');
  const unknown = inputs.filter((x) => !(x in INPUTS));
  if (unknown.length) bad(`unknown input(s) ${unknown.join(', ')}; known: ${Object.keys(INPUTS).join(', ')}`);
  if (new Set(inputs).size !== inputs.length) bad('"inputs" lists a name twice');
  const kex = o['kex'] === undefined ? ['curve25519-sha256'] : list('kex');
  const badKex = kex.filter((k) => !kexAlgorithms.has(k));
  if (badKex.length) bad(`unknown kex method(s) ${badKex.join(', ')}`);
  const happyFlow = o['happyFlow'] === undefined ? [] : list('happyFlow');
  const stray = happyFlow.filter((x) => !inputs.includes(x));
  if (stray.length) bad(`"happyFlow" uses ${stray.join(', ')}, which "inputs" does not list`);
  const insertions = o['insertions'] === undefined ? 1 : o['insertions'];
  if (typeof insertions !== 'number' || !Number.isInteger(insertions) || insertions < 0 || insertions > 3) bad('"insertions" must be 0, 1, 2 or 3');
  return { name, description: typeof o['description'] === 'string' ? o['description'] : '', start: start as Start, kex, inputs, happyFlow, insertions: insertions as number, file };
}
