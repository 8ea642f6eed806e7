import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CanaryError, ExitCode, PlanError } from '../../src/errors.js';
import { loadPlan, parsePlan } from '../../src/plan/load.js';
import { BROKEN } from './broken-plans.js';
import { MINIMAL, planErrorOf, problemsOf, REPO, yaml } from './helpers.js';

const SECRET = 'sk-live-abcdef0123456789';

describe('parsePlan reports each broken rule at its line:column', () => {
  it.each(BROKEN)('%s', (_name, text, expected) => {
    const problems = problemsOf(text);
    expect(problems).toHaveLength(expected.length);
    expected.forEach((fragment, i) => {
      expect(problems[i]).toContain(fragment);
    });
  });

  it('accepts the minimal plan the table starts from', () => {
    expect(problemsOf(yaml(...MINIMAL))).toEqual([]);
  });
});

describe('secrets in a plan', () => {
  const cases: Array<[string, string, string]> = [
    [
      'api_key',
      yaml('relay:', '  url: https://relay.example.com/v1', `  api_key: ${SECRET}`, ...MINIMAL.slice(2)),
      '3:3',
    ],
    [
      'apiKey',
      yaml('relay:', '  url: https://relay.example.com/v1', `  apiKey: ${SECRET}`, ...MINIMAL.slice(2)),
      '3:3',
    ],
    [
      'token',
      yaml('relay:', '  url: https://relay.example.com/v1', `  token: ${SECRET}`, ...MINIMAL.slice(2)),
      '3:3',
    ],
    [
      'authorization nested in an unknown key',
      yaml(
        'relay:',
        '  url: https://relay.example.com/v1',
        '  headers:',
        `    Authorization: Bearer ${SECRET}`,
        ...MINIMAL.slice(2),
      ),
      '4:5',
    ],
    [
      'credentials in the URL',
      yaml('relay:', `  url: https://user:${SECRET}@relay.example.com/v1`, ...MINIMAL.slice(2)),
      '2:8',
    ],
    [
      'a key pasted as api_key_env',
      yaml('relay:', '  url: https://relay.example.com/v1', `  api_key_env: ${SECRET}`, ...MINIMAL.slice(2)),
      '3:16',
    ],
  ];

  it.each(cases)('%s is refused without echoing the value', (_name, text, position) => {
    const error = planErrorOf(text);
    expect(error.message).not.toContain(SECRET);
    expect(error.message).not.toContain('abcdef');
    expect(JSON.stringify(error.problems)).not.toContain(SECRET);
    const problem = error.problems.find((p) => `${p.line}:${p.column}` === position);
    expect(problem?.message).toMatch(/API key never goes in a plan|environment variable/);
  });

  it('names the remedy', () => {
    expect(problemsOf(cases[0]?.[1] as string)).toEqual([
      '3:3: the API key never goes in a plan: set RELAY_API_KEY (or relay.api_key_env) or relay.api_key_file',
    ]);
  });
});

describe('every problem at once', () => {
  it('reports problems from every section in one error, sorted by position', () => {
    const text = yaml(
      'relay:',
      '  url: nope',
      'route: "a b"',
      'baseline:',
      '  version_tag: UPPER',
      'canary:',
      '  version_tag: claude-sonnet-4-5-v2',
      'stages: [50, 25]',
      'bake: forever',
      'analysis:',
      '  tresholds: {}',
      '  window: 1s',
    );
    const error = planErrorOf(text);
    expect(error.exitCode).toBe(ExitCode.BadInput);
    expect(error.problems.map((p) => `${p.line}:${p.column}`)).toEqual([
      '2:8',
      '3:8',
      '5:16',
      '8:14',
      '8:14',
      '9:7',
      '11:3',
      '12:11',
    ]);
    expect(error.problems.map((p) => p.path)).toEqual([
      'relay.url',
      'route',
      'baseline.version_tag',
      'stages[1]',
      'stages[1]',
      'bake',
      'analysis.tresholds',
      'analysis.window',
    ]);
    for (const p of error.problems) expect(p.file).toBe('plan.yaml');
    expect(error.message.split('\n')[0]).toBe(
      'plan.yaml:2:8: relay.url: expected `emulator` or an http(s) URL like https://relay.example.com/v1',
    );
  });
});

