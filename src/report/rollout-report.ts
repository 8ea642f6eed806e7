/**
 * `canary rollout --report FILE`: keeps the run's events (as the journal has them) and writes the
 * report when the command ends, whatever the outcome, even when the run stopped before its first
 * stage or the journal could not be written.
 */
import { hostname } from 'node:os';
import type { Plan } from '../domain/plan.js';
import type { Io } from '../io.js';
import type { RolloutEvent } from '../rollout/events.js';
import type { Raw } from './fields.js';
import { writeReport } from './write.js';

export interface RunReport {
  observe(event: RolloutEvent): void;
  /** Writes the report; a failure is a warning, never a change of the run's exit code. */
  write(exitCode: number, failure: unknown): Promise<void>;
}

export function createRunReport(plan: Plan, file: string, io: Io, now: () => number): RunReport {
  const startedAt = now();
  const events: Raw[] = [];
  return {
    observe(event) {
      events.push(event as unknown as Raw);
    },
    async write(exitCode, failure) {
      const records: Raw[] = [
        {
          type: 'run_started',
          command: 'rollout',
          at: startedAt,
          route: plan.route,
          plan: plan.file,
          planHash: plan.hash,
          baseline: plan.baseline.tag,
          canary: plan.canary.tag,
          relay: plan.relay.url,
          apiKeyEnv: plan.relay.apiKeyEnv,
          host: hostname(),
          pid: process.pid,
        },
        ...events,
      ];
      if (!events.some((e) => e.type === 'rollout_finished')) {
        const message = failure instanceof Error ? failure.message : `exit ${exitCode}`;
        records.push({ type: 'run_ended', at: now(), exitCode, message: io.redact(message) });
      }
      try {
        await writeReport(records, { label: `the run of ${plan.file}`, file, io, now: now() });
        io.stderr.write(`report: ${file}\n`);
      } catch (error) {
        io.stderr.write(
          `warning: could not write the report ${file}: ${error instanceof Error ? error.message : String(error)}\n`,
        );
      }
    },
  };
}
