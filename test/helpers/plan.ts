/**
 * The plan builder: every test that needs a plan file writes it from a spec here, instead of
 * pasting plan YAML. A spec names only what its test is about (the route, the stages, a
 * threshold, a notify block); the rest is a small two-version plan with 1 s checks on the
 * error rate, which the emulator's healthy scenario passes and its failing one does not.
 *
 * Keys are the plan's own (snake_case, as a user writes them), so a spec reads like the plan.
 * Plans that are broken on purpose (line:column diagnostics) stay literal in their tests.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';

export const BASELINE = 'claude-sonnet-4-5-v1';
export const CANARY = 'claude-sonnet-4-5-v2';
export const MODEL = 'anthropic/claude-sonnet-4-20250514';
/** Where a plan points when each run passes --relay-url (nothing listens on port 1). */
export const PLACEHOLDER_RELAY = 'http://127.0.0.1:1/v1';

export type StageSpec = number | { weight: number; bake?: string; pause?: boolean; [key: string]: unknown };

export interface VersionSpec {
  version_tag: string;
  model?: string;
  parameters?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface PlanSpec {
  route: string;
  /** relay.url; default PLACEHOLDER_RELAY. */
  relayUrl?: string;
  /** Other relay keys (api_key_env, timeouts…). */
  relay?: Record<string, unknown>;
  /** A tag (registered with MODEL) or the whole version block; default BASELINE. */
  baseline?: string | VersionSpec;
  /** A tag (registered with MODEL) or the whole version block; default CANARY. */
  canary?: string | VersionSpec;
  /** Default [10, 50, 100]. */
  stages?: StageSpec[];
  /** Default 1s. */
  bake?: string;
  /**
   * Merged over the default analysis (interval 1s, window 2s, min_requests 20, error rate at
   * most 5 %); a key set to undefined is left out, so the plan's own default applies.
   */
  analysis?: Record<string, unknown>;
  /** Any other top-level keys, as the plan writes them: emulator, notify, evaluation, rollback… */
  more?: Record<string, unknown>;
}

export const DEFAULT_ANALYSIS: Readonly<Record<string, unknown>> = {
  interval: '1s',
  window: '2s',
  min_requests: 20,
  thresholds: { error_rate: { max: 0.05 } },
};

function version(spec: string | VersionSpec | undefined, fallback: string): VersionSpec {
  return typeof spec === 'object' ? spec : { version_tag: spec ?? fallback, model: MODEL };
}

/** The plan as an object, keys as in the file. */
export function planObject(spec: PlanSpec): Record<string, unknown> {
  return {
    relay: { url: spec.relayUrl ?? PLACEHOLDER_RELAY, ...spec.relay },
    route: spec.route,
    baseline: version(spec.baseline, BASELINE),
    canary: version(spec.canary, CANARY),
    stages: spec.stages ?? [10, 50, 100],
    bake: spec.bake ?? '1s',
    analysis: { ...DEFAULT_ANALYSIS, ...spec.analysis },
    ...spec.more,
  };
}

/** The plan file's text. */
export function planYaml(spec: PlanSpec): string {
  return stringify(planObject(spec), { lineWidth: 0 });
}

/** Writes the plan to `file` and returns its path. */
export function writePlanFile(file: string, spec: PlanSpec): string {
  writeFileSync(file, planYaml(spec));
  return file;
}

/** A fresh temporary folder holding `plan.yaml` built from the spec. */
export function planInTempDir(spec: PlanSpec): { dir: string; plan: string } {
  const dir = mkdtempSync(path.join(tmpdir(), `canary-test-${spec.route}-`));
  return { dir, plan: writePlanFile(path.join(dir, 'plan.yaml'), spec) };
}

/** Merges `spec` over a preset: analysis key by key, `more` key by key, the rest replaced. */
function over(preset: PlanSpec, spec: Partial<PlanSpec>): PlanSpec {
  return {
    ...preset,
    ...spec,
    analysis: { ...preset.analysis, ...spec.analysis },
    more: { ...preset.more, ...spec.more },
  };
}

/**
 * The reliability and safe-exit tests' plan: three stages (5, 25, 100) of 3 s bakes, checks every
 * second over 3 s, two failed checks to roll back; the canary differs from the baseline in its
 * temperature.
 */
export function reliabilityPlanSpec(route: string, spec: Partial<PlanSpec> = {}): PlanSpec {
  return over(
    {
      route,
      canary: { version_tag: CANARY, model: MODEL, parameters: { temperature: 0.5 } },
      stages: [5, 25, 100],
      bake: '3s',
      analysis: { window: '3s', failure_limit: 2 },
    },
    spec,
  );
}

/** The pipeline tests' plan (ci, github, ci-webhooks, the GitHub Action): one failed check rolls back. */
export function pipelinePlanSpec(route: string, spec: Partial<PlanSpec> = {}): PlanSpec {
  return over({ route, analysis: { failure_limit: 1 } }, spec);
}

/** An error-rate ceiling in place of the default one. */
export const maxErrorRate = (max: number) => ({ thresholds: { error_rate: { max } } });
