/**
 * `canary validate`'s declaration, apart from the other commands' (./commands.ts re-exports it):
 * its own entry (src/validate-entry.ts), which every `canary validate` runs, then sets up this
 * one command rather than the whole table.
 */
import { argument, defineCommand, text } from './define.js';

export const planArgument = argument('plan', 'plan file (YAML)');

export const validateCommand = defineCommand({
  name: 'validate',
  description: 'check a plan file without touching the network; reports every problem with file:line:column',
  color: true,
  args: [planArgument],
  options: { output: text('mode', 'plain or json', { short: 'o', default: 'plain' }) },
});
