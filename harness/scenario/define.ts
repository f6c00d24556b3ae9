/**
 * TypeScript checks, for what data cannot say (loops, several connections, arithmetic on what the peer
 * sent). They run through the same runner and context as data scenarios:
 *
 *   export const checks = [defineCheck({
 *     id: 'kex.rekey-twice', title: '…', spec: 'RFC 4253 §9: …', level: 'MUST', area: 'rekey', suites: ['transport'],
 *   }, async (ctx) => { const c = await ctx.connect(); await c.authenticate(); … })];
 */
import { fileURLToPath } from 'node:url';
import { relative } from 'node:path';
import type { CheckContext } from './context.js';
import { parseSpec } from './loader.js';
import type { Area, Check, Level, Requirements, Role, SpecRef, SuiteName } from './types.js';

export interface CheckDefinition {
  readonly id: string;
  readonly title: string;
  /** "RFC 4253 §11.4: text", a SpecRef, or a list of either. */
  readonly spec: string | SpecRef | readonly (string | SpecRef)[];
  readonly level: Level;
  readonly area: Area;
  readonly role?: Role;
  readonly suites?: readonly SuiteName[];
  readonly requires?: Requirements;
  readonly timeoutMs?: number;
}

/** The file and line of the defineCheck call (for reports and duplicate-id errors). */
function callerSite(): { file: string; line: number } {
  const lines = (new Error().stack ?? '').split('\n').slice(3);
  for (const l of lines) {
    const m = /\(?((?:file:\/\/)?[^()\s]+):(\d+):\d+\)?$/.exec(l.trim());
    if (!m) continue;
    const file = m[1]!.startsWith('file://') ? fileURLToPath(m[1]!) : m[1]!;
    return { file: relative(process.cwd(), file) || file, line: Number(m[2]) };
  }
  return { file: 'unknown', line: 0 };
}

export function defineCheck(d: CheckDefinition, run: (ctx: CheckContext) => Promise<void>): Check {
  const specs = (Array.isArray(d.spec) ? d.spec : [d.spec]) as (string | SpecRef)[];
  return {
    id: d.id, title: d.title, level: d.level, area: d.area, role: d.role ?? 'server', suites: d.suites ?? [],
    spec: specs.flatMap((s) => (typeof s === 'string' ? parseSpec(s) : [s])),
    ...(d.requires ? { requires: d.requires } : {}),
    ...(d.timeoutMs ? { timeoutMs: d.timeoutMs } : {}),
    source: callerSite(),
    run,
  };
}
