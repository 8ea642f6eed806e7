/**
 * What a report's input does not record, in sentences a reader can act on: a journal older than
 * the plan-as-run, `run_by` or per-prompt records; an --output-file stream, which has no journal
 * header; a run still going, or killed before it recorded an outcome. The report prints these so
 * a gap reads as "not recorded", never as "did not happen".
 */
import { obj, pick, type Raw, str } from './fields.js';
import { lacksPerPrompt, PER_PROMPT_SINCE } from './pre-traffic-prompts.js';

export interface LandmarkRecords {
  /** `run_started`: the journal's header (absent from an --output-file stream). */
  header: Raw | null;
  started: Raw | null;
  finished: Raw | null;
  ended: Raw | null;
  preTraffic: Raw[];
}

export function whatIsLacking({ header, started, finished, ended, preTraffic }: LandmarkRecords): string[] {
  const lacks: string[] = [];
  if (started === null)
    lacks.push('a rollout_started record (the run ended before its first stage, or this is not a rollout).');
  else {
    if (pick(started, 'plan') === undefined)
      lacks.push(
        `the plan as run (recorded from journal version 2 on): only the plan's path and sha256 are known${header ? '' : ' (not even those: an --output-file stream has no journal header)'}.`,
      );
    if (pick(started, 'run_by') === undefined && header === null)
      lacks.push('who ran it and where (the user, host and CI are recorded from journal version 2 on).');
    else if (pick(started, 'run_by') === undefined)
      lacks.push(
        `the ${header && str(pick(header, 'user')) ? '' : 'user and '}CI that ran it (recorded from journal version 2 on); the host and pid are known.`,
      );
  }
  const evaluated = preTraffic.find((r) => r.type === 'prompt_eval_finished');
  if (evaluated && lacksPerPrompt(obj(pick(evaluated, 'report'))))
    lacks.push(
      `the pre-traffic evaluation's per-prompt results (recorded from journal version ${PER_PROMPT_SINCE} on): only its worst prompts are known.`,
    );
  if (finished === null && ended === null)
    lacks.push('an outcome: the run is still going, or its process died before recording one.');

  return lacks;
}
