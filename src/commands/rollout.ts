/**
 * `canary rollout <plan>`: thin wiring. Loads and checks the plan, picks the reporter,
 * connects to the relay, hands everything to the engine, and maps signals and gates to
 * the engine's inputs. The decisions live in src/rollout/engine.ts.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { systemClock } from '../clock.js';
import { CanaryError, ExitCode, UsageError } from '../errors.js';
import { canPrompt } from '../interactive.js';
import type { Io } from '../io.js';
import { stageOfRoute } from '../journal/resume.js';
import type { RolloutSession } from '../journal/session.js';
import type { OpenedMetricsSource } from '../metrics/index.js';
import type { Notifier } from '../notify/webhook.js';
import { loadPlan } from '../plan/load.js';
import type { Plan } from '../plan/types.js';
import { proxySettings } from '../relay/proxy.js';
import { socketPoolTransport } from '../relay/socket-pool.js';
import { undiciTransport } from '../relay/undici-transport.js';
import { isGitHubActions, maySendMasks } from '../reporters/github.js';
import { toJsonLine } from '../reporters/json.js';
import type { Reporter } from '../reporters/reporter.js';
import type { RolloutAbortReason, RolloutResult } from '../rollout/engine.js';
import type { RolloutEvent } from '../rollout/events.js';
import { formatRules } from '../rollout/rollback.js';
import type { TerminalSession } from '../terminal/session.js';
import { type Connection, connect } from './connection.js';

export interface RolloutCommandOptions {
  plan: string;
  dryRun?: boolean | undefined;
  yes?: boolean | undefined;
  output: 'auto' | 'tty' | 'plain' | 'json';
  relayUrl?: string | undefined;
  allowInsecureHttp?: boolean | undefined;
  /** Promote through pause gates once their checks pass (`--yes` does too). */
  approveGates?: boolean | undefined;
  /** Without a terminal, hold at pause gates until `canary promote` (or `abort`) from another shell. */
  waitAtGates?: boolean | undefined;
  /** 1-based stage after whose bake the run stops and holds (exit 0). */
  untilStage?: number | undefined;
  /** What SIGINT/SIGTERM does when nobody can be asked (default rollback). */
  onInterrupt?: 'rollback' | 'leave' | undefined;
  /** Milliseconds the command may run before `onTimeout` applies (exit 5). */
  timeout?: number | undefined;
  onTimeout?: 'rollback' | 'leave' | undefined;
  /** Also write every event as NDJSON here. */
  outputFile?: string | undefined;
  /** Journal, lock and control-socket folder (see src/journal/paths.ts for the rule). */
  stateDir?: string | undefined;
  /** Env var holding the API key, over the plan's relay.api_key_env. */
  apiKeyEnv?: string | undefined;
  /** Key file, over the plan's relay.api_key_file (relative to the current folder). */
  apiKeyFile?: string | undefined;
  /** Move traffic without the plan's pre-traffic evaluation (journaled). */
  skipEvaluation?: boolean | undefined;
  /** Write the HTML report here when the run ends, whatever the outcome. */
  report?: string | undefined;
  color: boolean;
}

type GateDecision = 'promote' | 'rollback' | 'hold';

async function dryRun(plan: Plan, io: Io): Promise<number> {
  const { planSchedule, renderSchedule } = await import('../plan/schedule.js');
  // What the schedule does not show: the evaluation before it, the custom metrics in it (read
  // first: an unreadable prompt set fails the dry run as it would fail the rollout, exit 2).
  const details = await (await import('../plan/dry-run-details.js')).dryRunDetails(plan);
  io.stdout.write(`${renderSchedule(planSchedule(plan, systemClock.now()), plan)}\n`);
  for (const block of details) io.stdout.write(`\n${block.join('\n')}\n`);
  io.stdout.write('dry run: nothing was changed.\n');
  return ExitCode.Ok;
}

