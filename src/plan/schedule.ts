/**
 * When each stage of a plan would end, for `canary rollout --dry-run`: the earliest end when
 * every bake passes on time, and the latest when each stage waits its full data deadline for
 * enough traffic. Manual gates (`pause`) add however long a person takes, which no schedule knows.
 * Drawn as a table by src/reporters/schedule.ts: the plan layer computes, the edge draws.
 */

import type { Plan } from '../domain/plan.js';
import { roundWeight } from '../format.js';

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
