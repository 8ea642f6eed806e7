/**
 * Registers a declared command (./define.ts) on the full CLI's commander program. The handler
 * is loaded only when its command runs (`load`, an `await import()` in src/cli.ts, which the
 * build reads to make each short command's bundle) and receives the options as declared.
 */
import { Argument, type Command, InvalidArgumentError, Option } from 'commander';
import type { Io } from '../io.js';
import { type CommandOptions, type CommandSpec, FlagValueError, flagsOf } from './define.js';

/** Loads a command lazily, then runs it and records its exit code (src/program.ts). */
export type RunCommand = (load: () => Promise<(io: Io) => Promise<number>>) => Promise<void>;

/** A command's handler, given the options its declaration describes. */
export type Handler<C> = (opts: CommandOptions<C>, io: Io) => Promise<number>;

/** commander words a refused value itself, with the flag and the value, around our message. */
function commanderParser<T>(parse: (value: string) => T) {
  return (value: string): T => {
    try {
      return parse(value);
    } catch (error) {
      if (error instanceof FlagValueError) throw new InvalidArgumentError(error.message);
      throw error;
    }
  };
}

function commanderOption(key: string, spec: CommandSpec['options'][string]): Option {
  const option = new Option(flagsOf(key, spec), spec.description);
  if (option.attributeName() !== key) {
    throw new Error(
      `command table: option ${key} reads as ${option.attributeName()} (flags ${option.flags})`,
    );
  }
  if (spec.choices) option.choices(spec.choices);
  if (spec.parse) option.argParser(commanderParser(spec.parse));
  if (spec.kind === 'repeat') {
    option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
  }
  if (spec.default !== undefined) option.default(spec.default);
  if (spec.hidden) option.hideHelp();
  return option;
}

/** Adds `spec` to `program`; `load` gives its handler when the command runs. */
export function addCommand<C extends CommandSpec>(
  program: Command,
  spec: C,
  runCommand: RunCommand,
  load: () => Promise<Handler<C>>,
): Command {
  const command = program
    .command(spec.name, spec.hidden ? { hidden: true } : {})
    .description(spec.description);
  for (const arg of spec.args) {
    const argument = new Argument(arg.optional ? `[${arg.name}]` : `<${arg.name}>`, arg.description);
    if (arg.choices) argument.choices(arg.choices);
    if (arg.default !== undefined) argument.default(arg.default);
    command.addArgument(argument);
  }
  for (const [key, option] of Object.entries(spec.options)) command.addOption(commanderOption(key, option));
  command.action(async (...received: unknown[]) => {
    const values: Record<string, unknown> = {};
    spec.args.forEach((arg, i) => {
      values[arg.name] = received[i];
    });
    Object.assign(values, command.opts());
    if (spec.color) values.color = program.opts().color;
    await runCommand(async () => {
      const handler = await load();
      // commander filled `values` from this same declaration: the shapes agree by construction.
      return (io) => handler(values as CommandOptions<C>, io);
    });
  });
  return command;
}
