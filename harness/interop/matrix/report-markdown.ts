/**
 * The matrix as Markdown: a peer summary, one peer × algorithm table per direction, then every failure with its
 * reason, every caveat, and the unsupported cells grouped by reason per peer. Peer-supplied text is flattened
 * and escaped before it lands in a table.
 */
import { KINDS, type Cell, type Direction, type MatrixReport, type PeerReport } from './types.js';

export const DIRECTION_TITLE: Readonly<Record<Direction, string>> = {
  client: 'Our client → server peers',
  server: 'Client peers → our server',
};

export const SYMBOL = { pass: '✅', fail: '❌', unsupported: '➖', note: '⚠️' } as const;

/** One line, no control characters, no table breakers, bounded. */
export function mdText(s: string, max = 1000): string {
  // eslint-disable-next-line no-control-regex
  const flat = s.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
  const cut = flat.length > max ? `${flat.slice(0, max)}…` : flat;
  return cut.replace(/([\\`*_|<>[\]])/g, '\\$1');
}

export function cellSymbol(c: Cell | undefined): string {
  if (!c) return ' ';
  if (c.status === 'pass') return c.note ? SYMBOL.note : SYMBOL.pass;
  return SYMBOL[c.status];
}

export function peersOf(r: MatrixReport, d: Direction): PeerReport[] {
  return r.peers.filter((p) => p.direction === d);
}

export function counts(r: MatrixReport, p: PeerReport): { pass: number; fail: number; unsupported: number } {
  const mine = r.cells.filter((c) => c.direction === p.direction && c.peer === p.name);
  return {
    pass: mine.filter((c) => c.status === 'pass').length,
    fail: mine.filter((c) => c.status === 'fail').length,
    unsupported: mine.filter((c) => c.status === 'unsupported').length,
  };
}

function table(r: MatrixReport, d: Direction): string[] {
  const peers = peersOf(r, d).filter((p) => !p.setupError);
  if (!peers.length) return ['_No peer of this direction ran._'];
  const byKey = new Map(r.cells.filter((c) => c.direction === d).map((c) => [`${c.peer}\u0000${c.kind}\u0000${c.algorithm}`, c]));
  const out = [
    `| kind | algorithm | ${peers.map((p) => `${mdText(p.name)}<br>${mdText(p.version ?? '')}`).join(' | ')} |`,
    `|---|---|${peers.map(() => ':-:').join('|')}|`,
  ];
  for (const kind of KINDS) {
    for (const a of r.algorithms[kind]) {
      const row = peers.map((p) => cellSymbol(byKey.get(`${p.name}\u0000${kind}\u0000${a.name}`)));
      out.push(`| ${kind} | \`${a.name}\`${a.legacy ? ' \\*' : ''} | ${row.join(' | ')} |`);
    }
  }
  return out;
}

function side(d: Direction): string {
  return d === 'client' ? 'our client → peer' : 'peer → our server';
}

export function toMarkdown(r: MatrixReport): string {
  const s = r.summary;
  const L: string[] = [
    `# Interop matrix ${r.runId}`,
    '',
    `${r.peers.length} peers, ${r.cells.length} cells: **${s.pass} pass, ${s.fail} fail, ${s.unsupported} unsupported**${s.setupErrors ? `, **${s.setupErrors} peer setup errors**` : ''} in ${(r.durationMs / 1000).toFixed(1)} s (started ${r.startedAt}, ${r.concurrency} handshakes at once, ${r.cellTimeoutMs} ms per cell).`,
    '',
    'Each cell is one connection offering only that algorithm for its kind on the restricted side (RFC 4253 §7.1: a single',
    'offer decides the negotiation; a MAC cell also pins a non-AEAD cipher), then publickey authentication and',
    `\`exec echo interop-ok\` with its output and exit status checked. Our client also checks what was negotiated.`,
    '',
    `Legend: ${SYMBOL.pass} pass · ${SYMBOL.fail} fail · ${SYMBOL.unsupported} unsupported (why: below) · ${SYMBOL.note} pass with a caveat · \\* legacy (we offer it only when named)`,
    '',
    '## Peers',
    '',
    '| peer | side | version | pass | fail | unsupported | time | notes |',
    '|---|---|---|--:|--:|--:|--:|---|',
  ];
  for (const p of r.peers) {
    const c = counts(r, p);
    const notes = p.setupError ? `**setup error:** ${mdText(p.setupError)}` : p.notes.map((n) => mdText(n, 1500)).join('; ');
    L.push(`| ${mdText(p.name)} | ${side(p.direction)} | ${mdText(p.version ?? '')} | ${c.pass} | ${c.fail} | ${c.unsupported} | ${(p.durationMs / 1000).toFixed(1)} s | ${notes} |`);
  }
  for (const d of ['client', 'server'] as const) {
    L.push('', `## ${DIRECTION_TITLE[d]}`, '', ...table(r, d));
  }
  const fails = r.cells.filter((c) => c.status === 'fail');
  L.push('', `## Failures (${fails.length})`, '');
  if (!fails.length) L.push('None.');
  for (const c of fails) L.push(`- **${mdText(c.peer)}** (${side(c.direction)}) ${c.kind} \`${c.algorithm}\`: ${mdText(c.reason ?? 'no reason recorded')}`);
  const noted = r.cells.filter((c) => c.note);
  if (noted.length) {
    L.push('', `## Passes with a caveat (${noted.length})`, '');
    for (const c of noted) L.push(`- **${mdText(c.peer)}** (${side(c.direction)}) ${c.kind} \`${c.algorithm}\`: ${mdText(c.note!)}`);
  }
  L.push('', '## Unsupported, and why', '');
  for (const p of r.peers) {
    const un = r.cells.filter((c) => c.direction === p.direction && c.peer === p.name && c.status === 'unsupported');
    if (!un.length) continue;
    const byReason = new Map<string, string[]>();
    for (const c of un) byReason.set(c.reason ?? 'no reason recorded', [...(byReason.get(c.reason ?? 'no reason recorded') ?? []), c.algorithm]);
    L.push(`### ${mdText(p.name)} (${side(p.direction)})`, '');
    for (const [reason, algs] of byReason) L.push(`- ${algs.map((a) => `\`${a}\``).join(', ')}: ${mdText(reason)}`);
    L.push('');
  }
  const setup = r.peers.filter((p) => p.setupError);
  if (setup.length) {
    L.push('## Setup errors', '');
    for (const p of setup) L.push(`- **${mdText(p.name)}** (${side(p.direction)}): ${mdText(p.setupError!)}`);
    L.push('');
  }
  return `${L.join('\n').trimEnd()}\n`;
}
