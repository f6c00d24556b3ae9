/**
 * Timing for the impl/native micro-benchmarks. On a shared machine wall-clock throughput mostly measures how
 * often the scheduler ran us; CPU time (user + system, every thread of the process, so GC helpers count) measures
 * the cost of the work itself. Default: CPU time; `--wall` switches to wall-clock.
 */
export const useWall = process.argv.includes('--wall');

const cpuSeconds = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
const wallSeconds = (): number => performance.now() / 1000;
export const clockName = useWall ? 'wall-clock' : 'CPU-time';

/** GB/s (per CPU-second, or per wall second) of `fn`, which handles `bytesPerCall` bytes, over one round of `ms`. */
export function rate(fn: () => void, bytesPerCall: number, ms: number): number {
  const now = useWall ? wallSeconds : cpuSeconds;
  let n = 0;
  const t0 = now();
  let t = t0;
  while (t - t0 < ms / 1000) { fn(); fn(); fn(); fn(); n += 4; t = now(); }
  return (n * bytesPerCall) / (t - t0) / 1e9;
}
