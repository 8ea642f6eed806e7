/**
 * The engine's ports for a real run, from what the prepare step opened: the relay, the metrics
 * sources, the gate's answerer, the stage-check runner and the pre-traffic evaluation.
 */
import path from 'node:path';
import { createCheckRunner } from '../checks/runner.js';
import { systemClock } from '../clock.js';
import { waitForPromote } from '../control/remote-gate.js';
import type { OpenedCustomMetrics } from '../custom-metrics/reader.js';
import type { Plan } from '../domain/plan.js';
import type { Io } from '../io.js';
import type { RolloutDeps } from '../rollout/engine.js';
import type { EmitFn } from '../rollout/events.js';
import type { TerminalSession } from '../terminal/session.js';
import type { Connection } from './connection.js';
import type { Decided } from './rollout-flags.js';
import type { RolloutCommandOptions } from './rollout-options.js';

/** The engine's ports: the relay, metrics, gate, check runner and pre-traffic evaluation. */
export async function engineDeps(
  plan: Plan,
  opts: RolloutCommandOptions,
  io: Io,
  parts: {
    connection: Connection;
    metrics: RolloutDeps['metrics'];
    customMetrics: OpenedCustomMetrics | undefined;
    emit: EmitFn;
    signal: AbortSignal;
    controls: RolloutDeps['controls'];
    terminal: TerminalSession | undefined;
    prompts: Decided['prompts'];
  },
): Promise<RolloutDeps> {
  const { connection, terminal } = parts;
  const withhold = [
    connection.apiKeyEnv,
    ...(plan.notify ?? []).flatMap((n) => (n.urlEnv ? [n.urlEnv] : [])),
  ];
  const preTraffic =
    plan.evaluation && parts.prompts
      ? (await import('../checks/pre-traffic.js')).createPreTraffic({
          config: plan.evaluation,
          prompts: parts.prompts,
          route: plan.route,
          baselineTag: plan.baseline.tag,
          canaryTag: plan.canary.tag,
          relay: { baseUrl: connection.url, apiKey: connection.apiKey },
          cwd: path.dirname(plan.file),
          env: io.env,
          withhold,
          redact: io.redact,
          clock: systemClock,
        })
      : undefined;
  return {
    clock: systemClock,
    relay: connection.client,
    metrics: parts.metrics,
    customMetrics: parts.customMetrics,
    emit: parts.emit,
    signal: parts.signal,
    gate: chooseGate(plan, opts, io, terminal),
    controls: parts.controls,
    relayUrl: connection.url,
    apiKeyEnv: connection.apiKeyEnv,
    stageChecks: createCheckRunner({
      cwd: path.dirname(plan.file),
      env: io.env,
      route: plan.route,
      baselineTag: plan.baseline.tag,
      canaryTag: plan.canary.tag,
      withhold,
      redact: io.redact,
    }),
    preTraffic,
  };
}

/**
 * Who answers a `pause: true` gate: the person at the terminal, `canary promote` from another
 * shell (--wait-at-gates), or, without a person to ask, the flag that said to pass (checked in decide(), src/commands/rollout-flags.ts).
 */
function chooseGate(
  plan: Plan,
  opts: RolloutCommandOptions,
  io: Io,
  terminal: TerminalSession | undefined,
): RolloutDeps['gate'] {
  if (terminal && !opts.approveGates) return terminal.gate;
  if (opts.waitAtGates && !terminal)
    return waitForPromote(plan.route, (text) => io.stderr.write(`${text}\n`));
  return async () => 'promote';
}
