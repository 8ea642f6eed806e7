/**
 * `canary init [file]`: writes a commented starter plan. Every question has a flag; in a terminal
 * the unanswered ones are asked, elsewhere (or with --yes) they take their defaults, and the three
 * with no sensible default (route, baseline, canary) must be given, or init exits 2 naming them:
 * it never waits on a prompt nobody can see. The text is checked by the real plan loader before
 * it is written, so what init writes always passes `canary validate`.
 */
import { access, writeFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { initCommand } from '../command-table/commands.js';
import type { CommandOptions } from '../command-table/define.js';
import { VERSION_TAG_PATTERN } from '../domain/relay.js';
import { CanaryError, ExitCode, UsageError } from '../errors.js';
import { formatPlanDuration } from '../format.js';
import { canPrompt } from '../interactive.js';
import type { Io, Prompter } from '../io.js';
import { parseDuration } from '../plan/duration.js';
import { parsePlan } from '../plan/load.js';
import { ROUTE_PATTERN } from '../plan/plan-keys.js';
import { DEFAULT_LIMITS, DEFAULT_PRESET, findPreset, type Limits, STAGE_PRESETS } from '../plan/presets.js';
import { SCHEMA_MODELINE } from '../plan/schema-url.js';

export type InitOptions = CommandOptions<typeof initCommand>;

export const DEFAULT_PLAN_FILE = 'canary.yaml';
const DEFAULT_RELAY = 'emulator';

export interface Answers {
  route: string;
  baseline: string;
  canary: string;
  model: string;
  relayUrl: string;
  weights: number[];
  bake: string;
  limits: Limits;
}

// --- checks shared by flags and questions: a message, or true ---

function checkRoute(v: string): string | true {
  return ROUTE_PATTERN.test(v) || "a route alias of letters, digits, '.', '_' or '-' (1-128 characters)";
}

function checkTag(v: string): string | true {
  return (
    VERSION_TAG_PATTERN.test(v) || "a version tag of lowercase letters, digits and '-' (1-64 characters)"
  );
}

function checkRelay(v: string): string | true {
  return v === 'emulator' || /^https?:\/\/\S+$/.test(v) || "the relay's base URL (https://…/v1) or emulator";
}

function checkBake(v: string): string | true {
  const ms = parseDuration(v);
  return (ms !== undefined && ms > 0) || 'a duration like 30s, 10m or 1h30m';
}

/** `5,25,50,100` → weights, or a message. */
function parseWeights(text: string): number[] | string {
  const parts = text
    // `\u2192` is →, escaped: esbuild keeps regex literals as written, and one character
    // beyond Latin-1 makes V8 hold the whole bundle as a two-byte string (scripts/build.mjs).
    .split(/[\s,\u2192>]+/)
    .map((p) => p.replace(/%$/, ''))
    .filter((p) => p !== '');
  const weights = parts.map(Number);
  if (parts.length === 0 || weights.some((w) => !Number.isFinite(w) || w <= 0 || w > 100)) {
    return 'weights between 0 and 100, comma-separated, e.g. 5,25,50,100';
  }
  if (weights.some((w) => Math.abs(Math.round(w * 100) - w * 100) > 1e-6))
    return 'weights have at most two decimals';
  for (let i = 1; i < weights.length; i++) {
    if ((weights[i] as number) <= (weights[i - 1] as number))
      return 'weights must increase from stage to stage';
  }
  if (weights[weights.length - 1] !== 100) return 'the last stage must be 100, so the rollout ends promoted';
  return weights;
}

function checkWeights(v: string): string | true {
  const parsed = parseWeights(v);
  return typeof parsed === 'string' ? parsed : true;
}

const LIMIT_FLAGS: Record<
  keyof Limits,
  { flag: string; question: string; check: (n: number) => boolean; expect: string }
> = {
  maxErrorRate: {
    flag: '--max-error-rate',
    question: 'Highest canary error rate (a fraction: 0.02 = 2 %)',
    check: (n) => n >= 0 && n <= 1,
    expect: 'a fraction from 0 to 1',
  },
  maxP99Ms: {
    flag: '--max-p99-ms',
    question: 'Highest canary p99 latency, in ms',
    check: (n) => n > 0,
    expect: 'a number of milliseconds above 0',
  },
  maxErrorRatio: {
    flag: '--max-error-ratio',
    question: 'Most the canary error rate may be, as a multiple of the baseline’s',
    check: (n) => n >= 1,
    expect: 'a ratio of at least 1',
  },
  errorFloor: {
    flag: '--error-floor',
    question: 'Least the allowed error rate may be above the baseline’s (0.002 = 0.2 points)',
    check: (n) => n >= 0 && n <= 1,
    expect: 'a fraction from 0 to 1',
  },
  maxP50Ratio: {
    flag: '--max-p50-ratio',
    question: 'Most the canary p50 may be, as a multiple of the baseline’s',
    check: (n) => n >= 1,
    expect: 'a ratio of at least 1',
  },
  maxP99Ratio: {
    flag: '--max-p99-ratio',
    question: 'Most the canary p99 may be, as a multiple of the baseline’s',
    check: (n) => n >= 1,
    expect: 'a ratio of at least 1',
  },
  maxCostRatio: {
    flag: '--max-cost-ratio',
    question: 'Most the canary cost per token may be, as a multiple of the baseline’s',
    check: (n) => n >= 1,
    expect: 'a ratio of at least 1',
  },
  minRequests: {
    flag: '--min-requests',
    question: 'Canary requests a stage needs (pooled) before it can pass',
    check: (n) => Number.isInteger(n) && n >= 1,
    expect: 'a whole number of at least 1',
  },
};

function limitFromFlag(key: keyof Limits, raw: string): number {
  const spec = LIMIT_FLAGS[key];
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || !spec.check(n)) {
    throw new UsageError(`${spec.flag} takes ${spec.expect}, got '${raw}'.`);
  }
  return n;
}

