/**
 * The command table's vocabulary: each command declares its arguments and options once, as plain
 * data, and everything else is derived from that declaration: the commander program of the full
 * CLI (./commander.ts), the fast rollback entry's reader (./parse-args.ts, node:util's parseArgs)
 * and the type of the options each command's handler receives (`CommandOptions<typeof spec>`).
 * This module loads nothing: dist/rollback.cjs carries it without commander.
 *
 * An option's long flag is its key in kebab case (`apiKeyEnv` is `--api-key-env`), so the key
 * the handler reads and the flag a user types cannot drift apart.
 */

/** A flag value a parser refused; the message names the flag and says what it takes. */
export class FlagValueError extends Error {
  override name = 'FlagValueError';
}

interface OptionBase {
  description: string;
  /** A one-letter alias, as in `-o, --output`. */
  short?: string;
  /** Shown in help as `<name>`; absent for a switch. */
  valueName?: string;
  /** For help only: the values the option accepts. */
  choices?: readonly string[];
  /** Hidden from help and completion. */
  hidden?: boolean;
}

/** One option: how its value is read, and whether it has a default (then it is never undefined). */
export interface OptionSpec<T = unknown, HasDefault extends boolean = boolean> extends OptionBase {
  kind: 'switch' | 'value' | 'repeat';
  /** Turns the text into the value; throws FlagValueError to refuse it. */
  parse?: (value: string) => T;
  default?: T;
  /** Type-level only: whether `default` is set. */
  readonly hasDefault?: HasDefault;
}

export interface ArgumentSpec<T = unknown, Defined extends boolean = boolean> {
  name: string;
  description: string;
  /** Shown as `[name]`: it may be left out (then it is undefined, or its default). */
  optional: boolean;
  default?: T;
  choices?: readonly string[];
  /** Type-level only: whether the handler always gets a value. */
  readonly defined?: Defined;
}

export type Options = Record<string, OptionSpec>;

export interface CommandSpec<
  A extends readonly ArgumentSpec[] = readonly ArgumentSpec[],
  O extends Options = Options,
> {
  name: string;
  description: string;
  args: A;
  options: O;
  hidden?: boolean;
  /** The handler is given the program's colour setting (`--no-color`) as `color`. */
  color?: true;
}

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type Defined<S> =
  S extends OptionSpec<unknown, infer D> ? D : S extends ArgumentSpec<unknown, infer D> ? D : false;
type ValueOf<S> = S extends OptionSpec<infer T> ? T : S extends ArgumentSpec<infer T> ? T : never;
/** Values that always come (a default, a required argument) as keys; the rest as optional keys. */
type Values<M> = { -readonly [K in keyof M as Defined<M[K]> extends true ? K : never]: ValueOf<M[K]> } & {
  -readonly [K in keyof M as Defined<M[K]> extends true ? never : K]?: ValueOf<M[K]> | undefined;
};
type ArgumentMap<A extends readonly ArgumentSpec[]> = { [S in A[number] as S['name']]: S };

/**
 * What a command's handler receives: its arguments by name, its options by key, and, for a
 * command declared with `color: true`, the program's `--no-color` as `color`.
 */
export type CommandOptions<C> =
  C extends CommandSpec<infer A, infer O>
    ? Simplify<
        Values<ArgumentMap<A>> & Values<O> & (C extends { color: true } ? { color: boolean } : unknown)
      >
    : never;

/** `apiKeyEnv` → `api-key-env`. */
export function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The commander flags string of an option: `-o, --output <mode>`. */
export function flagsOf(key: string, spec: OptionBase): string {
  const long = `--${kebab(key)}${spec.valueName ? ` <${spec.valueName}>` : ''}`;
  return spec.short ? `-${spec.short}, ${long}` : long;
}

export function defineCommand<const S extends CommandSpec>(spec: S): S {
  return spec;
}

type Extra = Pick<OptionBase, 'short' | 'hidden'>;

/** A switch: `true` when given, else undefined. */
export function flag(description: string, extra: Extra = {}): OptionSpec<boolean, false> {
  return { kind: 'switch', description, ...extra };
}

/** A text value. */
export function text(valueName: string, description: string, extra?: Extra): OptionSpec<string, false>;
export function text(
  valueName: string,
  description: string,
  extra: Extra & { default: string },
): OptionSpec<string, true>;
export function text(
  valueName: string,
  description: string,
  extra: Extra & { default?: string } = {},
): OptionSpec<string> {
  return { kind: 'value', valueName, description, ...extra };
}

/** One of a fixed set of words. */
export function choice<const C extends string>(
  valueName: string,
  choices: readonly C[],
  description: string,
  extra: Extra & { default: C },
): OptionSpec<C, true> {
  return { kind: 'value', valueName, description, choices, ...extra };
}

/** A value turned into something else by `parse` (which names the flag when it refuses). */
export function parsed<T>(
  valueName: string,
  description: string,
  parse: (value: string) => T,
  extra?: Extra,
): OptionSpec<T, false>;
export function parsed<T>(
  valueName: string,
  description: string,
  parse: (value: string) => T,
  extra: Extra & { default: T },
): OptionSpec<T, true>;
export function parsed<T>(
  valueName: string,
  description: string,
  parse: (value: string) => T,
  extra: Extra & { default?: T } = {},
): OptionSpec<T> {
  return { kind: 'value', valueName, description, parse, ...extra };
}

/** A value that may be given more than once: every value, in order. */
export function repeated(valueName: string, description: string): OptionSpec<string[], false> {
  return { kind: 'repeat', valueName, description };
}

/** A positional argument. */
export function argument<const N extends string>(
  name: N,
  description: string,
): ArgumentSpec<string, true> & { name: N };
export function argument<const N extends string>(
  name: N,
  description: string,
  extra: { optional: true },
): ArgumentSpec<string, false> & { name: N };
export function argument<const N extends string>(
  name: N,
  description: string,
  extra: { default: string },
): ArgumentSpec<string, true> & { name: N };
export function argument<const N extends string, const C extends string>(
  name: N,
  description: string,
  extra: { choices: readonly C[] },
): ArgumentSpec<C, true> & { name: N };
/** One of `choices`, `default` when left out. */
export function argument<const N extends string, const C extends string>(
  name: N,
  description: string,
  extra: { choices: readonly C[]; default: NoInfer<C> },
): ArgumentSpec<C, true> & { name: N };
export function argument(
  name: string,
  description: string,
  extra: { optional?: true; default?: string; choices?: readonly string[] } = {},
): ArgumentSpec {
  return {
    name,
    description,
    optional: extra.optional === true || extra.default !== undefined,
    ...(extra.default !== undefined ? { default: extra.default } : {}),
    ...(extra.choices ? { choices: extra.choices } : {}),
  };
}

/** Parses a positive integer flag value, naming the flag on error. */
export function positiveInt(flag: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) <= 0) {
      throw new FlagValueError(`${flag} takes a whole number above 0, got '${value}'.`);
    }
    return Number(value);
  };
}
