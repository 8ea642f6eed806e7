/**
 * Entry point: `main(argv, io)` parses flags and runs one command, returning its exit code.
 * Command modules are imported lazily so each command pays only for what it uses. `run()`
 * (runProcess in src/run-process.ts) is the only place canary calls `process.exit`. The
 * program's settings and the `rollback` command live in src/program.ts; the fast rollback entry
 * (src/rollback-entry.ts) reads the same flags and hands the rest here.
 */
import { Argument, type Command, InvalidArgumentError, Option } from 'commander';
import type { EmulatorCommandOptions } from './commands/emulator.js';
import { addControlCommands } from './control-program.js';
import { addHelpExamples } from './help-examples.js';
import type { Io } from './io.js';
import { parseDuration } from './plan/duration.js';
import { DEFAULT_LIMITS, DEFAULT_PRESET, STAGE_PRESETS } from './plan/presets.js';
import {
  addRollbackCommand,
  createProgram,
  HELP_WIDTH,
  outputOption,
  positiveInt,
  runProgram,
} from './program.js';
// Static: a tiny module, and the light status bundle stubs every lazy import but its own.
import { proxySettings } from './relay/proxy.js';
import { reportError, runProcess } from './run-process.js';

export type { OutputFlag } from './program.js';
export { HELP_WIDTH, positiveInt, reportError };

/** Parses a duration flag (`90s`, `45m`, `1h30m`), naming the flag on error. */
function durationFlag(flag: string) {
  return (value: string): number => {
    const ms = parseDuration(value);
    if (ms === undefined || ms <= 0) {
      throw new InvalidArgumentError(`${flag} takes a duration like 90s, 45m or 1h30m, got '${value}'.`);
    }
    return ms;
  };
}

