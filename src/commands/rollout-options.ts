/** The flags of `canary rollout`, as its declaration in src/command-table/commands.ts gives them. */
import type { rolloutCommand } from '../command-table/commands.js';
import type { CommandOptions } from '../command-table/define.js';

export type RolloutCommandOptions = CommandOptions<typeof rolloutCommand>;
