/**
 * The control commands' definitions (`promote`, `pause`, `resume`, `abort`) for src/cli.ts: each
 * loads only src/commands/control.ts, which reaches the running rollout over its control socket.
 */
import { type Command, Option } from 'commander';
import type { ControlVerb } from './commands/control.js';
import type { RunCommand } from './program.js';

const VERBS: { verb: ControlVerb; description: string }[] = [
  {
    verb: 'promote',
    description:
      "end the running rollout's current bake now, once its checks pass (--full: every later stage's bake too; their checks still decide)",
  },
  {
    verb: 'pause',
    description:
      'hold the running rollout at its current stage; checks keep running, a failure still rolls back',
  },
  { verb: 'resume', description: 'release a rollout held by `canary pause` (or the h key)' },
  {
    verb: 'abort',
    description: 'roll the running rollout back to the baseline now (it exits 3), saying why with -m',
  },
];

export function addControlCommands(program: Command, runCommand: RunCommand): void {
  for (const { verb, description } of VERBS) {
    const command = program
      .command(verb)
      .description(description)
      .option(
        '--route <route>',
        'the route whose rollout to reach (default: the one running in the state folder)',
      )
      .option('-m, --message <text>', 'why: written to the journal with who asked (user, host, pid)')
      .option(
        '--state-dir <dir>',
        'state folder (default: $CANARY_STATE_DIR, else the nearest .canary/ up from here)',
      )
      .addOption(
        new Option('-o, --output <mode>', 'plain lines, or one JSON answer (auto: plain)')
          .choices(['auto', 'plain', 'json'])
          .default('auto'),
      );
    if (verb === 'promote') {
      command.option(
        '--full',
        "also end every later stage's bake at its first passing check, and answer its gate",
      );
    }
    command.action(async (opts: Record<string, unknown>) => {
      await runCommand(async () => {
        const { runControlCommand } = await import('./commands/control.js');
        return (io) => runControlCommand(verb, opts as never, io);
      });
    });
  }
}