describe('normalised plan', () => {
  it('fills every default', () => {
    const text = yaml(...MINIMAL);
    const plan = parsePlan(text, 'plan.yaml', { cwd: '/plans' });
    expect(plan.file).toBe('/plans/plan.yaml');
    expect(plan.hash).toBe(createHash('sha256').update(text).digest('hex'));
    expect(plan.relay).toEqual({ url: 'https://relay.example.com/v1', apiKeyEnv: 'RELAY_API_KEY' });
    expect(plan.emulator).toBeUndefined();
    expect(plan.baseline).toEqual({ tag: 'claude-sonnet-4-5-v1' });
    expect(plan.canary).toEqual({ tag: 'claude-sonnet-4-5-v2' });
    expect(plan.stages).toEqual([
      { index: 0, weight: 5, bakeMs: 600_000, pause: false, dataDeadlineMs: 1_200_000 },
      { index: 1, weight: 25, bakeMs: 600_000, pause: false, dataDeadlineMs: 1_200_000 },
      { index: 2, weight: 50, bakeMs: 600_000, pause: false, dataDeadlineMs: 1_200_000 },
      { index: 3, weight: 100, bakeMs: 0, pause: false, dataDeadlineMs: 0 },
    ]);
    expect(plan.analysis).toEqual({
      intervalMs: 30_000,
      windowMs: 300_000,
      minRequests: 200,
      failureLimit: 2,
      holdDeadlineMs: 1_800_000,
      dataDeadlineFactor: 2,
      maxMetricErrors: 3,
      onMetricErrors: 'rollback',
      thresholds: {},
      baselineComparison: {},
    });
    expect(plan.routeDefaults).toEqual({});
    expect(plan.rollback).toEqual({ deadlineMs: 120_000 });
  });

  it('reads the full form: specs, per-stage bakes and deadlines, analysis, route defaults, paths', () => {
    const text = yaml(
      'relay:',
      '  url: https://relay.example.com/v1',
      '  api_key_env: MY_KEY',
      '  api_key_file: ~/.config/canary/key',
      'route: code-review-production',
      'baseline:',
      '  version_tag: claude-sonnet-4-5-v1',
      '  model: anthropic/claude-sonnet-4-20250514',
      '  parameters: &params {temperature: 0.7, max_tokens: 4096}',
      'canary:',
      '  version_tag: claude-sonnet-4-5-v2',
      '  model: anthropic/claude-sonnet-4-20250514',
      '  parameters: *params',
      '  system_prompt: ""',
      '  upstream_endpoint: anthropic',
      '  cost_limit_per_request: 0.05',
      '  metadata: {release_candidate: true, tags: [a, b], owner: null}',
      'stages:',
      '  - 5',
      '  - {weight: 33.33, bake: 1h30m, data_deadline: 2h}',
      '  - {weight: 50, bake: 4h, pause: true}',
      '  - {weight: 100, bake: 5m}',
      'bake: 15m',
      'analysis:',
      '  interval: 10s',
      '  window: 1m',
      '  min_requests: 50',
      '  failure_limit: 3',
      '  data_deadline: 1.5x',
      '  max_metric_errors: 5',
      '  on_metric_errors: hold',
      '  thresholds:',
      '    error_rate: {max: 0.02}',
      '    latency_p50_ms: {max: 800}',
      '  baseline_comparison:',
      '    error_rate: {max_increase: 0.01}',
      '    cost_per_token: {max_ratio: 1.1}',
      'route_defaults:',
      '  sticky_sessions: {enabled: true, cookie_name: hs, ttl_seconds: 3600}',
      '  health_check: {enabled: false}',
      'rollback: {deadline: 30s}',
    );
    const plan = parsePlan(text, 'plans/prod.yaml', { cwd: '/repo' });
    expect(plan.file).toBe('/repo/plans/prod.yaml');
    expect(plan.relay).toEqual({
      url: 'https://relay.example.com/v1',
      apiKeyEnv: 'MY_KEY',
      apiKeyFile: join(homedir(), '.config/canary/key'),
    });
    expect(plan.baseline.spec).toEqual({
      version_tag: 'claude-sonnet-4-5-v1',
      model: 'anthropic/claude-sonnet-4-20250514',
      parameters: { temperature: 0.7, max_tokens: 4096 },
    });
    expect(plan.canary.spec).toEqual({
      version_tag: 'claude-sonnet-4-5-v2',
      model: 'anthropic/claude-sonnet-4-20250514',
      parameters: { temperature: 0.7, max_tokens: 4096 },
      system_prompt: '',
      upstream_endpoint: 'anthropic',
      cost_limit_per_request: 0.05,
      metadata: { release_candidate: true, tags: ['a', 'b'], owner: null },
    });
    expect(plan.stages).toEqual([
      { index: 0, weight: 5, bakeMs: 900_000, pause: false, dataDeadlineMs: 1_350_000 },
      { index: 1, weight: 33.33, bakeMs: 5_400_000, pause: false, dataDeadlineMs: 7_200_000 },
      { index: 2, weight: 50, bakeMs: 14_400_000, pause: true, dataDeadlineMs: 21_600_000 },
      { index: 3, weight: 100, bakeMs: 300_000, pause: false, dataDeadlineMs: 450_000 },
    ]);
    expect(plan.analysis).toEqual({
      intervalMs: 10_000,
      windowMs: 60_000,
      minRequests: 50,
      failureLimit: 3,
      holdDeadlineMs: 1_800_000,
      dataDeadlineFactor: 1.5,
      maxMetricErrors: 5,
      onMetricErrors: 'hold',
      thresholds: { error_rate: { max: 0.02 }, latency_p50_ms: { max: 800 } },
      baselineComparison: { error_rate: { max_increase: 0.01 }, cost_per_token: { max_ratio: 1.1 } },
    });
    expect(plan.routeDefaults).toEqual({
      sticky_sessions: { enabled: true, cookie_name: 'hs', ttl_seconds: 3600 },
      health_check: { enabled: false },
    });
    expect(plan.rollback.deadlineMs).toBe(30_000);
  });

  it('resolves emulator scenario paths against the plan folder and keeps inline scenarios', () => {
    const withFile = parsePlan(
      yaml(
        'relay: {url: emulator}',
        ...MINIMAL.slice(2),
        'emulator: {scenario: ../scenarios/healthy.yaml, rps: 1000, seed: 0}',
      ),
      'examples/plan.yaml',
      { cwd: '/repo' },
    );
    expect(withFile.emulator).toEqual({ scenario: '/repo/scenarios/healthy.yaml', rps: 1000, seed: 0 });

    const inline = parsePlan(
      yaml(
        'relay: {url: emulator}',
        ...MINIMAL.slice(2),
        'emulator:',
        '  scenario:',
        '    default: {error_rate: 0.01}',
      ),
      'plan.yaml',
      { cwd: '/repo' },
    );
    expect(inline.emulator).toEqual({ scenario: { default: { error_rate: 0.01 } } });
  });

  it('accepts a byte-order mark and CRLF line endings', () => {
    const text = `\uFEFF${yaml(...MINIMAL).replace(/\n/g, '\r\n')}`;
    expect(parsePlan(text, 'plan.yaml').route).toBe('code-review-production');
    expect(problemsOf(`\uFEFF${yaml(...MINIMAL, 'bake: 10 minutes').replace(/\n/g, '\r\n')}`)).toEqual([
      "9:7: bake: expected a duration like 30s, 10m or 1h30m, got '10 minutes'",
    ]);
  });

  it('treats an explicit null as "use the default"', () => {
    const plan = parsePlan(yaml(...MINIMAL, 'bake:', 'analysis:', 'rollback: ~'), 'plan.yaml');
    expect(plan.stages[0]?.bakeMs).toBe(600_000);
    expect(plan.analysis.intervalMs).toBe(30_000);
    expect(plan.rollback.deadlineMs).toBe(120_000);
  });

  it('a final stage of 100 keeps a bake it is given', () => {
    const plan = parsePlan(yaml(...MINIMAL.slice(0, 7), 'stages: [{weight: 100, bake: 1m}]'), 'plan.yaml');
    expect(plan.stages).toEqual([
      { index: 0, weight: 100, bakeMs: 60_000, pause: false, dataDeadlineMs: 120_000 },
    ]);
  });
});

