/**
 * What `canary rollout` decides before it opens anything: flags that contradict each other or
 * the plan, gates nobody could answer, the prompt files, the masks, where output goes.
 */

import type { Plan, StagePlan } from '../domain/plan.js';
import { UsageError } from '../errors.js';
import { canPrompt } from '../interactive.js';
import type { Io } from '../io.js';
import { type ResolvedTarget, resolveTargets } from '../notify/webhook.js';
import { maySendMasks } from '../reporters/github.js';
import type { OutputMode } from '../reporters/reporter.js';
import { colorEnabled, selectOutput } from '../reporters/select.js';
import type { RolloutCommandOptions } from './rollout-options.js';
import { maskSecrets } from './rollout-outputs.js';

/** What the flags and the terminal decide before anything opens. */
export interface Decided {
  interactive: boolean;
  gated: StagePlan[];
  prompts: Awaited<ReturnType<typeof import('../evaluation/prompts.js').loadPrompts>> | undefined;
  webhooks: ResolvedTarget[];
  mode: OutputMode;
  color: boolean;
}

/**
 * The checks that need no connection: flags that contradict each other or the plan, gates
 * nobody could answer, prompt files; then the masks, the output mode and the colour.
 */
export async function decide(plan: Plan, opts: RolloutCommandOptions, io: Io): Promise<Decided> {
  // Never a prompt in CI or without a terminal: every question needs a flag that answers it.
  const interactive = canPrompt(io);
  if (opts.waitAtGates && opts.approveGates) {
    throw new UsageError('--wait-at-gates and --approve-gates each answer the gates: choose one.');
  }
  // --wait-at-gates leaves the gates to `canary promote`; --yes then answers only the rest.
  const approveGates = opts.approveGates === true || (opts.yes === true && !opts.waitAtGates);
  // A gate at the --until-stage is never asked: the run stops there.
  const lastIndex = (opts.untilStage ?? plan.stages.length) - 1;
  const gated = plan.stages.filter((s) => s.pause && s.index < lastIndex);
  // Refuse before touching anything, rather than hang or fail at stage 3 an hour from now.
  if (gated.length > 0 && !interactive && !approveGates && !opts.waitAtGates) {
    throw new UsageError(
      `this plan has a pause: true gate at stage ${gated.map((s) => s.index + 1).join(', ')} and there is no terminal to ask (stdin/stdout is not a TTY, or CI is set).`,
      {
        hint: 'pass --approve-gates (or --yes) to promote through gates once their checks pass, --wait-at-gates to hold there until `canary promote` from another shell, or stop before the gate with --until-stage.',
      },
    );
  }
  if (opts.untilStage !== undefined && opts.untilStage > plan.stages.length) {
    throw new UsageError(
      `--until-stage ${opts.untilStage} is past the plan's last stage (it has ${plan.stages.length}).`,
    );
  }
  // Prompt files are read before anything is touched: a bad line is exit 2 with file:line.
  const prompts =
    plan.evaluation && !opts.skipEvaluation
      ? await (await import('../evaluation/prompts.js')).loadPrompts(plan.evaluation)
      : undefined;
  const maskOut = opts.output === 'json' ? io.stderr : io.stdout;
  if (maySendMasks(io.env, maskOut.isTTY === true)) await maskSecrets(plan, io, maskOut);
  const webhooks = resolveTargets(plan.notify, io);
  const isTTY = io.stdout.isTTY === true;
  const mode = selectOutput({ flag: opts.output, isTTY, env: io.env });
  const color = colorEnabled({ flagColor: opts.color, env: io.env, isTTY, mode });
  return { interactive, gated, prompts, webhooks, mode, color };
}
