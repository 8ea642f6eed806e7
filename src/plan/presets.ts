/**
 * Stage presets and default thresholds: the one place `canary init`, its `--help` and the
 * README take them from, so the three always agree.
 */

export interface StagePreset {
  /** The value `canary init --stages` takes. */
  id: string;
  /** As the question offers it. */
  label: string;
  weights: number[];
  /** Bake per stage, as a plan duration. */
  bake: string;
}

export const STAGE_PRESETS: readonly StagePreset[] = [
  { id: 'standard', label: '5 → 25 → 50 → 100, 10 min bakes', weights: [5, 25, 50, 100], bake: '10m' },
  { id: 'careful', label: '1 → 5 → 25 → 50 → 100, 30 min bakes', weights: [1, 5, 25, 50, 100], bake: '30m' },
  { id: 'quick', label: '10 → 50 → 100, 5 min bakes', weights: [10, 50, 100], bake: '5m' },
];

export const DEFAULT_PRESET = 'standard';

/**
 * Health limits a new plan starts with; each is a flag of `canary init`. The relative margins
 * were chosen on the judgement suite (docs/judgement.md): each sits below the smallest
 * regression the suite calls bad (1.5× errors, p50 +30 %, p99 +40 %, cost +15 %) by enough for
 * the stage tests to tell the two apart, and a canary exactly on one is accepted.
 */
export const DEFAULT_LIMITS = {
  /** Canary error rate at most this fraction (a safety net; a shared incident holds instead). */
  maxErrorRate: 0.02,
  /** Canary p99 latency at most this many ms (a safety net, likewise). */
  maxP99Ms: 2500,
  /** Canary error rate at most this multiple of the baseline's… */
  maxErrorRatio: 1.25,
  /** …but never less than this many points above it (a ratio of a rate near 0 allows nothing). */
  errorFloor: 0.002,
  /** Canary p50 at most this multiple of the baseline's. */
  maxP50Ratio: 1.2,
  /** Canary p99 at most this multiple of the baseline's. */
  maxP99Ratio: 1.25,
  /** Canary cost per token at most this multiple of the baseline's. */
  maxCostRatio: 1.1,
  /** Canary requests pooled over a stage before it can pass. */
  minRequests: 200,
} as const;

export type Limits = { -readonly [K in keyof typeof DEFAULT_LIMITS]: number };

export function findPreset(id: string): StagePreset | undefined {
  return STAGE_PRESETS.find((p) => p.id === id);
}