describe('hostile input', () => {
  it('refuses an alias bomb quickly, at the alias', { timeout: 10_000 }, () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]',
      'e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]',
      'f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]',
      'g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]',
      'h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]',
    ];
    const text = yaml(
      ...MINIMAL.slice(0, 7),
      '  model: m',
      '  metadata:',
      ...bomb.map((line) => `    ${line}`),
      '    boom: *h',
      MINIMAL[7] as string,
    );
    const problems = problemsOf(text);
    expect(problems.some((p) => p.includes('YAML aliases expand too far'))).toBe(true);
  });

  it('ignores an alias bomb under an unknown key without expanding it', { timeout: 10_000 }, () => {
    const text = yaml(
      ...MINIMAL,
      'junk:',
      '  a: &a [x, x, x, x, x, x, x, x, x, x]',
      '  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      '  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      '  d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
      '  e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]',
      '  f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]',
      '  g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]',
      '  h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]',
      '  i: [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]',
    );
    expect(problemsOf(text)).toEqual([
      "9:1: unknown key 'junk' at the top level; expected one of relay, emulator, route, baseline, canary, stages, bake, analysis, route_defaults, rollback, checks, notify, evaluation",
    ]);
  });

  it('refuses a self-referencing alias', () => {
    const text = yaml(
      ...MINIMAL.slice(0, 7),
      '  model: m',
      '  metadata: &m {self: *m}',
      MINIMAL[7] as string,
    );
    expect(problemsOf(text).join('\n')).toMatch(/nests deeper than 64 levels|expand too far/);
  });

  it('refuses a 2 MiB text before parsing it', { timeout: 10_000 }, () => {
    const text = `${yaml(...MINIMAL)}# ${'x'.repeat(2 * 1024 * 1024)}\n`;
    expect(problemsOf(text)).toEqual(['1:1: the file is 2.0 MiB; plans are limited to 1 MiB']);
  });

  it('refuses deep nesting before the YAML parser can overflow its stack', { timeout: 10_000 }, () => {
    const flow = `route: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`;
    expect(problemsOf(flow)).toEqual(['1:72: the file nests too deeply to be a plan']);
    const compact = `${'- '.repeat(200_000)}x\n`;
    expect(problemsOf(compact)[0]).toContain('nests too deeply');
  });
});

