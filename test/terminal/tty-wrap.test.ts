/** The live view's verdict line on narrow terminals: broken between checks or words, never inside a word. */
import { describe, expect, it } from 'vitest';
import { describeCheck } from '../../src/reporters/check-text.js';
import { createChalk } from '../../src/reporters/select.js';
import { visibleWidth } from '../../src/reporters/table.js';
import { renderFrame } from '../../src/reporters/tty-frame.js';
import { applyEvent, initialState } from '../../src/reporters/view-state.js';
import type { RolloutEvent } from '../../src/rollout/events.js';
import { rolledBackRun } from '../reporters/helpers.js';

function frameAt(width: number, footer?: string): { text: string; checks: string[] } {
  const state = initialState();
  let checks: string[] = [];
  for (const event of rolledBackRun()) {
    if (event.type === 'rollback_started') break;
    applyEvent(state, event as RolloutEvent);
    if (event.type === 'evaluation') checks = event.evaluation.checks.map(describeCheck);
  }
  const text = renderFrame({
    state,
    log: [],
    chalk: createChalk(false),
    width,
    now: state.lastAt ?? 0,
    footer,
  });
  return { text, checks };
}

describe('verdict line wrapping', () => {
  for (const width of [30, 40, 50, 60, 80]) {
    it(`at ${width} columns every line fits and every check reads whole`, () => {
      const { text, checks } = frameAt(width);
      const start = text.split('\n').findIndex((l) => l.startsWith('checks'));
      const block: string[] = [];
      for (const line of text.split('\n').slice(start)) {
        if (line === '') break;
        block.push(line);
      }
      for (const line of block) expect(visibleWidth(line)).toBeLessThanOrEqual(width);
      // Joined back with spaces, a check broken mid-word ("baseli" / "ne") would not be found.
      const joined = block.map((l) => l.trim()).join(' ');
      for (const check of checks) expect(joined.replace(/\s+/g, ' ')).toContain(check.replace(/\s+/g, ' '));
      expect(joined).not.toMatch(/basel\s+ine|baseli\s+ne/);
    });
  }

  it('shows the footer under the frame', () => {
    const { text } = frameAt(100, 'keys: p promote');
    expect(text.split('\n').at(-1)).toBe('keys: p promote');
  });
});
