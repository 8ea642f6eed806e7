import { describe, expect, it } from 'vitest';
import { LATENCY_BINS } from '../../src/emulator/latency.js';
import { Random } from '../../src/emulator/random.js';
import {
  type Aggregate,
  COARSE_BUCKET_MS,
  emptyAggregate,
  FINE_BUCKET_MS,
  VersionSeries,
} from '../../src/emulator/series.js';

/** The emulator's own seeded generator, so a failure names its seed. */
function seeded(seed: number): () => number {
  const random = new Random(seed);
  return () => random.uniform();
}

/** Records `seconds` of whole-number traffic a second at a time, as the emulator does, from `start`. */
function filled(random: () => number, start: number, seconds: number): VersionSeries {
  const series = new VersionSeries();
  const bins = new Float64Array(LATENCY_BINS);
  for (let s = 0; s < seconds; s++) {
    const requests = Math.floor(random() * 50);
    const lo = Math.floor(random() * 100);
    const count = 1 + Math.floor(random() * 20);
    for (let i = 0; i < count; i++) bins[i] = Math.floor(random() * 5);
    series.record(
      start + s * FINE_BUCKET_MS,
      requests,
      Math.floor(random() * 3),
      requests * 1.7e-5,
      bins,
      lo,
      count,
    );
  }
  return series;
}

/** The same window read one second at a time: a read no whole minute can serve. */
function bySeconds(series: VersionSeries, start: number, end: number, until: number): Aggregate {
  const into = emptyAggregate();
  for (let t = start; t < end; ) {
    const next = Math.min(end, (Math.floor(t / FINE_BUCKET_MS) + 1) * FINE_BUCKET_MS);
    series.aggregate(t, next, until, into);
    t = next;
  }
  return into;
}

describe('VersionSeries.aggregate over long windows', () => {
  it('reads whole minutes once and gets what their seconds hold: the same counts and latencies, cost to its last bits', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const random = seeded(seed);
      const origin = 1_700_000_000_000 + Math.floor(random() * COARSE_BUCKET_MS);
      const seconds = 300 + Math.floor(random() * 1500);
      const series = filled(random, origin, seconds);
      const until = origin + seconds * FINE_BUCKET_MS - Math.floor(random() * 900);
      const start = origin + Math.floor(random() * 200_000);
      const end = until - Math.floor(random() * 200_000);
      const whole = emptyAggregate();
      series.aggregate(start, end, until, whole);
      const parts = bySeconds(series, start, end, until);
      const at = `seed ${seed}`;
      // Prorated edges make fractions: both reads prorate the same edge seconds the same way.
      expect(whole.requests, at).toBeCloseTo(parts.requests, 9);
      expect(whole.errors, at).toBeCloseTo(parts.errors, 9);
      expect(whole.cost, at).toBeCloseTo(parts.cost, 12);
      for (let i = 0; i < LATENCY_BINS; i++)
        expect(whole.latency[i], `${at} bin ${i}`).toBeCloseTo(parts.latency[i] ?? 0, 9);
    }
  });

  it('is exact on a window of whole seconds and whole minutes', () => {
    const random = seeded(7);
    const origin = 1_700_000_040_000; // a minute boundary
    const series = filled(random, origin, 1200);
    const until = origin + 1200 * FINE_BUCKET_MS;
    const whole = emptyAggregate();
    series.aggregate(origin + 17_000, until - 5_000, until, whole);
    const parts = bySeconds(series, origin + 17_000, until - 5_000, until);
    expect(whole.requests).toBe(parts.requests);
    expect(whole.errors).toBe(parts.errors);
    expect([...whole.latency]).toEqual([...parts.latency]);
  });
});
