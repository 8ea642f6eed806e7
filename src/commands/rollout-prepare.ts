/**
 * The prepare step of `canary rollout`: checks the flags against the plan, then opens what a
 * run needs (the relay connection, the metrics sources, the reporter, the terminal, the journal
 * session and its lock, the control channel) and puts the engine's inputs together. Each thing
 * is added to one close list the moment it is opened; the list closes them in reverse order,
 * whichever way the run ends, and if a step here fails, what was opened before it is closed
 * before the error goes on.
 *
 * The opening order is the closing order backwards, chosen for how a run should end: the
 * control channel first, the journal (outcome and lock), the timeout, the terminal, then the
 * reporter (its final frame), the metrics and relay connections, webhooks still in flight (at
 * most NOTIFY_DRAIN_MS), the HTML report, the lines that say where the journal is and what a
 * signal or the timeout did, and last the signal handlers: a signal at any point of a run is
 * answered. Once closing has begun the outcome is decided, and a signal only cuts the drain short
 * (./rollout-late-stop.ts).
 */
import path from 'node:path';
import { systemClock } from '../clock.js';
import { type AttachedControl, attachControl } from '../control/attach.js';
import type { OpenedCustomMetrics } from '../custom-metrics/reader.js';
import type { Plan } from '../domain/plan.js';
import { CanaryError, ExitCode } from '../errors.js';
import type { Io } from '../io.js';
import { chooseStateDir, describeStateDir } from '../journal/paths.js';
import { openRolloutSession } from '../journal/session.js';
import { createMetricsSource } from '../metrics/index.js';
import { type DrainResult, Notifier } from '../notify/webhook.js';
import { proxySettings } from '../relay/proxy.js';
import { socketPoolTransport } from '../relay/socket-pool.js';
import { undiciTransport } from '../relay/undici-transport.js';
import { isGitHubActions } from '../reporters/github.js';
import type { Reporter } from '../reporters/reporter.js';
import type { RolloutDeps, RolloutOptions } from '../rollout/engine.js';
import type { EmitFn, RolloutEvent } from '../rollout/events.js';
import { leaveOptimiserOff, optimiserNeedless } from '../rollout-tiering.js';
import type { TerminalSession } from '../terminal/session.js';
import { CloseList } from './close-list.js';
import { type Connection, connect } from './connection.js';
import { engineDeps } from './rollout-engine-deps.js';
import { type Decided, decide } from './rollout-flags.js';
import { type DecidedEnding, decideStops, lateStopLine } from './rollout-late-stop.js';
import type { RolloutCommandOptions } from './rollout-options.js';
import { openOutputFile, openReporter } from './rollout-outputs.js';
import { checkRouteBeforeStart } from './rollout-route-check.js';
import { createStops, listenForSignals, type Stops, startTimeout } from './rollout-stops.js';

/** How long webhooks still in flight may hold up the exit. */
const NOTIFY_DRAIN_MS = 3_000;

/** How the run ended, as the close list needs it: the journal's outcome, the report, the last lines. */
export interface RunEnding extends DecidedEnding {
  failure?: unknown;
}

interface Prepared {
  stops: Stops;
  /** Closes everything opened, in reverse order; once. */
  close(ending: RunEnding): Promise<void>;
}

/** Ready to run: the engine's inputs, with `start` to call just before it runs. */
export interface ReadyRollout extends Prepared {
  ready: true;
  deps: RolloutDeps;
  options: RolloutOptions;
  /** Starts reading keys at the terminal, when there is a person there. */
  start(): void;
}

/** Nothing to run: the route says so (already promoted); `exitCode` is the command's. */
export interface DoneRollout extends Prepared {
  ready: false;
  exitCode: number;
}

