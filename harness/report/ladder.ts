/**
 * Packet ladder diagrams for the HTML report: an inline SVG per check, drawn from its evidence (the decoded message
 * log, the same formatter as the JSONL traces). Client lane left, server lane right; one arrow per message in the
 * order the check saw them, with its sequence number, RFC name and the decoded fields that matter; our deliberate
 * deviations dashed; the check's notes between the lanes; and a band where the expectation failed. Runs of the same
 * message collapse into one arrow (×N); very long logs keep their start and the part before the failure.
 */
import type { CheckResult, EvidenceLine, Verdict } from '../scenario/types.js';
import { fieldSummary } from './ladder-fields.js';

const W = 900;
const X_CLIENT = 200;
const X_SERVER = 740;
const HEADER = 58;
/** Rows after grouping; beyond this the middle is elided. */
const MAX_ROWS = 80;
const KEEP_HEAD = 24;

type Row =
  | { kind: 'msg'; line: EvidenceLine; count: number; lastSeq?: number }
  | { kind: 'note'; line: EvidenceLine }
  | { kind: 'conn'; conn: number }
  | { kind: 'elided'; messages: number }
  | { kind: 'verdict'; verdict: Verdict; text: string; t?: number };

const ROW_H: Record<Exclude<Row['kind'], 'verdict'>, number> = { msg: 44, note: 24, conn: 26, elided: 26 };

export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
    // characters XML 1.0 does not allow (peers send anything): shown as \xHH
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** Evidence → rows: connection headers, grouped repeats, notes, the verdict band (at its note, else at the end). */
export function ladderRows(r: Pick<CheckResult, 'evidence' | 'verdict' | 'reason'>): Row[] {
  const rows: Row[] = [];
  let conn = 0;
  let verdictSeen = false;
  for (const line of r.evidence) {
    if (line.conn > 0 && line.conn !== conn) {
      conn = line.conn;
      rows.push({ kind: 'conn', conn });
    }
    if (line.dir === 'note') {
      // reports written before notes carried their verdict: the note that repeats the result's reason
      const isVerdict = line.verdict !== undefined || line.text === `${r.verdict}: ${r.reason}`;
      if (isVerdict && !verdictSeen) {
        verdictSeen = true;
        rows.push({ kind: 'verdict', verdict: line.verdict ?? r.verdict, text: line.text.replace(/^(fail|pass|inconclusive|not-applicable): /, ''), t: line.t });
      } else {
        rows.push({ kind: 'note', line });
      }
      continue;
    }
    const prev = rows.at(-1);
    if (prev?.kind === 'msg' && prev.line.conn === line.conn && prev.line.dir === line.dir && prev.line.text === line.text && prev.line.deviation === line.deviation) {
      prev.count++;
      if (line.seq !== undefined) prev.lastSeq = line.seq;
      continue;
    }
    rows.push({ kind: 'msg', line, count: 1 });
  }
  if (!verdictSeen && (r.verdict === 'fail' || r.verdict === 'inconclusive')) rows.push({ kind: 'verdict', verdict: r.verdict, text: r.reason });
  if (rows.length <= MAX_ROWS) return rows;
  // keep the opening (kex, auth) and the end, where the expectation failed
  const tail = rows.slice(rows.length - (MAX_ROWS - KEEP_HEAD - 1));
  const cut = rows.slice(KEEP_HEAD, rows.length - tail.length);
  const messages = cut.reduce((n, x) => n + (x.kind === 'msg' ? x.count : 0), 0);
  return [...rows.slice(0, KEEP_HEAD), { kind: 'elided', messages }, ...tail];
}

export interface LadderLabels {
  /** The peer under test (target name, or the client peer of a client-direction check). */
  readonly peer: string;
}

