/**
 * Scenarios are read by the plan's hardened YAML reader and walker: hostile files end in the
 * designed messages at their file:line:column, and the emulator's JSON bodies get the same words.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { ApiError } from '../../src/emulator/api-error.js';
import { parseFault } from '../../src/emulator/faults.js';
import { startEmulator } from '../../src/emulator/index.js';
import { parseBehaviour, parseScenario } from '../../src/emulator/scenario.js';
import { PlanError } from '../../src/errors.js';
import { CANARY } from './helpers.js';

function problems(text: string): string[] {
  try {
    parseScenario(text, 'bad.yaml');
  } catch (error) {
    if (!(error instanceof PlanError)) throw error;
    return error.problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.message}`);
  }
  throw new Error('expected a PlanError');
}

function apiError(run: () => unknown): { field: string | undefined; message: string } {
  try {
    run();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    expect(error.status).toBe(422);
    return { field: error.field, message: error.message };
  }
  throw new Error('expected an ApiError');
}

describe('the scenario reader', () => {
  it('refuses deep flow nesting with a message at its place, not a stack overflow', () => {
    const deep = `versions:\n  ${CANARY}:\n    answers: ${'['.repeat(5_000)}${']'.repeat(5_000)}\n`;
    const [first, ...rest] = problems(deep);
    expect(rest).toEqual([]);
    // The 65th bracket on line 3 is where the reader stops: "    answers: " is 13 characters.
    expect(first).toBe('bad.yaml:3:78 the file nests too deeply to be a scenario');
  });

  it('refuses deep block nesting the same way', () => {
    const lines = Array.from({ length: 300 }, (_, i) => `${' '.repeat(i)}k${i}:`);
    expect(problems(lines.join('\n'))).toEqual([
      expect.stringMatching(/^bad\.yaml:\d+:\d+ the file nests too deeply to be a scenario$/),
    ]);
  });

  it('stops an alias bomb within the budget and says so once', () => {
    // 500 literal changes under each of 400 versions through one alias each: 200,000 changes
    // (a million values) to read from a 30 kB file, unless every visited value counts against
    // the budget; at ten times the size the walk would take minutes.
    const change = '{when: {after: 1m}, set: {error_rate: 0.1}}';
    const text = [
      `x: &c [${Array(500).fill(change).join(', ')}]`,
      'versions:',
      ...Array.from({ length: 400 }, (_, i) => `  v${i}: {changes: *c}`),
    ].join('\n');
    expect(problems(text)).toEqual([
      "bad.yaml:1:1 unknown key 'x' at the top level; expected one of rps, rps_changes, all_versions, seed, default, answers, data_plane, versions",
      expect.stringMatching(
        /^bad\.yaml:\d+:\d+ YAML aliases expand too far \(refusing a possible alias bomb\)$/,
      ),
    ]);
  });

  it('refuses a file over the size limit, and a second document, in the words of a scenario', () => {
    expect(problems(`# ${'x'.repeat(1024 * 1024)}\n`)).toEqual([
      'bad.yaml:1:1 the file is 1.0 MiB; scenarios are limited to 1 MiB',
    ]);
    expect(problems('rps: 10\n---\nrps: 20\n')).toEqual([
      'bad.yaml:2:1 a scenario is one YAML document; remove the extra `---` documents',
    ]);
  });

  it('says what was expected for answers, data_plane, seed and changes', () => {
    const text = [
      'seed: 1.5', //                                         1
      'data_plane: {pinning: always}', //                     2
      'answers: {style: chatty, ttft_ms: 90000}', //          3
      'versions:', //                                         4
      `  ${CANARY}:`, //                                      5
      '    answers: {refusal_rate: 2, sytle: terse}', //      6
      '    changes:', //                                      7
      '      - when: {between: [1m]}', //                     8
      '        set: {error_rate: 0.1}', //                    9
      '      - when: {for: 10s}', //                          10
      '        set: {colour: red}', //                        11
      '      - when: {after: 1m}', //                         12
      '        set: [0.5]', //                                13
    ].join('\n');
    expect(problems(text)).toEqual([
      'bad.yaml:1:7 seed: expected a whole number, got 1.5',
      "bad.yaml:2:23 data_plane.pinning: expected one of honour, ignore, no_header, got 'always'",
      "bad.yaml:3:18 answers.style: expected one of normal, terse, verbose, got 'chatty'",
      'bad.yaml:3:35 answers.ttft_ms: expected a number of milliseconds from 0 to 60000, got 90000',
      `bad.yaml:6:29 versions.${CANARY}.answers.refusal_rate: expected a number between 0 and 1, got 2`,
      `bad.yaml:6:32 unknown key 'sytle' in versions.${CANARY}.answers; did you mean 'style'?`,
      `bad.yaml:8:25 versions.${CANARY}.changes[0].when.between: expected a list of two durations, from and until, like [10m, 12m], got a list`,
      `bad.yaml:10:15 versions.${CANARY}.changes[1].when: needs weight_at_least (percent), after (a duration), between ([from, until]) or every with for (periodic bursts)`,
      `bad.yaml:10:16 versions.${CANARY}.changes[1].when.for needs every: e.g. { every: 2m, for: 10s } is a 10 s burst every 2 minutes`,
      `bad.yaml:11:15 unknown key 'colour' in versions.${CANARY}.changes[1].set; expected one of error_rate, latency_p50_ms, latency_p99_ms, cost_per_token`,
      `bad.yaml:13:14 versions.${CANARY}.changes[2].set: expected a mapping, got a list`,
    ]);
  });

  it('reads a good scenario into the same shape as before', () => {
    const scenario = parseScenario(
      [
        'rps: 300',
        'rps_changes: [{after: 1m, rps: 600}, {after: 2m, rps: 100}]',
        'answers: {style: terse}',
        'data_plane: {pinning: ignore}',
        'all_versions:',
        '  changes:',
        '    - when: {every: 2m, for: 10s}',
        '      set: {error_rate: 0.5}',
        'versions:',
        `  ${CANARY}:`,
        '    cost_per_token: 0',
        '    answers: {refusal_rate: 0.25}',
        '    changes: [{when: {between: [10m, 12m], weight_at_least: 25}, set: {latency_p99_ms: 4000}}]',
      ].join('\n'),
      'good.yaml',
    );
    expect(scenario).toEqual({
      rps: 300,
      rps_changes: [
        { after_ms: 60_000, rps: 600 },
        { after_ms: 120_000, rps: 100 },
      ],
      answers: { style: 'terse' },
      data_plane: { pinning: 'ignore' },
      all_versions: { changes: [{ when: { every_ms: 120_000, for_ms: 10_000 }, set: { error_rate: 0.5 } }] },
      versions: {
        [CANARY]: {
          cost_per_token: 0,
          answers: { refusal_rate: 0.25 },
          changes: [
            { when: { weight_at_least: 25, between_ms: [600_000, 720_000] }, set: { latency_p99_ms: 4000 } },
          ],
        },
      },
    });
  });
});

describe("the emulator's JSON bodies, read by the same walker", () => {
  it('names the field and what was expected in a bad behaviour', () => {
    expect(apiError(() => parseBehaviour({ error_rate: 3 }))).toEqual({
      field: 'error_rate',
      message: 'error_rate: expected a number between 0 and 1, got 3',
    });
    expect(apiError(() => parseBehaviour({ latency_p50_ms: 900, latency_p99_ms: 100 }))).toEqual({
      field: 'latency_p99_ms',
      message: 'latency_p99_ms: expected at least latency_p50_ms (900), got 100',
    });
    expect(parseBehaviour({ error_rate: 0.2 })).toEqual({ error_rate: 0.2 });
  });

  it('names the field and what was expected in a bad fault', () => {
    expect(apiError(() => parseFault({ mode: 'server_error', cuont: 2 }))).toEqual({
      field: 'cuont',
      message: "unknown key 'cuont' at the top level; did you mean 'count'?",
    });
    expect(apiError(() => parseFault({ mode: 'explode' })).message).toMatch(
      /^mode: expected one of rate_limit, server_error, .*, got 'explode'$/,
    );
    expect(apiError(() => parseFault(['server_error'])).message).toBe(
      'expected a fault like {"mode": "server_error", "count": 2}',
    );
    expect(parseFault({ mode: 'redirect', status: 307 })).toEqual({
      mode: 'redirect',
      count: 1,
      status: 307,
    });
  });
});

describe("a plan's inline scenario in a rollout", () => {
  it('is read like a scenario file: durations and changes normalised, problems refused', async () => {
    const clock = new FakeClock();
    // As the plan holds it: JSON as written, `after: 10m` still a string.
    const inlineScenario = {
      versions: { [CANARY]: { changes: [{ when: { after: '10m' }, set: { error_rate: 0.5 } }] } },
    };
    const emulator = await startEmulator({ port: 0, apiKey: 'k', clock, inlineScenario });
    try {
      expect(emulator.control.behaviour(CANARY).error_rate).toBe(0.005);
      clock.advance(10 * 60_000);
      expect(emulator.control.behaviour(CANARY).error_rate).toBe(0.5);
    } finally {
      await emulator.close();
    }
    await expect(startEmulator({ port: 0, apiKey: 'k', clock, inlineScenario: { rps: -1 } })).rejects.toThrow(
      /rps: expected a number of requests per second above 0/,
    );
  });
});
