/**
 * The one rule for "held by an operator" that the live view, the terminal footer, the control
 * server and `canary status` all fold their events with.
 */
import { describe, expect, it } from 'vitest';
import { heldAfter } from '../../src/control/hold.js';

const fold = (events: { type: string; action?: string }[]) => {
  const seen: boolean[] = [];
  let held = false;
  for (const e of events) {
    held = heldAfter(held, e);
    seen.push(held);
  }
  return seen;
};

describe('heldAfter', () => {
  it('a hold holds through other events until a release, a promote or the next stage', () => {
    expect(
      fold([
        { type: 'stage_started' },
        { type: 'operator_action', action: 'hold' },
        { type: 'evaluation' },
        { type: 'operator_action', action: 'note' },
        { type: 'operator_action', action: 'release' },
        { type: 'operator_action', action: 'hold' },
        { type: 'operator_action', action: 'promote' },
        { type: 'operator_action', action: 'hold' },
        { type: 'stage_started' },
      ]),
    ).toEqual([false, true, true, true, false, true, false, true, false]);
  });

  it('nothing else changes it, either way', () => {
    for (const held of [true, false]) {
      for (const type of ['evaluation', 'paused', 'gate_decision', 'weights_set', 'control_request']) {
        expect(heldAfter(held, { type, action: 'hold' } as never)).toBe(held);
      }
    }
  });
});
