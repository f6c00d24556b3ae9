/**
 * A learned model as a file: JSON (what `learn diff` and `learn replay` read), DOT (transitions with the
 * same target and output grouped on one edge), and SVG through Graphviz's `dot` when it is installed.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Mealy } from './mealy.js';
import type { PropertyResult } from './properties.js';

export interface ModelFile {
  readonly kind: 'ssh-harness-model';
  readonly version: 1;
  readonly target: string;
  /** What the peer calls itself (banner software version, or our package version for self). */
  readonly implementation: string;
  readonly alphabet: { readonly name: string; readonly start: string; readonly inputs: readonly string[]; readonly kex: readonly string[] };
  readonly states: number;
  readonly initial: 0;
  readonly transitions: readonly { readonly from: number; readonly input: string; readonly output: string; readonly to: number }[];
  /** Learning ran to the end (false: the time or query budget ran out, this is the last hypothesis). */
  readonly complete: boolean;
  readonly stats: Readonly<Record<string, number | string | boolean>>;
  readonly properties: readonly PropertyResult[];
  readonly learnedAt: string;
}

export class ModelFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFileError';
  }
}

export function toMealy(f: ModelFile): Mealy {
  const inputs = [...f.alphabet.inputs];
  const next: number[][] = Array.from({ length: f.states }, () => new Array<number>(inputs.length).fill(-1));
  const out: string[][] = Array.from({ length: f.states }, () => new Array<string>(inputs.length).fill(''));
  for (const t of f.transitions) {
    const i = inputs.indexOf(t.input);
    if (i < 0 || t.from >= f.states || t.to >= f.states || t.from < 0 || t.to < 0) throw new ModelFileError(`transition ${JSON.stringify(t)} does not fit the model`);
    next[t.from]![i] = t.to;
    out[t.from]![i] = t.output;
  }
  if (next.some((row) => row.includes(-1))) throw new ModelFileError('the model is not input-complete');
  return { inputs, next, out };
}

export function transitionsOf(m: Mealy): ModelFile['transitions'] {
  const t: { from: number; input: string; output: string; to: number }[] = [];
  m.next.forEach((row, s) => row.forEach((to, i) => t.push({ from: s, input: m.inputs[i]!, output: m.out[s]![i]!, to })));
  return t;
}

export function readModelFile(path: string): ModelFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ModelFileError(`cannot read model ${JSON.stringify(path)}: ${(e as Error).message}`);
  }
  const f = raw as Partial<ModelFile>;
  if (f?.kind !== 'ssh-harness-model' || f.version !== 1 || typeof f.states !== 'number' || f.states < 1 || f.states > 100_000
    || !Array.isArray(f.transitions) || !Array.isArray(f.alphabet?.inputs)) {
    throw new ModelFileError(`${path} is not an ssh-harness model file (kind "ssh-harness-model", version 1)`);
  }
  toMealy(f as ModelFile); // validates
  return f as ModelFile;
}

const dotString = (s: string): string => JSON.stringify(s);

/** Graphviz DOT: one edge per (from, to, output) with its inputs listed; the sink's self-loops folded into one label. */
export function toDot(m: Mealy, title: string): string {
  const lines = [`digraph ${dotString(title)} {`, '  rankdir=LR; node [shape=circle, fontname="Helvetica", fontsize=11]; edge [fontname="Helvetica", fontsize=9];',
    `  labelloc="t"; label=${dotString(title)};`, '  __start [shape=point, width=0.1]; __start -> s0;'];
  const groups = new Map<string, string[]>();
  m.next.forEach((row, s) => row.forEach((to, i) => {
    const key = `${s}\u0000${to}\u0000${m.out[s]![i]}`;
    (groups.get(key) ?? groups.set(key, []).get(key)!).push(m.inputs[i]!);
  }));
  for (let s = 0; s < m.next.length; s++) lines.push(`  s${s} [label="s${s}"];`);
  for (const [key, inputs] of groups) {
    const [from, to, output] = key.split('\u0000');
    const ins = inputs.length === m.inputs.length ? '*' : inputs.join(' | ');
    lines.push(`  s${from} -> s${to} [label=${dotString(`${ins} / ${output}`)}];`);
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

/** SVG of a DOT graph through Graphviz, or undefined when `dot` is not installed. */
export function dotToSvg(dot: string): string | undefined {
  try {
    return execFileSync('dot', ['-Tsvg'], { input: dot, maxBuffer: 64 << 20, timeout: 60_000 }).toString();
  } catch {
    return undefined;
  }
}
