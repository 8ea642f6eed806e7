/** analysis.metrics checks in the human output: the live view's verdict line and the plain lines. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CustomCheck } from '../../src/analysis/types.js';
import { PlainReporter } from '../../src/reporters/plain.js';
import { TtyReporter } from '../../src/reporters/tty.js';
import type { RolloutEvent } from '../../src/rollout/events.js';
import { CollectingStream, ESC, promotedRun, stripColor, T0 } from './helpers.js';

const custom: CustomCheck[] = [
  {
    id: 'ttft_p99_ms.max',
    metric: 'ttft_p99_ms',
    rule: 'max',
    status: 'pass',
    dry_run: false,
    value: 190,
    baseline: null,
    bound: 2000,
    reason: 'ttft_p99_ms 190 ≤ max 2000',
  },
  {
    id: 'quality.min',
    metric: 'quality',
    rule: 'min',
    status: 'fail',
    dry_run: true,
    value: 0.5,
    baseline: null,
    bound: 0.8,
    reason: 'quality 0.5 < min 0.8 [dry run]',
  },
];

/** The promoted run with the custom checks on every (passing) evaluation. */
function withCustom(): RolloutEvent[] {
  return promotedRun().map((e) =>
    e.type === 'evaluation' ? { ...e, evaluation: { ...e.evaluation, custom } } : e,
  );
}

describe('custom checks in human output', () => {
  beforeEach(() => vi.useFakeTimers({ now: T0 }));
  afterEach(() => vi.useRealTimers());

  it('the live view lists them after the built-in checks, the dry-run one included', async () => {
    const out = new CollectingStream(true, 160, 40);
    const r = new TtyReporter(out, { color: false });
    for (const e of withCustom()) r.event(e);
    await r.close();
    const screen = stripColor(out.text).split(`${ESC}[?2026h`).pop() ?? '';
    expect(screen).toContain('✓ ttft_p99_ms 190 ≤ max 2000');
    expect(screen).toContain('✗ quality 0.5 < min 0.8 [dry run]');
  });

  it('plain lines carry them, and a failing dry-run check says it would fail though the check passes', async () => {
    const out = new CollectingStream(false, 200, 40);
    const r = new PlainReporter(out, { color: false });
    for (const e of withCustom()) r.event(e);
    await r.close();
    const pass = out.text.split('\n').find((l) => l.includes('[check] pass'));
    expect(pass).toContain('ttft_p99_ms 190 ≤ max 2000 · quality 0.5 < min 0.8 [dry run] (would fail)');
  });

  it('a passing line says the confidence covers the analysis.metrics tests; a shared incident on one holds, with its reason', async () => {
    const errorControl = {
      rollout_confidence: 0.99,
      stage_confidence: 0.9975,
      look_alpha: 0.0001,
      bake_fraction: 0.5,
      spent_fraction: 0.5,
      extra_looks: 0,
      tests_per_stage: 5,
      judged_stages: 4,
      custom_tests_per_stage: 2,
    };
    const held: CustomCheck = {
      ...(custom[0] as CustomCheck),
      status: 'hold',
      value: 2600,
      baseline: 2500,
      reason:
        'both versions degraded (shared incident): ttft_p99_ms canary 2600 > max 2000, baseline 2500 in the window',
    };
    let first = true;
    const events = promotedRun().map((e) => {
      if (e.type !== 'evaluation') return e;
      const hold = first;
      first = false;
      return hold
        ? { ...e, evaluation: { ...e.evaluation, verdict: 'hold' as const, custom: [held] } }
        : { ...e, evaluation: { ...e.evaluation, custom, error_control: errorControl } };
    });
    const out = new CollectingStream(false, 300, 40);
    const r = new PlainReporter(out, { color: false });
    for (const e of events) r.event(e);
    await r.close();
    const lines = out.text.split('\n');
    expect(lines.find((l) => l.includes('[check] pass'))).toContain(
      'confidence 99.75% per stage, 99% per rollout (2 of 5 tests a stage are analysis.metrics)',
    );
    expect(lines.find((l) => l.includes('HOLD'))).toContain(
      'both versions degraded (shared incident): ttft_p99_ms canary 2600 > max 2000, baseline 2500 in the window',
    );
  });
});
