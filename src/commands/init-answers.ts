/**
 * What `canary init` writes a plan from: route, versions, relay, stages and health limits, each
 * from its flag, its default, or a question (through the Io's prompter, in a terminal). Every
 * flag and every answer passes the same check, and gives the same message when it fails.
 */
import type { initCommand } from '../command-table/commands.js';
import type { CommandOptions } from '../command-table/define.js';
import { VERSION_TAG_PATTERN } from '../domain/relay.js';
import { UsageError } from '../errors.js';
import type { Prompter } from '../io.js';
import { parseDuration } from '../plan/duration.js';
import { ROUTE_PATTERN } from '../plan/plan-keys.js';
import { DEFAULT_LIMITS, DEFAULT_PRESET, findPreset, type Limits, STAGE_PRESETS } from '../plan/presets.js';

export type InitOptions = CommandOptions<typeof initCommand>;

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

/** Refuses a flag whose value the question would not accept. */
function flagCheck(flag: string, value: string | undefined, check: (v: string) => string | true): void {
  if (value === undefined) return;
  const ok = check(value);
  if (ok !== true) throw new UsageError(`${flag}: expected ${ok}, got '${value}'.`);
}

/** Every flag init takes a value from, checked before anything is asked or written. */
export function checkFlags(opts: InitOptions): void {
  flagCheck('--route', opts.route, checkRoute);
  flagCheck('--baseline', opts.baseline, checkTag);
  flagCheck('--canary', opts.canary, checkTag);
  flagCheck('--relay-url', opts.relayUrl, checkRelay);
  flagCheck('--bake', opts.bake, checkBake);
  if (opts.baseline !== undefined && opts.baseline === opts.canary) {
    throw new UsageError('--canary must differ from --baseline.');
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

/** Asks one line of text, checked as its flag would be; `def` is offered as the default. */
type Ask = (message: string, check: (v: string) => string | true, def?: string) => Promise<string>;

/** The answers: from flags and defaults, or asked through `prompter` when one is given. */
export async function gather(opts: InitOptions, prompter: Prompter | undefined): Promise<Answers> {
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

  const text: Ask = async (message, check, def) =>
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

  const { weights, bake } = fromFlags ?? (await askStages(opts, prompter, text));
  if (!limitsGiven) await askLimits(prompter, limits, text);
  return { route, baseline, canary, model, relayUrl, weights, bake, limits };
}

/** The stages: a preset, or custom weights and bake. */
async function askStages(
  opts: InitOptions,
  prompter: Prompter,
  text: Ask,
): Promise<{ weights: number[]; bake: string }> {
  const choice = await prompter.select<string>({
    message: 'Stages',
    choices: [
      ...STAGE_PRESETS.map((p) => ({ name: p.label, value: p.id })),
      { name: 'custom', value: 'custom' },
    ],
    default: DEFAULT_PRESET,
  });
  const preset = findPreset(choice);
  if (preset) return { weights: preset.weights, bake: opts.bake ?? preset.bake };
  const weights = parseWeights(
    await text('Canary weights, in order (last 100)', checkWeights, '5,25,50,100'),
  ) as number[];
  const bake = opts.bake ?? (await text('Bake per stage', checkBake, '10m'));
  return { weights, bake };
}

/** The health limits: shown whole, kept with one answer, or asked one by one (into `limits`). */
async function askLimits(prompter: Prompter, limits: Limits, text: Ask): Promise<void> {
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
