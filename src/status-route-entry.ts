/**
 * The entry of dist/status-route.cjs, which bin/canary.cjs runs for `canary status` with flags
 * alone (`status --route R`): the same status command as src/cli.ts runs, without commander
 * (≈ 3.7 ms of CPU at start-up by the marks in docs/benchmarks.md) and without the plan loader.
 *
 * As the rollback entry does (src/rollback-entry.ts), it reads the flags with node:util's
 * parseArgs from the declaration commander gets (src/command-table/parse-args.ts), and hands
 * whatever that does not take (a plan file, help, a mistyped flag or a bad value, which deserve
 * commander's words) unchanged to the whole status bundle, which bin/canary.cjs loads only then.
 */

import { statusCommand } from './command-table/commands.js';
import { readDeclaredOptions } from './command-table/parse-args.js';
import { runStatusCommand } from './commands/status.js';
import type { Io } from './io.js';
import { proxySettings } from './relay/proxy.js';
import { type LoadFullCli, reportError, runProcess } from './run-process.js';

export async function main(argv: string[], io: Io, loadFullCli: LoadFullCli): Promise<number> {
  const options = readDeclaredOptions(statusCommand, argv);
  // Through a forwarding proxy status needs undici's proxy agent, which only the full CLI carries
  // (bin/canary.cjs already sends that case there; this keeps the entry right on its own).
  if (options === undefined || proxySettings(io.env) !== undefined) return (await loadFullCli())(argv, io);
  try {
    return await runStatusCommand(options, io);
  } catch (error) {
    return reportError(error, io);
  }
}

export function run(loadFullCli: LoadFullCli): Promise<void> {
  return runProcess((argv, io) => main(argv, io, loadFullCli));
}
