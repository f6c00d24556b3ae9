/**
 * The table of learned models (docs/models/README.md): one row per model file in a directory, written
 * between two marker comments so the prose around it stays as written.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Start } from './alphabet.js';
import { type ModelFile, readModelFile, toMealy } from './model-file.js';
import { checkProperties } from './properties.js';
import { baseName, writeLearnReport } from './report.js';

export const TABLE_BEGIN = '<!-- learn-table:begin -->';
export const TABLE_END = '<!-- learn-table:end -->';

export function modelFiles(dir: string): ModelFile[] {
  return readdirSync(dir).filter((f) => f.endsWith('.json') && !f.includes('.witness-')).sort()
    .map((f) => { try { return readModelFile(join(dir, f)); } catch { return undefined; } })
    .filter((m): m is ModelFile => m !== undefined);
}

export function markdownTable(models: readonly ModelFile[]): string {
  const rows = ['| implementation | target | alphabet | states | queries | resets | time | resets/s | T (ms) | waits ended by probe / close / quiet T | properties violated | model |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|'];
  const order = ['handshake', 'auth', 'connection'];
  const sorted = [...models].sort((a, b) => (order.indexOf(a.alphabet.name) - order.indexOf(b.alphabet.name)) || a.target.localeCompare(b.target));
  for (const m of sorted) {
    const s = m.stats;
    const violated = m.properties.filter((p) => p.status === 'fail').map((p) => `${p.id} (\`${p.witness?.inputs.join(' ')}\`)`).join('<br>') || 'none';
    const base = baseName(m);
    rows.push(`| ${m.implementation} | \`${m.target}\` | ${m.alphabet.name} | ${m.states}${m.complete ? '' : ' (incomplete)'} | ${s['queries']} | ${s['resets']} | ${(Number(s['timeMs']) / 1000).toFixed(1)} s | ${s['queriesPerSecond']} | ${s['waitMs']} | ${s['probeEnded']} / ${s['closeEnded']} / ${s['quietWaits']} | ${violated} | [svg](${base}.svg) · [report](${base}.html) · [json](${base}.json) |`);
  }
  return rows.join('\n');
}

/**
 * Checks each model's properties again with the current checks; where a result changed, the model's files
 * (JSON, reports, witnesses) are written again. Returns the models as they are now.
 */
export function recheck(dir: string): ModelFile[] {
  return modelFiles(dir).map((f) => {
    const m = toMealy(f);
    const strictKex = f.stats['strictKex'];
    const properties = checkProperties(m, f.alphabet.start as Start, typeof strictKex === 'boolean' ? { strictKex } : {});
    if (JSON.stringify(properties) === JSON.stringify(f.properties)) return f;
    const updated = { ...f, properties };
    writeLearnReport(updated, m, dir);
    return updated;
  });
}

/** Rewrites the table between the markers of `readme` from the model files next to it (properties checked again). */
export function updateTable(dir: string, readme = join(dir, 'README.md')): number {
  const models = recheck(dir);
  const text = readFileSync(readme, 'utf8');
  const a = text.indexOf(TABLE_BEGIN), b = text.indexOf(TABLE_END);
  if (a < 0 || b < a) throw new Error(`${readme} has no ${TABLE_BEGIN} … ${TABLE_END} markers`);
  writeFileSync(readme, `${text.slice(0, a + TABLE_BEGIN.length)}\n${markdownTable(models)}\n${text.slice(b)}`);
  return models.length;
}