function flagCheck(flag: string, value: string | undefined, check: (v: string) => string | true): void {
  if (value === undefined) return;
  const ok = check(value);
  if (ok !== true) throw new UsageError(`${flag}: expected ${ok}, got '${value}'.`);
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

/** Stages from `--stages` (a preset id or a list) and `--bake`. */
function stagesFromFlags(opts: InitOptions): { weights: number[]; bake: string } | undefined {
  if (opts.stages === undefined) return undefined;
  const preset = findPreset(opts.stages);
  if (preset) return { weights: preset.weights, bake: opts.bake ?? preset.bake };
  const weights = parseWeights(opts.stages);
  if (typeof weights === 'string') {
    const ids = STAGE_PRESETS.map((p) => p.id).join(', ');
    throw new UsageError(
      `--stages takes a preset (${ids}) or a list of weights: ${weights}; got '${opts.stages}'.`,
    );
  }
  return { weights, bake: opts.bake ?? (findPreset(DEFAULT_PRESET)?.bake as string) };
}

/**
 * On the emulator nothing is registered beforehand, so a plan with no model could validate and
 * dry-run but never run ("not registered … plan gives no model"): init gives the emulator a model.
 */
export const EMULATOR_MODEL = 'anthropic/claude-sonnet-4-20250514';

function modelFor(relayUrl: string, model: string | undefined): string {
  return model || (relayUrl === 'emulator' ? EMULATOR_MODEL : '');
}

/** The answers: from flags and defaults, or asked through `prompter` when one is given. */
async function gather(opts: InitOptions, prompter: Prompter | undefined): Promise<Answers> {
  const fromFlags = stagesFromFlags(opts);
  const limitsGiven = (Object.keys(LIMIT_FLAGS) as (keyof Limits)[]).some((k) => opts[k] !== undefined);
  const limits: Limits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(LIMIT_FLAGS) as (keyof Limits)[]) {
    const raw = opts[key];
    if (raw !== undefined) limits[key] = limitFromFlag(key, raw);
  }
  const defaults = findPreset(DEFAULT_PRESET) as NonNullable<ReturnType<typeof findPreset>>;

  if (prompter === undefined) {
    return {
      route: opts.route as string,
      baseline: opts.baseline as string,
      canary: opts.canary as string,
      model: modelFor(opts.relayUrl ?? DEFAULT_RELAY, opts.model),
      relayUrl: opts.relayUrl ?? DEFAULT_RELAY,
      weights: fromFlags?.weights ?? defaults.weights,
      bake: fromFlags?.bake ?? opts.bake ?? defaults.bake,
      limits,
    };
  }

  const text = async (message: string, check: (v: string) => string | true, def?: string) =>
    (await prompter.input({ message, default: def, validate: (v) => check(v.trim()) })).trim();

  const route = opts.route ?? (await text('Route (the model alias clients call)', checkRoute));
  const baseline = opts.baseline ?? (await text('Baseline version tag (serving now)', checkTag));
  const canary =
    opts.canary ??
    (await text('Canary version tag (the new version)', (v) =>
      v === baseline ? 'the canary must differ from the baseline' : checkTag(v),
    ));
  const relayUrl =
    opts.relayUrl ??
    (await text('Relay base URL (or emulator, to try the plan locally)', checkRelay, DEFAULT_RELAY));
  const model =
    opts.model ??
    (await text(
      'Model for both versions, so canary registers them (empty: they are already registered)',
      () => true,
      modelFor(relayUrl, undefined),
    ));

  let weights: number[];
  let bake: string;
  if (fromFlags) {
    ({ weights, bake } = fromFlags);
  } else {
    const choice = await prompter.select<string>({
      message: 'Stages',
      choices: [
        ...STAGE_PRESETS.map((p) => ({ name: p.label, value: p.id })),
        { name: 'custom', value: 'custom' },
      ],
      default: DEFAULT_PRESET,
    });
    const preset = findPreset(choice);
    if (preset) {
      weights = preset.weights;
      bake = opts.bake ?? preset.bake;
    } else {
      weights = parseWeights(
        await text('Canary weights, in order (last 100)', checkWeights, '5,25,50,100'),
      ) as number[];
      bake = opts.bake ?? (await text('Bake per stage', checkBake, '10m'));
    }
  }

  if (!limitsGiven) {
    const keep = await prompter.confirm({
      message: `Health limits: error rate ≤ ${limits.maxErrorRate}, p99 ≤ ${limits.maxP99Ms} ms; against the baseline: error rate ≤ ${limits.maxErrorRatio} × (at least + ${limits.errorFloor}), p50 ≤ ${limits.maxP50Ratio} ×, p99 ≤ ${limits.maxP99Ratio} ×, cost/token ≤ ${limits.maxCostRatio} ×; ${limits.minRequests} requests per stage. Keep these?`,
      default: true,
    });
    if (!keep) {
      for (const key of Object.keys(LIMIT_FLAGS) as (keyof Limits)[]) {
        const spec = LIMIT_FLAGS[key];
        const answer = await text(
          spec.question,
          (v) => (Number.isFinite(Number(v)) && v !== '' && spec.check(Number(v))) || spec.expect,
          String(limits[key]),
        );
        limits[key] = Number(answer);
      }
    }
  }
  return { route, baseline, canary, model, relayUrl, weights, bake, limits };
}

