/**
 * Entry point: `main(argv, io)` parses flags and runs one command, returning its exit code.
 * Command modules are imported lazily so each command pays only for what it uses. `run()`
 * (runProcess in src/run-process.ts) is the only place canary calls `process.exit`. The
 * program's settings live in src/program.ts and every command's flags in src/command-table/,
 * which the fast rollback entry (src/rollback-entry.ts) reads too; it hands the rest here.
 */
import type { Command } from 'commander';
import { addCommand, type Handler } from './command-table/commander.js';
import {
  completionCommand,
  emulatorCommand,
  historyCommand,
  initCommand,
  listRoutesCommand,
  reportCommand,
  rolloutCommand,
  schemaCommand,
  simulateCommand,
  statusCommand,
  validateCommand,
} from './command-table/commands.js';
import { type CommandSpec, positiveInt } from './command-table/define.js';
import { rollbackCommand } from './command-table/rollback.js';
import { addControlCommands } from './control-program.js';
import { addHelpExamples } from './help-examples.js';
import type { Io, Prompter } from './io.js';
import { createProgram, HELP_WIDTH, runProgram } from './program.js';
// Static: a tiny module, and the light status bundle stubs every lazy import but its own.
import { proxySettings } from './relay/proxy.js';
import { reportError, runProcess } from './run-process.js';

export { HELP_WIDTH, positiveInt, reportError };

/**
 * The socket transports know no proxies: with a forwarding proxy configured (src/relay/proxy.ts)
 * a command that reaches the relay goes through undici's (bin/canary.cjs runs this full CLI then).
 */
async function proxiedTransport() {
  return proxySettings() ? (await import('./relay/undici-transport.js')).undiciTransport : undefined;
}

/** The program with every command, or with the one named `only` (see run()). */
function buildProgram(io: Io, setResult: (code: number) => void, only?: string): Command {
  const { program, runCommand } = createProgram(io, setResult);
  const add = <C extends CommandSpec>(spec: C, load: () => Promise<Handler<C>>) => {
    if (only === undefined || spec.name === only) addCommand(program, spec, runCommand, load);
  };

  add(validateCommand, async () => (await import('./commands/validate.js')).runValidate);
  add(schemaCommand, async () => {
    const { runSchemaCommand } = await import('./commands/schema.js');
    return (opts, io) => runSchemaCommand(io, opts.which);
  });
  add(emulatorCommand, async () => {
    const { runEmulatorCommand } = await import('./commands/emulator.js');
    return (opts, io) => runEmulatorCommand(opts, io);
  });
  add(rolloutCommand, async () => (await import('./commands/rollout.js')).runRolloutCommand);
  add(simulateCommand, async () => (await import('./commands/simulate.js')).runSimulateCommand);
  add(rollbackCommand, async () => {
    const { runRollbackCommand } = await import('./commands/rollback.js');
    const transport = await proxiedTransport();
    return async (opts, io) => {
      // Only the plan form needs the plan loader.
      const readPlan =
        opts.plan !== undefined ? (await import('./commands/rollback-plan.js')).readRollbackPlan : undefined;
      return runRollbackCommand(opts, io, { readPlan, transport });
    };
  });
  add(historyCommand, async () => (await import('./commands/history.js')).runHistoryCommand);
  add(reportCommand, async () => (await import('./commands/report.js')).runReportCommand);
  add(initCommand, async () => (await import('./commands/init.js')).runInitCommand);
  add(statusCommand, async () => {
    const { runStatusCommand } = await import('./commands/status.js');
    const transport = await proxiedTransport();
    return (opts, io) => runStatusCommand({ ...opts, transport }, io);
  });
  addControlCommands(program, runCommand, only);
  add(completionCommand, async () => {
    const { completionScript } = await import('./completion.js');
    return async ({ shell }, io) => {
      io.stdout.write(completionScript(shell, program));
      return 0;
    };
  });
  add(listRoutesCommand, async () => (await import('./commands/list-routes.js')).runListRoutes);

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

/**
 * Io's prompter for a person at a terminal: src/terminal/prompter.ts (inquirer on the redacting
 * stderr), loaded on the first question, here, so the light command bundles leave it out.
 */
function askAtTerminal(io: Io): Prompter {
  let loaded: Promise<Prompter> | undefined;
  const real = () => {
    loaded ??= import('./terminal/prompter.js').then((m) => m.terminalPrompter(io));
    return loaded;
  };
  return {
    canAsk: true,
    select: async (question, options) => (await real()).select(question, options),
    confirm: async (question, options) => (await real()).confirm(question, options),
    input: async (question, options) => (await real()).input(question, options),
  };
}

/**
 * Runs one command line. `only` names the command argv starts with, when the caller knows it
 * (see run()): the program is then built with that command alone. Any other argv gets them all.
 */
export function main(argv: string[], io: Io, only?: string): Promise<number> {
  // A test's own prompter is kept; an Io built by hand (the build's help capture) asks nothing.
  const asking =
    typeof io.withPrompter === 'function' && !io.prompter.canAsk ? io.withPrompter(askAtTerminal) : io;
  const one = only !== undefined && argv[0] === only ? only : undefined;
  return runProgram((io, setResult) => buildProgram(io, setResult, one), argv, asking);
}

/**
 * The process's entry. bin/canary.cjs runs a command's own bundle (scripts/build.mjs) only when
 * the first argument names that command, and says so with `only`: commander then declares that
 * command alone, not all twenty (≈ 1 ms of `canary validate`), and parses, refuses and prints
 * its help exactly as the whole program would, since a command's flags, errors and help page
 * are its own. (`completion` must see every command: it never has a bundle of its own.)
 */
export function run(only?: string): Promise<void> {
  return runProcess((argv, io) => main(argv, io, only));
}
