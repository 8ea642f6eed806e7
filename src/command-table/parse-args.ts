/**
 * Reads a declared command's options with node:util's parseArgs, for the fast entries that carry
 * no commander (src/rollback-entry.ts, src/status-route-entry.ts): the same declaration the full
 * CLI registers with commander, so the two cannot disagree on a flag's name, alias or default.
 *
 * It takes only what it can read exactly as commander would: options spelled out, no help, and
 * no positional argument unless the caller reads them (`{ positionals: true }`: validate's plan;
 * `rollback plan.yaml` needs the plan loader, so rollback does not). Anything else (an unknown
 * or misspelled flag, a value that starts with '-', a value outside its choices, an argument
 * too many or missing, `--`) returns undefined, and the caller hands the argv to the full CLI, whose commander
 * words the help or the error. test/commands/rollback-args.test.ts and status-args.test.ts hold
 * the two to the same options for every argv this takes.
 */
import { parseArgs } from 'node:util';
import { type CommandOptions, type CommandSpec, kebab } from './define.js';

type ParseArgsOptions = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

/**
 * `argv` (starting with the command's name) as `spec`'s handler would get it, or undefined.
 * With `positionals`, the arguments the command declares are read too, in order.
 */
export function readDeclaredOptions<C extends CommandSpec>(
  spec: C,
  argv: readonly string[],
  { positionals = false }: { positionals?: boolean } = {},
): CommandOptions<C> | undefined {
  if (argv[0] !== spec.name) return undefined;
  // After `--` everything is an argument: commander and parseArgs agree on that, but a file
  // named like a flag is rare enough to leave to commander.
  if (positionals && argv.includes('--')) return undefined;
  const config: ParseArgsOptions = { 'no-color': { type: 'boolean' } };
  for (const [key, option] of Object.entries(spec.options)) {
    // Every occurrence is kept: commander checks each one (a bad value refuses the argv even if
    // a later one would do), and the last one given is the one that counts.
    config[kebab(key)] = {
      type: option.kind === 'switch' ? 'boolean' : 'string',
      multiple: true,
      ...(option.short ? { short: option.short } : {}),
    };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv.slice(1), options: config, strict: true, allowPositionals: true });
  } catch {
    return undefined;
  }
  if (!positionals && parsed.positionals.length > 0) return undefined;
  const values = readArguments(spec, parsed.positionals);
  if (values === undefined) return undefined;
  for (const [key, option] of Object.entries(spec.options)) {
    const given = parsed.values[kebab(key)] as (string | boolean)[] | undefined;
    if (given === undefined) {
      values[key] = option.default;
      continue;
    }
    const read: unknown[] = [];
    for (const raw of given) {
      if (typeof raw !== 'string') {
        read.push(raw);
        continue;
      }
      if (option.choices && !option.choices.includes(raw)) return undefined;
      try {
        read.push(option.parse ? option.parse(raw) : raw);
      } catch {
        return undefined;
      }
    }
    values[key] = option.kind === 'repeat' ? read : read.at(-1);
  }
  if (spec.color) values.color = parsed.values['no-color'] !== true;
  // Read from this same declaration: the shape is the one CommandOptions<C> describes.
  return values as CommandOptions<C>;
}

/**
 * The declared arguments, in order, as commander gives them (defaults for those left out): one
 * too many, a required one missing, a value outside its choices or one that looks like a flag (`-`, `-x`: commander's
 * reading of those is its own) is left to commander.
 */
function readArguments(spec: CommandSpec, given: readonly string[]): Record<string, unknown> | undefined {
  if (given.length > spec.args.length) return undefined;
  const values: Record<string, unknown> = {};
  for (const [i, arg] of spec.args.entries()) {
    const raw = given[i];
    if (raw === undefined) {
      if (!arg.optional) return undefined;
      values[arg.name] = arg.default;
      continue;
    }
    if (raw.startsWith('-') || (arg.choices && !arg.choices.includes(raw))) return undefined;
    values[arg.name] = raw;
  }
  return values;
}