function scalar(value: string): string {
  return stringify(value).trimEnd();
}

/** The plan as commented YAML. */
export function renderPlan(a: Answers): string {
  const versions = (role: 'baseline' | 'canary', tag: string, note: string) => {
    const lines = [`${role}: # ${note}`, `  version_tag: ${scalar(tag)}`];
    if (a.model) lines.push(`  model: ${scalar(a.model)} # canary registers the version if it is missing`);
    else
      lines.push(
        '  # model: provider/model-id  # add one (and parameters) to let canary register the version',
      );
    return lines.join('\n');
  };
  const emulator = a.relayUrl === 'emulator';
  return `${SCHEMA_MODELINE}
# Canary rollout plan, written by \`canary init\`. The line above lets editors check it as you type.
#
#   canary validate ${'<this file>'}
#   canary rollout <this file> --dry-run   # print the schedule, change nothing
#   canary rollout <this file>
#
# Durations: 30s, 10m, 1h30m. Weights are percentages. While it runs: p promote, h hold,
# r roll back, q quit, Ctrl-C for a menu.

relay:
  url: ${scalar(a.relayUrl)} # ${emulator ? 'the built-in emulator; put your relay’s base URL (https://…/v1) here for real traffic' : 'the relay’s base URL'}
  api_key_env: RELAY_API_KEY # env var holding the key; never put the key in this file

route: ${scalar(a.route)} # the model alias clients call

${versions('baseline', a.baseline, 'the version serving now')}

${versions('canary', a.canary, 'the version being rolled out')}

stages: [${a.weights.join(', ')}] # canary weight per stage, the last 100 (no bake); a failed check rolls back at once
# For a manual gate before a stage is left: - { weight: 50, bake: 1h, pause: true }
bake: ${scalar(a.bake)} # how long each stage holds its weight while the checks run

analysis:
  interval: 30s # how often the canary is checked
  window: 30s # each check reads metrics over the trailing window; equal to interval, so the
  #            paired latency and cost tests see one new window per check
  min_requests: ${a.limits.minRequests} # canary requests pooled over the stage before it can pass
  failure_limit: 1 # failed checks in a stage that trigger the rollback (each is already beyond noise)
  hold_deadline: 30m # both versions over a limit (a shared incident) holds the stage, bake paused, this long at most
  thresholds: # absolute limits on the canary; when the baseline breaches one too, the stage holds instead
    error_rate: { max: ${a.limits.maxErrorRate} } # a fraction: 0.02 = 2 %
    latency_p99_ms: { max: ${a.limits.maxP99Ms} }
  baseline_comparison: # limits relative to the baseline, judged on the whole stage so far
    # Fail only when the canary is worse beyond the margin AND beyond the noise. confidence is per
    # rollout: a canary within these margins is rolled back for health in at most 1 % of rollouts,
    # however often it is checked; too little data is "no data", never a pass.
    # These margins were chosen on the judgement suite (docs/judgement.md).
    significance: { enabled: true, confidence: 0.99 }
    error_rate: { max_ratio: ${a.limits.maxErrorRatio}, floor: ${a.limits.errorFloor} } # canary / baseline, at least baseline + floor
    latency_p50_ms: { max_ratio: ${a.limits.maxP50Ratio} }
    latency_p99_ms: { max_ratio: ${a.limits.maxP99Ratio} }
    cost_per_token: { max_ratio: ${a.limits.maxCostRatio} }

rollback:
  deadline: 2m # how long to keep retrying a rollback before giving up (exit 4)
`;
}

