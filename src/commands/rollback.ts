/**
 * `canary rollback`: the incident command. Puts the baseline (or --to TAG) at 100 % and every
 * other version at 0, confirms it from the relay's answer, never asks. Kept light: no
 * prompts, tables, emulator or plan loader are loaded here; reading a plan file is passed in
 * (src/commands/rollback-plan.ts), so `canary rollback --route R --to TAG` never bundles it.
 */
// Imported statically: each `await import()` in a bundle copies the module's exports into a
// namespace object (node:fs alone cost a rollback 0.4 ms that way).
import path from 'node:path';
import { systemClock } from '../clock.js';
import type { CommandOptions } from '../command-table/define.js';
import type { rollbackCommand } from '../command-table/rollback.js';
import { cutBySignals, type DrainCut } from '../cut-by-signals.js';
import { CanaryError, ExitCode, UsageError } from '../errors.js';
import { formatRules } from '../format.js';
import type { Io } from '../io.js';
import { resolveStateDir } from '../journal/paths.js';
import type { ChooseRoute } from '../journal/target.js';
import { recordLine } from '../output/record.js';
import { socketTransport } from '../relay/socket-transport.js';
import type { TransportFactory } from '../relay/transport.js';
import {
  RollbackInterruptedError,
  RollbackNotConfirmedError,
  type RollbackResult,
  rollbackRoute,
} from '../rollout/rollback.js';
import { type Spinner, startSpinner } from '../terminal/spinner.js';
import { connect } from './connection.js';
import { type Announce, failureOf, tell } from './rollback-announce.js';
import {
  answerInterrupt,
  confirmedAnyway,
  nextCommands,
  RollbackStoppedError,
} from './rollback-interrupt.js';
import { recordRollback } from './rollback-journal.js';

export type RollbackCommandOptions = CommandOptions<typeof rollbackCommand>;

const DEFAULT_DEADLINE_MS = 60_000;

/** What a plan file tells a rollback: which route, back to which tag, on which relay. */
export interface PlanTarget {
  route: string;
  baseline: string;
  relayUrl: string;
  apiKeyEnv: string;
  apiKeyFile?: string | undefined;
  deadlineMs: number;
  /** The plan's folder, against which a relative key file is resolved. */
  baseDir: string;
  /** Tells the plan's `notify:` webhooks (src/commands/rollback-notify.ts); none without one. */
  announce?: Announce | undefined;
}

/** Reads a plan file for `canary rollback plan.yaml` (src/commands/rollback-plan.ts). */
export type ReadPlanTarget = (file: string, io: Io) => Promise<PlanTarget>;

/**
 * What only the full CLI brings to `canary rollback`, each loading code the incident form
 * never needs: the plan reader (YAML and the plan schema). The journal form's question goes
 * through io.prompter, which only the full CLI fills (dist/rollback.cjs has no prompt library).
 */
export interface RollbackExtras {
  readPlan?: ReadPlanTarget | undefined;
  /** How calls reach the relay when the socket transport cannot (a forwarding proxy). */
  transport?: TransportFactory | undefined;
}

/**
 * The relay refused the rollback itself: nothing was changed, and the same request (the curl
 * command an unconfirmed rollback prints) would be refused again. A 4xx is the request's fault
 * (exit 2, with the tags the route holds); a redirect is the URL's (exit 5).
 */
function refused(error: RollbackNotConfirmedError, route: string, to: string): CanaryError {
  const { error: relay, rules } = error.refusal as NonNullable<RollbackNotConfirmedError['refusal']>;
  if (relay.status !== undefined && relay.status < 400) {
    return new CanaryError(`${relay.message} Nothing was written.`, ExitCode.Aborted, { hint: relay.hint });
  }
  const holds = rules && rules.length > 0 ? ` The route holds ${formatRules(rules)}.` : '';
  const tags = (rules ?? []).map((r) => r.version_tag).filter((t) => t !== to);
  return new UsageError(
    `the relay refused to put ${to} at 100% on ${route}: ${relay.message} Nothing was changed.${holds}`,
    {
      hint:
        tags.length > 0
          ? `roll back to a version the route holds: canary rollback --route ${route} --to TAG, with TAG one of ${tags.join(', ')}`
          : relay.hint,
    },
  );
}

