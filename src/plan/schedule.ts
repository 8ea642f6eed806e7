/**
 * When each stage of a plan would end, for `canary rollout --dry-run`: the earliest end when
 * every bake passes on time, and the latest when each stage waits its full data deadline for
 * enough traffic. Manual gates (`pause`) add however long a person takes, which no schedule knows.
 */
import Table from 'cli-table3';
import { formatPlanDuration, roundWeight } from '../format.js';
import type { Plan } from './types.js';

export interface ScheduledStage {
  index: number;
  weights: { baseline: number; canary: number };
  bakeMs: number;
  pause: boolean;
  dataDeadlineMs: number;
  /** Epoch ms: start plus every bake so far. */
  earliestEndAt: number;
  /** Epoch ms: start plus every data deadline so far (a stage never ends before its bake). */
  latestEndAt: number;
}

export interface Schedule {
  startAt: number;
  stages: ScheduledStage[];
  totalBakeMs: number;
  earliestEndAt: number;
  latestEndAt: number;
  /** Stages with a manual gate; their waits are not in the times above. */
  pauses: number;
}

export function planSchedule(plan: Plan, startAt: number): Schedule {
  let earliest = startAt;
  let latest = startAt;
  const stages = plan.stages.map((stage): ScheduledStage => {
    earliest += stage.bakeMs;
    latest += Math.max(stage.bakeMs, stage.dataDeadlineMs);
    return {
      index: stage.index,
      weights: { baseline: roundWeight(100 - stage.weight), canary: roundWeight(stage.weight) },
      bakeMs: stage.bakeMs,
      pause: stage.pause,
      dataDeadlineMs: stage.dataDeadlineMs,
      earliestEndAt: earliest,
      latestEndAt: latest,
    };
  });
  return {
    startAt,
    stages,
    totalBakeMs: earliest - startAt,
    earliestEndAt: earliest,
    latestEndAt: latest,
    pauses: stages.filter((s) => s.pause).length,
  };
}

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

function clockTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

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
      `${stage.weights.baseline}%`,
      `${stage.weights.canary}%`,
      stage.bakeMs === 0 ? '-' : formatPlanDuration(stage.bakeMs),
      stage.pause ? 'pause' : '',
      `${offset(stage.earliestEndAt - schedule.startAt)} (${clockTime(stage.earliestEndAt)})`,
      `${offset(stage.latestEndAt - schedule.startAt)} (${clockTime(stage.latestEndAt)})`,
    ]);
  }
  const lines = [
    `Plan ${plan.file}`,
    `Route ${plan.route} on ${plan.relay.url === 'emulator' ? 'the built-in emulator' : plan.relay.url}: ` +
      `baseline ${plan.baseline.tag}, canary ${plan.canary.tag}`,
    `Start ${clockTime(schedule.startAt)}`,
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
