/** Which of our algorithms the matrix covers: every kind and every name by default, narrowed by the CLI. */
import { catalogue, type CatalogueEntry } from './catalogue.js';
import { KINDS, type Kind } from './types.js';

export type MatrixRows = { readonly [K in Kind]: readonly CatalogueEntry[] };

export interface RowFilter {
  /** Kinds to cover (default all). */
  readonly kinds?: readonly Kind[];
  /** Only algorithm names matching this. */
  readonly grep?: RegExp;
  /** Include legacy algorithms (default true: the matrix names them, so they are offered). */
  readonly legacy?: boolean;
}

export function matrixRows(f: RowFilter = {}): MatrixRows {
  const kinds = new Set(f.kinds ?? KINDS);
  const rows = {} as Record<Kind, CatalogueEntry[]>;
  for (const k of KINDS) {
    rows[k] = kinds.has(k) ? catalogue(k).filter((e) => (f.legacy ?? true ? true : !e.legacy) && (!f.grep || f.grep.test(e.name))) : [];
  }
  return rows;
}

export function rowCount(rows: MatrixRows): number {
  return KINDS.reduce((n, k) => n + rows[k].length, 0);
}
