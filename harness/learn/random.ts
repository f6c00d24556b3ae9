/** A small seeded PRNG (mulberry32): random walks and test machines reproduce from their seed. */
export interface Rng {
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Uniform in [0, 1). */
  float(): number;
}

export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  const float = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { float, int: (n) => Math.floor(float() * n) };
}
