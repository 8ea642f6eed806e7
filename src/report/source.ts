/**
 * Which run a report is about. RUN may be: a file (a route's journal, or the NDJSON of
 * `--output-file` / `--output json`), a run id as `canary history` prints it, or a route with a
 * journal in the state folder; with no RUN, the latest rollout in the state folder. Reads files
 * only.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { readStateDir, recordLines } from '../journal/reader.js';
import type { JournalRecord } from '../journal/records.js';
import type { RunSummary } from '../journal/run-summary.js';
import type { Raw } from './fields.js';

export interface ReportSource {
  records: Raw[];
  /** How the input is named in the report and in messages. */
  label: string;
  route: string;
  run: string | null;
}

/** Every record line of a file, read as the journal reader reads them (torn or foreign lines skipped). */
function readLines(file: string): Raw[] {
  return recordLines(readFileSync(file, 'utf8'));
}

/** The last rollout of a journal's or a stream's records: from its last start to the end. */
function lastRun(records: Raw[]): { records: Raw[]; run: string | null } {
  const journaled = records.filter((r) => typeof r.run === 'string');
  if (journaled.length > 0) {
    const runs = new Map<string, Raw[]>();
    for (const r of journaled) {
      const list = runs.get(r.run as string) ?? [];
      list.push(r);
      runs.set(r.run as string, list);
    }
    const rollouts = [...runs.entries()].filter(([, list]) =>
      list.some((r) => r.type === 'rollout_started' || (r.type === 'run_started' && r.command === 'rollout')),
    );
    const chosen = rollouts[rollouts.length - 1] ?? [...runs.entries()][runs.size - 1];
    if (chosen) return { records: chosen[1], run: chosen[0] };
  }
  // An event stream: one run per rollout_started.
  let start = 0;
  records.forEach((r, i) => {
    if (r.type === 'rollout_started') start = i;
  });
  return { records: records.slice(start), run: null };
}

function fromFile(file: string, label: string): ReportSource {
  const all = readLines(file);
  if (all.length === 0) {
    throw new UsageError(`${label} holds no canary records (a journal or --output-file NDJSON).`, {
      hint: 'pass a journal (.canary/<route>.journal.ndjson), an --output-file, or a run id from `canary history`.',
    });
  }
  const { records, run } = lastRun(all);
  const route =
    (records.find((r) => typeof r.route === 'string')?.route as string | undefined) ?? path.basename(file);
  return { records, label, route, run };
}

function fromRun(summary: RunSummary, file: string): ReportSource {
  const records = readLines(file).filter((r) => (r as Partial<JournalRecord>).run === summary.run);
  return { records, label: `${file} (run ${summary.run})`, route: summary.route, run: summary.run };
}

export function resolveReportSource(opts: {
  run?: string | undefined;
  stateDir: string;
  cwd: string;
}): ReportSource {
  const { run, stateDir } = opts;
  if (run !== undefined) {
    const file = path.resolve(opts.cwd, run);
    if (existsSync(file) && statSync(file).isFile()) return fromFile(file, run);
  }
  const journals = readStateDir(stateDir);
  if (run === undefined) {
    const latest = journals
      .flatMap((j) => j.runs.filter((r) => r.command === 'rollout').map((r) => ({ r, file: j.file })))
      .sort((a, b) => a.r.startedAt - b.r.startedAt)
      .pop();
    if (!latest) {
      throw new UsageError(`no rollout recorded in ${stateDir}.`, {
        hint: 'pass a journal, an --output-file or a run id, or --state-dir where the journals are (the rollout printed its state folder in its first and last lines).',
      });
    }
    return fromRun(latest.r, latest.file);
  }
  for (const j of journals) {
    const match = j.runs.find((r) => r.run === run);
    if (match) return fromRun(match, j.file);
  }
  const byRoute = journals.find((j) => j.route === run);
  if (byRoute) {
    const rollouts = byRoute.runs.filter((r) => r.command === 'rollout');
    const chosen = rollouts[rollouts.length - 1] ?? byRoute.runs[byRoute.runs.length - 1];
    if (chosen) return fromRun(chosen, byRoute.file);
  }
  throw new UsageError(`'${run}' is not a file, nor a run id or route in ${stateDir}.`, {
    hint: 'pass a journal or --output-file, a run id from `canary history`, or a route; --state-dir says where the journals are.',
  });
}