describe('loadPlan', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'canary-plan-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('hashes the file bytes and resolves the path against cwd', async () => {
    const text = yaml(...MINIMAL);
    await writeFile(join(dir, 'ok.yaml'), text);
    const plan = await loadPlan('ok.yaml', { cwd: dir });
    expect(plan.file).toBe(join(dir, 'ok.yaml'));
    expect(plan.hash).toBe(createHash('sha256').update(text).digest('hex'));
  });

  it('names an unreadable file in a BadInput CanaryError, not a PlanError', async () => {
    const missing = loadPlan('nope.yaml', { cwd: dir });
    await expect(missing).rejects.toThrow(/cannot read plan nope\.yaml: no such file/);
    await expect(missing).rejects.not.toBeInstanceOf(PlanError);
    await expect(missing).rejects.toMatchObject({ exitCode: ExitCode.BadInput });
    await mkdir(join(dir, 'folder.yaml'), { recursive: true });
    await expect(loadPlan('folder.yaml', { cwd: dir })).rejects.toThrow(
      /cannot read plan folder\.yaml: not a file/,
    );
  });

  it('refuses a 2 MiB file without reading it', async () => {
    await writeFile(join(dir, 'huge.yaml'), Buffer.alloc(2 * 1024 * 1024, 0x20));
    const error = await loadPlan('huge.yaml', { cwd: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlanError);
    expect((error as PlanError).problems).toEqual([
      {
        file: 'huge.yaml',
        line: 1,
        column: 1,
        path: '',
        message: 'the file is 2.0 MiB; plans are limited to 1 MiB',
      },
    ]);
  });

  it('refuses bytes that are not UTF-8', async () => {
    await writeFile(join(dir, 'binary.yaml'), Buffer.from([0x72, 0x6f, 0xff, 0xfe, 0x0a]));
    await expect(loadPlan('binary.yaml', { cwd: dir })).rejects.toThrow(
      'binary.yaml:1:1: the file is not UTF-8 text',
    );
  });

  it('checks that an emulator scenario file exists, pointing at the scenario', async () => {
    const text = yaml(
      'relay: {url: emulator}',
      ...MINIMAL.slice(2),
      'emulator:',
      '  scenario: ./missing.yaml',
    );
    await writeFile(join(dir, 'emu.yaml'), text);
    const error = (await loadPlan('emu.yaml', { cwd: dir }).catch((e: unknown) => e)) as PlanError;
    expect(error).toBeInstanceOf(PlanError);
    expect(error.problems).toEqual([
      {
        file: 'emu.yaml',
        line: 9,
        column: 13,
        path: 'emulator.scenario',
        message: `emulator.scenario: no such file ${join(dir, 'missing.yaml')}`,
      },
    ]);
  });

  it('throws only PlanError or CanaryError', async () => {
    for (const text of ['\t- x', '{', 'a: *nope', yaml(...MINIMAL, '? [a, b]', ': c')]) {
      await writeFile(join(dir, 'junk.yaml'), text);
      const error = await loadPlan('junk.yaml', { cwd: dir }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CanaryError);
    }
  });
});

