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

/** Health limits a new plan starts with; each is a flag of `canary init`. */
export const DEFAULT_LIMITS = {
  /** Canary error rate at most this fraction. */
  maxErrorRate: 0.02,
  /** Canary p99 latency at most this many ms. */
  maxP99Ms: 2500,
  /** Canary error rate at most this many points above the baseline's. */
  maxErrorIncrease: 0.01,
  /** Canary p99 at most this multiple of the baseline's. */
  maxP99Ratio: 1.25,
  /** Canary requests in a window before a check counts. */
  minRequests: 200,
} as const;

export type Limits = { -readonly [K in keyof typeof DEFAULT_LIMITS]: number };

export function findPreset(id: string): StagePreset | undefined {
  return STAGE_PRESETS.find((p) => p.id === id);
}
