import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { runValidate } from '../../src/commands/validate.js';
import { UsageError } from '../../src/errors.js';
import { RECORD_VERSION } from '../../src/output/record.js';
import { captureIo, MINIMAL, REPO, yaml } from './helpers.js';

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[`);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'canary-validate-'));
  await writeFile(join(dir, 'ok.yaml'), yaml(...MINIMAL));
  await writeFile(
    join(dir, 'broken.yaml'),
    yaml(...MINIMAL.slice(0, 7), 'stages: [5, 50, 25]', 'analysis:', '  tresholds: {}'),
  );
  await writeFile(
    join(dir, 'bad-scenario.yaml'),
    yaml('versions:', '  claude-sonnet-4-5-v2:', '    error_rate: 7'),
  );
  await writeFile(
    join(dir, 'emu.yaml'),
    yaml('relay: {url: emulator}', ...MINIMAL.slice(2), 'emulator: {scenario: ./bad-scenario.yaml}'),
  );
  await writeFile(
    join(dir, 'inline.yaml'),
    yaml('relay: {url: emulator}', ...MINIMAL.slice(2), 'emulator:', '  scenario: {rps: -1}'),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('runValidate', () => {
  it('exits 0 with a short summary for a valid plan', async () => {
    const cap = captureIo(REPO);
    const code = await runValidate(
      { plan: 'examples/production.yaml', output: 'plain', color: true },
      cap.io,
    );
    expect(code).toBe(0);
    expect(cap.stderr()).toBe('');
    const out = cap.stdout();
    expect(out).not.toMatch(ANSI); // not a terminal
    expect(out.split('\n')).toEqual([
      '✓ examples/production.yaml is valid',
      '  route    code-review-production on https://relay.example.com/v1',
      '  baseline claude-sonnet-4-5-v1 (registered if missing: anthropic/claude-sonnet-4-20250514)',
      '  canary   claude-sonnet-4-5-v2 (registered if missing: anthropic/claude-sonnet-4-20250514)',
      '  stages   5% 10m → 25% 1h → 50% 4h (pause) → 100%',
      '  bake     5h10m in total, at most 10h20m waiting for data, plus manual gates',
      expect.stringMatching(
        /^ {2}checks {3}every 30s over 30s: error_rate ≤ 0\.02, .*latency_p99_ms ≤ baseline × 1\.25.*, beyond noise at 99% confidence per rollout$/,
      ),
      '',
    ]);
  });

  it('validates the emulator examples, scenarios included', async () => {
    for (const plan of ['examples/quickstart.yaml', 'examples/bad-canary.yaml']) {
      const cap = captureIo(REPO);
      expect(await runValidate({ plan, output: 'plain', color: false }, cap.io)).toBe(0);
      expect(cap.stdout()).toContain('on the built-in emulator');
    }
  });

  it('exits 2 printing every problem as file:line:column: message on stderr', async () => {
    const cap = captureIo(dir);
    const code = await runValidate({ plan: 'broken.yaml', output: 'plain', color: true }, cap.io);
    expect(code).toBe(2);
    expect(cap.stdout()).toBe('');
    expect(cap.stderr().split('\n')).toEqual([
      'broken.yaml:8:17: stages[2]: weights must increase from stage to stage, but 25 follows 50',
      'broken.yaml:8:17: stages[2]: the last stage must have weight 100 so the rollout ends promoted, got 25',
      "broken.yaml:10:3: unknown key 'tresholds' in analysis; did you mean 'thresholds'?",
      'broken.yaml: 3 problems; nothing was changed.',
      '',
    ]);
  });

  it('colours problems only for a terminal, and never with NO_COLOR or --no-color', async () => {
    const tty = captureIo(dir, {}, true);
    await runValidate({ plan: 'broken.yaml', output: 'plain', color: true }, tty.io);
    expect(tty.stderr()).toMatch(ANSI);
    const noColor = captureIo(dir, { NO_COLOR: '1' }, true);
    await runValidate({ plan: 'broken.yaml', output: 'plain', color: true }, noColor.io);
    expect(noColor.stderr()).not.toMatch(ANSI);
    const flag = captureIo(dir, {}, true);
    await runValidate({ plan: 'broken.yaml', output: 'plain', color: false }, flag.io);
    expect(flag.stderr()).not.toMatch(ANSI);
    expect(flag.stderr()).toContain('broken.yaml:10:3: unknown key');
  });

  it('prints one JSON object on stdout with --output json', async () => {
    const bad = captureIo(dir);
    expect(await runValidate({ plan: 'broken.yaml', output: 'json', color: true }, bad.io)).toBe(2);
    expect(bad.stderr()).toBe('');
    const lines = bad.stdout().trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toEqual({
      type: 'validation',
      version: RECORD_VERSION,
      file: 'broken.yaml',
      valid: false,
      problems: [
        {
          file: 'broken.yaml',
          line: 8,
          column: 17,
          path: 'stages[2]',
          message: 'stages[2]: weights must increase from stage to stage, but 25 follows 50',
        },
        expect.objectContaining({ line: 8, column: 17, path: 'stages[2]' }),
        expect.objectContaining({ line: 10, column: 3, path: 'analysis.tresholds' }),
      ],
    });

    const good = captureIo(dir);
    expect(await runValidate({ plan: 'ok.yaml', output: 'json', color: true }, good.io)).toBe(0);
    const result = JSON.parse(good.stdout());
    expect(result).toMatchObject({
      type: 'validation',
      version: RECORD_VERSION,
      file: 'ok.yaml',
      valid: true,
      problems: [],
      summary: {
        route: 'code-review-production',
        baseline: 'claude-sonnet-4-5-v1',
        total_bake_ms: 1_800_000,
      },
    });
  });

  it('refuses a plan that can never reach a verdict, and warns about one that judges oddly, with positions', async () => {
    const analysis = (bake: string) =>
      yaml(
        ...MINIMAL,
        `bake: ${bake}`,
        'analysis:',
        '  interval: 30s',
        '  window: 30s',
        '  data_deadline: 1x',
        '  thresholds:',
        '    error_rate: { max: 0 }',
        '  baseline_comparison:',
        '    significance: { enabled: true, confidence: 0.99 }',
        '    latency_p99_ms: { max_ratio: 1.25 }',
      );
    await writeFile(join(dir, 'never.yaml'), analysis('1m'));
    await writeFile(join(dir, 'odd.yaml'), analysis('5m'));

    const never = captureIo(dir);
    expect(await runValidate({ plan: 'never.yaml', output: 'json', color: false }, never.io)).toBe(2);
    const refused = JSON.parse(never.stdout());
    expect(refused.valid).toBe(false);
    expect(refused.problems).toHaveLength(3);
    expect(refused.problems[0]).toEqual({
      file: 'never.yaml',
      line: 8,
      column: 10,
      path: 'stages.0',
      message: expect.stringMatching(/^stage 1 \(5%, bake 1m\) .* it would always end insufficient_data/),
    });

    const odd = captureIo(dir);
    expect(await runValidate({ plan: 'odd.yaml', output: 'json', color: false }, odd.io)).toBe(0);
    expect(JSON.parse(odd.stdout()).warnings).toEqual([
      {
        file: 'odd.yaml',
        line: 15,
        column: 24,
        path: 'analysis.thresholds.error_rate.max',
        message: 'error_rate.max is 0: any error fails it',
      },
    ]);
    const plain = captureIo(dir);
    expect(await runValidate({ plan: 'odd.yaml', output: 'plain', color: false }, plain.io)).toBe(0);
    expect(plain.stderr()).toBe('odd.yaml:15:24: warning: error_rate.max is 0: any error fails it\n');
  });

  it('exits 2 naming an unreadable file, in both output modes', async () => {
    const plain = captureIo(dir);
    expect(await runValidate({ plan: 'nope.yaml', output: 'plain', color: false }, plain.io)).toBe(2);
    expect(plain.stderr()).toContain('error: cannot read plan nope.yaml: no such file');
    const json = captureIo(dir);
    expect(await runValidate({ plan: 'nope.yaml', output: 'json', color: false }, json.io)).toBe(2);
    expect(JSON.parse(json.stdout())).toEqual({
      type: 'validation',
      version: RECORD_VERSION,
      file: 'nope.yaml',
      valid: false,
      problems: [
        {
          file: 'nope.yaml',
          line: null,
          column: null,
          path: null,
          message: 'cannot read plan nope.yaml: no such file',
        },
      ],
    });
  });

  it("reports an emulator scenario file's own problems with its positions", async () => {
    const cap = captureIo(dir);
    expect(await runValidate({ plan: 'emu.yaml', output: 'plain', color: false }, cap.io)).toBe(2);
    expect(cap.stderr()).toMatch(
      /^bad-scenario\.yaml:3:17: .*error_rate: expected a number between 0 and 1, got 7$/m,
    );
  });

  it('points problems of an inline scenario at their own place in the plan', async () => {
    const cap = captureIo(dir);
    expect(await runValidate({ plan: 'inline.yaml', output: 'json', color: false }, cap.io)).toBe(2);
    const { problems } = JSON.parse(cap.stdout());
    expect(problems).toEqual([
      expect.objectContaining({ file: 'inline.yaml', line: 9, column: 19, path: 'emulator.scenario.rps' }),
    ]);
    expect(problems[0].message).toMatch(
      /^emulator\.scenario\.rps: expected a number of requests per second above 0 and at most 1000000, got -1$/,
    );
  });

  it('refuses an output mode it does not have', async () => {
    const cap = captureIo(dir);
    await expect(
      runValidate({ plan: 'ok.yaml', output: 'tty', color: false }, cap.io),
    ).rejects.toBeInstanceOf(UsageError);
  });

  it('is wired into the CLI', async () => {
    const ok = captureIo(dir);
    expect(await main(['validate', 'ok.yaml'], ok.io)).toBe(0);
    expect(ok.stdout()).toContain('ok.yaml is valid');
    const bad = captureIo(dir);
    expect(await main(['validate', '--output', 'json', 'broken.yaml'], bad.io)).toBe(2);
    expect(JSON.parse(bad.stdout()).valid).toBe(false);
  });
});
