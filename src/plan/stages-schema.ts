/** `stages:` and `checks:` in a plan (`checks:` may also sit in a stage), read with the walker. */
import type { StageCheck, StagePlan } from '../domain/plan.js';
import { formatPlanDuration as formatDuration } from '../format.js';
import { DEFAULTS, KEYS } from './plan-keys.js';
import type { Entry, PlanReader } from './reader.js';

/** `checks:` at the top level or in a stage: a list of `{name?, run, timeout?}`. */
export function readChecks(r: PlanReader, entry: Entry | undefined): StageCheck[] | undefined {
  if (!entry) return undefined;
  const items = r.items(entry);
  if (items === undefined)
    return r.fail(entry, 'a list of checks like [{name: smoke, run: ./smoke.sh, timeout: 2m}]');
  const checks: StageCheck[] = [];
  const names = new Set<string>();
  items.forEach((itemEntry) => {
    const { path } = itemEntry;
    const fields = r.mapping(itemEntry, KEYS.check);
    if (!fields) return;
    const run = r.string(r.required(fields, 'run'), 'a shell command like ./smoke.sh');
    const nameEntry = r.optional(fields, 'name');
    const name = nameEntry ? r.string(nameEntry, 'a name for the check') : run;
    const timeout = r.duration(r.optional(fields, 'timeout'), { positive: true });
    if (run === undefined || name === undefined) return;
    if (names.has(name)) {
      r.problem(nameEntry ?? itemEntry, `${path}: another check in this list is already named '${name}'`);
      return;
    }
    names.add(name);
    checks.push({ name, run, timeoutMs: timeout ?? DEFAULTS.checkTimeoutMs });
  });
  return checks.length === items.length ? checks : undefined;
}

function hasAtMostTwoDecimals(n: number): boolean {
  return Math.abs(Math.round(n * 100) - n * 100) < 1e-6;
}

export function readStages(
  r: PlanReader,
  entry: Entry | undefined,
  defaultBake: number,
  factor: number | undefined,
): StagePlan[] | undefined {
  if (!entry) return undefined;
  const items = r.items(entry);
  if (items === undefined)
    return r.fail(entry, 'a list of stages like [5, 25, 50, 100] or [{weight: 5, bake: 10m}, …]');
  if (items.length === 0) {
    r.problem(entry, 'stages: expected at least one stage (the last at weight 100)');
    return undefined;
  }
  const stages: StagePlan[] = [];
  let ok = true;
  let previous: number | undefined;
  const lastIndex = items.length - 1;
  for (const [index, stageEntry] of items.entries()) {
    const stage = readStage(r, stageEntry);
    const weight =
      stage && r.number(stage.weightEntry, 'a percentage above 0 and at most 100', (n) => n > 0 && n <= 100);
    if (!stage?.weightEntry || weight === undefined) {
      ok = false;
      continue;
    }
    if (!checkWeight(r, stage.weightEntry, weight, previous, index === lastIndex)) ok = false;
    previous = weight;
    const isFinal = index === lastIndex && weight === 100;
    const bakeMs = stage.bake ?? (isFinal ? 0 : defaultBake);
    const { deadline, deadlineEntry } = stage;
    if (deadline !== undefined && deadlineEntry && deadline < bakeMs) {
      r.problem(
        deadlineEntry,
        `${deadlineEntry.path}: the data deadline (${formatDuration(deadline)}) must be at least the stage's bake (${formatDuration(bakeMs)})`,
      );
      ok = false;
    }
    stages.push({
      index,
      weight,
      bakeMs,
      pause: stage.pause,
      dataDeadlineMs: deadline ?? Math.round(bakeMs * (factor ?? DEFAULTS.dataDeadlineFactor)),
      ...(stage.checks && stage.checks.length > 0 ? { checks: stage.checks } : {}),
    });
  }
  return ok && stages.length === items.length ? stages : undefined;
}

/** One stage as written: a weight like 25, or a mapping like {weight: 25, bake: 10m}. */
function readStage(
  r: PlanReader,
  stageEntry: Entry,
):
  | {
      weightEntry: Entry | undefined;
      bake: number | undefined;
      pause: boolean;
      deadline: number | undefined;
      deadlineEntry: Entry | undefined;
      checks: StageCheck[] | undefined;
    }
  | undefined {
  if (r.kind(stageEntry) === 'map') {
    const fields = r.mapping(stageEntry, KEYS.stage);
    const weightEntry = r.required(fields, 'weight');
    const bake = r.duration(r.optional(fields, 'bake'));
    const pause = r.boolean(r.optional(fields, 'pause')) ?? false;
    const deadlineEntry = r.optional(fields, 'data_deadline');
    const deadline = r.duration(deadlineEntry);
    const checks = readChecks(r, r.optional(fields, 'checks'));
    return { weightEntry, bake, pause, deadline, deadlineEntry, checks };
  }
  if (typeof r.scalar(stageEntry) === 'number') {
    return {
      weightEntry: stageEntry,
      bake: undefined,
      pause: false,
      deadline: undefined,
      deadlineEntry: undefined,
      checks: undefined,
    };
  }
  return r.fail(stageEntry, 'a weight like 25 or a mapping like {weight: 25, bake: 10m}');
}

/** Weights: two decimals at most, increasing from stage to stage, the last at 100. */
function checkWeight(
  r: PlanReader,
  weightEntry: Entry,
  weight: number,
  previous: number | undefined,
  last: boolean,
): boolean {
  let ok = true;
  if (!hasAtMostTwoDecimals(weight)) {
    r.problem(weightEntry, `${weightEntry.path}: weights have at most two decimals, got ${weight}`);
    ok = false;
  }
  if (previous !== undefined && weight <= previous) {
    r.problem(
      weightEntry,
      `${weightEntry.path}: weights must increase from stage to stage, but ${weight} follows ${previous}`,
    );
    ok = false;
  }
  if (last && weight !== 100) {
    r.problem(
      weightEntry,
      `${weightEntry.path}: the last stage must have weight 100 so the rollout ends promoted, got ${weight}`,
    );
    ok = false;
  }
  return ok;
}
