/**
 * `canary rollback`: the incident command. Puts the baseline (or --to TAG) at 100 % and every
 * other version at 0, confirms by reading the route back, never asks. Kept light: no
 * prompts, tables or emulator are loaded here.
 */
import path from 'node:path';
import { systemClock } from '../clock.js';
import { ExitCode, UsageError } from '../errors.js';
import type { Io } from '../io.js';
import type { RouteRule } from '../relay/types.js';
import { connect } from './connection.js';

export interface RollbackCommandOptions {
  plan?: string | undefined;
  route?: string | undefined;
  to?: string | undefined;
  output: 'auto' | 'tty' | 'plain' | 'json';
  relayUrl?: string | undefined;
  apiKeyEnv: string;
  apiKeyFile?: string | undefined;
  allowInsecureHttp?: boolean | undefined;
  color: boolean;
}

const DEFAULT_DEADLINE_MS = 60_000;

export function formatRules(rules: RouteRule[] | null): string {
  if (!rules || rules.length === 0) return '(unknown)';
  return rules.map((r) => `${r.version_tag} ${r.weight}%`).join(', ');
}

export async function runRollbackCommand(opts: RollbackCommandOptions, io: Io): Promise<number> {
  let route = opts.route;
  let to = opts.to;
  let planUrl: string | undefined;
  let apiKeyEnv = opts.apiKeyEnv;
  let apiKeyFile = opts.apiKeyFile;
  let deadlineMs = DEFAULT_DEADLINE_MS;
  let baseDir = io.cwd;

  if (opts.plan) {
    const { loadPlan } = await import('../plan/load.js');
    const plan = await loadPlan(opts.plan, { cwd: io.cwd });
    route = route ?? plan.route;
    to = to ?? plan.baseline.tag;
    planUrl = plan.relay.url;
    apiKeyEnv = opts.apiKeyEnv === 'RELAY_API_KEY' ? plan.relay.apiKeyEnv : opts.apiKeyEnv;
    apiKeyFile = apiKeyFile ?? plan.relay.apiKeyFile;
    deadlineMs = plan.rollback.deadlineMs;
    baseDir = path.dirname(plan.file);
    if (planUrl === 'emulator' && !opts.relayUrl) {
      throw new UsageError(
        "this plan's relay is the in-process emulator, which lives only as long as its rollout.",
        { hint: 'pass --relay-url to roll back a route on a running relay or `canary emulator`.' },
      );
    }
  }
  if (!route || !to) {
    throw new UsageError('rollback needs a plan, or both --route and --to.', {
      hint: 'canary rollback plan.yaml   or   canary rollback --route code-review-production --to claude-v1',
    });
  }

  const connection = await connect(
    {
      flagUrl: opts.relayUrl,
      planUrl,
      apiKeyEnv,
      apiKeyFile,
      apiKeyFileFromFlag: opts.apiKeyFile !== undefined,
      allowInsecureHttp: opts.allowInsecureHttp,
      baseDir,
    },
    io,
  );
  try {
    const { rollbackRoute } = await import('../rollout/rollback.js');
    const result = await rollbackRoute({
      relay: connection.client,
      clock: systemClock,
      route,
      to,
      deadlineMs,
      baseUrl: connection.url,
      apiKeyEnv: connection.apiKeyEnv,
    });
    const changed = result.changed;
    if (opts.output === 'json') {
      io.stdout.write(
        `${JSON.stringify({
          type: 'rollback',
          version: 1,
          route,
          to,
          changed,
          before: result.before,
          after: result.after,
          revision: result.revision ?? null,
        })}\n`,
      );
    } else {
      io.stdout.write(
        changed
          ? `rolled back ${route}: ${formatRules(result.before)} → ${formatRules(result.after)}\n`
          : `${route} already at ${formatRules(result.after)}; nothing to change\n`,
      );
    }
    return ExitCode.Ok;
  } finally {
    await connection.close();
  }
}
