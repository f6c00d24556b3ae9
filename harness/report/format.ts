/** Small shared helpers for the report writers. */
import type { CheckResult, EvidenceLine, SpecRef } from '../scenario/types.js';

export function citation(s: SpecRef): string {
  return `${s.rfc} §${s.section}`;
}

export function citations(r: CheckResult): string {
  return r.spec.map(citation).join('; ');
}

export function evidenceText(lines: readonly EvidenceLine[], max = 400): string {
  const shown = lines.slice(0, max).map((l) => {
    const t = `${String(l.t).padStart(5)} ms`;
    if (l.dir === 'note') return `${t}  #${l.conn}  -- ${l.text}`;
    const arrow = l.dir === 'c2s' ? 'C→S' : 'S→C';
    return `${t}  #${l.conn}  ${arrow} ${l.seq !== undefined && l.seq >= 0 ? `seq=${l.seq} ` : ''}${l.text}${l.deviation ? ` [${l.deviation}]` : ''}${l.fields ? ` ${l.fields}` : ''}`;
  });
  if (lines.length > max) shown.push(`… ${lines.length - max} more lines`);
  return shown.join('\n');
}

/** Verdict as shown to people: a known departure is marked. */
export function shownVerdict(r: CheckResult): string {
  return r.known ? `${r.verdict} (known)` : r.verdict;
}
