/**
 * What every `--help` page ends with: Examples, as gh and kubectl do, and for `rollout` the keys
 * and what Ctrl-C does first. Kept apart from the command definitions so src/cli.ts stays a table
 * of flags; a test holds every visible command to having examples here.
 */
import type { Command } from 'commander';

const EXAMPLES: Record<string, string[]> = {
  canary: [
    'canary init --route chat --baseline chat-v1 --canary chat-v2 --yes',
    'canary rollout canary.yaml',
    'canary pause -m "checking the dashboards"      # from another shell',
    'canary rollback                                 # the last rollout, from the journal',
  ],
  validate: ['canary validate deploy/canary.yaml', 'canary validate canary.yaml --output json'],
  emulator: [
    'canary emulator --port 8787 --api-key dev-key',
    'canary emulator --scenario examples/scenarios/bad-canary.yaml --seed 7',
  ],
  rollout: [
    'canary rollout canary.yaml',
    'canary rollout canary.yaml --dry-run',
    'canary rollout deploy/canary.yaml --approve-gates --timeout 2h --output plain   # in CI',
    'canary rollout canary.yaml --until-stage 2 --yes',
  ],
  rollback: [
    'canary rollback                                  # the last rollout in the state folder',
    'canary rollback canary.yaml -m "p99 regression"',
    'canary rollback --route chat --to chat-v1 --relay-url https://relay.example.com/v1',
  ],
  simulate: [
    'canary simulate canary.yaml',
    'canary simulate canary.yaml --scenario examples/scenarios/bad-canary.yaml --seeds 500 --output json',
  ],
  schema: [
    'canary schema > .vscode/canary-plan.schema.json   # for editors: see the README',
    'canary schema records > canary-records.schema.json # what -o json, journals and webhooks hold',
  ],
  history: ['canary history', 'canary history --route chat --output json'],
  report: [
    'canary report --open',
    'canary report chat -o post-mortem.html',
    'canary report canary-events.ndjson -o pr-report.html',
  ],
  init: [
    'canary init',
    'canary init deploy/canary.yaml --route chat --baseline chat-v1 --canary chat-v2 --yes',
  ],
  status: [
    'canary status canary.yaml',
    'canary status --route chat --watch --interval 10s',
    "canary status --route chat --wait --timeout 2h     # exits with the rollout's exit code",
  ],
  promote: ['canary promote', 'canary promote --route chat --full -m "metrics look good"'],
  pause: ['canary pause -m "investigating a latency alert"', 'canary pause --route chat'],
  resume: ['canary resume', 'canary resume --route chat'],
  abort: ['canary abort -m "customer reports of bad answers"', 'canary abort --route chat --output json'],
  completion: [
    'source <(canary completion bash)',
    'canary completion zsh > ~/.zfunc/_canary        # with fpath+=(~/.zfunc) in ~/.zshrc',
    'canary completion fish > ~/.config/fish/completions/canary.fish',
  ],
};

/** `canary rollout --help`: the keys of the live view and what Ctrl-C does, before the examples. */
const ROLLOUT_KEYS = `
At a terminal (live view):
  p        promote: end this stage's bake now (it still needs a passing check)
  h        hold at this stage until h again (checks keep running)
  r        roll back to the baseline now (exit 3)
  q        quit, leaving traffic where it is, after a yes/no question (exit 130)
  Ctrl-C   a menu: roll back now (default), leave traffic and exit, or continue;
           a second Ctrl-C rolls back at once (exit 130)
Without a terminal, SIGINT/SIGTERM do what --on-interrupt says (default: roll back).
From another shell: canary promote | pause | resume | abort [-m why].`;

/** Examples for a command name; undefined when it has none (a test forbids that). */
export function examplesFor(name: string): string[] | undefined {
  return EXAMPLES[name];
}

export function addHelpExamples(program: Command): void {
  const block = (lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
  program.addHelpText('after', block(EXAMPLES.canary as string[]));
  for (const command of program.commands) {
    if (command.name() === 'rollout') command.addHelpText('after', ROLLOUT_KEYS);
    const lines = EXAMPLES[command.name()];
    if (lines) command.addHelpText('after', block(lines));
  }
}
