/**
 * Shared by the targets' tests (imported only from *.test.ts). A missing peer skips locally but FAILS
 * under CI=true, where every peer must be installed by `ssh-harness peers setup`.
 */
import type { Availability } from './types.js';

export interface SkippableContext { skip(): void }

export async function needPeer(ctx: SkippableContext, what: string, check: () => Promise<Availability>): Promise<void> {
  const a = await check();
  if (a.available) return;
  const why = `${what} unavailable: ${a.reason ?? 'unknown reason'}`;
  if (process.env['CI'] === 'true') throw new Error(why);
  console.log(`      (skipped: ${why})`);
  ctx.skip();
}
