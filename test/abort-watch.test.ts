/**
 * src/abort-watch.ts: a bake's calls and sleeps watch the same long-lived signal every look,
 * through one listener per signal rather than one each.
 */
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { watchAbort } from '../src/abort-watch.js';

describe('watchAbort', () => {
  it('calls each live watch once when the signal aborts, and not an ended one', () => {
    const controller = new AbortController();
    const calls: string[] = [];
    watchAbort(controller.signal, () => calls.push('a'));
    const endB = watchAbort(controller.signal, () => calls.push('b'));
    watchAbort(controller.signal, () => calls.push('c'));
    endB();
    controller.abort();
    controller.abort();
    expect(calls).toEqual(['a', 'c']);
  });

  it('adds one listener to a signal however many watches come and go', () => {
    const controller = new AbortController();
    for (let i = 0; i < 1000; i++) watchAbort(controller.signal, () => {})();
    const live = watchAbort(controller.signal, () => {});
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    live();
  });

  it('lets a watch end another while the abort runs them', () => {
    const controller = new AbortController();
    const calls: string[] = [];
    let endSecond = () => {};
    watchAbort(controller.signal, () => {
      calls.push('first');
      endSecond();
    });
    endSecond = watchAbort(controller.signal, () => calls.push('second'));
    controller.abort();
    // As with removeEventListener during the dispatch: an ended watch is not called.
    expect(calls).toEqual(['first']);
  });

  it('keeps signals apart', () => {
    const a = new AbortController();
    const b = new AbortController();
    const calls: string[] = [];
    watchAbort(a.signal, () => calls.push('a'));
    watchAbort(b.signal, () => calls.push('b'));
    b.abort();
    expect(calls).toEqual(['b']);
  });
});
