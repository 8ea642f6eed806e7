/**
 * The fast entry for `canary rollback` (bin/canary.cjs loads dist/rollback.cjs when the first
 * argument is `rollback`): the same rollback command as src/cli.ts runs, without the rest of
 * the CLI and without commander, so an incident pays only for what a rollback runs.
 *
 * Its flags are read with node:util's parseArgs from the same declaration the full CLI gives
 * commander (src/command-table/rollback.ts). Whatever that does not take (a
 * plan file, which needs the plan loader; help; a mistyped flag, which deserves commander's
 * message) is handed, unchanged, to the full CLI, which bin/canary.cjs loads only then; so is
 * the journal form at a terminal, where it may ask which route is meant.
 */

import { readDeclaredOptions } from './command-table/parse-args.js';
import { rollbackCommand } from './command-table/rollback.js';
import { runRollbackCommand } from './commands/rollback.js';
import type { Io } from './io.js';
import { proxySettings } from './relay/proxy.js';
import { type LoadFullCli, reportError, runProcess } from './run-process.js';

export async function main(argv: string[], io: Io, loadFullCli: LoadFullCli): Promise<number> {
  const options = readDeclaredOptions(rollbackCommand, argv);
  // Through a forwarding proxy the rollback needs undici's proxy agent, which only the full CLI
  // carries: the fast path is for where no proxy is configured.
  if (
    options === undefined ||
    proxySettings(io.env) !== undefined ||
    (options.to === undefined && (await someoneCanBeAsked(io)))
  ) {
    return (await loadFullCli())(argv, io);
  }
  try {
    return await runRollbackCommand(options, io);
  } catch (error) {
    return reportError(error, io);
  }
}

/**
 * The journal form may have to ask which route is meant, and the prompt library lives in the
 * full CLI: at a terminal that form goes there; in CI and scripts it runs here, refusing to guess.
 */
async function someoneCanBeAsked(io: Io): Promise<boolean> {
  const { canPrompt } = await import('./interactive.js');
  return canPrompt(io, io.stderr);
}

export function run(loadFullCli: LoadFullCli): Promise<void> {
  return runProcess((argv, io) => main(argv, io, loadFullCli));
}
