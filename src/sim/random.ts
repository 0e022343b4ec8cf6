/**
 * Seeded randomness for reproducible workloads: the same seed gives the same trace, prompts and
 * test cases on every machine. Math.random cannot be seeded; a 32-bit generator is plenty here.
 */
export type Random = () => number;

/** Uniform in [0, 1), from a 32-bit seed (mulberry32-style: an additive counter through an avalanche mix). */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = Math.imul(state ^ (state >>> 15), state | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** An integer in [min, max]. */
export function randomInt(random: Random, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

/** Exponentially distributed with the given mean (Poisson inter-arrival times). */
export function randomExponential(random: Random, mean: number): number {
  return -Math.log(1 - random()) * mean;
}

/** Draws ranks 0..n-1 with P(k) ∝ 1/(k+1)^s (Zipf), by inverting the cumulative weights. */
export function zipfSampler(n: number, s: number, random: Random): () => number {
  const cumulative = new Float64Array(n);
  let total = 0;
  for (let k = 0; k < n; k++) {
    total += 1 / Math.pow(k + 1, s);
    cumulative[k] = total;
  }
  return () => {
    const target = random() * total;
    let low = 0;
    let high = n - 1;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (cumulative[mid]! < target) low = mid + 1;
      else high = mid;
    }
    return low;
  };
}
