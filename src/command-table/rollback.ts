/**
 * `canary rollback`'s declaration, and the options it shares with other commands. Apart from the
 * rest of the table because dist/rollback.cjs carries it: the fast entry reads the same
 * declaration (./parse-args.ts) as the full CLI's commander program (./commander.ts).
 */
import { argument, choice, defineCommand, flag, text } from './define.js';

export const OUTPUT_MODES = ['auto', 'tty', 'plain', 'json'] as const;
export type OutputFlag = (typeof OUTPUT_MODES)[number];

export const output = choice(
  'mode',
  OUTPUT_MODES,
  'output: auto (tty in a terminal, else plain), tty, plain, json (NDJSON on stdout)',
  { short: 'o', default: 'auto' },
);

/** How `status` and `rollback` reach the relay without a plan. */
export const relayOptions = {
  relayUrl: text('url', 'relay base URL ending in /v1 (default: the plan, else $CANARY_RELAY_URL)'),
  apiKeyEnv: text('name', 'env var holding the API key', { default: 'RELAY_API_KEY' }),
  apiKeyFile: text('file', 'file holding the API key (used when the env var is unset)'),
  allowInsecureHttp: flag('allow plain http:// to a non-loopback relay'),
};

export const rollbackCommand = defineCommand({
  name: 'rollback',
  description: 'put the baseline (or --to TAG) at 100 % and everything else at 0; idempotent, never asks',
  color: true,
  args: [argument('plan', 'plan file whose route and baseline to restore', { optional: true })],
  options: {
    route: text('route', 'route id (model alias), instead of a plan'),
    to: text('tag', 'version tag to restore to 100 % (with --route)'),
    message: text(
      'text',
      "why: in the journal with who ran it (shown by history), the GitHub step summary, and the plan's notify: webhooks",
      { short: 'm' },
    ),
    output,
    ...relayOptions,
    stateDir: text(
      'dir',
      'state folder to find the last rollout in (default: $CANARY_STATE_DIR, else the nearest .canary/ up from here)',
    ),
  },
});
