/**
 * The question bare `canary rollback` asks when the journal holds several routes it could mean.
 * Only the full CLI offers it (src/cli.ts): dist/rollback.cjs carries no prompt library and
 * hands the journal form to the full CLI whenever someone could be asked (src/rollback-entry.ts).
 */
import type { ChooseRoute } from '../journal/target.js';

export const promptForRoute: ChooseRoute = async (choices) => {
  const { select } = await import('@inquirer/prompts');
  return select({ message: 'Roll back which route?', choices }, { output: process.stderr });
};
