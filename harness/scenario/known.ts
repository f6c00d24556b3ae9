/**
 * scenarios/KNOWN.md: real, explained departures of known peers, so a run against them can tell a documented
 * failure from a new one. Format:
 *
 *   ## sshd, openssh:bookworm, openssh:trixie        ← targets (exact names or globs with *)
 *   ### robustness.bad-mac.*                         ← check ids (globs with *)
 *   Why, with the RFC text.                          ← everything up to the next heading
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../targets/state.js';

export interface KnownEntry {
  readonly targets: readonly string[];
  readonly checks: readonly string[];
  readonly text: string;
}

function glob(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

export function parseKnown(md: string): KnownEntry[] {
  const out: KnownEntry[] = [];
  let targets: string[] = [];
  let checks: string[] | undefined;
  let text: string[] = [];
  const flush = () => {
    if (checks && targets.length) out.push({ targets, checks, text: text.join('\n').trim() });
    checks = undefined;
    text = [];
  };
  for (const line of md.split('\n')) {
    const h2 = /^## (.+)$/.exec(line);
    const h3 = /^### (.+)$/.exec(line);
    if (h2) { flush(); targets = h2[1]!.replace(/\(.*\)/, '').split(',').map((s) => s.trim()).filter(Boolean); continue; }
    if (h3) { flush(); checks = h3[1]!.split(',').map((s) => s.trim().replace(/^`|`$/g, '')).filter(Boolean); continue; }
    if (checks) text.push(line);
  }
  flush();
  return out;
}

export function knownFile(): string {
  return join(packageRoot(), 'scenarios', 'KNOWN.md');
}

/** The explanation lookup for one target (by its name, and by its version string, e.g. `OpenSSH_9.2p1`). */
export function knownFor(target: string, version?: string, md?: string): (id: string) => string | undefined {
  const text = md ?? (existsSync(knownFile()) ? readFileSync(knownFile(), 'utf8') : '');
  const entries = parseKnown(text).filter((e) => e.targets.some((t) => glob(t).test(target) || (version !== undefined && glob(t).test(version))));
  return (id) => {
    const hit = entries.filter((e) => e.checks.some((c) => glob(c).test(id)));
    return hit.length ? hit.map((e) => e.text).join('\n\n') : undefined;
  };
}