export async function runRollbackCommand(
  opts: RollbackCommandOptions,
  io: Io,
  extras: RollbackExtras = {},
): Promise<number> {
  const target = await findTarget(opts, io, extras.readPlan);
  const { route, to } = target;
  if (!route || !to) {
    throw new UsageError('rollback needs a plan, or both --route and --to.', {
      hint: 'canary rollback plan.yaml   or   canary rollback --route code-review-production --to claude-v1',
    });
  }
  const connection = await connect(
    {
      flagUrl: opts.relayUrl,
      planUrl: target.planUrl,
      apiKeyEnv: target.apiKeyEnv,
      apiKeyFile: target.apiKeyFile,
      apiKeyFileFromFlag: opts.apiKeyFile !== undefined,
      allowInsecureHttp: opts.allowInsecureHttp,
      baseDir: target.baseDir,
      // Read, change, confirm: one call at a time over one connection, and nothing to load
      // but node:net (src/relay/socket-transport.ts).
      connections: 1,
      transport: extras.transport ?? socketTransport,
    },
    io,
  );
  const reason = opts.message?.trim() || undefined;
  const about = { route, to, reason, fromPlan: opts.plan };
  const ending = { route, to, url: connection.url, apiKeyEnv: connection.apiKeyEnv };
  // From the first request on, a stop signal is answered (./rollback-interrupt.ts): the first
  // stops the retrying, and the handlers stay to the exit so none ends it with no last line.
  const stops = cutBySignals();
  try {
    const { result, note } = await rollBack(opts, io, connection, target, about, stops);
    await recordRollback(opts, io, target.stateDir, {
      ...ending,
      durationMs: result.durationMs,
      events: (now) => [
        {
          type: 'rolled_back',
          at: now,
          rules: result.after,
          revision: result.revision,
          durationMs: result.durationMs,
        },
      ],
      exitCode: ExitCode.Ok,
      message: result.changed ? `rolled back ${route} to ${to}` : `${route} was already at ${to} 100%`,
    });
    printResult(opts, io, { route, to, reason, result });
    if (note) io.stderr.write(`${note}\n`);
    await tell(io, target.announce, {
      ...about,
      at: systemClock.now(),
      traffic: result.changed
        ? `${formatRules(result.before)} → ${formatRules(result.after)}`
        : `already at ${formatRules(result.after)}; nothing changed`,
    });
    return ExitCode.Ok;
  } catch (error) {
    if (error instanceof RollbackStoppedError) {
      await recordRollback(opts, io, target.stateDir, {
        ...ending,
        durationMs: error.durationMs,
        events: (now) => [
          { type: 'rollback_failed', at: now, message: error.message, manualCommand: error.manualCommand },
        ],
        exitCode: error.exitCode,
        message: error.message,
      });
    }
    throw error;
  } finally {
    stops.stop({ processExitsNext: io.exitsWhenDone === true });
    // Every call has been answered by now; closing the idle connection costs an incident's
    // rollback ~1.5 ms that the OS spends for free when the process exits right after.
    if (!io.exitsWhenDone) await connection.close();
  }
}

/**
 * The rollback itself, retried until the deadline. The relay's refusal becomes an error that
 * says what to do instead; a failure is announced (summary, webhooks) before it is thrown.
 */
async function rollBack(
  opts: RollbackCommandOptions,
  io: Io,
  connection: Awaited<ReturnType<typeof connect>>,
  target: RollbackTarget,
  about: { route: string; to: string; reason: string | undefined; fromPlan: string | undefined },
  stops: DrainCut,
): Promise<{ result: RollbackResult; note: string | undefined }> {
  const { route, to } = about;
  const retries = retryNotice(opts, io, route, to);
  return rollbackRoute({
    relay: connection.client,
    clock: systemClock,
    route,
    to,
    deadlineMs: target.deadlineMs,
    baseUrl: connection.url,
    apiKeyEnv: connection.apiKeyEnv,
    onRetry: retries.onRetry,
    signal: stops.signal,
  })
    .finally(() => retries.stop())
    .then(
      (result) => ({ result, note: confirmedAnyway(stops) }),
      (error: unknown) => {
        if (!(error instanceof RollbackInterruptedError)) throw error;
        return answerInterrupt(error, {
          io,
          relay: connection.client,
          route,
          to,
          stops,
          json: opts.output === 'json',
          next: nextCommands(
            {
              plan: opts.plan,
              relayUrlFlag: opts.relayUrl,
              url: connection.url,
              apiKeyEnv: opts.plan ? opts.apiKeyEnv : connection.apiKeyEnv,
              apiKeyFile: opts.plan ? opts.apiKeyFile : target.apiKeyFile,
            },
            route,
            to,
          ),
        });
      },
    )
    .catch(async (error: unknown) => {
      const thrown =
        error instanceof RollbackNotConfirmedError && error.refusal ? refused(error, route, to) : error;
      await tell(io, target.announce, {
        ...about,
        at: systemClock.now(),
        failure: failureOf(thrown),
      });
      throw thrown;
    });
}

/** Where a rollback goes and how it reaches the relay: from the flags, then a plan or the journal. */
interface RollbackTarget {
  route: string | undefined;
  to: string | undefined;
  planUrl: string | undefined;
  apiKeyEnv: string;
  apiKeyFile: string | undefined;
  deadlineMs: number;
  /** The folder a relative key file is resolved against. */
  baseDir: string;
  announce: Announce | undefined;
  /** The state folder whose journal chose the target, if it did. */
  stateDir: string | undefined;
}

