/**
 * The menu Ctrl-C opens during a rollout. Nothing is changed until an answer is given; a
 * second Ctrl-C while the menu is open is the impatient answer: roll back at once.
 */
import type { Prompter } from '../io.js';
import { promptEnd } from './prompt-errors.js';

export type InterruptChoice = 'rollback' | 'leave' | 'continue';

export interface InterruptMenuContext {
  /** Where traffic is now, e.g. `stage 2/4 (canary 25%)`. */
  where: string;
  prompter: Prompter;
  /** Aborted when the run ends on its own while the menu is open. */
  signal: AbortSignal;
}

/** Resolves `continue` when the run withdrew the question (there is nothing left to decide). */
export async function askInterrupt(ctx: InterruptMenuContext): Promise<InterruptChoice> {
  try {
    return await ctx.prompter.select<InterruptChoice>(
      {
        message: `Interrupted at ${ctx.where}. What now? (Ctrl-C again rolls back)`,
        choices: [
          {
            name: 'roll back now',
            value: 'rollback',
            description: 'put the baseline back at 100% and exit (130)',
          },
          {
            name: 'leave traffic at this stage and exit',
            value: 'leave',
            description: 'change nothing; `canary rollback` restores the baseline later (exit 130)',
          },
          { name: 'continue the rollout', value: 'continue', description: 'as if nothing happened' },
        ],
        default: 'rollback',
      },
      { signal: ctx.signal },
    );
  } catch (error) {
    const end = promptEnd(error);
    if (end === 'ctrl_c') return 'rollback';
    if (end === 'aborted') return 'continue';
    throw error;
  }
}

/** `q`: quitting mid-rollout leaves the canary serving, so it is confirmed first (default: no). */
export async function confirmQuit(ctx: InterruptMenuContext): Promise<boolean> {
  try {
    return await ctx.prompter.confirm(
      {
        message: `Quit and leave traffic at ${ctx.where}? (the canary keeps serving; exit 130)`,
        default: false,
      },
      { signal: ctx.signal },
    );
  } catch (error) {
    if (promptEnd(error) === 'other') throw error;
    return false;
  }
}
