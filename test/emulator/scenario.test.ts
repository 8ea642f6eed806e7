import { describe, expect, it } from 'vitest';
import { loadScenario, parseScenario } from '../../src/emulator/index.js';
import { BehaviourBook } from '../../src/emulator/scenario.js';
import { PlanError } from '../../src/errors.js';
import { CANARY } from './helpers.js';

function problems(text: string) {
  try {
    parseScenario(text, 'bad.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(PlanError);
    return (error as PlanError).problems.map((p) => `${p.line}:${p.column} ${p.path} | ${p.message}`);
  }
  throw new Error('expected a PlanError');
}

describe('scenario files', () => {
  it('loads the shipped examples', async () => {
    const failing = await loadScenario('examples/scenarios/failing.yaml');
    expect(failing.versions?.[CANARY]?.changes).toEqual([
      { when: { weight_at_least: 25 }, set: { error_rate: 0.09, latency_p99_ms: 4200 } },
      { when: { after_ms: 2 * 60 * 60 * 1000 }, set: { latency_p50_ms: 900 } },
    ]);
    const healthy = await loadScenario('examples/scenarios/healthy.yaml');
    expect(healthy).toMatchObject({ rps: 200, seed: 7 });
  });

  it('reports every problem with its line and column', () => {
    const text = [
      'rps: -5', //                          1
      'colour: blue', //                     2
      'versions:', //                        3
      '  Bad_Tag: {}', //                    4
      '  good-tag:', //                      5
      '    error_rate: 1.5', //              6
      '    changes:', //                     7
      '      - when: {after: soon}', //      8
      '        set: {error_rate: 0.1}', //   9
      '      - set: {error_rate: 0.1}', //   10
      '      - when: {}', //                 11
      '        set: {latency_p99_ms: 10, latency_p50_ms: 20}', // 12
    ].join('\n');
    expect(problems(text)).toEqual([
      '1:6 rps | rps: expected a number of requests per second above 0 and at most 1000000, got -5',
      "2:1 colour | unknown key 'colour' at the top level; expected one of rps, rps_changes, all_versions, seed, default, answers, data_plane, versions",
      "4:3 versions.Bad_Tag | versions: expected a version tag of lowercase letters, digits and '-' (1-64 characters), got 'Bad_Tag'",
      '6:17 versions.good-tag.error_rate | versions.good-tag.error_rate: expected a number between 0 and 1, got 1.5',
      "8:23 versions.good-tag.changes[0].when.after | versions.good-tag.changes[0].when.after: expected a duration like 30s, 10m or 1h30m, got 'soon'",
      "10:9 versions.good-tag.changes[1].when | missing required key 'when' in versions.good-tag.changes[1]",
      '11:15 versions.good-tag.changes[2].when | versions.good-tag.changes[2].when: needs weight_at_least (percent), after (a duration), between ([from, until]) or every with for (periodic bursts)',
      '12:31 versions.good-tag.changes[2].set.latency_p99_ms | versions.good-tag.changes[2].set.latency_p99_ms: expected at least latency_p50_ms (20), got 10',
    ]);
  });

  it('reports YAML syntax errors and a missing file with a position', async () => {
    expect(problems('rps: [1,\n')[0]).toMatch(/^\d+:\d+ /);
    await expect(loadScenario('examples/scenarios/nope.yaml')).rejects.toThrow(
      /nope\.yaml:1:1: cannot read scenario/,
    );
  });

  it('accepts an empty file as all defaults', () => {
    expect(parseScenario('', 'empty.yaml')).toEqual({});
  });

  it('resolves behaviour: defaults, scenario, conditional changes, then run-time overrides', () => {
    const scenario = parseScenario(
      [
        'default: {error_rate: 0.01}',
        'versions:',
        `  ${CANARY}:`,
        '    latency_p50_ms: 300',
        '    changes:',
        '      - when: {weight_at_least: 25}',
        '        set: {error_rate: 0.09}',
        '      - when: {after: 10m, weight_at_least: 50}',
        '        set: {error_rate: 0.5}',
      ].join('\n'),
      's.yaml',
    );
    const book = new BehaviourBook(scenario, 0);
    expect(book.resolve(CANARY, 5, 0)).toEqual({
      error_rate: 0.01,
      latency_p50_ms: 300,
      latency_p99_ms: 1800,
      cost_per_token: 0.000015,
    });
    expect(book.resolve(CANARY, 25, 0).error_rate).toBe(0.09);
    expect(book.resolve(CANARY, 50, 9 * 60_000).error_rate).toBe(0.09);
    expect(book.resolve(CANARY, 50, 10 * 60_000).error_rate).toBe(0.5);
    expect(book.resolve('other', 100, 0).error_rate).toBe(0.01);
    book.override(CANARY, { error_rate: 0.001 });
    expect(book.resolve(CANARY, 50, 10 * 60_000).error_rate).toBe(0.001);
  });
});