describe('the examples', () => {
  it('quickstart runs on the emulator and bakes well under a minute', async () => {
    const plan = await loadPlan('examples/quickstart.yaml', { cwd: REPO });
    expect(plan.relay.url).toBe('emulator');
    expect(plan.emulator?.scenario).toBe(join(REPO, 'examples/scenarios/healthy.yaml'));
    expect(plan.stages.map((s) => s.weight)).toEqual([5, 25, 50, 100]);
    expect(plan.baseline.tag).toBe('claude-sonnet-4-5-v1');
    expect(plan.canary.tag).toBe('claude-sonnet-4-5-v2');
    const totalBake = plan.stages.reduce((sum, s) => sum + s.bakeMs, 0);
    expect(totalBake).toBeLessThan(30_000);
    // At 5 % of the emulator's traffic, a stage pools well over the requests a verdict needs,
    // and its bake holds the windows the paired latency test needs.
    const rps = plan.emulator?.rps ?? 0;
    const bake = plan.stages[0]?.bakeMs ?? 0;
    expect(rps * 0.05 * (bake / 1000)).toBeGreaterThan(plan.analysis.minRequests * 2);
    expect(bake / plan.analysis.windowMs).toBeGreaterThanOrEqual(plan.analysis.significance?.minWindows ?? 0);
  });

  it('bad-canary uses the failing scenario', async () => {
    const plan = await loadPlan('examples/bad-canary.yaml', { cwd: REPO });
    expect(plan.emulator?.scenario).toBe(join(REPO, 'examples/scenarios/failing.yaml'));
    // Significance on: one failed check (already beyond noise) rolls back.
    expect(plan.analysis.failureLimit).toBe(1);
  });

  it('production uses a real relay with realistic bakes and a manual gate', async () => {
    const plan = await loadPlan('examples/production.yaml', { cwd: REPO });
    expect(plan.relay.url).toMatch(/^https:\/\//);
    expect(plan.stages.map((s) => [s.weight, s.bakeMs, s.pause])).toEqual([
      [5, 600_000, false],
      [25, 3_600_000, false],
      [50, 14_400_000, true],
      [100, 0, false],
    ]);
    expect(plan.canary.spec?.metadata).toEqual({ release_candidate: true, ticket: 'REL-1234' });
    expect(Object.keys(plan.analysis.thresholds)).toHaveLength(4);
    expect(plan.routeDefaults.health_check?.auto_rollback).toBe(true);
  });
});