function buildProgram(io: Io, setResult: (code: number) => void): Command {
  const { program, runCommand } = createProgram(io, setResult);

  program
    .command('validate')
    .description(
      'check a plan file without touching the network; reports every problem with file:line:column',
    )
    .argument('<plan>', 'plan file (YAML)')
    .option('-o, --output <mode>', 'plain or json', 'plain')
    .action(async (plan: string, opts: { output: string }) => {
      await runCommand(async () => {
        const { runValidate } = await import('./commands/validate.js');
        return (io) => runValidate({ plan, output: opts.output, color: program.opts().color }, io);
      });
    });

  program
    .command('schema')
    .description("print the plan file's JSON Schema, for editors (see the README's Editors section)")
    .action(async () => {
      await runCommand(async () => {
        const { runSchemaCommand } = await import('./commands/schema.js');
        return (io) => runSchemaCommand(io);
      });
    });

  program
    .command('emulator')
    .description('run the built-in relay emulator until Ctrl-C')
    .option('-p, --port <port>', 'port to listen on (0 picks a free one)', '8787')
    .option('--host <host>', 'address to bind (loopback by default)', '127.0.0.1')
    .option('--api-key <key>', 'API key clients must send (default: $RELAY_API_KEY, else dev-key)')
    .option('--scenario <file>', 'scenario YAML: per-version behaviour and how it changes')
    .option('--rps <n>', 'simulated requests per second on each route', positiveInt('--rps'), 200)
    .option('--seed <n>', 'random seed, for reproducible traffic', positiveInt('--seed'))
    .action(async (opts: EmulatorCommandOptions) => {
      await runCommand(async () => {
        const { runEmulatorCommand } = await import('./commands/emulator.js');
        return (io) => runEmulatorCommand(opts, io);
      });
    });

  program
    .command('rollout')
    .description('run a plan: register versions, move weights stage by stage, analyse, roll back on failure')
    .argument('<plan>', 'plan file (YAML)')
    .option('--dry-run', 'print the schedule and touch nothing')
    .option(
      '-y, --yes',
      'answer yes to every confirmation: resuming, continuing, and pause gates (once their checks pass)',
    )
    .option('--approve-gates', 'promote through pause: true gates once their checks pass (no other answers)')
    .option(
      '--wait-at-gates',
      'with no terminal: hold at pause: true gates until `canary promote` (or `abort`) from another shell',
    )
    .option(
      '--until-stage <n>',
      'stop after stage n passes its bake, holding traffic there (exit 0); a later run continues',
      positiveInt('--until-stage'),
    )
    .option(
      '--skip-evaluation',
      "emergencies: move traffic without the plan's pre-traffic evaluation (journaled)",
    )
    .addOption(
      new Option(
        '--on-interrupt <action>',
        'on SIGINT/SIGTERM with nobody to ask: roll back, or leave traffic',
      )
        .choices(['rollback', 'leave'])
        .default('rollback'),
    )
    .option(
      '--timeout <duration>',
      'give up after this long (e.g. 45m), applying --on-timeout; exit 5',
      durationFlag('--timeout'),
    )
    .addOption(
      new Option('--on-timeout <action>', 'on --timeout: roll back, or leave traffic where it is')
        .choices(['rollback', 'leave'])
        .default('rollback'),
    )
    .option('--output-file <file>', 'also write every event as NDJSON to this file')
    .option(
      '--report <file>',
      'write an HTML report of the run to this file at the end, whatever the outcome',
    )
    .addOption(outputOption())
    .option('--relay-url <url>', 'override relay.url from the plan')
    .option('--api-key-env <name>', "env var holding the API key (default: the plan's relay.api_key_env)")
    .option('--api-key-file <file>', "file holding the API key, over the plan's relay.api_key_file")
    .option('--allow-insecure-http', 'allow plain http:// to a non-loopback relay')
    .option(
      '--state-dir <dir>',
      'journal, lock and control folder (default: $CANARY_STATE_DIR, the nearest .canary/ up from here, else a new one)',
    )
    .action(async (plan: string, opts: Record<string, unknown>) => {
      await runCommand(async () => {
        const { runRolloutCommand } = await import('./commands/rollout.js');
        return (io) => runRolloutCommand({ plan, ...opts, color: program.opts().color } as never, io);
      });
    });

  program
    .command('simulate')
    .description(
      'run a plan against the built-in emulator in virtual time over many seeds: how often it promotes or rolls back',
    )
    .argument('<plan>', 'plan file (YAML)')
    .option('--scenario <file>', 'scenario YAML (default: the plan’s emulator.scenario)')
    .option('--seeds <n>', 'how many simulated rollouts, each with its own seed', positiveInt('--seeds'), 100)
    .option(
      '--rps <n>',
      'requests per second on the route (default: the scenario’s, else the plan’s, else 200)',
      positiveInt('--rps'),
    )
    .addOption(
      new Option('-o, --output <mode>', 'plain or json (one object)')
        .choices(['plain', 'json'])
        .default('plain'),
    )
    .action(async (plan: string, opts: Record<string, unknown>) => {
      await runCommand(async () => {
        const { runSimulateCommand } = await import('./commands/simulate.js');
        return (io) => runSimulateCommand({ plan, ...opts } as never, io);
      });
    });

  addRollbackCommand(program, runCommand, async (withPlan) => {
    const { runRollbackCommand } = await import('./commands/rollback.js');
    const readPlan = withPlan ? (await import('./commands/rollback-plan.js')).readRollbackPlan : undefined;
    const { promptForRoute } = await import('./terminal/route-prompt.js');
    // The socket transport knows no proxies: with one configured, rollback goes through undici's.
    const transport = proxySettings()
      ? (await import('./relay/undici-transport.js')).undiciTransport
      : undefined;
    return (opts, io) => runRollbackCommand(opts, io, { readPlan, chooseRoute: promptForRoute, transport });
  });

  program
    .command('history')
    .description('past rollouts from the journal: outcome, duration and the check that decided it')
    .option('--route <route>', 'only this route')
    .option(
      '--state-dir <dir>',
      'state folder (default: $CANARY_STATE_DIR, else the nearest .canary/ up from here)',
    )
    .addOption(
      new Option('-o, --output <mode>', 'plain or json (NDJSON)').choices(['plain', 'json']).default('plain'),
    )
    .action(async (opts: Record<string, unknown>) => {
      await runCommand(async () => {
        const { runHistoryCommand } = await import('./commands/history.js');
        return (io) => runHistoryCommand(opts as never, io);
      });
    });

  program
    .command('report')
    .description(
      'one self-contained HTML page of a rollout: timeline, a chart per judged metric, the plan as run',
    )
    .argument(
      '[run]',
      'a journal or --output-file NDJSON, a run id from `canary history`, or a route (default: the latest rollout)',
    )
    .option('-o, --out <file>', 'HTML file to write (default: canary-report-<route>-<run>.html)')
    .option('--open', 'open it in the browser, when there is one')
    .option(
      '--state-dir <dir>',
      'state folder with the journals (default: $CANARY_STATE_DIR, else the nearest .canary/ up from here)',
    )
    .action(async (run: string | undefined, opts: Record<string, unknown>) => {
      await runCommand(async () => {
        const { runReportCommand } = await import('./commands/report.js');
        return (io) => runReportCommand({ run, ...opts } as never, io);
      });
    });

  program
    .command('init')
    .description(
      'write a commented starter plan; asks in a terminal, every question is also a flag (--yes: defaults, ask nothing)',
    )
    .argument('[file]', 'plan file to write', 'canary.yaml')
    .option('--route <alias>', 'route id (the model alias clients call)')
    .option('--baseline <tag>', 'version tag serving now')
    .option('--canary <tag>', 'version tag to roll out')
    .option('--model <model>', 'model for both versions, so canary registers them (default: none)')
    .option('--relay-url <url>', "relay base URL, or 'emulator' (default: emulator)")
    .option(
      '--stages <preset|weights>',
      `${STAGE_PRESETS.map((p) => `${p.id} (${p.label})`).join(', ')}, or weights like 5,25,50,100 (default: ${DEFAULT_PRESET})`,
    )
    .option('--bake <duration>', "bake per stage (default: the preset's)")
    .option(
      '--max-error-rate <fraction>',
      `canary error rate limit (default: ${DEFAULT_LIMITS.maxErrorRate})`,
    )
    .option('--max-p99-ms <ms>', `canary p99 latency limit (default: ${DEFAULT_LIMITS.maxP99Ms})`)
    .option(
      '--max-error-ratio <ratio>',
      `error rate as a multiple of the baseline's (default: ${DEFAULT_LIMITS.maxErrorRatio})`,
    )
    .option(
      '--error-floor <fraction>',
      `least allowed error rate above the baseline's (default: ${DEFAULT_LIMITS.errorFloor})`,
    )
    .option(
      '--max-p50-ratio <ratio>',
      `p50 as a multiple of the baseline's (default: ${DEFAULT_LIMITS.maxP50Ratio})`,
    )
    .option(
      '--max-p99-ratio <ratio>',
      `p99 as a multiple of the baseline's (default: ${DEFAULT_LIMITS.maxP99Ratio})`,
    )
    .option(
      '--max-cost-ratio <ratio>',
      `cost per token as a multiple of the baseline's (default: ${DEFAULT_LIMITS.maxCostRatio})`,
    )
    .option('--min-requests <n>', `canary requests a stage needs (default: ${DEFAULT_LIMITS.minRequests})`)
    .option('-y, --yes', 'ask nothing: defaults for every question not given as a flag')
    .option('--force', 'overwrite the file if it exists')
    .action(async (file: string, opts: Record<string, unknown>) => {
      await runCommand(async () => {
        const { runInitCommand } = await import('./commands/init.js');
        return (io) => runInitCommand({ file, ...opts } as never, io);
      });
    });

  program
    .command('status')
    .description("show a route's weights and each version's metrics over a window")
    .argument('[plan]', 'plan file whose route to show')
    .option(
      '--route <route>',
      'route id (model alias), instead of a plan; repeat for several routes',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option('--window <duration>', 'trailing metrics window', '5m')
    .option('--watch', 'refresh until Ctrl-C (in place at a terminal, appended snapshots when piped)')
    .option('--interval <duration>', 'how often --watch refreshes', durationFlag('--interval'), 5_000)
    .option('--wait', "block until the route's running rollout ends; exit with its exit code")
    .option(
      '--timeout <duration>',
      'with --wait: give up after this long (exit 5)',
      durationFlag('--timeout'),
    )
    .option(
      '--state-dir <dir>',
      'state folder with the journal (default: $CANARY_STATE_DIR, else the nearest .canary/ up from here)',
    )
    .addOption(outputOption())
    .option('--relay-url <url>', 'relay base URL ending in /v1 (default: the plan, else $CANARY_RELAY_URL)')
    .option('--api-key-env <name>', 'env var holding the API key', 'RELAY_API_KEY')
    .option('--api-key-file <file>', 'file holding the API key (used when the env var is unset)')
    .option('--allow-insecure-http', 'allow plain http:// to a non-loopback relay')
    .action(async (plan: string | undefined, opts: Record<string, unknown>) => {
      await runCommand(async () => {
        const { runStatusCommand } = await import('./commands/status.js');
        // Through a forwarding proxy only undici will do; bin/canary.cjs runs this full CLI then.
        const transport = proxySettings()
          ? (await import('./relay/undici-transport.js')).undiciTransport
          : undefined;
        return (io) =>
          runStatusCommand({ plan, ...opts, transport, color: program.opts().color } as never, io);
      });
    });

  addControlCommands(program, runCommand);

  program
    .command('completion')
    .description('print a shell completion script (bash, zsh or fish) for canary')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh', 'fish']))
    .action(async (shell: 'bash' | 'zsh' | 'fish') => {
      await runCommand(async () => {
        const { completionScript } = await import('./completion.js');
        return async (io) => {
          io.stdout.write(completionScript(shell, program));
          return 0;
        };
      });
    });

  program
    .command('__routes', { hidden: true })
    .description('route ids from the state folder, for shell completion')
    .option('--state-dir <dir>', 'state folder')
    .action(async (opts: { stateDir?: string }) => {
      await runCommand(async () => {
        const { runListRoutes } = await import('./commands/list-routes.js');
        return (io) => runListRoutes(opts, io);
      });
    });

  addHelpExamples(program);
  return program;
}

/**
 * Every argv that only prints help: scripts/build.mjs runs each through `main` and stores the
 * pages in dist/help.json, which bin/canary.cjs prints without loading the CLI.
 */
export function helpRequests(io: Io): string[][] {
  const names = buildProgram(io, () => {}).commands.map((c) => c.name());
  return [
    ['--help'],
    ['-h'],
    ['help'],
    ...names.flatMap((name) => [
      [name, '--help'],
      [name, '-h'],
      ['help', name],
    ]),
  ];
}

/** The command table, as `--help` and `canary completion` read it (for tests). */
export function commandTable(io: Io): Command {
  return buildProgram(io, () => {});
}

export function main(argv: string[], io: Io): Promise<number> {
  return runProgram(buildProgram, argv, io);
}

export function run(): Promise<void> {
  return runProcess(main);
}
