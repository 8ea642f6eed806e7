/**
 * The relay's answers, read with the shape reader plans are read with: a bad answer names the
 * field, what was expected and what came; what a real relay may add (unknown keys) or leave
 * unset (null, missing, empty strings) passes.
 */
import { describe, expect, it } from 'vitest';
import {
  type AnswerReader,
  checkAnswer,
  describeProblems,
  readErrorAnswer,
  readHealth,
  readMetrics,
  readRoute,
  readRouteUpdate,
  readStoredVersion,
  toVersionMetrics,
} from '../../src/relay/schemas.js';

function problem<T>(read: AnswerReader<T>, value: unknown): string {
  const checked = checkAnswer(read, value);
  if (checked.ok) throw new Error(`expected ${JSON.stringify(value)} to be refused`);
  return describeProblems(checked.problems);
}

function accepted<T>(read: AnswerReader<T>, value: unknown): T {
  const checked = checkAnswer(read, value);
  if (!checked.ok) throw new Error(describeProblems(checked.problems));
  return checked.value;
}

const version = { version_tag: 'v1', model: 'm', version_id: 'id-1', created_at: '2026-11-21T10:00:00Z' };

describe('a bad answer says which field, what was expected and what came', () => {
  it.each([
    [
      'a weight that is a string',
      readRouteUpdate,
      { route_rules: [{ version_tag: 'a', weight: '100' }] },
      "route_rules[0].weight: expected a number, got '100'",
    ],
    [
      'rules that are not a list',
      readRoute,
      { route_id: 'prod', route_rules: 'all of them' },
      `route_rules: expected a list of rules like [{"version_tag": "v1", "weight": 100}], got 'all of them'`,
    ],
    [
      'a rule without its tag',
      readRoute,
      { route_id: 'prod', route_rules: [{ weight: 100 }] },
      "missing required key 'version_tag' in route_rules[0]",
    ],
    ['a route without a name', readRoute, { route_rules: [] }, 'neither route_id nor model_alias is present'],
    ['a list for a version', readStoredVersion, [1, 2], 'expected a mapping, got a list'],
    [
      'a version id that is neither text nor a number',
      readStoredVersion,
      { ...version, version_id: true },
      'version_id: expected a string or a number, got true',
    ],
    ['a required field sent as null', readStoredVersion, { ...version, model: null }, 'model: needs a value'],
    [
      'parameters that are not a mapping',
      readStoredVersion,
      { ...version, parameters: 'p' },
      "parameters: expected a mapping, got 'p'",
    ],
    [
      'a nested field of the wrong type',
      readRoute,
      { route_id: 'p', route_rules: [], sticky_sessions: { enabled: 'yes' } },
      "sticky_sessions.enabled: expected true or false, got 'yes'",
    ],
    [
      'a negative count',
      readMetrics,
      { request_count: -1 },
      'request_count: expected a number of at least 0, got -1',
    ],
    ['a health status that is not text', readHealth, { status: 3 }, 'status: expected a string, got 3'],
    ['an error that is not a mapping', readErrorAnswer, { error: 'x' }, "error: expected a mapping, got 'x'"],
  ] as const)('%s', (_, read, value, message) => {
    expect(problem(read as AnswerReader<unknown>, value)).toBe(message);
  });

  it('names every bad field, the first three in the line', () => {
    expect(problem(readMetrics, { request_count: 'lots', error_rate: { x: 1 } })).toBe(
      "request_count: expected a number of at least 0, got 'lots'; error_rate: expected a number of at least 0, got a mapping",
    );
    expect(problem(readRoute, { route_id: 'p', route_rules: [{}, {}, {}] })).toBe(
      "missing required key 'version_tag' in route_rules[0]; missing required key 'weight' in route_rules[0]; missing required key 'version_tag' in route_rules[1]; and 3 more",
    );
  });
});

describe('what a real relay may add or leave unset passes', () => {
  it('keeps unknown keys, at the top and in rules', () => {
    const route = accepted(readRoute, {
      route_id: 'prod',
      route_rules: [{ version_tag: 'a', weight: 100, shadow: false }],
      region: 'eu',
    });
    expect(route).toMatchObject({ route_id: 'prod', model_alias: 'prod', region: 'eu' });
    expect(route.route_rules).toEqual([{ version_tag: 'a', weight: 100, shadow: false }]);
  });

  it('reads an optional null as unset, and either of route_id and model_alias as both', () => {
    const route = accepted(readRoute, {
      model_alias: 'prod',
      route_rules: [],
      revision: null,
      updated_at: null,
      sticky_sessions: null,
      health_check: { enabled: true, auto_rollback: null },
    });
    expect(route.route_id).toBe('prod');
    expect(route.revision).toBeUndefined();
    expect(route.sticky_sessions).toBeUndefined();
    expect(route.health_check).toEqual({ enabled: true });
  });

  it('takes empty strings and a numeric version id (as text)', () => {
    const stored = accepted(readStoredVersion, {
      ...version,
      version_id: 7,
      system_prompt: '',
      parameters: null,
      metadata: { team: 'x' },
    });
    expect(stored).toEqual({ ...version, version_id: '7', system_prompt: '', metadata: { team: 'x' } });
  });

  it('reads missing and null metrics as no data', () => {
    const raw = accepted(readMetrics, { request_count: 3, error_rate: null });
    expect(toVersionMetrics(raw, { versionTag: 'v1', start: 's', end: 'e' })).toEqual({
      version_tag: 'v1',
      start_time: 's',
      end_time: 'e',
      request_count: 3,
      error_count: null,
      error_rate: null,
      latency_p50_ms: null,
      latency_p99_ms: null,
      cost_per_token: null,
    });
  });

  it("keeps an error's existing version whatever its shape", () => {
    expect(
      accepted(readErrorAnswer, { error: { type: 'conflict', message: null, existing: { a: 1 } } }),
    ).toEqual({ error: { type: 'conflict', existing: { a: 1 } } });
  });
});
