/**
 * The rollout side of `canary status`: what the journal says about a route's run in progress
 * (stage n/m, bake elapsed/left, the last verdict per check, who runs it, held or at a gate,
 * requests from other shells), and `status --wait`, which follows the journal until the run
 * records its outcome and returns that run's exit code. Reads files only; the relay's side
 * (weights, metrics) stays in src/commands/status.ts.
 */
import { hostname } from 'node:os';
import { heldAfter } from '../control/hold.js';
import { ExitCode } from '../errors.js';
import { formatDuration, formatTimeOfDay, formatWeight } from '../format.js';
import type { Io } from '../io.js';
import { isAlive } from '../journal/lock.js';
import { journalPath } from '../journal/paths.js';
import { readJournal } from '../journal/reader.js';
import type { JournalRecord } from '../journal/records.js';
import { lastRollout, type RunSummary, summarizeRuns } from '../journal/run-summary.js';
import { describeCheck } from '../reporters/check-text.js';

export interface LiveRollout {
  run: RunSummary;
  /** True: its process runs on this host; false: it died without an outcome; null: another host. */
  alive: boolean | null;
  stage: { index: number; count: number; weight: number; startedAt: number; bakeMs: number } | null;
  lastEvaluation: Extract<JournalRecord, { type: 'evaluation' }> | null;
  held: boolean;
  gateOpen: boolean;
}

/** The route's latest rollout run from the journal, with where it stands; undefined if none. */
export function readRouteRollout(stateDir: string, route: string): LiveRollout | undefined {
  const records = readJournal(journalPath(stateDir, route));
  const run = lastRollout(summarizeRuns(records));
  if (!run) return undefined;
  let stage: LiveRollout['stage'] = null;
  let lastEvaluation: LiveRollout['lastEvaluation'] = null;
  let held = false;
  let gateOpen = false;
  for (const r of records) {
    if (r.run !== run.run) continue;
    held = heldAfter(held, r);
    switch (r.type) {
      case 'stage_started':
        stage = { index: r.stage, count: r.stageCount, weight: r.weight, startedAt: r.at, bakeMs: r.bakeMs };
        gateOpen = false;
        break;
      case 'evaluation':
        lastEvaluation = r;
        break;
      case 'paused':
        gateOpen = true;
        break;
      case 'gate_decision':
        gateOpen = false;
        break;
      default:
        break;
    }
  }
  const alive =
    run.outcome !== null ? false : run.header.host === hostname() ? isAlive(run.header.pid) : null;
  return { run, alive, stage, lastEvaluation, held, gateOpen };
}

/** Is this the run in progress (no outcome, and its process not known dead)? */
export function inProgress(live: LiveRollout | undefined): live is LiveRollout {
  return live !== undefined && live.run.outcome === null && live.alive !== false;
}

const clock = formatTimeOfDay;

/** The lines `canary status` prints under the route's table while a rollout runs. */
export function renderLive(live: LiveRollout, now: number): string {
  const { run, stage } = live;
  const lines: string[] = [];
  const state = live.held
    ? ' · PAUSED (canary resume releases it)'
    : live.gateOpen
      ? ' · at its manual gate'
      : '';
  if (stage) {
    const elapsed = Math.max(0, now - stage.startedAt);
    const left = Math.max(0, stage.bakeMs - elapsed);
    const bake =
      left > 0
        ? `bake ${formatDuration(elapsed)} of ${formatDuration(stage.bakeMs)} (${formatDuration(left)} left)`
        : `bake done ${formatDuration(elapsed - stage.bakeMs)} ago, waiting for a passing check`;
    lines.push(
      `rollout in progress: stage ${stage.index + 1}/${stage.count} · canary ${formatWeight(stage.weight)} · ${bake}${state}`,
    );
  } else {
    lines.push(`rollout in progress: pre-flight, no weights changed yet${state}`);
  }
  const e = live.lastEvaluation;
  if (e && stage && e.stage === stage.index) {
    const checks = e.evaluation.checks.map(describeCheck).join(' · ');
    lines.push(
      `  last check ${clock(e.at)} (${formatDuration(Math.max(0, now - e.at))} ago): ${e.evaluation.verdict.replaceAll('_', ' ')}${checks ? ` — ${checks}` : ''}`,
    );
  }
  const who = `${run.header.user ? `${run.header.user}@` : ''}${run.header.host}, pid ${run.header.pid}`;
  const alive = live.alive === null ? ' (on another host: not checked)' : '';
  lines.push(
    `  run ${run.run} by ${who}${alive}, started ${clock(run.startedAt)}${run.header.plan ? `, plan ${run.header.plan}` : ''}`,
  );
  for (const c of run.control.slice(-3)) {
    lines.push(
      `  ${clock(c.at)} ${c.action}${c.full ? ' --full' : ''} by ${c.user}@${c.host}${c.reason ? `: ${c.reason}` : ''}`,
    );
  }
  const r = ` --route ${run.route}`;
  const verbs = live.held ? `canary resume${r}` : `canary pause${r}`;
  lines.push(
    `  control: canary promote${r} [--full] · ${verbs} · canary abort${r} -m "why" · canary status${r} --wait`,
  );
  return lines.join('\n');
}

