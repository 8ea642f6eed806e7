/**
 * Every command but `rollback` (./rollback.ts) and `validate` (./validate.ts), declared once: src/cli.ts registers each with its
 * handler, and each command module takes its options' type from here
 * (`CommandOptions<typeof rolloutCommand>`), so a flag and the field it fills cannot disagree.
 */
import { parseDuration } from '../plan/duration.js';
import { DEFAULT_LIMITS, DEFAULT_PRESET, STAGE_PRESETS } from '../plan/presets.js';
import {
  argument,
  choice,
  defineCommand,
  FlagValueError,
  flag,
  parsed,
  positiveInt,
  repeated,
  text,
} from './define.js';
import { output, relayOptions } from './rollback.js';
import { planArgument } from './validate.js';

/** Parses a duration flag (`90s`, `45m`, `1h30m`), naming the flag on error. */
function duration(flagName: string) {
  return (value: string): number => {
    const ms = parseDuration(value);
    if (ms === undefined || ms <= 0) {
      throw new FlagValueError(`${flagName} takes a duration like 90s, 45m or 1h30m, got '${value}'.`);
    }
    return ms;
  };
}

const plainOrJson = (description: string) =>
  choice('mode', ['plain', 'json'], description, { short: 'o', default: 'plain' });
const stateDirHere = (description: string) => text('dir', description);
const NEAREST_STATE = '(default: $CANARY_STATE_DIR, else the nearest .canary/ up from here)';

// In a module of its own, so validate's entry (src/validate-entry.ts) declares it alone.
export { validateCommand } from './validate.js';

export const schemaCommand = defineCommand({
  name: 'schema',
  description:
    "print a JSON Schema: the plan file's (for editors, see the README), or every JSON record canary writes",
  args: [argument('which', 'plan or records', { choices: ['plan', 'records'], default: 'plan' })],
  options: {},
});

export const emulatorCommand = defineCommand({
  name: 'emulator',
  description: 'run the built-in relay emulator until Ctrl-C',
  args: [],
  options: {
    port: text('port', 'port to listen on (0 picks a free one)', { short: 'p', default: '8787' }),
    host: text('host', 'address to bind (loopback by default)', { default: '127.0.0.1' }),
    apiKey: text('key', 'API key clients must send (default: $RELAY_API_KEY, else dev-key)'),
    scenario: text('file', 'scenario YAML: per-version behaviour and how it changes'),
    rps: parsed('n', 'simulated requests per second on each route', positiveInt('--rps'), { default: 200 }),
    seed: parsed('n', 'random seed, for reproducible traffic', positiveInt('--seed')),
  },
});

const ROLLBACK_OR_LEAVE = ['rollback', 'leave'] as const;

export const rolloutCommand = defineCommand({
  name: 'rollout',
  description: 'run a plan: register versions, move weights stage by stage, analyse, roll back on failure',
  color: true,
  args: [planArgument],
  options: {
    dryRun: flag('print the schedule and touch nothing'),
    yes: flag(
      'answer yes to every confirmation: resuming, continuing, and pause gates (once their checks pass)',
      {
        short: 'y',
      },
    ),
    approveGates: flag('promote through pause: true gates once their checks pass (no other answers)'),
    waitAtGates: flag(
      'with no terminal: hold at pause: true gates until `canary promote` (or `abort`) from another shell',
    ),
    untilStage: parsed(
      'n',
      'stop after stage n passes its bake, holding traffic there (exit 0); a later run continues',
      positiveInt('--until-stage'),
    ),
    skipEvaluation: flag("emergencies: move traffic without the plan's pre-traffic evaluation (journaled)"),
    onInterrupt: choice(
      'action',
      ROLLBACK_OR_LEAVE,
      'on SIGINT/SIGTERM with nobody to ask: roll back, or leave traffic',
      { default: 'rollback' },
    ),
    timeout: parsed(
      'duration',
      'give up after this long (e.g. 45m), applying --on-timeout; exit 5',
      duration('--timeout'),
    ),
    onTimeout: choice('action', ROLLBACK_OR_LEAVE, 'on --timeout: roll back, or leave traffic where it is', {
      default: 'rollback',
    }),
    outputFile: text('file', 'also write every event as NDJSON to this file'),
    report: text('file', 'write an HTML report of the run to this file at the end, whatever the outcome'),
    output,
    relayUrl: text('url', 'override relay.url from the plan'),
    apiKeyEnv: text('name', "env var holding the API key (default: the plan's relay.api_key_env)"),
    apiKeyFile: text('file', "file holding the API key, over the plan's relay.api_key_file"),
    allowInsecureHttp: relayOptions.allowInsecureHttp,
    stateDir: stateDirHere(
      'journal, lock and control folder (default: $CANARY_STATE_DIR, the nearest .canary/ up from here, else a new one)',
    ),
  },
});

export const simulateCommand = defineCommand({
  name: 'simulate',
  description:
    'run a plan against the built-in emulator in virtual time over many seeds: how often it promotes or rolls back',
  args: [planArgument],
  options: {
    scenario: text('file', 'scenario YAML (default: the plan’s emulator.scenario)'),
    seeds: parsed('n', 'how many simulated rollouts, each with its own seed', positiveInt('--seeds'), {
      default: 100,
    }),
    rps: parsed(
      'n',
      'requests per second on the route (default: the scenario’s, else the plan’s, else 200)',
      positiveInt('--rps'),
    ),
    output: plainOrJson('plain or json (one object)'),
  },
});

export const historyCommand = defineCommand({
  name: 'history',
  description: 'past rollouts from the journal: outcome, duration and the check that decided it',
  args: [],
  options: {
    route: text('route', 'only this route'),
    stateDir: stateDirHere(`state folder ${NEAREST_STATE}`),
    output: plainOrJson('plain or json (NDJSON)'),
  },
});

