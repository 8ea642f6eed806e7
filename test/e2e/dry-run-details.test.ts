/**
 * `canary rollout --dry-run` beyond the schedule (spawned CLI): what the pre-traffic evaluation
 * will ask (files, prompts, requests per version, rules) and which custom metrics judge the
 * stages with which rules, and how; an unreadable prompt set fails it as it would fail the
 * rollout (exit 2). Nothing is contacted: the plans point at relays that do not exist.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseEnv, ROOT, runCli, writePlanFile } from '../helpers/index.js';

const WORK = mkdtempSync(join(tmpdir(), 'canary-e2e-dry-'));
const SECRET = 'scores-secret-d2a91c7e55';

function plan(name: string, analysis: Record<string, unknown>, evaluation: Record<string, unknown>): string {
  return writePlanFile(join(WORK, `${name}.yaml`), {
    route: 'dry-details',
    stages: [{ weight: 10, bake: '10m' }, 100],
    analysis,
    more: { evaluation },
  });
}

describe('canary rollout --dry-run: the evaluation and the custom metrics', () => {
  it('examples/llm.yaml: the prompts and requests, the rules, each custom metric with its rules and source', async () => {
    const result = await runCli(['rollout', 'examples/llm.yaml', '--dry-run'], {
      env: baseEnv({ SCORES_API_KEY: SECRET }),
    });
    expect(result.code, result.stderr).toBe(0);
    const out = result.stdout;
    expect(out).toContain('Evaluation before any traffic moves');
    expect(out).toMatch(/prompts +prompts\/code-review\.jsonl: 8 prompts\n/);
    expect(out).toContain(
      '8 to each version (16 in all), pinned with X-Relay-Version, 4 at a time, 30s timeout each',
    );
    expect(out).toContain(
      'passes if success_rate ≥ 95.0%; expectation_pass_rate ≥ baseline − 5.0 points; ttft_p50_ms ≤ 1.5× baseline',
    );
    expect(out).toMatch(
      /ttft_p99_ms +≤ 2000 and ≤ 1\.5× baseline +← PromQL on prometheus\.example\.com:9090/,
    );
    expect(out).toMatch(/rate_limited_share +≤ 0\.02 and ≤ baseline \+ 0\.01 /);
    expect(out).toMatch(
      /quality_score +≥ 0\.8 and ≥ 0\.95× baseline; after 50 canary requests in the window; dry run: shown and journaled, never rolls back +← HTTP GET scores\.example\.com\/api\/scores \$\.data\.mean \(Authorization from \$SCORES_API_KEY\)/,
    );
    // The example ships with significance on: its custom comparisons share the rollout's confidence.
    expect(out).toContain(
      "Judged over each stage's non-overlapping windows (4 at least): comparisons by a paired test, a window past min/max against the metric's spread; 4 tests per stage within the 99% per-rollout confidence.",
    );
    expect(out.trimEnd().split('\n').at(-1)).toBe('dry run: nothing was changed.');
    expect(out + result.stderr).not.toContain(SECRET);
  });

  it('sample and repeat decide the request count; with significance on, the comparisons say how they are judged', async () => {
    const file = plan(
      'sampled',
      {
        interval: '30s',
        window: '30s',
        baseline_comparison: {
          error_rate: { max_ratio: 1.25 },
          significance: { enabled: true, confidence: 0.95 },
        },
        prometheus: { url: 'http://127.0.0.1:1' },
        metrics: [
          { name: 'ttft_p99_ms', query: 'ttft{version_tag="{{version_tag}}"}', max_ratio: 1.3 },
          { name: 'refusals', query: 'r{version_tag="{{version_tag}}"}', max_increase: 0.02, dry_run: true },
        ],
      },
      {
        prompts: `${ROOT}/examples/prompts/code-review.jsonl`,
        sample: 3,
        repeat: 2,
        thresholds: { agreement: { min: 0.5 } },
      },
    );
    const result = await runCli(['rollout', file, '--dry-run']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/code-review\.jsonl: 8 prompts, a sample of 3, each 2 times\n/);
    expect(result.stdout).toContain('6 to each version (12 in all)');
    // The plan named agreement; the other two rules are the defaults, and say so.
    expect(result.stdout).toContain(
      'passes if success_rate ≥ 95.0% (default); expectation_pass_rate ≥ baseline − 5.0 points (default); agreement ≥ 50.0%',
    );
    expect(result.stdout).toContain(
      "Judged over each stage's non-overlapping windows (4 at least): comparisons by a paired test, a window past min/max against the metric's spread; 1 test per stage within the 95% per-rollout confidence.",
    );
  });

  it('an unreadable prompt set fails the dry run as it would the rollout: exit 2, file and line, no schedule', async () => {
    const file = plan('missing', {}, { prompts: join(WORK, 'nowhere.jsonl') });
    const result = await runCli(['rollout', file, '--dry-run']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/nowhere\.jsonl:1(:\d+)?: cannot read the prompt file/);
    expect(result.stdout).not.toContain('dry run: nothing was changed');
  });
});