/** `live` as the status record's `rollout` field (snake_case, times as ISO strings). */
export function liveRecord(live: LiveRollout, now: number): Record<string, unknown> {
  const { stage, run } = live;
  return {
    run: run.run,
    pid: run.header.pid,
    host: run.header.host,
    user: run.header.user ?? null,
    plan: run.header.plan ?? null,
    started_at: new Date(run.startedAt).toISOString(),
    stage: stage ? stage.index + 1 : null,
    stage_count: stage?.count ?? null,
    weight: stage?.weight ?? null,
    bake_elapsed_ms: stage ? Math.max(0, now - stage.startedAt) : null,
    bake_ms: stage?.bakeMs ?? null,
    held: live.held,
    gate_open: live.gateOpen,
    last_evaluation: live.lastEvaluation
      ? {
          at: new Date(live.lastEvaluation.at).toISOString(),
          verdict: live.lastEvaluation.evaluation.verdict,
          checks: live.lastEvaluation.evaluation.checks.map((c) => ({
            id: c.id,
            status: c.status,
            value: c.value,
          })),
        }
      : null,
  };
}

/**
 * `status --wait`: follows the route's rollout until it records an outcome; resolves to its exit
 * code. No run in progress: the last run's code (it has already ended), or 6 when the route has
 * none. A run whose process died without an outcome: 5. The timeout: 5, the rollout carries on.
 */
export async function waitForRollout(opts: {
  stateDir: string;
  route: string;
  timeoutMs?: number | undefined;
  pollMs?: number | undefined;
  signal: AbortSignal;
  io: Io;
  now: () => number;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
}): Promise<number> {
  const { io } = opts;
  const first = readRouteRollout(opts.stateDir, opts.route);
  if (!first) {
    io.stderr.write(`no rollout of ${opts.route} recorded in ${opts.stateDir}; nothing to wait for.\n`);
    return ExitCode.NotRunning;
  }
  if (!inProgress(first)) return ended(first, io, 'not running; its last rollout');
  const deadline = opts.timeoutMs === undefined ? Number.POSITIVE_INFINITY : opts.now() + opts.timeoutMs;
  io.stderr.write(
    `waiting for run ${first.run.run} of ${opts.route} (pid ${first.run.header.pid} on ${first.run.header.host}) to end…\n`,
  );
  let said = '';
  for (;;) {
    const live = readRouteRollout(opts.stateDir, opts.route);
    if (!live || live.run.run !== first.run.run) {
      io.stderr.write(`the journal of ${opts.route} no longer holds run ${first.run.run}.\n`);
      return ExitCode.Aborted;
    }
    if (live.run.outcome !== null) return ended(live, io, 'ended');
    if (live.alive === false) {
      io.stderr.write(
        `run ${live.run.run} (pid ${live.run.header.pid}) is no longer running and recorded no outcome; see \`canary status --route ${opts.route}\` for where traffic is.\n`,
      );
      return ExitCode.Aborted;
    }
    const where = live.stage
      ? `stage ${live.stage.index + 1}/${live.stage.count} (canary ${formatWeight(live.stage.weight)})${live.held ? ', paused' : ''}`
      : 'pre-flight';
    if (where !== said) {
      io.stderr.write(`${clock(opts.now())} ${opts.route}: ${where}\n`);
      said = where;
    }
    const left = deadline - opts.now();
    if (left <= 0) {
      io.stderr.write(
        `still running after --timeout ${formatDuration(opts.timeoutMs ?? 0)}; stopped waiting (the rollout carries on).\n`,
      );
      return ExitCode.Aborted;
    }
    try {
      await opts.sleep(Math.min(opts.pollMs ?? 500, left), opts.signal);
    } catch {
      return ExitCode.Interrupted;
    }
  }
}

function ended(live: LiveRollout, io: Io, what: string): number {
  const code = live.run.exitCode ?? ExitCode.Aborted;
  io.stdout.write(
    `${live.run.route} ${what}: ${live.run.outcome ?? 'no outcome recorded'}${live.run.summary ? ` — ${live.run.summary}` : ''} (run ${live.run.run}, exit ${code})\n`,
  );
  return code;
}