export const reportCommand = defineCommand({
  name: 'report',
  description:
    'one self-contained HTML page of a rollout: timeline, a chart per judged metric, the plan as run',
  args: [
    argument(
      'run',
      'a journal or --output-file NDJSON, a run id from `canary history`, or a route (default: the latest rollout)',
      { optional: true },
    ),
  ],
  options: {
    out: text('file', 'HTML file to write (default: canary-report-<route>-<run>.html)', { short: 'o' }),
    open: flag('open it in the browser, when there is one'),
    stateDir: stateDirHere(`state folder with the journals ${NEAREST_STATE}`),
  },
});

const limit = (valueName: string, what: string, value: number) =>
  text(valueName, `${what} (default: ${value})`);

export const initCommand = defineCommand({
  name: 'init',
  description:
    'write a commented starter plan; asks in a terminal, every question is also a flag (--yes: defaults, ask nothing)',
  args: [argument('file', 'plan file to write', { default: 'canary.yaml' })],
  options: {
    route: text('alias', 'route id (the model alias clients call)'),
    baseline: text('tag', 'version tag serving now'),
    canary: text('tag', 'version tag to roll out'),
    model: text('model', 'model for both versions, so canary registers them (default: none)'),
    relayUrl: text('url', "relay base URL, or 'emulator' (default: emulator)"),
    stages: text(
      'preset|weights',
      `${STAGE_PRESETS.map((p) => `${p.id} (${p.label})`).join(', ')}, or weights like 5,25,50,100 (default: ${DEFAULT_PRESET})`,
    ),
    bake: text('duration', "bake per stage (default: the preset's)"),
    maxErrorRate: limit('fraction', 'canary error rate limit', DEFAULT_LIMITS.maxErrorRate),
    maxP99Ms: limit('ms', 'canary p99 latency limit', DEFAULT_LIMITS.maxP99Ms),
    maxErrorRatio: limit('ratio', "error rate as a multiple of the baseline's", DEFAULT_LIMITS.maxErrorRatio),
    errorFloor: limit('fraction', "least allowed error rate above the baseline's", DEFAULT_LIMITS.errorFloor),
    maxP50Ratio: limit('ratio', "p50 as a multiple of the baseline's", DEFAULT_LIMITS.maxP50Ratio),
    maxP99Ratio: limit('ratio', "p99 as a multiple of the baseline's", DEFAULT_LIMITS.maxP99Ratio),
    maxCostRatio: limit(
      'ratio',
      "cost per token as a multiple of the baseline's",
      DEFAULT_LIMITS.maxCostRatio,
    ),
    minRequests: limit('n', 'canary requests a stage needs', DEFAULT_LIMITS.minRequests),
    yes: flag('ask nothing: defaults for every question not given as a flag', { short: 'y' }),
    force: flag('overwrite the file if it exists'),
  },
});

export const statusCommand = defineCommand({
  name: 'status',
  description: "show a route's weights and each version's metrics over a window",
  color: true,
  args: [argument('plan', 'plan file whose route to show', { optional: true })],
  options: {
    route: repeated('route', 'route id (model alias), instead of a plan; repeat for several routes'),
    window: text('duration', 'trailing metrics window', { default: '5m' }),
    watch: flag('refresh until Ctrl-C (in place at a terminal, appended snapshots when piped)'),
    interval: parsed('duration', 'how often --watch refreshes', duration('--interval'), { default: 5_000 }),
    wait: flag("block until the route's running rollout ends; exit with its exit code"),
    timeout: parsed('duration', 'with --wait: give up after this long (exit 5)', duration('--timeout')),
    stateDir: stateDirHere(`state folder with the journal ${NEAREST_STATE}`),
    output,
    ...relayOptions,
  },
});

export const completionCommand = defineCommand({
  name: 'completion',
  description: 'print a shell completion script (bash, zsh or fish) for canary',
  args: [argument('shell', 'the shell', { choices: ['bash', 'zsh', 'fish'] })],
  options: {},
});

export const listRoutesCommand = defineCommand({
  name: '__routes',
  description: 'route ids from the state folder, for shell completion',
  hidden: true,
  args: [],
  options: { stateDir: text('dir', 'state folder') },
});

/** What every control command takes (src/control-program.ts; they reach a running rollout). */
const controlOptions = {
  route: text('route', 'the route whose rollout to reach (default: the one running in the state folder)'),
  message: text('text', 'why: written to the journal with who asked (user, host, pid)', { short: 'm' }),
  stateDir: stateDirHere(`state folder ${NEAREST_STATE}`),
  output: choice('mode', ['auto', 'plain', 'json'], 'plain lines, or one JSON answer (auto: plain)', {
    short: 'o',
    default: 'auto',
  }),
};

export const promoteCommand = defineCommand({
  name: 'promote',
  description:
    "end the running rollout's current bake now, once its checks pass (--full: every later stage's bake too; their checks still decide)",
  args: [],
  options: {
    ...controlOptions,
    full: flag("also end every later stage's bake at its first passing check, and answer its gate"),
  },
});

export const controlCommands = [
  promoteCommand,
  defineCommand({
    name: 'pause',
    description:
      'hold the running rollout at its current stage; checks keep running, a failure still rolls back',
    args: [],
    options: controlOptions,
  }),
  defineCommand({
    name: 'resume',
    description: 'release a rollout held by `canary pause` (or the h key)',
    args: [],
    options: controlOptions,
  }),
  defineCommand({
    name: 'abort',
    description: 'roll the running rollout back to the baseline now (it exits 3), saying why with -m',
    args: [],
    options: controlOptions,
  }),
] as const;
