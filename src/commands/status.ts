/**
 * `canary status`: a route's weights and each version's metrics over a trailing window,
 * once or (--watch) refreshed until Ctrl-C. Several `--route`s are read a few at a time
 * through the one client, so 200 routes cost 200 × (one route), over a bounded number of
 * connections (the client's Agent caps them per relay).
 */
import path from 'node:path';
import { systemClock } from '../clock.js';
import type { statusCommand } from '../command-table/commands.js';
import type { CommandOptions } from '../command-table/define.js';
import type { Plan } from '../domain/plan.js';
import type { MetricsSource, Route, VersionMetrics } from '../domain/relay.js';
import { CanaryError, ExitCode, UsageError } from '../errors.js';
import { formatTimestamp } from '../format.js';
import type { Io } from '../io.js';
import { mapBounded } from '../map-bounded.js';
import { recordLine } from '../output/record.js';
import { parseDuration } from '../plan/duration.js';
import { socketPoolTransport } from '../relay/socket-pool.js';
import { startSpinner } from '../terminal/spinner.js';
import { type Connection, connect } from './connection.js';

export type StatusCommandOptions = CommandOptions<typeof statusCommand> & {
  /**
   * How calls reach the relay; default the socket pool. The full CLI passes undici's when a
   * forwarding proxy is configured (src/relay/proxy.ts): only undici knows proxies.
   */
  transport?: import('../relay/transport.js').TransportFactory | undefined;
};

const WATCH_INTERVAL_MS = 5_000;
/** How long a read may take before a spinner says it is being waited for. */
const SPINNER_DELAY_MS = 400;
/** Routes read at once: enough to hide round trips, few enough to be gentle with the relay. */
export const STATUS_CONCURRENCY = 8;

interface Snapshot {
  route: Route;
  metrics: Record<string, VersionMetrics | null>;
  errors: Record<string, string>;
}

type RouteOutcome = { ok: true; snap: Snapshot } | { ok: false; routeId: string; error: unknown };

async function snapshot(
  connection: Connection,
  source: MetricsSource,
  routeId: string,
  windowMs: number,
): Promise<Snapshot> {
  const route = await connection.client.getRoute(routeId);
  const end = systemClock.now();
  const metrics: Record<string, VersionMetrics | null> = {};
  const errors: Record<string, string> = {};
  // A version's metrics failing to load is shown as "no data" with the reason, not a failed command:
  // during an incident the weights alone are worth seeing.
  await Promise.all(
    route.route_rules.map(async (rule) => {
      try {
        metrics[rule.version_tag] = await source.readMetrics({
          versionTag: rule.version_tag,
          start: end - windowMs,
          end,
          route: routeId,
        });
      } catch (error) {
        metrics[rule.version_tag] = null;
        errors[rule.version_tag] = error instanceof Error ? error.message : String(error);
      }
    }),
  );
  return { route, metrics, errors };
}

type Live = typeof import('./status-live.js');
type Mode = ReturnType<typeof import('../reporters/select.js').selectOutput>;

/** Which routes to read, and the relay and key to read them from, as the flags and plan say. */
interface Target {
  routeIds: string[];
  plan: Plan | undefined;
  planUrl: string | undefined;
  apiKeyEnv: string;
  apiKeyFile: string | undefined;
  baseDir: string;
  stateDir: string;
}