export async function runRolloutCommand(opts: RolloutCommandOptions, io: Io): Promise<number> {
  const loaded = await loadPlan(opts.plan, { cwd: io.cwd });
  if (opts.dryRun) return dryRun(loaded, io);
  // --api-key-env / --api-key-file beat the plan's relay block, like --relay-url beats its url.
  const plan: Plan =
    opts.apiKeyEnv || opts.apiKeyFile
      ? {
          ...loaded,
          relay: {
            ...loaded.relay,
            apiKeyEnv: opts.apiKeyEnv ?? loaded.relay.apiKeyEnv,
            apiKeyFile: opts.apiKeyFile ? path.resolve(io.cwd, opts.apiKeyFile) : loaded.relay.apiKeyFile,
          },
        }
      : loaded;

  // Never a prompt in CI or without a terminal: every question needs a flag that answers it.
  const interactive = canPrompt(io);
  if (opts.waitAtGates && opts.approveGates) {
    throw new UsageError('--wait-at-gates and --approve-gates each answer the gates: choose one.');
  }
  // --wait-at-gates leaves the gates to `canary promote`; --yes then answers only the rest.
  const approveGates = opts.approveGates === true || (opts.yes === true && !opts.waitAtGates);
  // A gate at the --until-stage is never asked: the run stops there.
  const lastIndex = (opts.untilStage ?? plan.stages.length) - 1;
  const gated = plan.stages.filter((s) => s.pause && s.index < lastIndex);
  // Refuse before touching anything, rather than hang or fail at stage 3 an hour from now.
  if (gated.length > 0 && !interactive && !approveGates && !opts.waitAtGates) {
    throw new UsageError(
      `this plan has a pause: true gate at stage ${gated.map((s) => s.index + 1).join(', ')} and there is no terminal to ask (stdin/stdout is not a TTY, or CI is set).`,
      {
        hint: 'pass --approve-gates (or --yes) to promote through gates once their checks pass, --wait-at-gates to hold there until `canary promote` from another shell, or stop before the gate with --until-stage.',
      },
    );
  }
  if (opts.untilStage !== undefined && opts.untilStage > plan.stages.length) {
    throw new UsageError(
      `--until-stage ${opts.untilStage} is past the plan's last stage (it has ${plan.stages.length}).`,
    );
  }
  // Prompt files are read before anything is touched: a bad line is exit 2 with file:line.
  const prompts =
    plan.evaluation && !opts.skipEvaluation
      ? await (await import('../evaluation/prompts.js')).loadPrompts(plan.evaluation)
      : undefined;
  const github = isGitHubActions(io.env);
  const maskOut = opts.output === 'json' ? io.stderr : io.stdout;
  if (maySendMasks(io.env, maskOut.isTTY === true)) await maskSecrets(plan, io, maskOut);
  const { resolveTargets } = await import('../notify/webhook.js');
  const webhooks = resolveTargets(plan.notify, io);
  const { selectOutput, colorEnabled } = await import('../reporters/select.js');
  const { createReporter } = await import('../reporters/index.js');
  const mode = selectOutput({ flag: opts.output, isTTY: io.stdout.isTTY === true, env: io.env });
  const color = colorEnabled({ flagColor: opts.color, env: io.env, isTTY: io.stdout.isTTY === true, mode });

  // Everything opened below is closed in the one `finally`, whichever step fails, in this order:
  // the live view first (its final frame), the relay and metrics connections, then webhooks
  // still in flight, which may hold the exit for at most NOTIFY_DRAIN_MS.
  let reporter: Reporter | undefined;
  let connection: Connection | undefined;
  let metrics: OpenedMetricsSource | undefined;
  let customMetrics: import('../custom-metrics/reader.js').OpenedCustomMetrics | undefined;
  let notifier: Notifier | undefined;
  let terminal: TerminalSession | undefined;
  let session: RolloutSession | undefined;
  let timer: NodeJS.Timeout | undefined;
  let exitCode: number = ExitCode.Internal;
  let failure: unknown;
  let finalLine: string | undefined;
  let control: import('../control/attach.js').AttachedControl | undefined;
  // The one state-folder rule (src/journal/paths.ts), said in the first and the last line.
  const { chooseStateDir, describeStateDir } = await import('../journal/paths.js');
  const stateChoice = chooseStateDir({ flag: opts.stateDir, env: io.env, cwd: io.cwd, planFile: plan.file });
  const stateLine = describeStateDir(stateChoice);
  io.stderr.write(`${stateLine}\n`);
  let signalName: StopSignal | undefined;
  let timedOut = false;
  let rolledBack = false;
  const controller = new AbortController();
  const onSignal = (name: StopSignal) => () => {
    // SIGINT at a terminal opens the same menu as the Ctrl-C key. A SIGHUP means that terminal
    // is gone (an SSH drop, a closed window): nobody is left to ask, so --on-interrupt decides.
    if (terminal && name === 'SIGINT') return terminal.interrupt();
    if (signalName) return; // a rollback is already under way; a second signal must not cut it short
    signalName = name;
    if (controller.signal.aborted) return; // the timeout or the menu already decided
    const reason: RolloutAbortReason = {
      action: opts.onInterrupt ?? 'rollback',
      cause: 'interrupt',
      exitCode: SIGNAL_EXIT[name],
      why: `${name} received`,
    };
    controller.abort(reason);
  };
  const runReport = opts.report
    ? (await import('../report/rollout-report.js')).createRunReport(plan, opts.report, io, systemClock.now)
    : undefined;
  const onInt = onSignal('SIGINT');
  const onTerm = onSignal('SIGTERM');
  const onHup = onSignal('SIGHUP');
  // Listening from the start: a signal during the pre-flight or while resuming is still a
  // signal this run answers (a resumed run owns the route's stage and rolls it back).
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  process.on('SIGHUP', onHup);

  try {
    const outputFile = opts.outputFile ? openOutputFile(opts.outputFile, io) : undefined;
    reporter = createReporter(mode, {
      stdout: io.stdout,
      stderr: io.stderr,
      color,
      now: () => systemClock.now(),
      footer: () => terminal?.footer(),
    });
    if (github) {
      const { GitHubReporter } = await import('../reporters/github.js');
      reporter = new GitHubReporter(reporter, mode === 'json' ? io.stderr : io.stdout, {
        summaryFile: io.env.GITHUB_STEP_SUMMARY,
        reportFile: opts.report,
        redact: io.redact,
        warn: (text) => io.stderr.write(`warning: ${text}\n`),
      });
    }
    if (outputFile) reporter = new TeeReporter([reporter, outputFile]);
    const live = reporter;

    connection = await connect(
      {
        flagUrl: opts.relayUrl,
        planUrl: plan.relay.url,
        apiKeyEnv: plan.relay.apiKeyEnv,
        apiKeyFile: plan.relay.apiKeyFile,
        apiKeyFileFromFlag: opts.apiKeyFile !== undefined,
        allowInsecureHttp: opts.allowInsecureHttp,
        emulator: plan.emulator,
        startEmulator: async (options) => (await import('../emulator/index.js')).startEmulator(options),
        // Plain sockets, a few at a time: undici's pool, streams and WebAssembly parser cost a
        // rollout more CPU per evaluation than judging it (docs/benchmarks.md). Only undici knows
        // forwarding proxies (src/relay/proxy.ts): with one configured, it is undici's.
        transport: proxySettings() ? undiciTransport : socketPoolTransport,
        baseDir: path.dirname(plan.file),
      },
      io,
    );
    const stateDir = stateChoice.dir;
    if (!connection.inProcessEmulator) {
      const early = await checkRouteBeforeStart(plan, connection.client, io, stateDir);
      if (early !== undefined) {
        exitCode = early;
        return early;
      }
    }
    // The relay, or Prometheus (analysis.provider); a missing credential stops here, before any change.
    const { createMetricsSource } = await import('../metrics/index.js');
    metrics = await createMetricsSource(plan, connection, io, {
      allowInsecureHttp: opts.allowInsecureHttp,
      transport: undiciTransport,
    });
    // analysis.metrics: their env secrets are read (and registered as secrets) before any change.
    if ((plan.analysis.customMetrics?.length ?? 0) > 0) {
      const { openCustomMetrics } = await import('../custom-metrics/reader.js');
      customMetrics = await openCustomMetrics(plan, io, {
        transport: undiciTransport,
        allowInsecureHttp: opts.allowInsecureHttp,
      });
    }

    // Keys, the Ctrl-C menu and gate prompts for a person at the terminal (src/terminal/session.ts).
    if (interactive) {
      const { createTerminalSession } = await import('../terminal/session.js');
      terminal = await createTerminalSession({
        io,
        controller,
        reporter: live,
        baseline: plan.baseline.tag,
        canary: plan.canary.tag,
        color,
      });
    }
    if (opts.timeout !== undefined) {
      timer = setTimeout(() => {
        if (controller.signal.aborted) return;
        timedOut = true;
        const reason: RolloutAbortReason = { action: opts.onTimeout ?? 'rollback', cause: 'timeout' };
        controller.abort(reason);
      }, opts.timeout);
    }
    if (webhooks.length > 0)
      notifier = new (await import('../notify/webhook.js')).Notifier(webhooks, plan, io);
    const notify = notifier;

    // Lock, resume detection and journal (src/journal/session.ts); loaded only for real runs.
    const { openRolloutSession } = await import('../journal/session.js');
    session = await openRolloutSession({
      plan,
      io,
      stateDir: stateChoice.dir,
      relay: connection.client,
      relayUrl: connection.url,
      inProcessEmulator: connection.inProcessEmulator,
      apiKeyEnv: connection.apiKeyEnv,
      apiKeyFile: plan.relay.apiKeyFile,
      clock: systemClock,
      interactive,
      yes: opts.yes === true,
    });

    const emit = session.wrapEmit((event: RolloutEvent) => {
      try {
        if (event.type === 'rolled_back') rolledBack = true;
        terminal?.observe(event);
        control?.observe(event);
        runReport?.observe(event);
        live.event(event);
      } catch {
        // A rendering bug must never stop or delay the rollout itself.
      }
      notify?.observe(event); // never waits: a dead webhook cannot delay what comes next
    });
    // Without a person to ask, a gate is passed only because a flag said so (checked above).
    const autoApprove = async (): Promise<GateDecision> => 'promote';

    // `canary promote|pause|resume|abort` from another shell reach the engine here (src/control/).
    const { attachControl } = await import('../control/attach.js');
    control = await attachControl({
      stateDir: stateChoice.dir,
      route: plan.route,
      plan: plan.file,
      controls: terminal?.controls,
      emit,
      now: () => systemClock.now(),
      warn: (text) => io.stderr.write(`${text}\n`),
    });

    if (opts.waitAtGates && !terminal && control.socketPath === undefined && gated.length > 0) {
      throw new CanaryError(
        '--wait-at-gates needs the control channel, which could not be opened (see the warning above); nothing was changed.',
        ExitCode.BadInput,
      );
    }
    const { waitForPromote } = await import('../control/remote-gate.js');
    const remoteGate = waitForPromote(plan.route, (text) => io.stderr.write(`${text}\n`));

    const { runRollout } = await import('../rollout/engine.js');
    const { createCheckRunner } = await import('../checks/runner.js');
    const withhold = [
      connection.apiKeyEnv,
      ...(plan.notify ?? []).flatMap((n) => (n.urlEnv ? [n.urlEnv] : [])),
    ];
    const preTraffic =
      plan.evaluation && prompts
        ? (await import('../evaluation/stage.js')).createPreTraffic({
            config: plan.evaluation,
            prompts,
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
    terminal?.start();
    const result = await runRollout(
      plan,
      {
        clock: systemClock,
        relay: connection.client,
        metrics,
        customMetrics,
        emit,
        signal: controller.signal,
        gate: (terminal && !opts.approveGates
          ? terminal.gate
          : opts.waitAtGates && !terminal
            ? remoteGate
            : autoApprove) as never,
        controls: control.controls,
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
      },
      { startStage: session.startStage, untilStage: opts.untilStage, skipEvaluation: opts.skipEvaluation },
    );
    if (result.outcome === 'interrupted' && signalName && !timedOut) exitCode = SIGNAL_EXIT[signalName];
    else exitCode = result.exitCode;
    finalLine = stopLine(result, { signalName, timedOut, rolledBack, opts });
    return exitCode;
  } catch (error) {
    failure = error;
    exitCode = error instanceof CanaryError ? error.exitCode : ExitCode.Internal;
    throw error;
  } finally {
    clearTimeout(timer);
    control?.close();
    try {
      terminal?.close();
    } catch {
      // A terminal that hung up cannot be restored; the journal and the lock below still must be.
    }
    session?.end(exitCode, failure);
    process.removeListener('SIGINT', onInt);
    process.removeListener('SIGTERM', onTerm);
    process.removeListener('SIGHUP', onHup);
    await reporter?.close();
    await connection?.close();
    await metrics?.close();
    await customMetrics?.close();
    await notifier?.drain(NOTIFY_DRAIN_MS);
    await runReport?.write(exitCode, failure);
    // Last, after everything else: where the journal is, then what a signal or the timeout did,
    // for whoever reads the log's end.
    io.stderr.write(`journal: ${stateLine}\n`);
    if (finalLine) io.stderr.write(`${finalLine}\n`);
  }
}

/** The signals a rollout answers with its --on-interrupt action. */
type StopSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';

/** 128 + the signal's number, as a shell reports a process the signal ended. */
const SIGNAL_EXIT: Record<StopSignal, number> = {
  SIGINT: ExitCode.Interrupted,
  SIGTERM: ExitCode.Terminated,
  SIGHUP: ExitCode.HungUp,
};

const SIGNAL_WORDS: Record<StopSignal, string> = {
  SIGINT: 'interrupted (SIGINT)',
  SIGTERM: 'terminated (SIGTERM)',
  SIGHUP: 'hung up (SIGHUP)',
};

/** How long webhooks still in flight may hold up the exit. */
const NOTIFY_DRAIN_MS = 3_000;

/** One line stating what a signal or the timeout made canary do; undefined for other endings. */
function stopLine(
  result: RolloutResult,
  ctx: {
    signalName: StopSignal | undefined;
    timedOut: boolean;
    rolledBack: boolean;
    opts: RolloutCommandOptions;
  },
): string | undefined {
  const { outcome } = result;
  // A signal that arrived while a rollback was already under way (a failed check) is still
  // answered: the rollback finishes, and the exit code is the signal's.
  const duringRollback = outcome === 'rolled_back' && ctx.signalName !== undefined && !ctx.timedOut;
  if (outcome !== 'interrupted' && outcome !== 'rollback_failed' && !duringRollback) return undefined;
  let what: string;
  let flag: string;
  if (ctx.timedOut) {
    what = `timed out after ${ctx.opts.timeout === undefined ? '?' : `${Math.round(ctx.opts.timeout / 1000)} s`} (--timeout)`;
    flag = `--on-timeout ${ctx.opts.onTimeout ?? 'rollback'}`;
  } else if (ctx.signalName) {
    what = SIGNAL_WORDS[ctx.signalName];
    flag = `--on-interrupt ${ctx.opts.onInterrupt ?? 'rollback'}`;
  } else return undefined;
  const traffic = result.traffic ? formatRules(result.traffic) : 'unknown';
  let action: string;
  if (outcome === 'rollback_failed') action = `rollback NOT confirmed; ${result.next ?? ''}`;
  else if (duringRollback)
    action = `during a rollback (${result.cause ?? 'check'}), which finished: rolled back to the baseline; traffic: ${traffic}`;
  else if (ctx.rolledBack) action = `rolled back to the baseline (${flag}); traffic: ${traffic}`;
  else if (result.summary.includes('nothing was changed'))
    action = `stopped before changing anything; traffic: ${traffic}`;
  else action = `left traffic where it was (${flag}); traffic: ${traffic}`;
  return `${what}: ${action}; exit ${result.exitCode}`;
}

/**
 * Before anything moves, the route itself (not a local file: the next pipeline job may run on
 * another machine) says where to start. Baseline at 100 % or no route: a normal start. A plan
 * stage's weights: the journal session offers to continue from there. Canary at 100 %: already
 * promoted, nothing to do (exit 0). Anything else: refuse (exit 2), saying what was found.
 */
async function checkRouteBeforeStart(
  plan: Plan,
  relay: import('../relay/types.js').RelayPort,
  io: Io,
  stateDir: string,
): Promise<number | undefined> {
  let rules: { version_tag: string; weight: number }[];
  try {
    rules = (await relay.getRoute(plan.route)).route_rules;
  } catch {
    return undefined; // no route yet, or the relay is unreadable: the engine's pre-flight says which
  }
  const weight = (tag: string) => rules.find((r) => r.version_tag === tag)?.weight ?? 0;
  const near = (a: number, b: number) => Math.abs(a - b) <= 0.001;
  const others = rules.filter(
    (r) => r.version_tag !== plan.baseline.tag && r.version_tag !== plan.canary.tag && !near(r.weight, 0),
  );
  const canary = weight(plan.canary.tag);
  const baseline = weight(plan.baseline.tag);
  if (others.length === 0 && near(baseline, 100)) return undefined;
  if (others.length === 0 && near(canary, 100)) {
    // A run that died right after its last PATCH (kill -9) left the last stage unjudged and its
    // journal open: that is a stage to resume (its bake and checks run again), not a promotion.
    if (stageOfRoute(plan, rules) !== null && (await lastRunUnfinished(stateDir, plan.route)))
      return undefined;
    io.stderr.write(
      `route ${plan.route} already sends 100 % to the canary ${plan.canary.tag}: already promoted, nothing to do.\n`,
    );
    return ExitCode.Ok;
  }
  // At one of the plan's stages: the journal session offers to resume there.
  if (stageOfRoute(plan, rules) !== null) return undefined;
  const stages = plan.stages.map((s) => `${s.weight}`).join(', ');
  throw new UsageError(
    `route ${plan.route} is at ${formatRules(rules)}, which is not a stage of this plan (canary ${plan.canary.tag} at ${stages} % with baseline ${plan.baseline.tag} at the rest); nothing was changed.`,
    {
      hint: `run \`canary rollback ${plan.file}\` to restore the baseline, then run the plan again; or set the weights of one of the plan's stages and run it to continue from there.`,
    },
  );
}

/** Whether the route's journal ends in a rollout that never recorded an outcome. */
async function lastRunUnfinished(stateDir: string, route: string): Promise<boolean> {
  const { journalPath, lastRollout, readJournal, summarizeRuns } = await import('../journal/journal.js');
  const last = lastRollout(summarizeRuns(readJournal(journalPath(stateDir, route))));
  return last !== undefined && last.outcome === null;
}

/** Writes the `::add-mask::` commands first, before the key or a webhook URL could appear anywhere. */
async function maskSecrets(plan: Plan, io: Io, out: Io['stdout']): Promise<void> {
  const { maskCommand } = await import('../reporters/github.js');
  const secrets: string[] = [];
  try {
    const { resolveApiKey } = await import('../relay/credentials.js');
    const fromEnv = io.env[plan.relay.apiKeyEnv]?.trim();
    if (plan.relay.url === 'emulator') {
      if (fromEnv) secrets.push(fromEnv);
    } else {
      const { key } = await resolveApiKey({
        env: io.env,
        envVar: plan.relay.apiKeyEnv,
        keyFile: plan.relay.apiKeyFile,
        cwd: path.dirname(plan.file),
      });
      secrets.push(key);
    }
  } catch {
    // A missing or bad key is reported by connect(), with the usual message and exit code.
  }
  for (const n of plan.notify ?? []) {
    const url = n.url ?? (n.urlEnv ? io.env[n.urlEnv]?.trim() : undefined);
    if (url) secrets.push(url);
  }
  for (const secret of secrets) out.write(maskCommand(secret));
}

/** `--output-file`: NDJSON, one event per line as `--output json` writes them, secrets redacted. */
function openOutputFile(file: string, io: Io): Reporter {
  let fd: number;
  try {
    fd = openSync(path.resolve(io.cwd, file), 'w');
  } catch (error) {
    throw new UsageError(
      `cannot write --output-file ${file}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  let failed = false;
  return {
    event(event) {
      if (failed) return;
      try {
        writeSync(fd, io.redact(toJsonLine(event)));
      } catch (error) {
        failed = true; // warn once; the rollout itself carries on
        io.stderr.write(
          `warning: --output-file ${file}: ${error instanceof Error ? error.message : String(error)}; no more events are written to it\n`,
        );
      }
    },
    async close() {
      try {
        closeSync(fd);
      } catch {
        // Already closed or gone.
      }
    },
  };
}

/** Hands every event to each reporter; one failing never stops the others. */
class TeeReporter implements Reporter {
  constructor(private readonly reporters: Reporter[]) {}

  event(event: RolloutEvent): void {
    for (const r of this.reporters) {
      try {
        r.event(event);
      } catch {
        // See the class comment.
      }
    }
  }

  async close(): Promise<void> {
    for (const r of this.reporters) await r.close().catch(() => {});
  }
}