export async function prepareRollout(
  plan: Plan,
  opts: RolloutCommandOptions,
  io: Io,
): Promise<ReadyRollout | DoneRollout> {
  const decided = await decide(plan, opts, io);
  // The one state-folder rule (src/journal/paths.ts), said in the first and the last line.
  const stateChoice = chooseStateDir({ flag: opts.stateDir, env: io.env, cwd: io.cwd, planFile: plan.file });
  const stateLine = describeStateDir(stateChoice);
  io.stderr.write(`${stateLine}\n`);

  const closing = new CloseList<RunEnding>((text) => io.stderr.write(`warning: ${text}\n`));
  const stops = createStops();
  const o: Opening = { plan, opts, io, closing, stops, decided, stateDir: stateChoice.dir };
  // Listening from the start: a signal during the pre-flight or while resuming is still a
  // signal this run answers (a resumed run owns the route's stage and rolls it back). Closed
  // last, and kept up to the exit itself when the process exits next: no signal ever meets
  // Node's default action, which would end the process with no last lines.
  const stopListening = listenForSignals(stops, opts, () => o.terminal);
  closing.add('signal handlers', () => stopListening({ processExitsNext: io.exitsWhenDone === true }));
  closing.add('last lines', (ending) => {
    // After everything else: where the journal is, then what a late signal cut short, then what
    // a signal or the timeout did, for whoever reads the log's end.
    io.stderr.write(`journal: ${stateLine}\n`);
    const late = lateStopLine(stops, ending, o.drained);
    if (late) io.stderr.write(`${late}\n`);
    if (ending.finalLine) io.stderr.write(`${ending.finalLine}\n`);
  });
  const close = (ending: RunEnding) => {
    decideStops(stops, ending);
    return closing.close(ending);
  };
  try {
    const opened = await open(o);
    if (typeof opened === 'number') return { ready: false, exitCode: opened, stops, close };
    return { ready: true, stops, close, ...opened };
  } catch (error) {
    await close({
      exitCode: error instanceof CanaryError ? error.exitCode : ExitCode.Internal,
      failure: error,
    });
    throw error;
  }
}

interface Opening {
  plan: Plan;
  opts: RolloutCommandOptions;
  io: Io;
  closing: CloseList<RunEnding>;
  stops: Stops;
  decided: Decided;
  stateDir: string;
  /** The person at the terminal, once there is one (signals and the footer ask for them). */
  terminal?: TerminalSession | undefined;
  /** How the webhooks' drain ended, once it has (for the last lines). */
  drained?: DrainResult | undefined;
}

type Ready = Omit<ReadyRollout, keyof Prepared | 'ready'>;

/** Opens everything, each closer added as its resource opens; a number is an early exit code. */
async function open(o: Opening): Promise<Ready | number> {
  const { plan, opts, io, closing } = o;
  const sinks = await openSinks(o);
  const connection = await openConnection(plan, opts, io);
  closing.add('relay connection', () => connection.close());
  tierRollout(plan, opts, connection, io);
  if (!connection.inProcessEmulator) {
    const early = await checkRouteBeforeStart(plan, connection.client, io, o.stateDir);
    if (early !== undefined) return early;
  }
  const { metrics, customMetrics } = await openMetrics(plan, opts, io, connection, closing);
  const reporter = await openPresence(o, sinks.outputFile);
  closing.add('--timeout', startTimeout(o.stops, opts));
  const { emit, controls, startStage } = await openSession(o, connection, reporter, sinks);
  const deps = await engineDeps(plan, opts, io, {
    connection,
    metrics,
    customMetrics,
    emit,
    signal: o.stops.controller.signal,
    controls,
    terminal: o.terminal,
    prompts: o.decided.prompts,
  });
  return {
    deps,
    options: { startStage, untilStage: opts.untilStage, skipEvaluation: opts.skipEvaluation },
    start: () => o.terminal?.start(),
  };
}

type RunReport = ReturnType<typeof import('../report/rollout-report.js').createRunReport>;

/** What outlives the run's end longest (after the signal handlers): the HTML report, webhooks, --output-file. */
async function openSinks(o: Opening): Promise<{
  runReport: RunReport | undefined;
  notifier: Notifier | undefined;
  outputFile: Reporter | undefined;
}> {
  const { plan, opts, io, closing } = o;
  const runReport = opts.report
    ? (await import('../report/rollout-report.js')).createRunReport(plan, opts.report, io, systemClock.now)
    : undefined;
  if (runReport) closing.add('HTML report', ({ exitCode, failure }) => runReport.write(exitCode, failure));
  const { webhooks } = o.decided;
  const notifier = webhooks.length > 0 ? new Notifier(webhooks, plan, io) : undefined;
  if (notifier) {
    closing.add('webhooks', async () => {
      o.drained = await notifier.drain(NOTIFY_DRAIN_MS, o.stops.cut.signal);
    });
  }
  const outputFile = opts.outputFile ? openOutputFile(opts.outputFile, io) : undefined;
  if (outputFile) closing.add('--output-file', () => outputFile.close());
  return { runReport, notifier, outputFile };
}

