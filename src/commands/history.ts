/**
 * `canary history`: past rollouts (and manual rollbacks) as the journal recorded them, oldest
 * first: outcome, duration, how far they got and the check or reason that decided it.
 * Reads files only; never touches the relay.
 */

import type { historyCommand } from '../command-table/commands.js';
import type { CommandOptions } from '../command-table/define.js';
import { ExitCode, UsageError } from '../errors.js';
import { formatDuration, formatRules, formatTimeOfDay, formatTimestamp } from '../format.js';
import type { Io } from '../io.js';
import { chooseStateDir } from '../journal/paths.js';
import { readStateDir } from '../journal/reader.js';
import type { RunSummary } from '../journal/run-summary.js';
import { recordLine } from '../output/record.js';

export type HistoryCommandOptions = CommandOptions<typeof historyCommand>;

function rules(run: RunSummary): string {
  if (run.rules) return formatRules(run.rules);
  // No weights recorded: a run that stopped before its first stage changed nothing; only a
  // run that got further and then lost track (a crash mid-write) leaves the traffic unknown.
  return run.stage === null && run.command === 'rollout'
    ? 'unchanged (this run set no weights)'
    : 'unknown (not recorded; `canary status` reads it from the relay)';
}

/**
 * The run that came after one with no recorded end, on the same route: the run that resumed it,
 * else any later run. A process killed with no chance to write its end (kill -9, a lost machine)
 * leaves no outcome; once another run has taken the route over, "unfinished" would be read as
 * "still running" forever, so the listing says what became of it instead.
 */
function supersededBy(run: RunSummary, runs: readonly RunSummary[]): RunSummary | null {
  if (run.outcome !== null) return null;
  const later = runs.filter((r) => r.route === run.route && r.startedAt > run.startedAt);
  return later.find((r) => r.header.resumes === run.run) ?? later[0] ?? null;
}

function outcomeOf(run: RunSummary, after: RunSummary | null): string {
  if (run.outcome !== null) return run.outcome;
  if (after?.header.resumes === run.run) return `interrupted (no end recorded; run ${after.run} resumed it)`;
  if (after) return `interrupted (no end recorded; a later run, ${after.run}, took the route over)`;
  return `unfinished (pid ${run.header.pid} on ${run.header.host}: still running, or ended with no record)`;
}

export async function runHistoryCommand(opts: HistoryCommandOptions, io: Io): Promise<number> {
  const { dir: stateDir } = chooseStateDir({ flag: opts.stateDir, env: io.env, cwd: io.cwd });
  const journals = readStateDir(stateDir).filter((j) => opts.route === undefined || j.route === opts.route);
  const runs = journals.flatMap((j) => j.runs).sort((a, b) => a.startedAt - b.startedAt);
  if (runs.length === 0) {
    if (opts.route !== undefined && readStateDir(stateDir).length > 0) {
      throw new UsageError(`no journal for route ${opts.route} in ${stateDir}.`, {
        hint: 'run `canary history` without --route to see the routes it knows.',
      });
    }
    if (opts.output === 'json') return ExitCode.Ok;
    io.stdout.write(
      `no rollouts recorded in ${stateDir}\n(the state folder is --state-dir, else $CANARY_STATE_DIR, else the nearest .canary/ up from the current folder)\n`,
    );
    return ExitCode.Ok;
  }
  for (const run of runs) {
    const after = supersededBy(run, runs);
    if (opts.output === 'json') {
      io.stdout.write(
        recordLine('history_run', {
          run: run.run,
          command: run.command,
          route: run.route,
          plan: run.header.plan ?? null,
          plan_hash: run.header.planHash ?? null,
          relay: run.header.relay,
          started_at: new Date(run.startedAt).toISOString(),
          duration_ms: run.durationMs,
          outcome: run.outcome,
          // A run with no recorded end that a later run resumed or replaced (its id), else null.
          superseded_by: after?.run ?? null,
          exit_code: run.exitCode,
          stage: run.stage === null ? null : run.stage + 1,
          stage_count: run.stageCount,
          resumes: run.header.resumes ?? null,
          traffic: run.rules,
          user: run.header.user ?? null,
          host: run.header.host,
          pid: run.header.pid,
          reason: run.header.reason ?? null,
          control: run.control.map((c) => ({ ...c, at: new Date(c.at).toISOString() })),
          decisive: run.decisive,
          summary: run.summary,
        }),
      );
      continue;
    }
    const when = formatTimestamp(run.startedAt);
    const reached =
      run.stage === null ? 'no stage' : `stage ${run.stage + 1}${run.stageCount ? `/${run.stageCount}` : ''}`;
    const what = run.command === 'rollback' ? 'manual rollback' : reached;
    io.stdout.write(
      `${when}  ${run.route}  ${outcomeOf(run, after)}  ${formatDuration(Math.max(0, run.durationMs))}  ${what}\n`,
    );
    if (run.header.resumes) io.stdout.write(`    resumed ${run.header.resumes}\n`);
    io.stdout.write(`    by ${run.header.user ?? '?'}@${run.header.host} (pid ${run.header.pid})\n`);
    if (run.header.reason) io.stdout.write(`    reason: ${run.header.reason}\n`);
    for (const c of run.control) {
      const at = formatTimeOfDay(c.at);
      io.stdout.write(
        `    ${at} ${c.action}${c.full ? ' --full' : ''} by ${c.user}@${c.host} (pid ${c.pid})${c.reason ? `: ${c.reason}` : ''}\n`,
      );
    }
    if (run.decisive) io.stdout.write(`    decided by: ${run.decisive}\n`);
    io.stdout.write(`    traffic: ${rules(run)}\n`);
  }
  return ExitCode.Ok;
}
