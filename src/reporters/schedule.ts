/**
 * `canary rollout --dry-run`'s table: when each stage of the plan would end (src/plan/schedule.ts
 * computes it), as plain text for a terminal or a CI log alike.
 */
import Table from 'cli-table3';
import type { Plan } from '../domain/plan.js';
import { formatIsoSeconds, formatPlanDuration, formatWeight } from '../format.js';
import type { Schedule } from '../plan/schedule.js';

const BLANK_BORDERS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
};

function offset(ms: number): string {
  return `+${formatPlanDuration(ms)}`;
}

/** A plain-text table of the schedule, for a terminal or a CI log alike. */
export function renderSchedule(schedule: Schedule, plan: Plan): string {
  const table = new Table({
    head: ['stage', 'baseline', 'canary', 'bake', 'gate', 'earliest end', 'latest end'],
    chars: BLANK_BORDERS,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  for (const stage of schedule.stages) {
    table.push([
      String(stage.index + 1),
      formatWeight(stage.weights.baseline),
      formatWeight(stage.weights.canary),
      stage.bakeMs === 0 ? '-' : formatPlanDuration(stage.bakeMs),
      stage.pause ? 'pause' : '',
      `${offset(stage.earliestEndAt - schedule.startAt)} (${formatIsoSeconds(stage.earliestEndAt)})`,
      `${offset(stage.latestEndAt - schedule.startAt)} (${formatIsoSeconds(stage.latestEndAt)})`,
    ]);
  }
  const lines = [
    `Plan ${plan.file}`,
    `Route ${plan.route} on ${plan.relay.url === 'emulator' ? 'the built-in emulator' : plan.relay.url}: ` +
      `baseline ${plan.baseline.tag}, canary ${plan.canary.tag}`,
    `Start ${formatIsoSeconds(schedule.startAt)}`,
    '',
    ...table
      .toString()
      .split('\n')
      .map((line) => line.trimEnd()),
    '',
    `Total bake ${formatPlanDuration(schedule.totalBakeMs)}; at most ${formatPlanDuration(
      schedule.latestEndAt - schedule.startAt,
    )} if every stage waits its full data deadline.`,
  ];
  if (schedule.pauses > 0) {
    const which = schedule.stages
      .filter((s) => s.pause)
      .map((s) => s.index + 1)
      .join(', ');
    lines.push(
      `Manual gate after stage${schedule.pauses > 1 ? 's' : ''} ${which}: the times above exclude the wait for approval.`,
    );
  }
  const a = plan.analysis;
  lines.push(
    `Checks every ${formatPlanDuration(a.intervalMs)} over ${formatPlanDuration(a.windowMs)}, ` +
      `after ${a.minRequests} canary requests; rollback after ${a.failureLimit} failed check${a.failureLimit > 1 ? 's' : ''} in a row.`,
  );
  return lines.join('\n');
}