function arrowRow(row: Extract<Row, { kind: 'msg' }>, y: number, role: CheckResult['role']): string {
  const l = row.line;
  const c2s = l.dir === 'c2s';
  const [x1, x2] = c2s ? [X_CLIENT, X_SERVER] : [X_SERVER, X_CLIENT];
  const ay = y + 24;
  const head = c2s ? x2 - 9 : x2 + 9;
  const fromPeer = c2s === (role === 'client');
  const cls = l.deviation ? 'dev' : fromPeer ? 'peer' : 'ours';
  const seq = l.seq !== undefined && l.seq >= 0 ? (row.count > 1 && row.lastSeq !== undefined ? `#${l.seq}–${row.lastSeq}` : `#${l.seq}`) : '';
  const name = `${l.text}${row.count > 1 ? ` ×${row.count}` : ''}`;
  const summary = [l.deviation ? `deviation: ${l.deviation}` : '', fieldSummary(l.text, l.fields)].filter(Boolean).join(' · ');
  const mid = (X_CLIENT + X_SERVER) / 2;
  const seqX = c2s ? x1 + 8 : x1 - 8;
  const tip = `${l.text}${seq ? ` ${seq}` : ''}${l.fields ? `\n${clip(l.fields, 900)}` : ''}`;
  return `<g class="m ${cls}" data-name="${xmlEscape(l.text)}"><title>${xmlEscape(tip)}</title>`
    + `<text class="t" x="60" y="${ay + 4}" text-anchor="end">+${l.t} ms</text>`
    + `<line x1="${x1}" y1="${ay}" x2="${head}" y2="${ay}"/>`
    + `<path d="M${x2},${ay} L${head},${ay - 5} L${head},${ay + 5} Z"/>`
    + (seq ? `<text class="seq" x="${seqX}" y="${ay - 5}" text-anchor="${c2s ? 'start' : 'end'}">${xmlEscape(seq)}</text>` : '')
    + `<text class="name" x="${mid}" y="${ay - 6}" text-anchor="middle">${xmlEscape(clip(name, 60))}</text>`
    + (summary ? `<text class="f" x="${mid}" y="${ay + 15}" text-anchor="middle">${xmlEscape(clip(summary, 100))}</text>` : '')
    + '</g>';
}

/** The reason, word-wrapped into at most 4 lines of the band (the first line shares its space with the label). */
function verdictLines(label: string, text: string): string[] {
  const width = 104; // characters of 12.5px text across the band, with room to spare for wide glyphs
  const lines: string[] = [];
  let line = '';
  let room = width - Math.ceil(label.length * 1.2) - 2; // the label is bold
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > room) {
      lines.push(line);
      line = word;
      room = width;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines.length > 4 ? [...lines.slice(0, 3), clip(lines.slice(3).join(' '), width)] : lines;
}

const verdictHeight = (row: Extract<Row, { kind: 'verdict' }>): number => 24 + 17 * verdictLines('✗ expectation failed here', row.text).length;
const rowHeight = (row: Row): number => (row.kind === 'verdict' ? verdictHeight(row) : ROW_H[row.kind]);

function rowSvg(row: Row, y: number, role: CheckResult['role']): string {
  const mid = (X_CLIENT + X_SERVER) / 2;
  switch (row.kind) {
    case 'msg':
      return arrowRow(row, y, role);
    case 'note':
      return `<g class="note"><text class="t" x="60" y="${y + 16}" text-anchor="end">+${row.line.t} ms</text>`
        + `<text class="n" x="${mid}" y="${y + 16}" text-anchor="middle">${xmlEscape(clip(row.line.text, 110))}</text></g>`;
    case 'conn':
      return `<g class="conn"><rect x="70" y="${y + 4}" width="${W - 80}" height="18" rx="3"/>`
        + `<text x="78" y="${y + 17}">connection #${row.conn}</text></g>`;
    case 'elided':
      return `<g class="note"><text class="n" x="${mid}" y="${y + 17}" text-anchor="middle">⋯ ${row.messages} more messages not drawn (all are in the evidence below) ⋯</text></g>`;
    case 'verdict': {
      const label = row.verdict === 'fail' ? '✗ expectation failed here' : row.verdict === 'inconclusive' ? '? inconclusive here' : `${row.verdict} here`;
      const lines = verdictLines(label, row.text);
      return `<g class="verdict ${row.verdict}"><rect x="70" y="${y + 4}" width="${W - 80}" height="${verdictHeight(row) - 8}" rx="4"/>`
        + (row.t !== undefined ? `<text class="t" x="60" y="${y + 24}" text-anchor="end">+${row.t} ms</text>` : '')
        + lines.map((l, i) => `<text x="82" y="${y + 24 + i * 17}">${i === 0 ? `<tspan class="vl">${label}: </tspan>` : ''}<tspan class="vr">${xmlEscape(l)}</tspan></text>`).join('')
        + '</g>';
    }
  }
}

