import type { RolloutEvent } from '../rollout/events.js';

/** Renders events for one audience; decides nothing about the rollout. */
export interface Reporter {
  event(event: RolloutEvent): void;
  /** Flushes and leaves the final state on screen. */
  close(): Promise<void>;
}

export type OutputMode = 'tty' | 'plain' | 'json';
