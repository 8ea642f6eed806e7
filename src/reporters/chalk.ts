/** chalk, bound to a decision made elsewhere (./color.ts's colorEnabled). */
import { Chalk, type ChalkInstance } from 'chalk';

/** A chalk bound to one decision; the global instance guesses from process state, so it is never used. */
export function createChalk(color: boolean): ChalkInstance {
  return new Chalk({ level: color ? 1 : 0 });
}