/** The diagrams' CSS, scoped to `svg.ladder`; the HTML report includes it once. */
export const LADDER_CSS = `
svg.ladder .lane{stroke:#b8c2cc;stroke-width:2}
svg.ladder .hdr rect{fill:#f1f5f9;stroke:#94a3b8}svg.ladder .hdr .r{font:600 13px system-ui,sans-serif;fill:#0f172a}svg.ladder .hdr .s{font:12px system-ui,sans-serif;fill:#475569}
svg.ladder .m line{stroke-width:1.6}svg.ladder .m .name{font:600 12px ui-monospace,monospace;fill:#0f172a}svg.ladder .m .f{font:11.5px ui-monospace,monospace;fill:#475569}
svg.ladder .m .seq{font:10.5px ui-monospace,monospace;fill:#64748b}
svg.ladder .t{font:10.5px ui-monospace,monospace;fill:#94a3b8}
svg.ladder .ours line{stroke:#2563eb}svg.ladder .ours path{fill:#2563eb}
svg.ladder .peer line{stroke:#0d9488}svg.ladder .peer path{fill:#0d9488}
svg.ladder .dev line{stroke:#d97706;stroke-dasharray:6 4}svg.ladder .dev path{fill:#d97706}svg.ladder .dev .f{fill:#b45309}
svg.ladder .note .n{font:italic 12px system-ui,sans-serif;fill:#64748b}
svg.ladder .conn rect{fill:#f8fafc;stroke:#e2e8f0}svg.ladder .conn text{font:600 11px system-ui,sans-serif;fill:#64748b}
svg.ladder .verdict rect{fill:#fef2f2;stroke:#dc2626;stroke-width:1.5}svg.ladder .verdict .vl{font:700 12.5px system-ui,sans-serif;fill:#b91c1c}
svg.ladder .verdict .vr{font:12.5px system-ui,sans-serif;fill:#7f1d1d}
svg.ladder .verdict.inconclusive rect{fill:#fffbeb;stroke:#d97706}svg.ladder .verdict.inconclusive .vl{fill:#b45309}svg.ladder .verdict.inconclusive .vr{fill:#78350f}
`;

/** The diagram of one check as an inline SVG (self-contained, escaped; hovering an arrow shows all its decoded fields). */
export function ladderSvg(r: CheckResult, labels: LadderLabels): string {
  const rows = ladderRows(r);
  const height = HEADER + rows.reduce((h, x) => h + rowHeight(x), 0) + 12;
  const ours = r.role === 'server' ? 'client' : 'server';
  const who = (side: 'client' | 'server') => (side === ours ? 'ssh-harness (ours)' : clip(labels.peer, 36));
  let y = HEADER;
  const body = rows.map((row) => { const s = rowSvg(row, y, r.role); y += rowHeight(row); return s; }).join('');
  const head = (x: number, side: 'client' | 'server') => `<g class="hdr"><rect x="${x - 125}" y="6" width="250" height="40" rx="6"/>`
    + `<text class="r" x="${x}" y="23" text-anchor="middle">${side}</text><text class="s" x="${x}" y="39" text-anchor="middle">${xmlEscape(who(side))}</text></g>`;
  return `<svg class="ladder" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" role="img" `
    + `aria-label="${xmlEscape(`packet ladder of ${r.id}: ${rows.filter((x) => x.kind === 'msg').length} message rows`)}">`
    + `<line class="lane" x1="${X_CLIENT}" y1="46" x2="${X_CLIENT}" y2="${height - 6}"/><line class="lane" x1="${X_SERVER}" y1="46" x2="${X_SERVER}" y2="${height - 6}"/>`
    + head(X_CLIENT, 'client') + head(X_SERVER, 'server') + body + '</svg>';
}
