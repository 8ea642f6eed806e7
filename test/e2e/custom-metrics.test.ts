/**
 * analysis.metrics end to end: the built CLI runs examples/llm.yaml (its URLs pointed at this
 * test's servers) against an emulator scraped by a real Prometheus, with a score API served
 * here. TTFT and 429-rate checks come from PromQL over the emulator's /metrics; the dry-run
 * quality score would fail, is reported and journaled, and rolls nothing back; the score API's
 * key comes from an env var and appears in no output. Needs `prometheus` (.ci/run installs it).
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import {
  baseEnv,
  needsTool,
  PROMETHEUS_INSTALLED,
  ROOT,
  type RunningPrometheus,
  runCli,
  startExampleEmulator,
  startPrometheus,
  waitFor,
} from '../helpers/index.js';
import { schemaErrors } from '../output/schema-check.js';

const KEY = 'e2e-custom-key-5c2a9e';
const SCORES_KEY = 'scores-secret-7d1f3b8e2a';
const installed = PROMETHEUS_INSTALLED;
needsTool({
  found: installed,
  tool: 'prometheus',
  tests: 'test/e2e/custom-metrics.test.ts',
  title: 'analysis.metrics from a real Prometheus and a score API',
});

interface Event {
  type: string;
  outcome?: string;
  evaluation?: {
    verdict: string;
    custom?: { id: string; status: string; dry_run: boolean; value: number | null; reason: string }[];
  };
}
/** The rollout's events, each held to its schema (docs/events.md), custom checks included. */
const eventsOf = (stdout: string): Event[] =>
  stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      const record = JSON.parse(l) as Record<string, unknown>;
      expect(schemaErrors(record), l.slice(0, 300)).toEqual([]);
      return record as unknown as Event;
    });

/** examples/llm.yaml, pointed at this test's Prometheus and score API, with short stages. */
async function llmPlan(
  dir: string,
  name: string,
  opts: { prom: string; scores: string; route: string; jsonPath?: string; dryRun?: boolean; bake?: string },
) {
  let text = await readFile(path.join(ROOT, 'examples', 'llm.yaml'), 'utf8');
  text = text
    .replace('http://prometheus.example.com:9090', opts.prom)
    .replace('https://scores.example.com', opts.scores)
    .replace('route: support-assistant', `route: ${opts.route}`)
    .replace('./prompts/code-review.jsonl', path.join(ROOT, 'examples', 'prompts', 'code-review.jsonl'))
    .replace('bake: 10m', `bake: ${opts.bake ?? '6s'}`)
    .replace('stages: [5, 25, 50, 100]', 'stages: [50, 100]')
    .replace('interval: 30s', 'interval: 2s')
    .replace('window: 30s', 'window: 6s')
    // A 6 s bake holds too few windows for the sequential tests (validate would refuse it):
    // this real-time run judges each window on its own, as significance off does.
    .replace('significance: { enabled: true, confidence: 0.99 }', 'significance: { enabled: false }')
    .replace('error_rate: { max_ratio: 1.25, floor: 0.002 }', 'error_rate: { max_increase: 0.01 }')
    .replace(/min_requests: 200/, 'min_requests: 300');
  if (opts.jsonPath) text = text.replace('value: $.data.mean', `value: ${opts.jsonPath}`);
  if (opts.dryRun === false) text = text.replace('dry_run: true', 'dry_run: false');
  const file = path.join(dir, `${name}.yaml`);
  await writeFile(file, text);
  return file;
}