export async function runStatusCommand(opts: StatusCommandOptions, io: Io): Promise<number> {
  const windowMs = parseDuration(opts.window);
  if (windowMs === undefined || windowMs <= 0) {
    throw new UsageError(`--window takes a duration like 30s, 5m or 1h, got '${opts.window}'.`);
  }
  const target = await resolveTarget(opts, io);
  const live = await import('./status-live.js');
  if (opts.wait) return waitForRollout(target, opts, io, live);
  if (!target.plan && !opts.relayUrl) useLastRolloutRelay(target, opts, live);

  const transport = opts.transport ?? socketPoolTransport;
  const connection = await connect(
    {
      flagUrl: opts.relayUrl,
      planUrl: target.planUrl,
      apiKeyEnv: target.apiKeyEnv,
      apiKeyFile: target.apiKeyFile,
      apiKeyFileFromFlag: opts.apiKeyFile !== undefined,
      allowInsecureHttp: opts.allowInsecureHttp,
      baseDir: target.baseDir,
      // A short command: plain sockets, not undici, whose WebAssembly parser costs more to start
      // than the calls; but only undici knows proxies (src/relay/proxy.ts).
      transport,
    },
    io,
  );
  // The plan's metrics source (the relay, or Prometheus per analysis.provider); the relay without a plan.
  const metricsSource = await import('../metrics/index.js')
    .then((m) =>
      m.createMetricsSource(target.plan, connection, io, {
        allowInsecureHttp: opts.allowInsecureHttp,
        transport,
      }),
    )
    .catch(async (error: unknown) => {
      await connection.close();
      throw error;
    });
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  if (opts.watch) process.once('SIGINT', onSignal);
  try {
    // The first refresh's calls go out before anything else: choosing the output and loading the
    // table (chalk, cli-table3) happen while the relay answers, not before it is asked.
    let reads = readRoutes(target.routeIds, connection, metricsSource, windowMs);
    const output = await chooseOutput(opts, io, metricsSource);
    for (;;) {
      const outcomes = await withSpinner(reads, io, target.routeIds, connection, output);
      const failure = writeRefresh(outcomes, {
        opts,
        io,
        mode: output.mode,
        stateDir: target.stateDir,
        routeIds: target.routeIds,
        windowMs,
        metricsSource,
        live,
        render: output.render,
      });
      if (failure && !opts.watch) return failure.exitCode;
      if (!opts.watch) return ExitCode.Ok;
      try {
        await systemClock.sleep(opts.interval ?? WATCH_INTERVAL_MS, controller.signal);
      } catch {
        return ExitCode.Interrupted;
      }
      reads = readRoutes(target.routeIds, connection, metricsSource, windowMs);
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    await connection.close();
    await metricsSource.close();
  }
}

/** How a refresh is written: the output mode, colour, and the table of one route. */
interface Output {
  mode: Mode;
  color: boolean;
  render(snap: Snapshot): string;
}

async function chooseOutput(
  opts: StatusCommandOptions,
  io: Io,
  metricsSource: MetricsSource & { description: string },
): Promise<Output> {
  const { selectOutput, colorEnabled } = await import('../reporters/select.js');
  const mode = selectOutput({ flag: opts.output, isTTY: io.stdout.isTTY === true, env: io.env });
  const color = colorEnabled({ flagColor: opts.color, env: io.env, isTTY: io.stdout.isTTY === true, mode });
  const { renderStatus } = await import('../reporters/status.js');
  return {
    mode,
    color,
    render: (snap) =>
      renderStatus({
        route: snap.route,
        metrics: snap.metrics,
        source: metricsSource.description,
        window: opts.window,
        color,
      }),
  };
}

/** The routes (flags, else the plan's), the relay and key the plan names, and the state folder. */
async function resolveTarget(opts: StatusCommandOptions, io: Io): Promise<Target> {
  const routeFlags = opts.route === undefined ? [] : Array.isArray(opts.route) ? opts.route : [opts.route];
  const target: Target = {
    routeIds: [...new Set(routeFlags)],
    plan: undefined,
    planUrl: undefined,
    apiKeyEnv: opts.apiKeyEnv,
    apiKeyFile: opts.apiKeyFile,
    baseDir: io.cwd,
    stateDir: '',
  };
  if (opts.plan) {
    const { loadPlan } = await import('../plan/load.js');
    const plan = await loadPlan(opts.plan, { cwd: io.cwd });
    target.plan = plan;
    if (target.routeIds.length === 0) target.routeIds = [plan.route];
    target.planUrl = plan.relay.url === 'emulator' ? undefined : plan.relay.url;
    target.apiKeyEnv = opts.apiKeyEnv === 'RELAY_API_KEY' ? plan.relay.apiKeyEnv : opts.apiKeyEnv;
    target.apiKeyFile = target.apiKeyFile ?? plan.relay.apiKeyFile;
    target.baseDir = path.dirname(plan.file);
  }
  if (target.routeIds.length === 0) {
    throw new UsageError('status needs a plan or --route.', {
      hint: 'canary status --route code-review-production',
    });
  }
  const { chooseStateDir } = await import('../journal/paths.js');
  target.stateDir = chooseStateDir({
    flag: opts.stateDir,
    env: io.env,
    cwd: io.cwd,
    planFile: target.plan?.file,
  }).dir;
  return target;
}

/** --wait: follows the one route's rollout in the journal until it ends (Ctrl-C stops). */
async function waitForRollout(
  target: Target,
  opts: StatusCommandOptions,
  io: Io,
  live: Live,
): Promise<number> {
  if (target.routeIds.length > 1) throw new UsageError('--wait follows one route; name one with --route.');
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  try {
    return await live.waitForRollout({
      stateDir: target.stateDir,
      route: target.routeIds[0] as string,
      timeoutMs: opts.timeout,
      signal: controller.signal,
      io,
      now: () => systemClock.now(),
      sleep: (ms, signal) => systemClock.sleep(ms, signal),
    });
  } finally {
    process.removeListener('SIGINT', onSignal);
  }
}

/** The relay the route's last rollout used (and where its key came from), before $CANARY_RELAY_URL. */
function useLastRolloutRelay(target: Target, opts: StatusCommandOptions, live: Live): void {
  const last = live.readRouteRollout(target.stateDir, target.routeIds[0] as string)?.run.header;
  if (last && !last.inProcessEmulator) {
    target.planUrl = last.relay;
    if (opts.apiKeyEnv === 'RELAY_API_KEY') target.apiKeyEnv = last.apiKeyEnv;
    target.apiKeyFile = target.apiKeyFile ?? last.apiKeyFile;
  }
}

/** One refresh's reads, a few routes at a time; with several routes one failing leaves the others. */
function readRoutes(
  routeIds: string[],
  connection: Connection,
  metricsSource: MetricsSource,
  windowMs: number,
): Promise<RouteOutcome[]> {
  const reads = mapBounded(routeIds, STATUS_CONCURRENCY, async (routeId): Promise<RouteOutcome> => {
    try {
      return { ok: true, snap: await snapshot(connection, metricsSource, routeId, windowMs) };
    } catch (error) {
      // With one route this is the command's error, as before; with several, the others still show.
      if (routeIds.length === 1 || !(error instanceof CanaryError)) throw error;
      return { ok: false, routeId, error };
    }
  });
  // Awaited once the output is chosen; a failure meanwhile is not an unhandled rejection.
  reads.catch(() => {});
  return reads;
}

/** Waits for a refresh's reads; a relay that answers at once draws nothing, a slow one a spinner. */
function withSpinner(
  reads: Promise<RouteOutcome[]>,
  io: Io,
  routeIds: string[],
  connection: Connection,
  output: Output,
): Promise<RouteOutcome[]> {
  const spinner = startSpinner(io, `reading ${routeIds.join(', ')} from ${connection.url}`, {
    forPerson: output.mode === 'tty',
    color: output.color,
    delayMs: SPINNER_DELAY_MS,
  });
  return reads.finally(() => spinner.stop());
}

interface RefreshContext {
  opts: StatusCommandOptions;
  io: Io;
  mode: Mode;
  stateDir: string;
  routeIds: string[];
  windowMs: number;
  metricsSource: MetricsSource;
  live: Live;
  render(snap: Snapshot): string;
}

/** Writes one refresh (a JSON record, or a table per route); returns the first route's failure. */
function writeRefresh(outcomes: RouteOutcome[], c: RefreshContext): CanaryError | undefined {
  const { opts, io, mode, live } = c;
  const now = systemClock.now();
  const interval = opts.interval ?? WATCH_INTERVAL_MS;
  // A watched terminal gets each refresh as one write (clear, header, tables), then its
  // warnings: written piece by piece, the cleared screen could show a header with no table.
  const inPlace = opts.watch === true && mode === 'tty';
  const frame: string[] = [];
  const warnings: string[] = [];
  const out = (text: string) => (inPlace ? frame.push(text) : io.stdout.write(text));
  const warn = (text: string) => (inPlace ? warnings.push(text) : io.stderr.write(text));
  if (opts.watch) {
    const header = `every ${Math.round(interval / 100) / 10}s · ${formatTimestamp(now)} · Ctrl-C stops`;
    if (mode === 'tty') out(`\x1b[2J\x1b[H${header}\n\n`);
    else if (mode !== 'json') out(`--- ${header}\n`);
  }
  let failure: CanaryError | undefined;
  for (const [index, outcome] of outcomes.entries()) {
    if (!outcome.ok) {
      const error = outcome.error as CanaryError;
      failure ??= error;
      warn(`error: ${outcome.routeId}: ${error.message}\n`);
      continue;
    }
    const snap = outcome.snap;
    const rollout = live.readRouteRollout(c.stateDir, c.routeIds[index] ?? snap.route.route_id);
    const running = live.inProgress(rollout) ? rollout : undefined;
    if (mode === 'json') {
      out(
        recordLine('status', {
          time: new Date(now).toISOString(),
          source: c.metricsSource.name,
          window_ms: c.windowMs,
          ...snap,
          rollout: running ? live.liveRecord(running, now) : null,
        }),
      );
    } else {
      out(`${index > 0 ? '\n' : ''}${c.render(snap)}\n`);
      out(running ? `${live.renderLive(running, now)}\n` : '');
      for (const [tag, message] of Object.entries(snap.errors)) {
        warn(`warning: metrics for ${tag} could not be read: ${message}\n`);
      }
    }
  }
  if (frame.length > 0) io.stdout.write(frame.join(''));
  if (warnings.length > 0) io.stderr.write(warnings.join(''));
  return failure;
}
