/**
 * `canary validate <plan>`: loads the plan exactly as `rollout` would and reports every
 * problem at once as file:line:column, or a short summary when it is valid. Never touches the
 * network: safe in a pre-commit hook or a pull-request check.
 */
import { dirname, relative, resolve } from 'node:path';
import { feasibility } from '../analysis/feasibility.js';
import type { CommandOptions } from '../command-table/define.js';
import type { validateCommand } from '../command-table/validate.js';
import type { Plan } from '../domain/plan.js';
import { CanaryError, ExitCode, PlanError, type PlanProblem, UsageError } from '../errors.js';
import { formatConfidence, formatPlanDuration } from '../format.js';
import type { Io } from '../io.js';
import { recordLine } from '../output/record.js';
import { type LoadedPlan, loadPlanWithSource } from '../plan/load.js';
import { planSchedule } from '../plan/schedule.js';
import { colorEnabled, type Paint, paint } from '../reporters/color.js';

export type ValidateOptions = CommandOptions<typeof validateCommand>;

/** A problem as JSON output carries it; position fields are null when the file could not be read. */
interface JsonProblem {
  file: string;
  line: number | null;
  column: number | null;
  path: string | null;
  message: string;
}

export async function runValidate(opts: ValidateOptions, io: Io): Promise<number> {
  if (opts.output !== 'plain' && opts.output !== 'json') {
    throw new UsageError(`validate --output takes plain or json, got '${opts.output}'`);
  }
  const json = opts.output === 'json';
  let loaded: LoadedPlan;
  try {
    loaded = await loadPlanWithSource(opts.plan, { cwd: io.cwd });
  } catch (error) {
    if (error instanceof PlanError) return reportProblems(error.problems, opts, io);
    if (error instanceof CanaryError && error.exitCode === ExitCode.BadInput) {
      if (json) {
        const problem: JsonProblem = {
          file: opts.plan,
          line: null,
          column: null,
          path: null,
          message: error.message,
        };
        io.stdout.write(recordLine('validation', { file: opts.plan, valid: false, problems: [problem] }));
      } else {
        io.stderr.write(`error: ${error.message}\n`);
        if (error.hint) io.stderr.write(`hint: ${error.hint}\n`);
      }
      return ExitCode.BadInput;
    }
    throw error;
  }
  const scenarioProblems = await checkScenario(loaded, io.cwd);
  if (scenarioProblems.length > 0) return reportProblems(scenarioProblems, opts, io);
  // The prompt sets are part of the plan too: a malformed line is reported with its file:line.
  if (loaded.plan.evaluation) {
    try {
      await (await import('../evaluation/prompts.js')).loadPrompts(loaded.plan.evaluation);
    } catch (error) {
      if (!(error instanceof PlanError)) throw error;
      const problems = error.problems.map((p) => ({ ...p, file: displayPath(p.file, io.cwd) }));
      return reportProblems(problems, opts, io);
    }
  }

  const plan = loaded.plan;
  // A plan valid key by key can still never reach a verdict: refuse that, warn about the rest.
  const findings = feasibility(plan).map((f) => ({
    level: f.level,
    problem: { file: opts.plan, ...loaded.locate(f.at), path: f.at.join('.'), message: f.message },
  }));
  const errors = findings.filter((f) => f.level === 'error').map((f) => f.problem);
  if (errors.length > 0) return reportProblems(errors, opts, io);
  const warnings = findings.map((f) => f.problem);
  if (json) {
    io.stdout.write(
      recordLine('validation', {
        file: opts.plan,
        valid: true,
        problems: [],
        warnings,
        summary: summaryObject(plan),
      }),
    );
  } else {
    const c = await paint(colorEnabled({ flagColor: opts.color, env: io.env, isTTY: io.stdout.isTTY }));
    io.stdout.write(`${summaryText(plan, opts.plan, c)}\n`);
    // stderr is looked at only to write to it: setting up a stream (a pipe, in a hook) costs ≈ 1 ms.
    if (warnings.length > 0) {
      const c = await paint(colorEnabled({ flagColor: opts.color, env: io.env, isTTY: io.stderr.isTTY }));
      for (const w of warnings)
        io.stderr.write(
          `${c.bold(`${w.file}:${w.line}:${w.column}:`)} ${c.yellow(`warning: ${w.message}`)}\n`,
        );
    }
  }
  return ExitCode.Ok;
}

async function reportProblems(problems: PlanProblem[], opts: ValidateOptions, io: Io): Promise<number> {
  if (opts.output === 'json') {
    io.stdout.write(recordLine('validation', { file: opts.plan, valid: false, problems }));
    return ExitCode.BadInput;
  }
  const c = await paint(colorEnabled({ flagColor: opts.color, env: io.env, isTTY: io.stderr.isTTY }));
  for (const p of problems) {
    io.stderr.write(`${c.bold(`${p.file}:${p.line}:${p.column}:`)} ${c.red(p.message)}\n`);
  }
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  io.stderr.write(`${opts.plan}: ${count}; nothing was changed.\n`);
  return ExitCode.BadInput;
}

/**
 * With the emulator, the scenario is part of the plan, so its problems are the plan's too.
 * The scenario reader is loaded only here: plans for a real relay never pay for it.
 */
