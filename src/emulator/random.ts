/**
 * Seeded randomness for the traffic simulation. Large counts use normal approximations so
 * that generating one second of traffic costs the same at 10 rps and at 100 000 rps.
 */
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

/**
 * A 32-bit seed for one named stream of a seeded run (FNV-1a over the seed and the name), so
 * each route draws from its own stream: what one route's traffic looks like then depends on
 * the emulator's seed and that route's own calls only, not on how many other routes exist or
 * when they were read.
 */
export function streamSeed(seed: number, name: string): number {
  let hash = 0x811c9dc5;
  const text = `${seed}\u0000${name}`;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}

export class Random {
  private readonly rng: RandomGenerator;
  private spareNormal: number | undefined;

  constructor(seed: number) {
    this.rng = xoroshiro128plus(seed | 0);
  }

  /** Uniform in (0, 1), from 32 random bits: plenty for a simulation, and one generator step. */
  uniform(): number {
    return ((this.rng.next() >>> 0) + 0.5) / 4_294_967_296;
  }

  /** Standard normal (Box–Muller; the second value is kept for the next call). */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const spare = this.spareNormal;
      this.spareNormal = undefined;
      return spare;
    }
    const radius = Math.sqrt(-2 * Math.log(this.uniform()));
    const angle = 2 * Math.PI * this.uniform();
    this.spareNormal = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }

  poisson(lambda: number): number {
    if (!(lambda > 0)) return 0;
    if (lambda < 30) {
      // Knuth's product method: exact, and cheap while lambda is small.
      const limit = Math.exp(-lambda);
      let k = 0;
      let product = this.uniform();
      while (product > limit) {
        k++;
        product *= this.uniform();
      }
      return k;
    }
    return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * this.normal()));
  }

  binomial(n: number, p: number): number {
    if (n <= 0 || p <= 0) return 0;
    if (p >= 1) return n;
    if (n < 40) {
      let k = 0;
      for (let i = 0; i < n; i++) if (this.uniform() < p) k++;
      return k;
    }
    const mean = n * p;
    if (mean < 15 || n - mean < 15) {
      // Rare events: Poisson is the better approximation in the tails.
      if (p <= 0.5) return Math.min(n, this.poisson(mean));
      return n - Math.min(n, this.poisson(n - mean));
    }
    const sd = Math.sqrt(mean * (1 - p));
    return Math.min(n, Math.max(0, Math.round(mean + sd * this.normal())));
  }
}
