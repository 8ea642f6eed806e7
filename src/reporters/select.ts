/**
 * Which reporter and whether to colour. Kept apart from the reporters so a command can decide
 * before loading any terminal machinery, and so the rules are tested as a table.
 */

import { isCi } from '../interactive.js';
import type { OutputMode } from './reporter.js';

// The colour rule lives in ./color.ts and chalk in ./chalk.ts, so a command can decide whether to
// colour without loading chalk or ci-info.
export { createChalk } from './chalk.js';
export { colorEnabled } from './color.js';

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