// The rollouts run at once: each waits on real scrapes (Prometheus keeps real time), on its own
// route and state folder.
describe.runIf(installed)(
  'analysis.metrics from a real Prometheus and a score API',
  { concurrent: true },
  () => {
    let dir: string;
    let emulator: EmulatorHandle;
    let prometheus: RunningPrometheus;
    let scores: Server;
    let scoresUrl: string;
    const scoreRequests: { auth: string | undefined; version: string | null }[] = [];

    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'canary-custom-'));
      emulator = await startExampleEmulator('healthy', { apiKey: KEY, rps: 2000, seed: 5 });
      scores = createServer((req: IncomingMessage, res) => {
        const url = new URL(req.url ?? '/', 'http://x');
        const version = url.searchParams.get('version');
        scoreRequests.push({ auth: req.headers.authorization, version });
        if (req.headers.authorization !== `Bearer ${SCORES_KEY}`) {
          res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"bad key"}');
          return;
        }
        // The canary's answers score worse: a dry-run check that would fail.
        const mean = version === 'support-sonnet-v2' ? 0.5 : 0.9;
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ data: { mean, n: 40 } }));
      });
      await new Promise<void>((resolve) => scores.listen(0, '127.0.0.1', () => resolve()));
      const address = scores.address();
      scoresUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      prometheus = await startPrometheus(dir, [new URL(emulator.origin).host]);
      await waitFor('the first scrape', async () => {
        const answer = await prometheus.query('sum(up{job="emulator"})');
        return (answer.data?.result[0] as { value?: [number, string] } | undefined)?.value?.[1] === '1';
      });
    }, 60_000);

    afterAll(async () => {
      await prometheus?.stop();
      await emulator?.close();
      await new Promise((resolve) => scores?.close(resolve));
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('promotes on TTFT and 429-rate checks; the failing dry-run score is reported and journaled, nothing rolls back', async () => {
      const plan = await llmPlan(dir, 'good', { prom: prometheus.url, scores: scoresUrl, route: 'llm-good' });
      const state = path.join(dir, 'state-good');
      const result = await runCli(['rollout', plan, '--relay-url', emulator.baseUrl, '--output', 'json'], {
        env: baseEnv({ RELAY_API_KEY: KEY, SCORES_API_KEY: SCORES_KEY, CANARY_STATE_DIR: state }),
      });
      expect(result.code, result.stdout.slice(-3000) + result.stderr + prometheus.log()).toBe(0);
      const events = eventsOf(result.stdout);
      expect(events.at(-1)).toMatchObject({ type: 'rollout_finished', outcome: 'promoted' });
      const custom = events.flatMap((e) => e.evaluation?.custom ?? []);
      const judged = (id: string) => custom.filter((c) => c.id === id && c.value !== null);
      // Real numbers from Prometheus for both PromQL metrics, and they passed.
      expect(judged('ttft_p99_ms.max').length).toBeGreaterThan(0);
      expect(judged('ttft_p99_ms.max').every((c) => c.status === 'pass' && (c.value as number) > 0)).toBe(
        true,
      );
      expect(judged('rate_limited_share.max').length).toBeGreaterThan(0);
      // The dry-run score failed its checks, said so, and never failed an evaluation.
      const quality = custom.filter((c) => c.id === 'quality_score.min' && c.status === 'fail');
      expect(quality.length).toBeGreaterThan(0);
      expect(quality.every((c) => c.dry_run && c.reason.includes('[dry run]'))).toBe(true);
      expect(
        events.filter((e) => e.type === 'evaluation').every((e) => e.evaluation?.verdict !== 'fail'),
      ).toBe(true);
      // Journaled: the journal holds the dry-run verdicts.
      const journal = (await readdir(state)).find((f) => f.startsWith('llm-good'));
      expect(await readFile(path.join(state, journal as string), 'utf8')).toContain(
        '"id":"quality_score.min"',
      );
      // The score API got the key from the env var, and no output shows it.
      expect(scoreRequests.some((r) => r.auth === `Bearer ${SCORES_KEY}`)).toBe(true);
      expect(result.stdout + result.stderr).not.toContain(SCORES_KEY);
      expect(await readFile(path.join(state, journal as string), 'utf8')).not.toContain(SCORES_KEY);
    }, 120_000);

    it('a JSON path that finds nothing: no data, named, and the stage rolls back at its data deadline (exit 3)', async () => {
      const plan = await llmPlan(dir, 'nopath', {
        prom: prometheus.url,
        scores: scoresUrl,
        route: 'llm-nopath',
        jsonPath: '$.data.median',
        dryRun: false,
        // The data deadline is twice the bake: what is tested is that it ends the stage, not how long.
        bake: '3s',
      });
      const result = await runCli(['rollout', plan, '--relay-url', emulator.baseUrl, '--output', 'plain'], {
        env: baseEnv({
          RELAY_API_KEY: KEY,
          SCORES_API_KEY: SCORES_KEY,
          CANARY_STATE_DIR: path.join(dir, 'state-nopath'),
        }),
      });
      expect(result.code, result.stdout + result.stderr).toBe(3);
      expect(result.stdout).toContain('the JSON path $.data.median found nothing in the answer');
      expect(result.stdout).toMatch(/insufficient_data|not enough data by the deadline/);
      expect(result.stdout + result.stderr).not.toContain(SCORES_KEY);
    }, 120_000);

    it('a header secret whose env var is unset stops before anything changes (exit 2)', async () => {
      const plan = await llmPlan(dir, 'noenv', {
        prom: prometheus.url,
        scores: scoresUrl,
        route: 'llm-noenv',
      });
      const result = await runCli(['rollout', plan, '--relay-url', emulator.baseUrl], {
        env: baseEnv({ RELAY_API_KEY: KEY, CANARY_STATE_DIR: path.join(dir, 'state-noenv') }),
      });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        'quality_score: header Authorization comes from $SCORES_API_KEY, which is not set',
      );
      expect(emulator.control.getRoute('llm-noenv')).toBeUndefined();
    });
  },
);
