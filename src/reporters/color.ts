/**
 * Whether to colour, and the few styles a short command paints with, without loading chalk or
 * ci-info: `canary validate` in a hook or a CI step (a pipe: no colour) built chalk's style tables
 * and read ci-info's vendor table for nothing, ≈ 0.4 ms of its start (docs/benchmarks.md). When
 * colour is on, the styles are chalk's (./chalk.ts's createChalk, loaded then).
 */
import type { OutputMode } from './reporter.js';

type Env = Record<string, string | undefined>;

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

/** The styles validate's messages use: chalk's when colouring, else the text unchanged. */
export interface Paint {
  bold(text: string): string;
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
}

const same = (text: string) => text;
/** What chalk at level 0 gives for a string: the string. */
const PLAIN: Paint = { bold: same, green: same, red: same, yellow: same };

export async function paint(color: boolean): Promise<Paint> {
  return color ? (await import('./chalk.js')).createChalk(true) : PLAIN;
}