export async function runInitCommand(opts: InitOptions, io: Io): Promise<number> {
  const name = opts.file ?? DEFAULT_PLAN_FILE;
  const file = resolve(io.cwd, name);
  if (!opts.force && (await exists(file))) {
    throw new UsageError(`${name} already exists; nothing was written.`, {
      hint: 'pass --force to overwrite it, or name another file: canary init other.yaml',
    });
  }
  flagCheck('--route', opts.route, checkRoute);
  flagCheck('--baseline', opts.baseline, checkTag);
  flagCheck('--canary', opts.canary, checkTag);
  flagCheck('--relay-url', opts.relayUrl, checkRelay);
  flagCheck('--bake', opts.bake, checkBake);
  if (opts.baseline !== undefined && opts.baseline === opts.canary) {
    throw new UsageError('--canary must differ from --baseline.');
  }

  const ask = canPrompt(io) && !opts.yes;
  if (!ask) {
    const missing = (['route', 'baseline', 'canary'] as const).filter((k) => opts[k] === undefined);
    if (missing.length > 0) {
      const flags = missing.map((k) => `--${k}`).join(', ');
      throw new UsageError(
        `missing ${flags}: ${opts.yes ? 'with --yes' : 'without a terminal'} canary init asks nothing, so these must be flags.`,
        { hint: 'canary init --route <alias> --baseline <tag> --canary <tag> --yes' },
      );
    }
  }

  let answers: Answers;
  try {
    answers = await gather(opts, ask ? io.prompter : undefined);
  } catch (error) {
    if (error instanceof Error && error.name === 'ExitPromptError') {
      io.stderr.write('cancelled; nothing was written.\n');
      return ExitCode.Interrupted;
    }
    throw error;
  }

  const text = renderPlan(answers).replaceAll('<this file>', relative(io.cwd, file) || name);
  // The same loader `canary validate` and `rollout` use: init never writes a plan they would refuse.
  parsePlan(text, name, { cwd: io.cwd });
  try {
    await writeFile(file, text, { flag: opts.force ? 'w' : 'wx' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CanaryError(
      code === 'EEXIST'
        ? `${name} appeared while init was asking; nothing was written.`
        : `cannot write ${name}: ${(error as Error).message}`,
      ExitCode.BadInput,
      { hint: code === 'EEXIST' ? 'pass --force to overwrite it' : undefined, cause: error },
    );
  }
  const shown = relative(io.cwd, file) || name;
  io.stdout.write(
    `wrote ${shown}: route ${answers.route}, ${answers.baseline} → ${answers.canary}, stages ${answers.weights.join(' → ')} with ${formatPlanDuration(parseDuration(answers.bake) ?? 0)} bakes.\n` +
      `next: canary validate ${shown} && canary rollout ${shown} --dry-run\n`,
  );
  return ExitCode.Ok;
}