async function checkScenario(loaded: LoadedPlan, cwd: string): Promise<PlanProblem[]> {
  const { plan } = loaded;
  const scenario = plan.emulator?.scenario;
  if (plan.relay.url !== 'emulator' || scenario === undefined) return [];
  if (typeof scenario !== 'string') {
    // Inline: read from the plan's own nodes, so each problem points at its line in the plan.
    const { readScenario } = await import('../emulator/scenario-schema.js');
    return loaded.readAt(['emulator', 'scenario'], readScenario);
  }
  // The scenario parser alone: the emulator's server and simulation are not needed to check it.
  const { loadScenario } = await import('../emulator/scenario.js');
  try {
    await loadScenario(scenario);
    return [];
  } catch (error) {
    if (!(error instanceof PlanError)) throw error;
    // Shown relative to where the user stands, like the plan path they typed.
    return error.problems.map((p) => ({ ...p, file: displayPath(p.file, cwd) }));
  }
}

function displayPath(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel !== '' && !rel.startsWith('..') ? rel : file;
}

function versionLine(ref: Plan['baseline']): string {
  return ref.spec
    ? `${ref.tag} (registered if missing: ${ref.spec.model})`
    : `${ref.tag} (must already exist)`;
}

function stagesLine(plan: Plan): string {
  return plan.stages
    .map(
      (s) =>
        `${s.weight}%${s.bakeMs > 0 ? ` ${formatPlanDuration(s.bakeMs)}` : ''}${s.pause ? ' (pause)' : ''}`,
    )
    .join(' → ');
}

function checksLine(plan: Plan): string {
  const a = plan.analysis;
  const rules: string[] = [];
  for (const [metric, rule] of Object.entries(a.thresholds)) rules.push(`${metric} ≤ ${rule.max}`);
  for (const [metric, rule] of Object.entries(a.baselineComparison)) {
    if (rule.max_increase !== undefined) rules.push(`${metric} ≤ baseline + ${rule.max_increase}`);
    if (rule.max_ratio !== undefined) rules.push(`${metric} ≤ baseline × ${rule.max_ratio}`);
    if (rule.floor !== undefined) rules.push(`(at least baseline + ${rule.floor})`);
  }
  if (a.significance) {
    rules.push(`beyond noise at ${formatConfidence(a.significance.confidence)} confidence per rollout`);
  }
  const what =
    rules.length > 0 ? rules.join(', ') : 'no thresholds set (only the relay can stop this rollout)';
  return `every ${formatPlanDuration(a.intervalMs)} over ${formatPlanDuration(a.windowMs)}: ${what}`;
}

function evaluationLine(e: NonNullable<Plan['evaluation']>, planFile: string): string {
  const files = e.prompts.map((f) => relative(dirname(resolve(planFile)), f) || f).join(', ');
  return `before any traffic: ${files}${e.sample ? ` (sample ${e.sample})` : ''}${e.repeat > 1 ? ` × ${e.repeat}` : ''} on both versions, pinned${e.judge ? ', judged by a command' : ''}`;
}

/** `analysis.metrics`, one phrase each: `ttft_p99_ms (PromQL)`, `quality (HTTP, dry run)`. */
function customMetricsLine(plan: Plan): string {
  return (plan.analysis.customMetrics ?? [])
    .map(
      (m) =>
        `${m.name} (${m.source.kind === 'prometheus' ? 'PromQL' : 'HTTP'}${m.dryRun ? ', dry run' : ''})`,
    )
    .join(', ');
}

function summaryText(plan: Plan, file: string, c: Paint): string {
  const schedule = planSchedule(plan, 0);
  const relay = plan.relay.url === 'emulator' ? 'the built-in emulator' : plan.relay.url;
  const rows: Array<[string, string]> = [
    ['route', `${plan.route} on ${relay}`],
    ['baseline', versionLine(plan.baseline)],
    ['canary', versionLine(plan.canary)],
    ['stages', stagesLine(plan)],
    [
      'bake',
      `${formatPlanDuration(schedule.totalBakeMs)} in total, at most ${formatPlanDuration(schedule.latestEndAt)} waiting for data` +
        (schedule.pauses > 0 ? ', plus manual gates' : ''),
    ],
    ['checks', checksLine(plan)],
    ...(plan.evaluation
      ? ([['evaluate', evaluationLine(plan.evaluation, file)]] as Array<[string, string]>)
      : []),
    ...((plan.analysis.customMetrics?.length ?? 0) > 0
      ? ([['metrics', customMetricsLine(plan)]] as Array<[string, string]>)
      : []),
  ];
  return [`${c.green('✓')} ${file} is valid`, ...rows.map(([k, v]) => `  ${k.padEnd(9)}${v}`)].join('\n');
}

function summaryObject(plan: Plan) {
  const schedule = planSchedule(plan, 0);
  return {
    file: plan.file,
    hash: plan.hash,
    relay: plan.relay.url,
    route: plan.route,
    baseline: plan.baseline.tag,
    canary: plan.canary.tag,
    stages: plan.stages.map((s) => ({ weight: s.weight, bake_ms: s.bakeMs, pause: s.pause })),
    total_bake_ms: schedule.totalBakeMs,
    max_duration_ms: schedule.latestEndAt,
  };
}
