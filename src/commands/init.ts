/**
 * `canary init [file]`: writes a commented starter plan. Every question has a flag; in a terminal
 * the unanswered ones are asked, elsewhere (or with --yes) they take their defaults, and the three
 * with no sensible default (route, baseline, canary) must be given, or init exits 2 naming them:
 * it never waits on a prompt nobody can see. The text is checked by the real plan loader before
 * it is written, so what init writes always passes `canary validate`.
 */
import { access, writeFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { CanaryError, ExitCode, UsageError } from '../errors.js';
import { formatPlanDuration } from '../format.js';
import { canPrompt } from '../interactive.js';
import type { Io } from '../io.js';
import { parseDuration } from '../plan/duration.js';
import { parsePlan } from '../plan/load.js';
import { type Answers, checkFlags, gather, type InitOptions } from './init-answers.js';
import { renderPlan } from './init-template.js';

export type { InitOptions } from './init-answers.js';

export const DEFAULT_PLAN_FILE = 'canary.yaml';

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

export async function runInitCommand(opts: InitOptions, io: Io): Promise<number> {
  const name = opts.file ?? DEFAULT_PLAN_FILE;
  const file = resolve(io.cwd, name);
  if (!opts.force && (await exists(file))) {
    throw new UsageError(`${name} already exists; nothing was written.`, {
      hint: 'pass --force to overwrite it, or name another file: canary init other.yaml',
    });
  }
  checkFlags(opts);

  const ask = canPrompt(io) && !opts.yes;
  if (!ask) {
    const missing = (['route', 'baseline', 'canary'] as const).filter((k) => opts[k] === undefined);
    if (missing.length > 0) {
      const flags = missing.map((k) => `--${k}`).join(', ');
      throw new UsageError(
        `missing ${flags}: ${opts.yes ? 'with --yes' : 'without a terminal'} canary init asks nothing, so these must be flags.`,
        { hint: 'canary init --route <alias> --baseline <tag> --canary <tag> --yes' },
      );
    }
  }

  let answers: Answers;
  try {
    answers = await gather(opts, ask ? io.prompter : undefined);
  } catch (error) {
    if (error instanceof Error && error.name === 'ExitPromptError') {
      io.stderr.write('cancelled; nothing was written.\n');
      return ExitCode.Interrupted;
    }
    throw error;
  }

  const text = renderPlan(answers).replaceAll('<this file>', relative(io.cwd, file) || name);
  // The same loader `canary validate` and `rollout` use: init never writes a plan they would refuse.
  parsePlan(text, name, { cwd: io.cwd });
  try {
    await writeFile(file, text, { flag: opts.force ? 'w' : 'wx' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CanaryError(
      code === 'EEXIST'
        ? `${name} appeared while init was asking; nothing was written.`
        : `cannot write ${name}: ${(error as Error).message}`,
      ExitCode.BadInput,
      { hint: code === 'EEXIST' ? 'pass --force to overwrite it' : undefined, cause: error },
    );
  }
  const shown = relative(io.cwd, file) || name;
  io.stdout.write(
    `wrote ${shown}: route ${answers.route}, ${answers.baseline} → ${answers.canary}, stages ${answers.weights.join(' → ')} with ${formatPlanDuration(parseDuration(answers.bake) ?? 0)} bakes.\n` +
      `next: canary validate ${shown} && canary rollout ${shown} --dry-run\n`,
  );
  return ExitCode.Ok;
}