async function findTarget(
  opts: RollbackCommandOptions,
  io: Io,
  readPlan: ReadPlanTarget | undefined,
): Promise<RollbackTarget> {
  const target: RollbackTarget = {
    route: opts.route,
    to: opts.to,
    planUrl: undefined,
    apiKeyEnv: opts.apiKeyEnv,
    apiKeyFile: opts.apiKeyFile,
    deadlineMs: DEFAULT_DEADLINE_MS,
    baseDir: io.cwd,
    announce: undefined,
    stateDir: undefined,
  };
  if (opts.plan) await fromPlan(target, opts.plan, opts, io, readPlan);
  else if (!target.to) await fromJournal(target, opts, io);
  return target;
}

/** `canary rollback plan.yaml`: flags win over the plan; its relay, key and deadline fill the rest. */
async function fromPlan(
  target: RollbackTarget,
  file: string,
  opts: RollbackCommandOptions,
  io: Io,
  readPlan: ReadPlanTarget | undefined,
): Promise<void> {
  if (!readPlan) throw new Error('runRollbackCommand: a plan was given but no plan reader');
  const plan = await readPlan(file, io);
  target.route = target.route ?? plan.route;
  target.to = target.to ?? plan.baseline;
  target.planUrl = plan.relayUrl;
  target.apiKeyEnv = opts.apiKeyEnv === 'RELAY_API_KEY' ? plan.apiKeyEnv : opts.apiKeyEnv;
  target.apiKeyFile = target.apiKeyFile ?? plan.apiKeyFile;
  target.deadlineMs = plan.deadlineMs;
  target.baseDir = plan.baseDir;
  target.announce = plan.announce;
  if (plan.relayUrl === 'emulator' && !opts.relayUrl) {
    throw new UsageError(
      "this plan's relay is the in-process emulator, which lives only as long as its rollout.",
      {
        hint: 'pass --relay-url to roll back a route on a running relay or `canary emulator`.',
      },
    );
  }
}

/**
 * No plan and no tag: the journal of the last (or unfinished) rollout knows both. Loaded only
 * here, so the incident forms stay as light as they were.
 */
async function fromJournal(target: RollbackTarget, opts: RollbackCommandOptions, io: Io): Promise<void> {
  const { findRollbackTarget } = await import('../journal/target.js');
  const { canPrompt } = await import('../interactive.js');
  const stateDir = resolveStateDir({ flag: opts.stateDir, env: io.env, cwd: io.cwd });
  target.stateDir = stateDir;
  const choose: ChooseRoute | undefined =
    io.prompter.canAsk && canPrompt(io, io.stderr)
      ? (choices) => io.prompter.select({ message: 'Roll back which route?', choices })
      : undefined;
  const found = await findRollbackTarget({ stateDir, route: target.route, choose });
  const h = found.header;
  if (h.inProcessEmulator && !opts.relayUrl) {
    throw new UsageError(
      `the last rollout of ${found.route} ran on an in-process emulator, which ended with it; nothing to roll back.`,
    );
  }
  target.route = found.route;
  target.to = found.baseline;
  target.planUrl = h.relay;
  if (opts.apiKeyEnv === 'RELAY_API_KEY') target.apiKeyEnv = h.apiKeyEnv;
  target.apiKeyFile = target.apiKeyFile ?? h.apiKeyFile;
  target.deadlineMs = h.rollbackDeadlineMs ?? target.deadlineMs;
  if (h.plan) target.baseDir = path.dirname(h.plan);
  io.stderr.write(
    `rolling back ${found.route} to ${found.baseline} on ${h.relay} (from the journal: ${found.run.outcome === null ? 'unfinished' : 'last'} run ${found.run.run})\n`,
  );
}

/**
 * Retrying a relay that does not answer can take up to the deadline: at a terminal the person
 * sees that it is still trying (src/terminal/spinner.ts), and the result line replaces it.
 */
function retryNotice(
  opts: RollbackCommandOptions,
  io: Io,
  route: string,
  to: string,
): { onRetry: (retry: { attempts: number; cause: string }) => void; stop: () => void } {
  let spinner: Spinner | undefined;
  return {
    onRetry: ({ attempts, cause }) => {
      const text = `rollback of ${route} to ${to} not confirmed yet (attempt ${attempts}: ${cause}); retrying`;
      spinner ??= startSpinner(io, text, {
        forPerson: opts.output === 'tty' || (opts.output === 'auto' && io.stdout.isTTY === true),
        color: opts.color && !io.env.NO_COLOR,
      });
      spinner.update(text);
    },
    stop: () => spinner?.stop(),
  };
}

/** The result on stdout: one JSON record, or one line. */
function printResult(
  opts: RollbackCommandOptions,
  io: Io,
  done: { route: string; to: string; reason: string | undefined; result: RollbackResult },
): void {
  const { route, to, reason, result } = done;
  if (opts.output === 'json') {
    io.stdout.write(
      recordLine('rollback', {
        route,
        to,
        changed: result.changed,
        before: result.before,
        after: result.after,
        revision: result.revision ?? null,
        reason: reason ?? null,
      }),
    );
  } else {
    io.stdout.write(
      result.changed
        ? `rolled back ${route}: ${formatRules(result.before)} → ${formatRules(result.after)}\n`
        : `${route} already at ${formatRules(result.after)}; nothing to change\n`,
    );
  }
}
