/**
 * The control commands (`promote`, `pause`, `resume`, `abort`, declared in
 * src/command-table/commands.ts) for src/cli.ts: each loads only src/commands/control.ts, which
 * reaches the running rollout over its control socket.
 */
import type { Command } from 'commander';
import { addCommand, type RunCommand } from './command-table/commander.js';
import { controlCommands } from './command-table/commands.js';

/** Adds the control commands, or only the one named `only` (src/cli.ts's run()). */
export function addControlCommands(program: Command, runCommand: RunCommand, only?: string): void {
  for (const spec of controlCommands) {
    if (only !== undefined && spec.name !== only) continue;
    addCommand(program, spec, runCommand, async () => {
      const { runControlCommand } = await import('./commands/control.js');
      return (opts, io) => runControlCommand(spec.name, opts, io);
    });
  }
}
