/**
 * Which reporter and whether to colour. Kept apart from the reporters so a command can decide
 * before loading any terminal machinery, and so the rules are tested as a table.
 */

import { Chalk, type ChalkInstance } from 'chalk';
import { isCi } from '../interactive.js';
import type { OutputMode } from './reporter.js';

export type OutputFlag = 'auto' | OutputMode;
type Env = Record<string, string | undefined>;

// One CI rule for output selection and for prompting (src/interactive.ts).
export { isCi } from '../interactive.js';

export function selectOutput(options: {
  flag?: OutputFlag | undefined;
  isTTY: boolean | undefined;
  env: Env;
}): OutputMode {
  const flag = options.flag ?? 'auto';
  if (flag !== 'auto') return flag;
  if (options.isTTY === true && !isCi(options.env) && options.env.TERM !== 'dumb') return 'tty';
  return 'plain';
}

/**
 * Colour on or off. Precedence: `--no-color` (explicit, on this command line) over FORCE_COLOR
 * (`0`/`false` disables, anything else forces, as in Node) over NO_COLOR (any non-empty value)
 * over the terminal itself. In plain mode colour is only used when forced: plain output goes to
 * log files that are read back later, where escapes are noise.
 */
export function colorEnabled(options: {
  flagColor: boolean;
  env: Env;
  isTTY: boolean | undefined;
  mode?: OutputMode | undefined;
}): boolean {
  const { flagColor, env, isTTY, mode } = options;
  if (!flagColor) return false;
  if (mode === 'json') return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false';
  if (mode === 'plain') return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return isTTY === true && env.TERM !== 'dumb';
}

/** A chalk bound to one decision; the global instance guesses from process state, so it is never used. */
export function createChalk(color: boolean): ChalkInstance {
  return new Chalk({ level: color ? 1 : 0 });
}
