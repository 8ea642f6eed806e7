/**
 * The built CLI judging canaries from a real Prometheus: the test starts its own Prometheus
 * (never the system service) scraping an emulator's /metrics every second, and runs
 * `canary rollout` with `analysis.provider: prometheus`. The emulator's call log proves the
 * numbers did not come from the relay's metrics API.
 *
 * Needs the `prometheus` binary (.ci/run installs Debian's package). Without it the suite is
 * skipped with a loud message, except under CI, where it fails so a broken install is noticed.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import {
  BASELINE,
  baseEnv,
  CANARY,
  needsTool,
  type PlanSpec,
  PROMETHEUS_INSTALLED,
  planYaml,
  type RunningPrometheus,
  runCli,
  startExampleEmulator,
  startPrometheus,
  waitFor,
  weights,
} from '../helpers/index.js';

const KEY = 'e2e-prom-key-4b7d2e9a';

const installed = PROMETHEUS_INSTALLED;
needsTool({
  found: installed,
  tool: 'prometheus',
  tests: 'test/e2e/prometheus.test.ts',
  title: 'Prometheus end-to-end',
});

function planText(promUrl: string, route: string, stages: PlanSpec['stages']): string {
  return planYaml({
    route,
    relayUrl: 'https://relay.invalid/v1', // replaced by --relay-url
    stages,
    // Long enough for several 1 s scrapes per window.
    bake: '8s',
    analysis: {
      provider: 'prometheus',
      prometheus: { url: promUrl },
      interval: '2s',
      window: '8s',
      // A p99 of a few hundred requests is mostly its largest samples: judge only on more.
      min_requests: 300,
      failure_limit: 2,
      thresholds: { error_rate: { max: 0.03 }, latency_p99_ms: { max: 3000 } },
      baseline_comparison: { error_rate: { max_increase: 0.02 }, latency_p99_ms: { max_ratio: 1.5 } },
    },
  });
}

interface Event {
  type: string;
  metrics_source?: string;
  outcome?: string;
  evaluation?: {
    canary: { request_count: number | null } | null;
    checks: Array<{ metric: string; value: number | null; status: string }>;
  };
}

const events = (stdout: string): Event[] =>
  stdout
    .trim()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Event);

const relayMetricsCalls = (emulator: EmulatorHandle) =>
  emulator.control.calls().filter((c) => c.path === '/v1/metrics/versions').length;

// The two rollouts run at once: each waits on real scrapes (Prometheus keeps real time), each on
// its own emulator and route.
describe.runIf(installed)('canary rollout judged from a real Prometheus', { concurrent: true }, () => {
  let dir: string;
  let healthy: EmulatorHandle;
  let failing: EmulatorHandle;
  let prometheus: RunningPrometheus;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'canary-prom-'));
    healthy = await startExampleEmulator('healthy', { apiKey: KEY, rps: 2000, seed: 3 });
    failing = await startExampleEmulator('failing', { apiKey: KEY, rps: 2000, seed: 3 });
    const target = (e: EmulatorHandle) => new URL(e.origin).host;
    prometheus = await startPrometheus(dir, [target(healthy), target(failing)]);
    await waitFor('the first scrape of both emulators', async () => {
      const answer = await prometheus.query('sum(up{job="emulator"})');
      const value = (answer.data?.result[0] as { value?: [number, string] } | undefined)?.value?.[1];
      return value === '2';
    });
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await healthy?.close();
    await failing?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('promotes a healthy canary on numbers from Prometheus, and status reads them there too', async () => {
    const planFile = path.join(dir, 'healthy.yaml');
    await writeFile(planFile, planText(prometheus.url, 'code-review-prom-healthy', [25, 100]));
    const result = await runCli(['rollout', planFile, '--relay-url', healthy.baseUrl, '--output', 'json'], {
      env: baseEnv({ RELAY_API_KEY: KEY }),
    });
    expect(result.code, result.stdout + result.stderr + prometheus.log()).toBe(0);
    const all = events(result.stdout);
    expect(all[0]?.metrics_source).toBe('prometheus');
    expect(all.at(-1)).toMatchObject({ type: 'rollout_finished', outcome: 'promoted' });
    expect(weights(healthy, 'code-review-prom-healthy')).toEqual({ [BASELINE]: 0, [CANARY]: 100 });
    // Real numbers were judged, and none of them came from the relay's metrics API.
    const judged = all.filter((e) => (e.evaluation?.canary?.request_count ?? 0) > 0);
    expect(judged.length).toBeGreaterThan(0);
    expect(relayMetricsCalls(healthy)).toBe(0);
    expect(result.stdout + result.stderr).not.toContain(KEY);

    const status = await runCli(
      ['status', planFile, '--relay-url', healthy.baseUrl, '--window', '30s', '--output', 'plain'],
      { env: baseEnv({ RELAY_API_KEY: KEY }) },
    );
    expect(status.code, status.stdout + status.stderr).toBe(0);
    expect(status.stdout).toContain(`metrics from prometheus at ${prometheus.url}`);
    expect(relayMetricsCalls(healthy)).toBe(0);
  }, 120_000);

  it('rolls back a canary that breaks at 25 %, on numbers from Prometheus', async () => {
    const planFile = path.join(dir, 'failing.yaml');
    await writeFile(planFile, planText(prometheus.url, 'code-review-prom-failing', [5, 25, 100]));
    const result = await runCli(['rollout', planFile, '--relay-url', failing.baseUrl, '--output', 'json'], {
      env: baseEnv({ RELAY_API_KEY: KEY }),
    });
    expect(result.code, result.stdout + result.stderr + prometheus.log()).toBe(3);
    const all = events(result.stdout);
    expect(all[0]?.metrics_source).toBe('prometheus');
    expect(all.at(-1)).toMatchObject({ type: 'rollout_finished', outcome: 'rolled_back' });
    expect(weights(failing, 'code-review-prom-failing')).toEqual({ [BASELINE]: 100, [CANARY]: 0 });
    // The verdict rests on a failed check with a real value read from Prometheus.
    const failed = all
      .filter((e) => e.type === 'evaluation')
      .flatMap((e) => e.evaluation?.checks ?? [])
      .filter((c) => c.status === 'fail');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((c) => typeof c.value === 'number')).toBe(true);
    expect(relayMetricsCalls(failing)).toBe(0);
  }, 120_000);
});