/** The reporter, and the keys, Ctrl-C menu and gate prompts for a person at the terminal (src/terminal/session.ts). */
async function openPresence(o: Opening, outputFile: Reporter | undefined): Promise<Reporter> {
  const { plan, opts, io, closing, decided } = o;
  const reporter = openReporter(
    {
      mode: decided.mode,
      color: decided.color,
      github: isGitHubActions(io.env),
      reportFile: opts.report,
      outputFile,
      footer: () => o.terminal?.footer(),
    },
    io,
  );
  closing.add('reporter', () => reporter.close());
  if (!decided.interactive) return reporter;
  const { createTerminalSession } = await import('../terminal/session.js');
  const person = await createTerminalSession({
    io,
    controller: o.stops.controller,
    reporter,
    baseline: plan.baseline.tag,
    canary: plan.canary.tag,
    color: decided.color,
  });
  o.terminal = person;
  closing.add('terminal', () => {
    try {
      person.close();
    } catch {
      // A terminal that hung up cannot be restored; the journal and the lock must still be.
    }
  });
  return reporter;
}

/**
 * The journal session (lock, resume detection, journal), the one `emit` every event goes
 * through, and the control channel (`canary promote|pause|resume|abort` from another shell).
 */
async function openSession(
  o: Opening,
  connection: Connection,
  reporter: Reporter,
  sinks: { runReport: RunReport | undefined; notifier: Notifier | undefined },
): Promise<{ emit: EmitFn; controls: RolloutDeps['controls']; startStage: number | undefined }> {
  const { plan, opts, io, closing, stops, stateDir } = o;
  const session = await openRolloutSession({
    plan,
    io,
    stateDir,
    relay: connection.client,
    relayUrl: connection.url,
    inProcessEmulator: connection.inProcessEmulator,
    apiKeyEnv: connection.apiKeyEnv,
    apiKeyFile: plan.relay.apiKeyFile,
    clock: systemClock,
    interactive: o.decided.interactive,
    yes: opts.yes === true,
  });
  closing.add('journal', ({ exitCode, failure }) => session.end(exitCode, failure));

  let control: AttachedControl | undefined;
  const emit = session.wrapEmit((event: RolloutEvent) => {
    try {
      if (event.type === 'rolled_back') stops.rolledBack = true;
      o.terminal?.observe(event);
      control?.observe(event);
      sinks.runReport?.observe(event);
      reporter.event(event);
    } catch {
      // A rendering bug must never stop or delay the rollout itself.
    }
    sinks.notifier?.observe(event); // never waits: a dead webhook cannot delay what comes next
  });
  const attached = await attachControl({
    stateDir,
    route: plan.route,
    plan: plan.file,
    controls: o.terminal?.controls,
    emit,
    now: () => systemClock.now(),
    warn: (text) => io.stderr.write(`${text}\n`),
  });
  control = attached;
  closing.add('control channel', () => attached.close());
  if (opts.waitAtGates && !o.terminal && attached.socketPath === undefined && o.decided.gated.length > 0) {
    throw new CanaryError(
      '--wait-at-gates needs the control channel, which could not be opened (see the warning above); nothing was changed.',
      ExitCode.BadInput,
    );
  }
  return { emit, controls: attached.controls, startStage: session.startStage };
}

/** A rollout that only talks to a relay runs without V8's optimising compiler (src/rollout-tiering.ts). */
function tierRollout(plan: Plan, opts: RolloutCommandOptions, connection: Connection, io: Io): void {
  const needless = optimiserNeedless({
    inProcessEmulator: connection.inProcessEmulator,
    evaluates: plan.evaluation !== undefined && opts.skipEvaluation !== true,
    execArgv: process.execArgv,
    nodeOptions: io.env.NODE_OPTIONS,
  });
  if (needless) leaveOptimiserOff();
}

async function openConnection(plan: Plan, opts: RolloutCommandOptions, io: Io): Promise<Connection> {
  return connect(
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
}

/** The relay or Prometheus (analysis.provider), and `analysis.metrics:`; a missing credential stops here. */
async function openMetrics(
  plan: Plan,
  opts: RolloutCommandOptions,
  io: Io,
  connection: Connection,
  closing: CloseList<RunEnding>,
) {
  const metrics = await createMetricsSource(plan, connection, io, {
    allowInsecureHttp: opts.allowInsecureHttp,
    transport: undiciTransport,
  });
  closing.add('metrics source', () => metrics.close());
  // analysis.metrics: their env secrets are read (and registered as secrets) before any change.
  let customMetrics: OpenedCustomMetrics | undefined;
  if ((plan.analysis.customMetrics?.length ?? 0) > 0) {
    const { openCustomMetrics } = await import('../custom-metrics/reader.js');
    const opened = await openCustomMetrics(plan, io, {
      transport: undiciTransport,
      allowInsecureHttp: opts.allowInsecureHttp,
    });
    customMetrics = opened;
    closing.add('analysis.metrics sources', async () => opened?.close());
  }
  return { metrics, customMetrics };
}
