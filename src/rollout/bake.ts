/**
 * A stage's bake: look at every interval until the stage may be left, waking early for the
 * operator's commands and the gate's answer. Each wake is handled in its own room (operator.ts,
 * gates.ts, look.ts); this loop only says which, and when the stage is done.
 */
import type { Evaluation } from '../analysis/types.js';
import type { StagePlan } from '../domain/plan.js';
import { StageBake } from './bake-state.js';
import { answerGate, gateFailed, openGate, runStageChecks } from './gates.js';
import { look } from './look.js';
import { applyCommand, lookWatchingOperator, waitUntil } from './operator.js';
import type { RolloutRun } from './run.js';
import { reasonOf } from './summaries.js';

/** Bakes a stage until it may be left; anything else unwinds with a `Finish`. */
export async function bake(run: RolloutRun, stage: StagePlan, stopBeforeGate: boolean): Promise<void> {
  const state = new StageBake(run, stage, stopBeforeGate);
  const { gate } = state;
  try {
    for (;;) {
      const wake = await waitUntil(run, state.nextLookAt(), gate.state === 'pending' ? gate.promise : null);
      if (wake.kind === 'gate_error') throw gateFailed(run, state, wake.error);
      if (wake.kind === 'command') {
        if ((await applyCommand(run, state, wake)) && leaveOrAsk(run, state)) return;
        continue;
      }
      if (wake.kind === 'gate') {
        if (await answerGate(run, state, wake.decision)) return;
        continue;
      }
      const urgent = await lookWatchingOperator(run, (stop) => look(run, state, stop));
      if (urgent) {
        await applyCommand(run, state, urgent); // a rollback or quit: unwinds the run
        continue;
      }
      // A gate's question comes after the checks, so whoever answers it sees their results.
      if (state.canLeave() && stage.pause && !stopBeforeGate && gate.state === 'idle') {
        await runStageChecks(run, stage);
      }
      if (leaveOrAsk(run, state)) return;
      await checkDataDeadline(run, state);
    }
  } finally {
    gate.controller.abort();
  }
}

/** True when the stage may be left now; when only its gate stands in the way, asks the gate. */
function leaveOrAsk(run: RolloutRun, state: StageBake): boolean {
  if (!state.canLeave()) return false;
  if (!state.needsGate) return true;
  if (state.gate.state === 'idle') openGate(run, state, state.latest as Evaluation);
  return false;
}

/** No passing data by the stage's deadline rolls back, unless someone is deciding (gate, hold). */
async function checkDataDeadline(run: RolloutRun, state: StageBake): Promise<void> {
  const { latest } = state;
  const verdict = latest?.verdict ?? 'no_data';
  if (verdict !== 'no_data' || state.gate.state === 'pending' || run.held) return;
  if (run.clock.now() < state.dataDeadline) return;
  const why = latest
    ? `not enough data by the deadline: ${reasonOf(latest)}`
    : 'not enough data by the deadline: the latest metrics read failed';
  await run.rollback(state.stage.index, 'insufficient_data', why);
}
